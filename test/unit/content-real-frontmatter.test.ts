import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeList } from '../../src/cms/butter/api-values.js';
import { parseConfig } from '../../src/config/load-config.js';
import {
  editContentFile,
  isContentPath,
  isIgnoredPath,
  readContentFile,
  renderContentFile,
} from '../../src/content/index.js';
import { encodeList } from '../../src/core/api-fields.js';
import { normalizeField } from '../../src/core/normalize.js';
import { validConfig } from '../helpers/valid-config.js';

// Real frontmatter, modelled as it is (issue 9: format preservation and "real frontmatter must be expressible").
const corpus = (rel: string): string =>
  readFileSync(fileURLToPath(new URL(`../../../shared/corpus/${rel}`, import.meta.url)), 'utf8');

const config = validConfig({
  contentDir: 'content',
  gitOnly: ['layout'],
  ignore: ['**/*.jpg', '**/notes.txt'],
  pageTypes: {
    // Astro and Tauri bodies are MDX (imports, JSX): HTML cannot carry them, so they are `text` (issue 11).
    astro_doc: {
      bodyField: 'body',
      fields: { body: 'text', i18nReady: 'boolean' },
      gitOnly: ['sidebar'],
    },
    rust_post: {
      bodyField: 'body',
      fields: {
        body: 'richtext',
        path: 'text',
        authors: { type: 'list', of: 'text' },
        description: 'text',
        aliases: { type: 'list', of: 'text' },
        team: { type: 'text', path: 'extra.team' },
        team_url: { type: 'text', path: 'extra.team_url' },
        release: { type: 'boolean', path: 'extra.release' },
      },
      gitOnly: ['extra.see_also'],
    },
    rust_team: {
      bodyField: 'body',
      fields: {
        body: 'richtext',
        path: 'text',
        authors: { type: 'list', of: 'text' },
        description: 'text',
        aliases: { type: 'list', of: 'text' },
        extra: { type: 'component', fields: { team: 'text', team_url: 'text', release: 'boolean' } },
      },
    },
    post: {
      bodyField: 'body',
      fields: {
        body: 'richtext',
        date: 'date',
        author: 'text',
        version: 'text',
        category: 'text',
        categories: { type: 'list', of: 'text' },
      },
    },
    tauri_post: {
      bodyField: 'body',
      fields: { body: 'text', date: 'date', authors: { type: 'list', of: 'text' }, excerpt: 'text' },
    },
  },
  collections: {
    countries: {
      keyField: 'cca3',
      fields: {
        cca3: 'text',
        name_common: { type: 'text', path: 'name.common' },
        name_official: { type: 'text', path: 'name.official' },
        capital: { type: 'list', of: 'text' },
        area: 'number',
        latlng: { type: 'list', of: 'number' },
      },
      gitOnly: [
        'name.native',
        'tld',
        'cca2',
        'ccn3',
        'cioc',
        'independent',
        'status',
        'unMember',
        'currencies',
        'idd',
        'altSpellings',
        'region',
        'subregion',
        'languages',
        'translations',
        'landlocked',
        'borders',
        'demonyms',
        'flag',
        'callingCodes',
        'unRegionalGroup',
        'maps',
        'population',
        'gini',
        'fifa',
        'car',
        'timezones',
        'continents',
        'flags',
        'coatOfArms',
        'startOfWeek',
        'capitalInfo',
        'postalCode',
      ],
    },
  },
});

function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split(/(?<=\n)/);
  const b = after.split(/(?<=\n)/);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  return { removed: a.slice(head, a.length - tail), added: b.slice(head, b.length - tail) };
}

