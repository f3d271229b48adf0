import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../src/config/schema.js';
import { MAX_CONTENT_BYTES, readContentFile } from '../../src/content/index.js';
import type { ErrorCode } from '../../src/core/errors.js';
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
          body: 'richtext',
          published_on: 'date',
          views: 'number',
          featured: 'boolean',
          hero: 'media',
          author: { type: 'reference', to: 'collection:team_members' },
          related: { type: 'reference', to: 'page', many: true },
          faqs: { type: 'repeater', fields: { question: 'text', answer: 'text' } },
          seo: { type: 'component', fields: { title: 'text', noindex: 'boolean' } },
          sections: {
            type: 'component-picker',
            components: { hero: { fields: { heading: 'text' } }, quote: { fields: { text: 'text' } } },
          },
        },
      },
      landing: { fields: { headline: 'text' } },
    },
    singlePages: { homepage: { fields: { tagline: 'text' } } },
    collections: {
      team_members: {
        keyField: 'slug',
        fields: {
          slug: 'text',
          name: 'text',
          years: 'number',
          active: 'boolean',
          tags: { type: 'reference', to: 'collection:tags', many: true },
        },
      },
      tags: { keyField: 'slug', fields: { slug: 'text', name: 'text' } },
    },
  });
}

const config = makeConfig();
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const read = (path: string, text: string) => readContentFile(path, encode(text), config);

function expectError(
  path: string,
  text: string | Uint8Array,
  code: ErrorCode,
  line?: number,
  message?: RegExp,
) {
  const bytes = typeof text === 'string' ? encode(text) : text;
  let caught: unknown;
  try {
    readContentFile(path, bytes, config);
  } catch (error) {
    caught = error;
  }
  expect(caught, `${path} should fail with ${code}`).toMatchObject({ code, file: path });
  if (line !== undefined) expect((caught as { line?: number }).line).toBe(line);
  if (message) expect((caught as Error).message).toMatch(message);
}

const ARTICLE = 'content/pages/article/hello.md';

describe('readContentFile: values', () => {
  it('reads a YAML Markdown page: meta, fields in file form, body', () => {
    const text = [
      '---',
      'title: Hello world',
      'status: draft',
      'headline: "Quoted: yes"',
      'published_on: 2024-03-15',
      'views: 01234',
      'featured: true',
      'hero: https://cdn.example.com/a.png',
      'author: ann',
      'related: [faq-one, faq-two]',
      'faqs:',
      '  - question: Why?',
      '    answer: Because.',
      'seo: { title: SEO, noindex: false }',
      'sections:',
      '  - type: hero',
      '    fields: { heading: Hi }',
      '---',
      '',
      '# Hello',
      '',
      'Body text.',
      '',
    ].join('\n');
    const { location, variant } = read(ARTICLE, text);
    expect(location).toEqual({
      ref: { kind: 'page', pageType: 'article', slug: 'hello' },
      locale: 'en',
      format: 'markdown',
    });
    expect(variant).toEqual({
      path: ARTICLE,
      meta: { title: 'Hello world', status: 'draft' },
      fields: {
        headline: 'Quoted: yes',
        published_on: '2024-03-15',
        views: 1234,
        featured: true,
        hero: 'https://cdn.example.com/a.png',
        author: 'ann',
        related: ['faq-one', 'faq-two'],
        faqs: [{ question: 'Why?', answer: 'Because.' }],
        seo: { title: 'SEO', noindex: false },
        sections: [{ type: 'hero', fields: { heading: 'Hi' } }],
        body: '# Hello\n\nBody text.',
      },
    });
  });

  it('keeps the source text of unquoted numbers given to text fields', () => {
    const { variant } = read(ARTICLE, '---\ntitle: 2024\nheadline: 3.0\nauthor: 007\n---\n');
    expect(variant.meta.title).toBe('2024');
    expect(variant.fields).toMatchObject({ headline: '3.0', author: '007', body: '' });
  });

  it('reads TOML frontmatter; TOML dates become ISO strings', () => {
    const text =
      '+++\ntitle = "Hi"\npublished_on = 2019-03-05\nviews = 3\nrelated = ["a"]\n[seo]\ntitle = "S"\n+++\nBody';
    expect(read(ARTICLE, text).variant).toMatchObject({
      meta: { title: 'Hi' },
      fields: { published_on: '2019-03-05', views: 3, related: ['a'], seo: { title: 'S' }, body: 'Body' },
    });
  });

  it('handles BOM, CRLF, a missing final newline, empty and absent frontmatter', () => {
    const crlf = '\uFEFF---\r\ntitle: Hi\r\nheadline: x\r\n---\r\n\r\nLine 1\r\nLine 2\r\n';
    expect(read(ARTICLE, crlf).variant).toMatchObject({
      meta: { title: 'Hi' },
      fields: { headline: 'x', body: 'Line 1\r\nLine 2' },
    });
    expect(read(ARTICLE, '---\n---\nJust body').variant.fields).toEqual({ body: 'Just body' });
    expect(read(ARTICLE, 'No frontmatter at all\n').variant).toMatchObject({
      meta: {},
      fields: { body: 'No frontmatter at all' },
    });
    expect(read(ARTICLE, '---\n# only a comment\n---\n').variant.fields).toEqual({ body: '' });
  });

  it('reads flat JSON pages (meta + fields) and single pages', () => {
    expect(
      read(
        'content/pages/landing/spring.es.json',
        '{"title": "Primavera", "status": "published", "headline": "Hola"}',
      ),
    ).toMatchObject({
      location: { locale: 'es', format: 'json' },
      variant: { meta: { title: 'Primavera', status: 'published' }, fields: { headline: 'Hola' } },
    });
    expect(
      read('content/pages/_single/homepage.md', '---\ntitle: Home\ntagline: Hi\n---\n  \n').variant,
    ).toEqual({
      path: 'content/pages/_single/homepage.md',
      meta: { title: 'Home' },
      fields: { tagline: 'Hi' },
    });
  });

  it('reads collection items; a missing keyField comes from the file name', () => {
    const item =
      '{\n  "slug": "ann",\n  "name": "Ann",\n  "years": 3,\n  "active": true,\n  "tags": ["news", "ops"]\n}\n';
    expect(read('content/collections/team_members/ann.json', item).variant.fields).toEqual({
      slug: 'ann',
      name: 'Ann',
      years: 3,
      active: true,
      tags: ['news', 'ops'],
    });
    expect(read('content/collections/tags/news.json', '{"name": "News"}').variant.fields).toEqual({
      name: 'News',
      slug: 'news',
    });
  });

  it('treats the status and title keys as fields in collection items', () => {
    expectError(
      'content/collections/tags/news.json',
      '{"slug": "news",\n"title": "x"}',
      'CONTENT_UNKNOWN_FIELD',
      2,
    );
  });
});

