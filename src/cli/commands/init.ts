import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../state/atomic-file.js';
import { configPathOf, type GlobalOptions, repoDirOf } from '../wiring.js';

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

/** `init`: a starter config (never overwriting one) and `.butter-sync/` and `node_modules/` in .gitignore. */
export async function runInit(options: GlobalOptions): Promise<{ exitCode: number }> {
  const repoDir = repoDirOf(options);
  const configFile = configPathOf(options);
  let existing: string | undefined;
  try {
    existing = await readFile(configFile, 'utf8');
  } catch {
    existing = undefined;
  }
  if (existing !== undefined) {
    process.stdout.write(`${path.relative(repoDir, configFile)} already exists; left as it is.\n`);
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
    'Next: export BUTTER_READ_TOKEN and BUTTER_WRITE_TOKEN, then run `butter-sync plan` to see what would be sent.\n',
  );
  return { exitCode: 0 };
}