describe('format preservation on real files', () => {
  it('a dashboard body edit keeps the CRLF line it did not touch (astro integrations-reference.mdx)', () => {
    const rel = 'content/pages/astro_doc/integrations-reference.mdx';
    const text = corpus('markdown/astro-docs/src/content/docs/en/reference/integrations-reference.mdx');
    const { variant } = readContentFile(rel, Buffer.from(text), config);
    // The CMS holds LF text (core normalises CR away before a push); an editor changes the first paragraph.
    const cmsBody = (variant.fields.body as string).replace(/\r\n/g, '\n');
    const edited = cmsBody.replace('add new functionality', 'add new features');
    const out = editContentFile(rel, text, { body: edited }, config);
    const { removed, added } = changedLines(text, out);
    expect(removed).toHaveLength(1);
    expect(added).toEqual([removed[0]!.replace('add new functionality', 'add new features')]);
    expect(out.match(/\r\n/g)).toHaveLength(1);
    // And an unchanged LF body from the CMS rewrites nothing at all.
    expect(editContentFile(rel, text, { body: cmsBody }, config)).toBe(text);
  });

  it('an edit inside a TOML [extra] table changes that line only: no re-printed arrays, no added keys', () => {
    const text = corpus('markdown/rust-blog/content/async-vision-doc-shiny-future.md');
    for (const [type, set] of [
      ['rust_post', { team: 'the Async WG (archived)' }],
      // A component over the table: the members the file lacks and the CMS holds empty stay absent.
      [
        'rust_team',
        {
          extra: {
            team: 'the Async WG (archived)',
            team_url: 'https://rust-lang.github.io/wg-async-foundations/',
            release: false,
          },
        },
      ],
    ] as const) {
      const rel = `content/pages/${type}/async-vision-doc-shiny-future.md`;
      const out = editContentFile(rel, text, set, config);
      expect(changedLines(text, out)).toEqual({
        removed: ['team = "the Async Foundations Working Group"\n'],
        added: ['team = "the Async WG (archived)"\n'],
      });
    }
  });

  it('a new key of a TOML table goes into that table, in TOML style', () => {
    const rel = 'content/pages/rust_post/async-vision-doc-shiny-future.md';
    const text = corpus('markdown/rust-blog/content/async-vision-doc-shiny-future.md');
    const out = editContentFile(
      rel,
      text,
      { release: true, authors: ['Niko Matsakis', 'Tyler Mandry'] },
      config,
    );
    expect(changedLines(text, out)).toEqual({
      removed: [
        'authors = ["Niko Matsakis"]\n',
        'description = "Brainstorming Async Rust\'s Shiny Future"\n',
        'aliases = ["2021/04/14/async-vision-doc-shiny-future.html"]\n',
        '\n',
        '[extra]\n',
        'team = "the Async Foundations Working Group"\n',
        'team_url = "https://rust-lang.github.io/wg-async-foundations/"\n',
      ],
      added: [
        'authors = ["Niko Matsakis", "Tyler Mandry"]\n',
        'description = "Brainstorming Async Rust\'s Shiny Future"\n',
        'aliases = ["2021/04/14/async-vision-doc-shiny-future.html"]\n',
        '\n',
        '[extra]\n',
        'team = "the Async Foundations Working Group"\n',
        'team_url = "https://rust-lang.github.io/wg-async-foundations/"\n',
        'release = true\n',
      ],
    });
  });

  it('a pulled date keeps the file format and offset (Jekyll "2013-07-25 09:08:38 +0200")', () => {
    const rel = 'content/pages/post/2013-07-25-jekyll-1-0-4-released.markdown';
    const text = corpus('markdown/jekyll-docs/docs/_posts/2013-07-25-jekyll-1-0-4-released.markdown');
    const { variant } = readContentFile(rel, Buffer.from(text), config);
    // Same instant as the file: nothing to write.
    const same = normalizeField({ type: 'date' }, variant.fields.date, { media: {} });
    expect(same).toBe('2013-07-25T07:08:38');
    expect(editContentFile(rel, text, { date: same }, config)).toBe(text);
    // The editor moved it to 10:00 UTC: 12:00 in the file's +0200.
    const out = editContentFile(rel, text, { date: '2013-07-26T10:00:00' }, config);
    expect(changedLines(text, out)).toEqual({
      removed: ['date: "2013-07-25 09:08:38 +0200"\n'],
      added: ['date: "2013-07-26 12:00:00 +0200"\n'],
    });
  });

  it('a date a file does not have yet is written in the configured timezone', () => {
    const berlin = validConfig({ ...configInputOf(), timezone: 'Europe/Berlin' });
    const rel = 'content/pages/post/new.md';
    const text = '---\ntitle: New\n---\n\nBody\n';
    expect(editContentFile(rel, text, { date: '2013-06-07T19:02:13' }, berlin)).toBe(
      '---\ntitle: New\ndate: 2013-06-07T21:02:13+02:00\n---\n\nBody\n',
    );
    // A date-only value that gets a time of day is written in the zone too; midnight UTC stays date-only.
    const dated = '---\ndate: 2024-07-01\n---\n';
    expect(editContentFile(rel, dated, { date: '2024-07-02T15:00:00' }, berlin)).toBe(
      '---\ndate: 2024-07-02T17:00:00+02:00\n---\n',
    );
    expect(editContentFile(rel, dated, { date: '2024-07-02T00:00:00' }, berlin)).toBe(
      '---\ndate: 2024-07-02\n---\n',
    );
    const fresh = renderContentFile(
      rel,
      { fields: { date: '2024-01-15T12:00:00', body: 'Hi' }, meta: {} },
      berlin,
    );
    expect(fresh).toContain('date: 2024-01-15T13:00:00+01:00\n');
    // Keys the CMS holds empty are not added to a new file.
    expect(
      renderContentFile(
        rel,
        { fields: { date: '', author: '', categories: [], body: 'Hi' }, meta: {} },
        berlin,
      ),
    ).toBe('---\n---\n\nHi\n');
  });
});

