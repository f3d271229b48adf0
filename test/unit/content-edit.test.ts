import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../src/config/schema.js';
import { editContentFile, readContentFile, renderContentFile } from '../../src/content/index.js';
import type { Variant } from '../../src/core/types.js';
import { validConfig } from '../helpers/valid-config.js';

function makeConfig(): SyncConfig {
  return validConfig({
    contentDir: 'content',
    locales: { default: 'en', all: ['en', 'es'] },
    pageTypes: {
      article: {
        bodyField: 'body',
        fields: {
          headline: 'text',
          summary: 'text',
          body: 'richtext',
          published_on: 'date',
          tags: { type: 'reference', to: 'page', many: true },
          seo: { type: 'component', fields: { title: 'text', noindex: 'boolean' } },
        },
      },
      landing: { fields: { headline: 'text', published_on: 'date', views: 'number' } },
    },
    singlePages: { homepage: { fields: { tagline: 'text' } } },
    collections: { tags: { keyField: 'slug', fields: { slug: 'text', name: 'text', color: 'color' } } },
  });
}

const config = makeConfig();
const MD = 'content/pages/article/hello.md';
const JSON_PAGE = 'content/pages/landing/spring.json';
const ITEM = 'content/collections/tags/news.json';
const edit = (path: string, text: string, set: Record<string, unknown>) =>
  editContentFile(path, text, set, config);
const lines = (...l: string[]) => l.join('\n');

