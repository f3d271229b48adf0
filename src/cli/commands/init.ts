import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readWebflowModel } from '../../cms/webflow/read-schema.js';
import { WebflowPipeline } from '../../cms/webflow/webflow-pipeline.js';
import { parseConfig } from '../../config/load-config.js';
import { SyncError } from '../../core/errors.js';
import { writeFileAtomic } from '../../state/atomic-file.js';
import { configPathOf, type GlobalOptions, repoDirOf } from '../project.js';

/** Where the installed package keeps the JSON Schema (package.json `files` ships it; a test checks both). */
export const INSTALLED_SCHEMA_PATH = './node_modules/butter-sync/src/config/sync.config.schema.json';

const STARTER = {
  $schema: INSTALLED_SCHEMA_PATH,
  contentDir: 'content',
  locales: { default: 'en', all: ['en'] },
  defaultStatus: 'published',
  rate: { requestsPerSecond: 5, concurrency: 4 },
  conflicts: 'manual',
  initialSource: 'none',
  maxDeletePercent: 20,
  pageTypes: {
    faq: {
      bodyField: 'body',
      fields: { headline: 'text', body: 'richtext', hero_image: 'media' },
    },
  },
  singlePages: {},
  collections: {
    tags: { keyField: 'slug', fields: { slug: 'text', name: 'text' } },
  },
};

/** Whether a .gitignore already ignores `entry` (a folder), with or without the trailing slash or a leading one. */
function ignores(gitignore: string, entry: string): boolean {
  const bare = entry.replace(/\/$/, '');
  return gitignore.split(/\r?\n/).some((line) => {
    const l = line.trim().replace(/^\//, '');
    return l === entry || l === bare;
  });
}

export interface InitFlags {
  /** `webflow`: read the content model from the account (Webflow has a schema API; ButterCMS has none). */
  fromCms?: string;
  site?: string;
}

/** `init --from-cms webflow --site ID`: the config with the site's locales and collections (webflow-api.md §2.2, §7). */
async function webflowStarter(site: string | undefined): Promise<{ text: string; warnings: string[] }> {
  if (!site || !/^[0-9a-f]{24}$/.test(site)) {
    throw new SyncError(
      'USAGE',
      `--site needs the Webflow site id (24 hex characters)${site ? `, got "${site}"` : ''}`,
      {
        hint: 'Find it in Site settings → General, or GET /v2/sites with your token.',
      },
    );
  }
  const token = process.env.WEBFLOW_TOKEN;
  if (!token) {
    throw new SyncError('MISSING_TOKEN', 'WEBFLOW_TOKEN is not set', {
      hint: 'Export a Webflow site token with the cms:read and sites:read scopes as WEBFLOW_TOKEN (never in the config file).',
    });
  }
  const baseUrl = process.env.WEBFLOW_API_URL || 'https://api.webflow.com/v2';
  if (!/^https?:\/\/[^/]+(\/.*)?\/v2\/?$/.test(baseUrl)) {
    throw new SyncError('USAGE', `WEBFLOW_API_URL "${baseUrl}" is not an API base`, {
      hint: 'Expected https://api.webflow.com/v2 (or http://127.0.0.1:PORT/v2 for butter-sync emulator --cms webflow).',
    });
  }
  const pipeline = new WebflowPipeline({ baseUrl, token, maxRetries: 2 });
  try {
    const { model, warnings } = await readWebflowModel(pipeline, site);
    const config = {
      $schema: INSTALLED_SCHEMA_PATH,
      cms: { kind: 'webflow', siteId: site },
      contentDir: 'content',
      locales: model.locales,
      defaultStatus: 'published',
      // 60 requests per minute per token on the smaller plans (webflow-api.md §5).
      rate: { requestsPerSecond: 1, concurrency: 4 },
      conflicts: 'manual',
      initialSource: 'none',
      maxDeletePercent: 20,
      pageTypes: {},
      singlePages: {},
      collections: model.collections,
    };
    const checked = parseConfig(config);
    if (!checked.config) {
      throw new SyncError(
        'CMS_BAD_RESPONSE',
        'the content model read from Webflow does not make a valid config',
        {
          details: { errors: checked.errors },
        },
      );
    }
    return { text: `${JSON.stringify(config, null, 2)}\n`, warnings };
  } finally {
    await pipeline.close();
  }
}

/** `init`: a starter config (never overwriting one) and `.butter-sync/` and `node_modules/` in .gitignore. */
export async function runInit(options: GlobalOptions, flags: InitFlags = {}): Promise<{ exitCode: number }> {
  const repoDir = repoDirOf(options);
  const configFile = configPathOf(options);
  if (flags.fromCms !== undefined && flags.fromCms !== 'webflow') {
    throw new SyncError('USAGE', `--from-cms ${flags.fromCms}: only webflow has a schema API to read`, {
      hint: 'Use --from-cms webflow --site SITE_ID, or plain init and describe the ButterCMS model by hand.',
    });
  }
  let existing: string | undefined;
  try {
    existing = await readFile(configFile, 'utf8');
  } catch {
    existing = undefined;
  }
  if (existing !== undefined) {
    process.stdout.write(`${path.relative(repoDir, configFile)} already exists; left as it is.\n`);
  } else if (flags.fromCms === 'webflow') {
    const { text, warnings } = await webflowStarter(flags.site);
    await writeFileAtomic(configFile, text);
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(
      `Wrote ${path.relative(repoDir, configFile)} with the collections and locales of Webflow site ${flags.site}.\n`,
    );
  } else {
    await writeFileAtomic(configFile, `${JSON.stringify(STARTER, null, 2)}\n`);
    process.stdout.write(
      `Wrote ${path.relative(repoDir, configFile)}. Describe your ButterCMS page types and collections in it (ButterCMS has no schema API).\n`,
    );
  }
  const gitignore = path.join(repoDir, '.gitignore');
  let ignore = '';
  try {
    ignore = await readFile(gitignore, 'utf8');
  } catch {
    ignore = '';
  }
  // The README installs butter-sync with `npm install --save-dev`: node_modules/ must not be committed either.
  const wanted = [
    {
      entry: '.butter-sync/',
      comment: '# butter-sync local cache (the shared state is on refs/butter-sync/state)',
    },
    { entry: 'node_modules/', comment: '# npm dependencies' },
  ].filter(({ entry }) => !ignores(ignore, entry));
  if (wanted.length > 0) {
    const sep = ignore === '' || ignore.endsWith('\n') ? '' : '\n';
    const added = wanted.map(({ entry, comment }) => `${comment}\n${entry}\n`).join('');
    await writeFileAtomic(gitignore, `${ignore}${sep}${added}`);
    process.stdout.write(`Added ${wanted.map((w) => w.entry).join(' and ')} to .gitignore.\n`);
  }
  process.stdout.write(
    flags.fromCms === 'webflow'
      ? 'Next: check the model; this version syncs ButterCMS only, Webflow sync comes with the next one.\n'
      : 'Next: export BUTTER_READ_TOKEN and BUTTER_WRITE_TOKEN, then run `butter-sync plan` to see what would be sent.\n',
  );
  return { exitCode: 0 };
}