describe('keys a file does not have and the CMS holds empty stay absent', () => {
  it('in YAML, TOML and JSON alike', () => {
    const yaml = corpus('markdown/tauri-docs/src/content/docs/blog/tauri-1-7.mdx');
    expect(editContentFile('content/pages/post/t.mdx', yaml, { version: '', categories: [] }, config)).toBe(
      yaml,
    );
    const toml = corpus('markdown/rust-blog/content/async-vision-doc-shiny-future.md');
    expect(
      editContentFile('content/pages/rust_post/a.md', toml, { release: false, team_url: undefined }, config),
    ).toBe(toml);
    const json = corpus('json/countries/fra.json').replace('\n  "area": 551695,', '');
    expect(json).not.toContain('"area"');
    expect(editContentFile('content/collections/countries/fra.json', json, { area: '' }, config)).toBe(json);
    expect(editContentFile('content/collections/countries/fra.json', json, { area: 5 }, config)).toContain(
      '"area": 5',
    );
  });
});

describe('repeater rows from the dashboard', () => {
  it('keep their date style and do not gain the empty members a row never had (eleventy wordpress.md)', () => {
    const links = validConfig({
      contentDir: 'content',
      pageTypes: {
        doc: {
          bodyField: 'body',
          fields: {
            body: 'richtext',
            exportCommunityLinks: {
              type: 'repeater',
              fields: { url: 'text', title: 'text', author: 'text', date: 'date', note: 'text' },
            },
          },
          gitOnly: ['titleOverride', 'eleventyNavigation', 'iconUrl'],
        },
      },
    });
    const rel = 'content/pages/doc/wordpress.md';
    const text = corpus('markdown/eleventy-docs/src/docs/migrate/wordpress.md');
    const { variant } = readContentFile(rel, Buffer.from(text), links);
    // What the CMS sends back: every row with every member, dates as instants; the editor retitled row 1.
    const spec = links.pageTypes.doc!.fields.exportCommunityLinks!;
    const rows = normalizeField(spec, variant.fields.exportCommunityLinks, { media: {} }) as Record<
      string,
      unknown
    >[];
    expect(rows[0]).toMatchObject({ date: '2024-10-20T00:00:00', note: '' });
    (rows[0] as Record<string, unknown>).title = 'So, Your CMS Blew Up (2024)';
    const out = editContentFile(rel, text, { exportCommunityLinks: rows }, links);
    expect(changedLines(text, out)).toEqual({
      removed: ['    title: So, Your CMS Blew Up\n'],
      added: ['    title: So, Your CMS Blew Up (2024)\n'],
    });
  });
});