describe('editContentFile: YAML frontmatter', () => {
  const original = lines(
    '---',
    '# Leading comment stays',
    'title: "Double quoted"',
    "summary: 'single quoted'",
    'headline: plain # trailing comment stays',
    'published_on: 2024-03-15',
    'tags: [a, b]',
    'seo:',
    '  title: SEO',
    '  noindex: false',
    '---',
    '',
    'Body **text**.',
    '',
  );

  it('returns the very same string when nothing changes', () => {
    expect(edit(MD, original, {})).toBe(original);
    const same = {
      title: 'Double quoted',
      summary: 'single quoted',
      headline: 'plain',
      tags: ['a', 'b'],
      body: 'Body **text**.',
    };
    expect(edit(MD, original, same)).toBe(original);
    expect(edit(MD, original, { published_on: '2024-03-15T00:00:00' })).toBe(original);
    expect(edit(MD, original, { missing: null })).toBe(original);
  });

  it('changes only the edited keys, keeping quoting, comments and flow style', () => {
    const out = edit(MD, original, {
      title: 'New "title"',
      summary: "it's new",
      headline: 'changed',
      tags: ['a', 'b', 'c'],
    });
    expect(out).toBe(
      original
        .replace('title: "Double quoted"', 'title: "New \\"title\\""')
        .replace("summary: 'single quoted'", "summary: 'it''s new'")
        .replace('headline: plain #', 'headline: changed #')
        .replace('tags: [a, b]', 'tags: [a, b, c]'),
    );
  });

  it('writes a midnight instant date-only when the old value was date-only', () => {
    expect(edit(MD, original, { published_on: '2024-04-01T00:00:00' })).toBe(
      original.replace('published_on: 2024-03-15', 'published_on: 2024-04-01'),
    );
    expect(edit(MD, original, { published_on: '2024-04-01T09:30:00' })).toBe(
      original.replace('published_on: 2024-03-15', 'published_on: 2024-04-01T09:30:00'),
    );
  });

  it('replaces nested maps in place, appends new keys and removes deleted keys', () => {
    const out = edit(MD, original, { seo: { title: 'New SEO', noindex: true }, color: 'red', summary: null });
    expect(out).toBe(
      lines(
        '---',
        '# Leading comment stays',
        'title: "Double quoted"',
        'headline: plain # trailing comment stays',
        'published_on: 2024-03-15',
        'tags: [a, b]',
        'seo:',
        '  title: New SEO',
        '  noindex: true',
        'color: red',
        '---',
        '',
        'Body **text**.',
        '',
      ),
    );
  });

  it("keeps block scalars block-style and a file's sequence indentation", () => {
    const text = lines(
      '---',
      'summary: |',
      '  line one',
      '  line two',
      'tags:',
      '- a',
      '- b',
      'headline: x',
      '---',
      '',
    );
    expect(edit(MD, text, { summary: 'first\nsecond\n', tags: ['c'] })).toBe(
      lines('---', 'summary: |', '  first', '  second', 'tags:', '- c', 'headline: x', '---', ''),
    );
  });

  it('keeps CRLF line endings, the BOM and a missing final newline', () => {
    const text = '\uFEFF---\r\ntitle: Old\r\nheadline: h\r\n---\r\n\r\nBody'; // no final newline
    const out = edit(MD, text, { title: 'New', summary: 'multi\nline' });
    expect(out).toBe(
      '\uFEFF---\r\ntitle: New\r\nheadline: h\r\nsummary: |-\r\n  multi\r\n  line\r\n---\r\n\r\nBody',
    );
    expect(edit(MD, text, { body: 'New body' })).toBe(
      '\uFEFF---\r\ntitle: Old\r\nheadline: h\r\n---\r\n\r\nNew body',
    );
  });

  it('keeps CRLF on the edited line of a mixed-ending file', () => {
    const text = '---\ntitle: a\r\nheadline: b\n---\n';
    expect(edit(MD, text, { title: 'z', headline: 'y' })).toBe('---\ntitle: z\r\nheadline: y\n---\n');
  });

  it('replaces only the body, keeping the frontmatter bytes and the blank-line separator', () => {
    const out = edit(MD, original, { body: '# New\n\nBody.' });
    expect(out).toBe(original.replace('Body **text**.\n', '# New\n\nBody.\n'));
    expect(readContentFile(MD, new TextEncoder().encode(out), config).variant.fields.body).toBe(
      '# New\n\nBody.',
    );
    const tight = '---\ntitle: a\n---\nBody\n';
    expect(edit(MD, tight, { body: 'Other' })).toBe('---\ntitle: a\n---\nOther\n');
    expect(edit(MD, tight, { body: '\nStarts blank' })).toBe('---\ntitle: a\n---\n\n\nStarts blank\n');
    expect(edit(MD, '---\ntitle: a\n---\n', { body: 'Added' })).toBe('---\ntitle: a\n---\n\nAdded\n');
    expect(edit(MD, tight, { body: null })).toBe('---\ntitle: a\n---\n');
  });

  it('gives a file without frontmatter a YAML block, leaving the body intact', () => {
    const out = edit(MD, 'Just text\n', { title: 'T' });
    expect(out).toBe('---\ntitle: T\n---\n\nJust text\n');
    expect(readContentFile(MD, new TextEncoder().encode(out), config).variant).toMatchObject({
      meta: { title: 'T' },
      fields: { body: 'Just text' },
    });
  });

  it('quotes strings that would otherwise change type', () => {
    const text = '---\nheadline: plain\n---\n';
    expect(edit(MD, text, { headline: '123' })).toBe('---\nheadline: "123"\n---\n');
    expect(edit(MD, text, { headline: 'a: b' })).toBe('---\nheadline: "a: b"\n---\n');
    expect(edit(MD, '---\nheadline: 3.0\n---\n', { headline: '3.0' })).toBe('---\nheadline: 3.0\n---\n');
  });
  it('keeps a folded or literal block scalar a block scalar, even for one line of new text', () => {
    const text = lines(
      '---',
      'summary: >-',
      '  A long folded',
      '  description',
      'headline: |',
      '  first line',
      '---',
      'Body',
      '',
    );
    const next = edit(MD, text, { summary: 'One new line', headline: 'Literal again' });
    expect(next).toBe(
      lines('---', 'summary: >-', '  One new line', 'headline: |-', '  Literal again', '---', 'Body', ''),
    );
    expect(readContentFile(MD, Buffer.from(next), config).variant.fields).toMatchObject({
      summary: 'One new line',
      headline: 'Literal again',
    });
  });
});

