import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../../src/config/schema.js';
import { type Fixture, makeFixture } from './sync-fixture.js';

/** The shared real-content corpus (never copied into the project; tests copy files into temp repos). */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));
export const JEKYLL_POSTS = 'markdown/jekyll-docs/docs/_posts';
export const RUST_BLOG = 'markdown/rust-blog/content';
export const COUNTRIES = 'json/countries';

/** The content folder of every fixture (makeFixture keeps the example's name). */
export const CONTENT = 'content-example';

/**
 * A model a user would write for Jekyll release posts (YAML, `.markdown`, unquoted zoned dates kept as
 * text, no `status` key) — the files are used exactly as the corpus has them.
 */
export const JEKYLL_POST_TYPE = {
  bodyField: 'body',
  fields: { body: 'richtext', date: 'text', author: 'text', version: 'text', category: 'text' },
} as const satisfies NonNullable<ConfigInput['pageTypes']>[string];

/**
 * A temp git repo with one locale, the given model and real corpus files copied in (`files`: corpus path →
 * repo path under the content folder), committed, plus an emulator holding the same model.
 */
export async function makeCorpusSite(
  config: Partial<ConfigInput>,
  files: Record<string, string>,
): Promise<Fixture> {
  const fx = await makeFixture({
    withContent: false,
    config: {
      locales: { default: 'en', all: ['en'] },
      pageTypes: {},
      singlePages: {},
      collections: {},
      ...config,
    },
  });
  for (const [from, to] of Object.entries(files)) {
    const target = path.join(fx.repoDir, CONTENT, to);
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(path.join(CORPUS_DIR, from), target);
  }
  await fx.commitAll('real content from the corpus');
  return fx;
}