describe('real frontmatter, modelled as it is', () => {
  it('gitOnly keys are kept, not sent and not unknown; a pull never touches them', () => {
    const rel = 'content/pages/astro_doc/integrations-reference.mdx';
    const text = corpus('markdown/astro-docs/src/content/docs/en/reference/integrations-reference.mdx');
    const { variant } = readContentFile(rel, Buffer.from(text), config);
    expect(Object.keys(variant.fields).sort()).toEqual(['body', 'i18nReady']);
    // Without gitOnly the same file is refused, naming the key and the way out.
    const strict = validConfig({
      ...configInputOf(),
      pageTypes: { astro_doc: { bodyField: 'body', fields: { body: 'text', i18nReady: 'boolean' } } },
    });
    expect(() => readContentFile(rel, Buffer.from(text), strict)).toThrow(/unknown field "sidebar"/);
  });

  it('a single value where a list is declared reads as a one-item list and keeps its form (tauri authors: lucasfernog)', () => {
    const rel = 'content/pages/tauri_post/tauri-1-7.mdx';
    const text = corpus('markdown/tauri-docs/src/content/docs/blog/tauri-1-7.mdx');
    const { variant } = readContentFile(rel, Buffer.from(text), config);
    expect(variant.fields.authors).toEqual(['lucasfernog']);
    expect(editContentFile(rel, text, { authors: ['lucasfernog'] }, config)).toBe(text);
    expect(changedLines(text, editContentFile(rel, text, { authors: ['amrbashir'] }, config)).added).toEqual([
      'authors: amrbashir\n',
    ]);
    const two = editContentFile(rel, text, { authors: ['lucasfernog', 'amrbashir'] }, config);
    expect(changedLines(text, two)).toEqual({
      removed: ['authors: lucasfernog\n'],
      added: ['authors:\n', '  - lucasfernog\n', '  - amrbashir\n'],
    });
  });

  it('a list field is one value per line in ButterCMS, and reads back exactly', () => {
    const text = { type: 'list', of: 'text' } as const;
    for (const list of [
      [],
      ['release'],
      ['a', 'b c'],
      [''],
      ['two\nlines'],
      [' padded'],
      ['[bracket]'],
      ['x', ''],
    ]) {
      expect(decodeList(text, encodeList(text, list))).toEqual(list);
    }
    expect(encodeList(text, ['release', 'community'])).toBe('release\ncommunity');
    expect(decodeList(text, 'release\n\n  community  \n')).toEqual(['release', 'community']);
    const numbers = { type: 'list', of: 'number' } as const;
    expect(decodeList(numbers, encodeList(numbers, [46, 2.5]))).toEqual([46, 2.5]);
    expect(encodeList({ type: 'list', of: 'date' }, ['2024-07-01'])).toBe('2024-07-01T00:00:00');
  });

  it('"path" reads and writes a nested key of a JSON item; a lower-case file name holds the upper-case key', () => {
    const rel = 'content/collections/countries/fra.json';
    const text = corpus('json/countries/fra.json');
    const { location, variant } = readContentFile(rel, Buffer.from(text), config);
    expect(location.ref).toEqual({ kind: 'item', collection: 'countries', key: 'FRA' });
    expect(variant.fields.name_common).toBe('France');
    expect(variant.fields.capital).toEqual(['Paris']);
    const out = editContentFile(rel, text, { name_common: 'République française' }, config);
    expect(changedLines(text, out)).toEqual({
      removed: ['    "common": "France",\n'],
      added: ['    "common": "République française",\n'],
    });
  });

  it('ignore globs skip non-content files below the content folder', () => {
    expect(isIgnoredPath('content/pages/tauri_post/header.jpg', config)).toBe(true);
    expect(isIgnoredPath('content/pages/post/notes.txt', config)).toBe(true);
    expect(isIgnoredPath('content/pages/post/a.md', config)).toBe(false);
    expect(isContentPath('content/pages/post/a.md', config)).toBe(true);
    const ignoreMd = validConfig({ ...configInputOf(), ignore: ['pages/post/drafts-*.md'] });
    expect(isContentPath('content/pages/post/drafts-1.md', ignoreMd)).toBe(false);
  });

  it('config rules refuse a gitOnly key that is a field, overlapping paths and an unknown timezone', () => {
    const base = configInputOf();
    const bad = parseConfig({
      ...base,
      timezone: 'Mars/Olympus',
      collections: {
        c: {
          keyField: 'k',
          fields: { k: 'text', a: { type: 'text', path: 'name.common' }, name: 'text' },
          gitOnly: ['k'],
        },
      },
    });
    expect(bad.config).toBeNull();
    const messages = bad.errors.map((e) => `${e.path}: ${e.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^timezone: /),
        expect.stringMatching(/fields "a" and "name" both read the file key "name"/),
        expect.stringMatching(/"k" is listed in gitOnly but field "k" syncs it/),
      ]),
    );
  });
});

describe('nested keys in YAML frontmatter', () => {
  const nested = validConfig({
    contentDir: 'content',
    gitOnly: ['layout', 'sidebar'],
    pageTypes: {
      doc: {
        bodyField: 'body',
        fields: {
          body: 'richtext',
          layout: 'text',
          sidebar_label: { type: 'text', path: 'sidebar.label' },
          sidebar_order: { type: 'number', path: 'sidebar.order' },
        },
        gitOnly: ['sidebar.badge'],
      },
    },
  });
  const rel = 'content/pages/doc/a.md';

  it('edits a nested key in place and adds a new one to its mapping, at its indentation', () => {
    const text = '---\ntitle: A\nsidebar:\n    label: Old  # why\n    badge: new\nlayout: x\n---\nBody\n';
    const { variant } = readContentFile(rel, Buffer.from(text), nested);
    // A field wins over a top-level gitOnly default of the same name; the type's own gitOnly key stays out.
    expect(variant.fields).toEqual({ body: 'Body', layout: 'x', sidebar_label: 'Old' });
    expect(editContentFile(rel, text, { sidebar_label: 'New', sidebar_order: 3 }, nested)).toBe(
      '---\ntitle: A\nsidebar:\n    label: New  # why\n    badge: new\n    order: 3\nlayout: x\n---\nBody\n',
    );
  });

  it('creates the mapping when the file has none, and edits a flow mapping as one value', () => {
    expect(editContentFile(rel, '---\ntitle: A\n---\nBody\n', { sidebar_label: 'L' }, nested)).toBe(
      '---\ntitle: A\nsidebar:\n  label: L\n---\nBody\n',
    );
    expect(
      editContentFile(rel, '---\nsidebar: { label: A, badge: b }\n---\n', { sidebar_label: 'B' }, nested),
    ).toBe('---\nsidebar: { label: B, badge: b }\n---\n');
  });
});

function configInputOf(): Record<string, unknown> {
  return {
    contentDir: 'content',
    pageTypes: {
      post: {
        bodyField: 'body',
        fields: { body: 'richtext', date: 'date', author: 'text', categories: { type: 'list', of: 'text' } },
      },
    },
  };
}