describe('readContentFile: errors name the file and line', () => {
  it('refuses binary, invalid UTF-8 and oversized files', () => {
    expectError(ARTICLE, encode('---\ntitle: a\n---\nx\0y'), 'CONTENT_BINARY', 4);
    expectError(ARTICLE, new Uint8Array([0x2d, 0x0a, 0x41, 0x0a, 0xc3, 0x28]), 'CONTENT_BINARY', 3);
    const multiByteThenBad = [...encode('---\ntitle: ünï €\n---\n\n'), 0xe2, 0x82, 0x0a, ...encode('ok\n')];
    expectError(ARTICLE, new Uint8Array(multiByteThenBad), 'CONTENT_BINARY', 5);
    expectError(ARTICLE, new Uint8Array(MAX_CONTENT_BYTES + 1).fill(0x61), 'CONTENT_TOO_LARGE');
    expect(MAX_CONTENT_BYTES).toBe(5 * 1024 * 1024);
  });

  it('reports malformed YAML, TOML and JSON at the right file line', () => {
    expectError(ARTICLE, '---\ntitle: ok\nheadline: [unclosed\n---\n', 'CONTENT_PARSE');
    expectError(ARTICLE, '---\ntitle: ok\nheadline: a\nheadline: b\n---\n', 'CONTENT_PARSE', 4, /unique/);
    expectError(ARTICLE, '---\ntitle: ok\n  bad: indent\n---\n', 'CONTENT_PARSE', 2);
    expectError(ARTICLE, '---\n- a list\n---\n', 'CONTENT_PARSE', 2);
    expectError(ARTICLE, '---\ntitle: ok\nbody never closes\n', 'CONTENT_PARSE', 1, /never closed/);
    expectError(ARTICLE, '+++\ntitle = "a"\nviews = \n+++\n', 'CONTENT_PARSE', 3);
    expectError(ARTICLE, '+++\ntitle = "a"\ntitle = "b"\n+++\n', 'CONTENT_PARSE', 3);
    const page = 'content/pages/landing/a.json';
    expectError(
      page,
      '{\n  "headline": "a",\n  "headline": "b"\n}\n',
      'CONTENT_PARSE',
      3,
      /duplicate key "headline"/,
    );
    expectError(page, '{\n  "headline": "a",\n}\n', 'CONTENT_PARSE', 3);
    expectError(page, '{\n  "headline": "a"\n', 'CONTENT_PARSE', 3);
    expectError(page, '["not", "an object"]', 'CONTENT_PARSE', 1);
    expectError(page, '{"headline": "a"} extra', 'CONTENT_PARSE', 1);
    expectError(page, `${'['.repeat(5000)}${']'.repeat(5000)}`, 'CONTENT_PARSE', 1, /deep/);
  });

  it('names unknown fields with their line, nested ones with their path', () => {
    expectError(ARTICLE, '---\ntitle: a\nheadlin: typo\n---\n', 'CONTENT_UNKNOWN_FIELD', 3, /"headlin"/);
    expectError(
      ARTICLE,
      '---\nfaqs:\n  - question: q\n    anwser: a\n---\n',
      'CONTENT_UNKNOWN_FIELD',
      4,
      /"faqs\[0\]\.anwser"/,
    );
    expectError(
      'content/pages/landing/a.json',
      '{\n  "headline": "a",\n  "extra": 1\n}',
      'CONTENT_UNKNOWN_FIELD',
      3,
      /"extra"/,
    );
    expectError(ARTICLE, '+++\ntitle = "a"\n[extra]\nx = 1\n+++\n', 'CONTENT_UNKNOWN_FIELD', 3, /"extra"/);
    expectError(ARTICLE, '---\n__proto__: x\n---\n', 'CONTENT_UNKNOWN_FIELD', 2);
  });

  it('refuses values of the wrong type, naming field and line', () => {
    const cases: [string, number, RegExp][] = [
      ['headline:\n  - a list', 2, /"headline" must be text, not a list/],
      ['views: "12"', 2, /"views" must be a number/],
      ['featured: yes', 2, /"featured" must be true or false, not the text "yes"/],
      ['related: one-slug', 2, /"related" must be a list of page slugs/],
      ['author: [a, b]', 2, /"author" must be one team_members key/],
      ['status: live', 2, /"status" must be "draft" or "published"/],
      ['faqs: [a, b]', 2, /"faqs\[0\]" must be a row of fields/],
      ['faqs: {question: a}', 2, /"faqs" must be a list of rows/],
      ['seo: [a]', 2, /"seo" must be a mapping/],
      ['sections:\n  - type: video\n    fields: {}', 3, /"sections\[0\]\.type" must be one of: hero, quote/],
      ['published_on: next tuesday', 2, /"published_on" must be a date/],
      ['title: [a]', 2, /"title" must be the page title/],
    ];
    for (const [yaml, line, message] of cases) {
      expectError(ARTICLE, `---\n${yaml}\n---\n`, 'CONTENT_WRONG_TYPE', line, message);
    }
    expectError(
      'content/collections/team_members/ann.json',
      '{\n  "slug": "ann",\n  "tags": "news"\n}',
      'CONTENT_WRONG_TYPE',
      3,
    );
  });

  it("refuses a component picker's entries that lack its shape, the first one the file holds first", () => {
    const cases: [string, ErrorCode, number, RegExp][] = [
      [
        'sections: {type: hero}',
        'CONTENT_WRONG_TYPE',
        2,
        /"sections" must be a list of \{type, fields\} components/,
      ],
      [
        'sections:\n  - hero',
        'CONTENT_WRONG_TYPE',
        3,
        /"sections\[0\]" must be a \{type, fields\} component/,
      ],
      [
        'sections:\n  - type: hero\n    extra: 1',
        'CONTENT_UNKNOWN_FIELD',
        4,
        /unknown field "sections\[0\]\.extra" \(.* has: type, fields\)/,
      ],
      // A name every object has is no component of the picker.
      [
        'sections:\n  - type: constructor',
        'CONTENT_WRONG_TYPE',
        3,
        /"sections\[0\]\.type" must be one of: hero, quote/,
      ],
      ['sections:\n  - fields: {}', 'CONTENT_WRONG_TYPE', 3, /"sections\[0\]\.type" must be one of/],
      [
        'sections:\n  - type: hero\n    fields: [a]',
        'CONTENT_WRONG_TYPE',
        4,
        /"sections\[0\]\.fields" must be a mapping of fields/,
      ],
      [
        'sections:\n  - type: hero\n    fields: {heading: [a]}',
        'CONTENT_WRONG_TYPE',
        4,
        /"sections\[0\]\.fields\.heading" must be text/,
      ],
      // Entry 0's own field is met before entry 1's type.
      [
        'sections:\n  - type: hero\n    fields: {headin: a}\n  - type: video',
        'CONTENT_UNKNOWN_FIELD',
        4,
        /"sections\[0\]\.fields\.headin"/,
      ],
    ];
    for (const [yaml, code, line, message] of cases) {
      expectError(ARTICLE, `---\n${yaml}\n---\n`, code, line, message);
    }
    expect(read(ARTICLE, '---\nsections:\n  - type: quote\n---\n').variant.fields.sections).toEqual([
      { type: 'quote', fields: {} },
    ]);
  });

  it('never drops a body silently', () => {
    expectError(
      'content/pages/landing/a.md',
      '---\nheadline: a\n---\n\nSome text\n',
      'CONTENT_UNKNOWN_FIELD',
      5,
      /no bodyField/,
    );
    expectError('content/pages/_single/homepage.md', 'Text only', 'CONTENT_UNKNOWN_FIELD', 1);
    expect(read('content/pages/landing/a.md', '---\nheadline: a\n---\n\n \n\t\n').variant.fields).toEqual({
      headline: 'a',
    });
    expectError(
      ARTICLE,
      '---\nbody: in frontmatter\n---\nand below\n',
      'CONTENT_UNKNOWN_FIELD',
      2,
      /Markdown body/,
    );
  });

  it('refuses an item whose key field differs from its file name', () => {
    expectError(
      'content/collections/tags/news.json',
      '{\n  "slug": "sport",\n  "name": "x"\n}',
      'CONTENT_PATH',
      2,
      /"sport"/,
    );
  });

  it('refuses paths outside the model before reading', () => {
    expectError('content/pages/unknown/a.md', '---\n---\n', 'CONTENT_PATH');
  });
});
