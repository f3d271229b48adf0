import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../src/config/schema.js';
import { isPageSlug, slugify } from '../../src/content/content-path.js';
import { isContentPath, locateFile, pathForEntity } from '../../src/content/index.js';
import type { EntityRef } from '../../src/core/types.js';
import { validConfig } from '../helpers/valid-config.js';

function makeConfig(contentDir = 'content'): SyncConfig {
  return validConfig({
    contentDir,
    locales: { default: 'en', all: ['en', 'es', 'pt-br'] },
    pageTypes: {
      faq: { bodyField: 'body', fields: { headline: 'text', body: 'richtext' } },
      landing: { fields: { headline: 'text' } },
    },
    singlePages: { homepage: { fields: { tagline: 'text' } } },
    collections: { tags: { keyField: 'slug', fields: { slug: 'text', name: 'text' } } },
  });
}

const config = makeConfig();

function expectPathError(fn: () => unknown, file?: string): void {
  expect(fn).toThrow(expect.objectContaining({ code: 'CONTENT_PATH', ...(file ? { file } : {}) }));
}

describe('locateFile', () => {
  it('maps pages, locales, single pages and items', () => {
    expect(locateFile('content/pages/faq/shipping.md', config)).toEqual({
      ref: { kind: 'page', pageType: 'faq', slug: 'shipping' },
      locale: 'en',
      format: 'markdown',
    });
    expect(locateFile('content/pages/faq/shipping.es.mdx', config)).toEqual({
      ref: { kind: 'page', pageType: 'faq', slug: 'shipping' },
      locale: 'es',
      format: 'markdown',
    });
    expect(locateFile('content/pages/faq/shipping.pt-br.markdown', config).locale).toBe('pt-br');
    expect(locateFile('content/pages/landing/spring.json', config)).toMatchObject({
      ref: { kind: 'page', pageType: 'landing', slug: 'spring' },
      format: 'json',
    });
    expect(locateFile('content/pages/_single/homepage.es.json', config)).toEqual({
      ref: { kind: 'page', pageType: '*', slug: 'homepage' },
      locale: 'es',
      format: 'json',
    });
    expect(locateFile('content/collections/tags/news.es.json', config)).toEqual({
      ref: { kind: 'item', collection: 'tags', key: 'news' },
      locale: 'es',
      format: 'json',
    });
  });

  it('counts a suffix as a locale only when it is a configured non-default locale', () => {
    expect(locateFile('content/collections/tags/v1.2.json', config).ref).toMatchObject({ key: 'v1.2' });
    expect(locateFile('content/collections/tags/intro.en.json', config)).toMatchObject({
      ref: { key: 'intro.en' },
      locale: 'en',
    });
    // A page file name is its slug, and ButterCMS slugs hold no dot: refused before any call.
    expect(() => locateFile('content/pages/faq/v1.2.md', config)).toThrow(
      'the file name "v1.2" is not a valid ButterCMS page slug',
    );
    expect(locateFile('content/collections/tags/intro.fr.json', config)).toMatchObject({
      ref: { key: 'intro.fr' },
      locale: 'en',
    });
  });

  it('refuses files outside the content model, naming the file', () => {
    for (const path of [
      'content/pages/blog/post.md', // unknown page type
      'content/collections/people/ann.json', // unknown collection
      'content/pages/_single/about.json', // unknown single page
      'content/collections/tags/news.md', // items are JSON
      'content/pages/faq/shipping.txt',
      'content/pages/faq/2024/shipping.md', // a folder, but faq does not slugify
      'content/collections/tags/2024/news.json', // items are flat
      'content/pages/shipping.md',
      'other/pages/faq/shipping.md', // outside contentDir
      'content/pages/faq/../../../etc/passwd.md',
      'content/pages/faq/./x.md',
      'content/pages//faq/x.md',
      'content\\pages\\faq\\x.md',
      'content/pages/faq/.md',
    ]) {
      expectPathError(() => locateFile(path, config), path);
    }
  });

  it('honours contentDir spelled with ./ and a trailing slash, or the repo root', () => {
    expect(locateFile('site/content/pages/faq/a.md', makeConfig('./site/content/')).ref).toMatchObject({
      slug: 'a',
    });
    expect(locateFile('pages/faq/a.md', makeConfig('.')).ref).toMatchObject({ slug: 'a' });
  });
});

describe('isContentPath', () => {
  it('filters by area and extension without throwing', () => {
    expect(isContentPath('content/pages/faq/a.md', config)).toBe(true);
    expect(isContentPath('content/pages/faq/a.MDX', config)).toBe(true);
    expect(isContentPath('content/collections/tags/a.json', config)).toBe(true);
    expect(isContentPath('content/pages/unknown-type/a.md', config)).toBe(true); // locateFile reports it
    expect(isContentPath('content/pages/faq/a.png', config)).toBe(false);
    expect(isContentPath('content/README.md', config)).toBe(false);
    expect(isContentPath('content/media/a.md', config)).toBe(false);
    expect(isContentPath('src/pages/faq/a.md', config)).toBe(false);
    expect(isContentPath('', config)).toBe(false);
    expect(isContentPath('content', config)).toBe(false);
  });
});