describe('editContentFile: unusual YAML layouts', () => {
  it('fills an empty value, keeping its comment, and replaces a value written on the next line', () => {
    const text = '---\nheadline: # to do\nsummary:\n  on the next line\n---\n';
    expect(edit(MD, text, { headline: 'x', summary: 'y' })).toBe(
      '---\nheadline: x # to do\nsummary: y\n---\n',
    );
  });

  it('falls back to re-printing a flow-mapping frontmatter, still changing only values', () => {
    const out = edit(MD, '---\n{headline: a, summary: b}\n---\n', { headline: 'c', tags: ['t'] });
    expect(readContentFile(MD, new TextEncoder().encode(out), config).variant.fields).toEqual({
      headline: 'c',
      summary: 'b',
      tags: ['t'],
      body: '',
    });
  });

  it('refuses, rather than corrupts, an edit that would break an alias', () => {
    expect(() => edit(MD, '---\nsummary: &s a\nheadline: *s\n---\n', { summary: 'b' })).toThrow(
      expect.objectContaining({ file: MD }),
    );
  });
});

describe('editContentFile: TOML frontmatter', () => {
  it('keeps an offset datetime bare, and in its offset, when it is replaced', () => {
    const text = '+++\npublished_on = 1979-05-27T07:32:00-08:00\n+++\n';
    expect(edit(MD, text, { published_on: '2020-01-01T10:00:00' })).toBe(
      '+++\npublished_on = 2020-01-01T02:00:00-08:00\n+++\n',
    );
  });

  const original = lines(
    '+++',
    'title = "Hello"  # comment stays',
    "summary = 'literal'",
    'headline = """',
    'multi',
    'line"""',
    'published_on = 2019-03-05',
    '',
    '[seo]',
    'title = "S"',
    '+++',
    'Body',
    '',
  );

  it('returns the same string when nothing changes', () => {
    expect(edit(MD, original, {})).toBe(original);
    expect(edit(MD, original, { title: 'Hello', published_on: '2019-03-05T00:00:00' })).toBe(original);
  });

  it('replaces only value text, keeping string styles and bare dates', () => {
    const out = edit(MD, original, {
      title: 'Bye',
      summary: 'still literal',
      headline: 'two\nlines',
      published_on: '2020-01-02T00:00:00',
    });
    expect(out).toBe(
      original
        .replace('"Hello"', '"Bye"')
        .replace("'literal'", "'still literal'")
        .replace('"""\nmulti\nline"""', '"""\ntwo\nlines"""')
        .replace('2019-03-05', '2020-01-02'),
    );
  });

  it('appends new keys before the first table and removes deleted ones', () => {
    const out = edit(MD, original, { summary: null, tags: ['a', 'b'], extra: { x: 1 } });
    expect(out).toBe(
      lines(
        '+++',
        'title = "Hello"  # comment stays',
        'headline = """',
        'multi',
        'line"""',
        'published_on = 2019-03-05',
        'tags = ["a", "b"]',
        'extra = { x = 1 }',
        '',
        '[seo]',
        'title = "S"',
        '+++',
        'Body',
        '',
      ),
    );
  });

  it('re-prints correctly when the key is a [table]', () => {
    const out = edit(MD, original, { seo: { title: 'T2', noindex: true } });
    expect(readContentFile(MD, new TextEncoder().encode(out), config).variant.fields).toMatchObject({
      seo: { title: 'T2', noindex: true },
      headline: 'multi\nline',
      published_on: '2019-03-05',
    });
  });
});

