import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigInput, SyncConfig } from '../../src/config/schema.js';
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
  /** The emulator's own model, when a test needs the dashboard to differ from the config. */
  emulator?: { config: SyncConfig },
): Promise<Fixture> {
  const fx = await makeFixture({
    ...(emulator ? { emulator } : {}),
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
  if (Object.keys(files).length > 0) await fx.commitAll('real content from the corpus');
  return fx;
}

/**
 * A countries collection a user can model today: the real item's scalar facts and its `borders` as
 * references to other countries. (Nested keys need the field `path` feature; until then the test writes
 * this flat view of the real corpus item, named for its cca3 as the key field requires.)
 */
export const COUNTRY_COLLECTION = {
  keyField: 'cca3',
  fields: {
    cca3: 'text',
    name: 'text',
    region: 'text',
    subregion: 'text',
    capital: 'text',
    area: 'number',
    landlocked: 'boolean',
    borders: { type: 'reference', to: 'collection:countries', many: true },
  },
} as const satisfies NonNullable<ConfigInput['collections']>[string];

/** The flat view of a real corpus country (see COUNTRY_COLLECTION); `borders` limited to `keep` when given. */
export async function flatCountry(cca3: string, keep?: string[]): Promise<Record<string, unknown>> {
  const text = await readFile(path.join(CORPUS_DIR, COUNTRIES, `${cca3.toLowerCase()}.json`), 'utf8');
  const real = JSON.parse(text) as {
    cca3: string;
    name: { common: string };
    region: string;
    subregion?: string;
    capital?: string[];
    area: number;
    landlocked: boolean;
    borders?: string[];
  };
  const borders = (real.borders ?? []).filter((b) => !keep || keep.includes(b));
  return {
    cca3: real.cca3,
    name: real.name.common,
    region: real.region,
    subregion: real.subregion ?? '',
    capital: real.capital?.[0] ?? '',
    area: real.area,
    landlocked: real.landlocked,
    borders,
  };
}

/** Write flat countries into the fixture's countries folder, as `<CCA3>.json`. */
export async function writeCountries(fx: Fixture, items: Array<Record<string, unknown>>): Promise<void> {
  await mkdir(path.join(fx.repoDir, CONTENT, 'collections/countries'), { recursive: true });
  for (const item of items) {
    await fx.write(
      `${CONTENT}/collections/countries/${item.cca3}.json`,
      `${JSON.stringify(item, null, 2)}\n`,
    );
  }
}