describe('pathForEntity', () => {
  it('round-trips with locateFile for every kind and locale', () => {
    const refs: EntityRef[] = [
      { kind: 'page', pageType: 'faq', slug: 'shipping' },
      { kind: 'page', pageType: 'landing', slug: 'spring-sale' },
      { kind: 'page', pageType: '*', slug: 'homepage' },
      { kind: 'item', collection: 'tags', key: 'news' },
      { kind: 'item', collection: 'tags', key: 'Ünïcode tag' },
      { kind: 'item', collection: 'tags', key: 'v1.2' },
    ];
    for (const ref of refs) {
      for (const locale of ['en', 'es', 'pt-br']) {
        const path = pathForEntity(ref, locale, config);
        expect(path.startsWith('content/')).toBe(true);
        expect(isContentPath(path, config)).toBe(true);
        expect(locateFile(path, config)).toMatchObject({ ref, locale });
      }
    }
    expect(pathForEntity({ kind: 'page', pageType: 'faq', slug: 'a' }, 'es', config)).toBe(
      'content/pages/faq/a.es.md',
    );
    expect(pathForEntity({ kind: 'page', pageType: 'landing', slug: 'a' }, 'en', config)).toBe(
      'content/pages/landing/a.json',
    );
    expect(pathForEntity({ kind: 'page', pageType: '*', slug: 'homepage' }, 'en', config)).toBe(
      'content/pages/_single/homepage.json',
    );
    expect(pathForEntity({ kind: 'item', collection: 'tags', key: 'x' }, 'en', makeConfig('.'))).toBe(
      'collections/tags/x.json',
    );
  });

  it('refuses hostile or unportable names', () => {
    const hostile = [
      '../x',
      '..',
      '.',
      'a/b',
      'a\\b',
      'CON',
      'con',
      'nul.txt',
      'Com1',
      'LPT9.json',
      'x'.repeat(1000),
      'a\0b',
      'tab\there',
      'line\nbreak',
      '',
      'trailing.',
      'trailing ',
      '.hidden',
      'what?',
      'a:b',
      'ends-in-locale.es',
    ];
    for (const slug of hostile) {
      expectPathError(() => pathForEntity({ kind: 'page', pageType: 'faq', slug }, 'en', config));
      expectPathError(() => pathForEntity({ kind: 'item', collection: 'tags', key: slug }, 'en', config));
    }
    expect(pathForEntity({ kind: 'item', collection: 'tags', key: 'x'.repeat(200) }, 'en', config)).toContain(
      'x'.repeat(200),
    );
  });

  it('refuses entities and locales the config does not know', () => {
    expectPathError(() => pathForEntity({ kind: 'page', pageType: 'blog', slug: 'a' }, 'en', config));
    expectPathError(() => pathForEntity({ kind: 'page', pageType: '*', slug: 'about' }, 'en', config));
    expectPathError(() => pathForEntity({ kind: 'item', collection: 'people', key: 'a' }, 'en', config));
    expectPathError(() => pathForEntity({ kind: 'page', pageType: 'faq', slug: 'a' }, 'fr', config));
  });
});

describe('nested page files (real trees: content/docs/guides/intro.md)', () => {
  const nested = validConfig({
    locales: { default: 'en', all: ['en', 'es'] },
    pageTypes: {
      docs: { bodyField: 'body', fields: { body: 'richtext' }, slugs: 'slugify' },
      faq: { bodyField: 'body', fields: { body: 'richtext' } },
    },
  });

  it('maps the folders into the slug under "slugs": "slugify", locale suffix and all', () => {
    expect(locateFile('content/pages/docs/guides/intro.md', nested).ref).toEqual({
      kind: 'page',
      pageType: 'docs',
      slug: 'guides-intro',
    });
    expect(locateFile('content/pages/docs/concept/Inter-Process Communication/index.es.mdx', nested)).toEqual(
      {
        ref: { kind: 'page', pageType: 'docs', slug: 'concept-Inter-Process-Communication-index' },
        locale: 'es',
        format: 'markdown',
      },
    );
    // A hidden folder (svelte's `.generated/`) is read; its dot does not reach the slug.
    expect(locateFile('content/pages/docs/ai/.generated/agents.md', nested).ref).toMatchObject({
      slug: 'ai-generated-agents',
    });
  });

  it('refuses a folder in a page type that keeps exact slugs, pointing at "slugs": "slugify"', () => {
    const file = 'content/pages/faq/guides/intro.md';
    expect(() => locateFile(file, nested)).toThrow(
      expect.objectContaining({
        code: 'CONTENT_PATH',
        file,
        hint: expect.stringContaining('"slugs": "slugify" on page type "faq"'),
      }),
    );
    expectPathError(() => locateFile('content/pages/docs/a/../b.md', nested));
    expectPathError(() => locateFile('content/pages/docs/con/b.md', nested));
  });
});

describe('slugify (page types with "slugs": "slugify")', () => {
  it('maps real file names to ButterCMS slugs, keeping case', () => {
    expect(slugify('Rust-1.22')).toBe('Rust-1-22');
    expect(slugify('roadmap@0')).toBe('roadmap-0');
    expect(slugify('2024-01-02 my post')).toBe('2024-01-02-my-post');
    expect(slugify('2024-01-01-jekyll-ünïcode')).toBe('2024-01-01-jekyll-unicode');
    expect(slugify('..weird..')).toBe('weird');
    expect(isPageSlug(slugify('Rust-1.86.0'))).toBe(true);
  });
});