describe('editContentFile: JSON', () => {
  it('returns the same string when nothing changes', () => {
    const text = '{\n  "headline": "a",\n  "views": 1.50\n}\n';
    expect(edit(JSON_PAGE, text, {})).toBe(text);
    expect(edit(JSON_PAGE, text, { headline: 'a', views: 1.5 })).toBe(text);
  });

  it('keeps 4-space and tab indentation, key order and number spelling of untouched members', () => {
    const four = '{\n    "title": "T",\n    "views": 1.0,\n    "headline": "a"\n}';
    expect(edit(JSON_PAGE, four, { headline: 'b', published_on: '2024-01-01' })).toBe(
      '{\n    "title": "T",\n    "views": 1.0,\n    "headline": "b",\n    "published_on": "2024-01-01"\n}',
    );
    const tabs = '{\n\t"headline": "a",\n\t"views": 2\n}\n';
    expect(edit(JSON_PAGE, tabs, { views: null, title: 'x' })).toBe(
      '{\n\t"headline": "a",\n\t"title": "x"\n}\n',
    );
  });

  it('keeps inline arrays and objects inline inside an indented file', () => {
    const text = '{\n  "tags": ["a", "b"],\n  "seo": {"title": "a"}\n}\n';
    expect(edit(JSON_PAGE, text, { tags: ['a', 'b', 'c'], seo: { title: 'a', noindex: true } })).toBe(
      '{\n  "tags": ["a", "b", "c"],\n  "seo": {"title": "a", "noindex": true}\n}\n',
    );
  });

  it('edits compact files compactly and CRLF files with CRLF', () => {
    expect(edit(ITEM, '{"slug":"news","name":"N"}', { name: 'M', color: '#fff' })).toBe(
      '{"slug":"news","name":"M","color":"#fff"}',
    );
    expect(edit(ITEM, '{\r\n  "slug": "news"\r\n}\r\n', { name: 'N' })).toBe(
      '{\r\n  "slug": "news",\r\n  "name": "N"\r\n}\r\n',
    );
  });

  it('removes the first, last or only member cleanly and fills an empty object', () => {
    const text = '{\n  "slug": "news",\n  "name": "N",\n  "color": "red"\n}\n';
    expect(edit(ITEM, text, { slug: null })).toBe('{\n  "name": "N",\n  "color": "red"\n}\n');
    expect(edit(ITEM, text, { color: null })).toBe('{\n  "slug": "news",\n  "name": "N"\n}\n');
    expect(edit(ITEM, '{\n  "slug": "news"\n}\n', { slug: null })).toBe('{}\n');
    expect(edit(ITEM, '{}\n', { slug: 'news' })).toBe('{\n  "slug": "news"\n}\n');
  });

  it('writes a midnight instant date-only when the old value was date-only', () => {
    const text = '{\n  "published_on": "2024-03-15"\n}\n';
    expect(edit(JSON_PAGE, text, { published_on: '2024-04-01T00:00:00' })).toBe(
      '{\n  "published_on": "2024-04-01"\n}\n',
    );
  });
});

describe('renderContentFile', () => {
  const variant: Variant = {
    meta: { status: 'published', title: 'Hello: world' },
    fields: {
      body: '# Title\n\nText.',
      tags: ['a', 'b'],
      published_on: '2024-03-15T00:00:00',
      headline: 'Head',
      summary: null,
    },
  };

  it('renders Markdown with meta keys first, then fields in model order, then the body', () => {
    const text = renderContentFile(MD, variant, config);
    expect(text).toBe(
      lines(
        '---',
        'title: "Hello: world"',
        'status: published',
        'headline: Head',
        'published_on: 2024-03-15',
        'tags:',
        '  - a',
        '  - b',
        '---',
        '',
        '# Title',
        '',
        'Text.',
        '',
      ),
    );
    const back = readContentFile(MD, new TextEncoder().encode(text), config).variant;
    expect(back.meta).toEqual(variant.meta);
    expect(back.fields).toEqual({
      body: '# Title\n\nText.',
      tags: ['a', 'b'],
      published_on: '2024-03-15',
      headline: 'Head',
    });
  });

  it('renders pretty JSON with a final newline', () => {
    const page = renderContentFile(
      JSON_PAGE,
      { meta: { title: 'T' }, fields: { views: 3, headline: 'h' } },
      config,
    );
    expect(page).toBe('{\n  "title": "T",\n  "headline": "h",\n  "views": 3\n}\n');
    const item = renderContentFile(ITEM, { meta: {}, fields: { name: 'N', slug: 'news' } }, config);
    expect(item).toBe('{\n  "slug": "news",\n  "name": "N"\n}\n');
    expect(readContentFile(ITEM, new TextEncoder().encode(item), config).variant.fields).toEqual({
      slug: 'news',
      name: 'N',
    });
  });

  it('renders a page without body or frontmatter keys as an empty frontmatter block', () => {
    expect(renderContentFile(MD, { meta: {}, fields: {} }, config)).toBe('---\n---\n');
  });
});
