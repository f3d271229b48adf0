import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SyncConfig } from '../../src/config/schema.js';
import {
  editPostFile,
  isPostPath,
  locatePostFile,
  pathForPost,
  readPostFile,
  renderPostFile,
} from '../../src/content/index.js';
import { SyncError } from '../../src/core/errors.js';
import { validConfig } from '../helpers/valid-config.js';

// Blog post files (issue 11 part 2): path layout, frontmatter codec, format-preserving edits, on real blog posts.

const CORPUS = '../../../shared/corpus/markdown/';
const corpus = (rel: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`${CORPUS}${rel}`, import.meta.url)));
const NODE_RELEASE = 'nodejs-website/apps/site/pages/en/blog/release/v0.10.0.md';
const JEKYLL = 'jekyll-docs/docs/_posts/2013-05-06-jekyll-1-0-0-released.markdown';
const RUST = 'rust-blog/content/1.0-Timeline.md';
const VITE = 'vite-docs/docs/blog/announcing-vite2.md';
const TAURI = 'tauri-docs/src/content/docs/blog/tauri-1-7.mdx';

const base = { contentDir: 'content', locales: { default: 'en', all: ['en', 'es'] } };
const withPosts = (posts: Record<string, unknown> = {}): SyncConfig => validConfig({ ...base, posts });
const bytes = (text: string) => new TextEncoder().encode(text);

function errorOf(fn: () => unknown): SyncError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error('expected a SyncError');
}

describe('post paths', () => {
  const config = withPosts();

  it('maps posts/<slug>.md and <slug>.<locale>.md to slug and locale', () => {
    expect(locatePostFile('content/posts/hello.md', config)).toEqual({ slug: 'hello', locale: 'en' });
    expect(locatePostFile('content/posts/hello.es.md', config)).toEqual({ slug: 'hello', locale: 'es' });
    // A suffix that is not a configured locale is part of no slug: the file is refused with a rename hint.
    const dotted = errorOf(() => locatePostFile('content/posts/hello.fr.md', config));
    expect(dotted.code).toBe('CONTENT_PATH');
    expect(dotted.file).toBe('content/posts/hello.fr.md');
    expect(dotted.hint).toContain('hello-fr.md');
    expect(pathForPost('hello', 'en', config)).toBe('content/posts/hello.md');
    expect(pathForPost('hello', 'es', config, '.markdown')).toBe('content/posts/hello.es.markdown');
  });

  it('honours posts.folder and refuses nested, non-Markdown, unsafe and slug-less names', () => {
    const blog = withPosts({ folder: 'blog/en' });
    expect(isPostPath('content/blog/en/hello.md', blog)).toBe(true);
    expect(isPostPath('content/posts/hello.md', blog)).toBe(false);
    expect(isPostPath('content/blog/en/deep/hello.md', blog)).toBe(false);
    expect(isPostPath('content/blog/en/hello.json', blog)).toBe(false);
    expect(isPostPath('content/posts/hello.md', validConfig(base))).toBe(false);
    const nested = errorOf(() => locatePostFile('content/posts/deep/x.md', config));
    expect(nested.message).toContain('nested');
    expect(nested.hint).toContain('<slug>.md');
    expect(errorOf(() => locatePostFile('content/posts/x.json', config)).message).toContain('.md');
    expect(errorOf(() => locatePostFile('content/pages/x.md', config)).message).toContain('posts folder');
    // The corpus's Rust post name is not a slug: refused before any call, with the slug it could take.
    const rust = errorOf(() => locatePostFile('content/posts/1.0-Timeline.md', config));
    expect(rust.hint).toContain('1-0-Timeline.md');
    expect(() => pathForPost('../x', 'en', config)).toThrow(/Cannot store post slug/);
    expect(() => pathForPost('hello.es', 'en', config)).toThrow(/not a valid post slug/);
    expect(() => pathForPost('hello', 'de', config)).toThrow(/not in locales.all/);
    const off = errorOf(() => locatePostFile('content/posts/hello.md', validConfig(base)));
    expect(off.hint).toContain('"posts": {}');
  });
});

describe('reading post files', () => {
  it('reads every post property, title/status as meta and the Markdown body as the body', () => {
    const text = [
      '---',
      'title: "Hello, world"',
      'status: published',
      'published: 2024-03-15T09:30:00Z',
      'summary: A first post',
      'seo_title: Hello SEO',
      'meta_description: The first post',
      'featured_image: https://example.com/hero.png',
      'featured_image_alt: A hero',
      'author: ann@example.com',
      'tags: [Node.js, Release Notes]',
      'categories:',
      '  - News',
      '---',
      '',
      'With **butter-sync** both sides stay in step.',
      '',
    ].join('\n');
    const { location, variant } = readPostFile('content/posts/hello.md', bytes(text), withPosts());
    expect(location).toEqual({ slug: 'hello', locale: 'en' });
    expect(variant).toEqual({
      path: 'content/posts/hello.md',
      meta: { title: 'Hello, world', status: 'published' },
      fields: {
        published: '2024-03-15T09:30:00Z',
        summary: 'A first post',
        seo_title: 'Hello SEO',
        meta_description: 'The first post',
        featured_image: 'https://example.com/hero.png',
        featured_image_alt: 'A hero',
        author: 'ann@example.com',
        tags: ['Node.js', 'Release Notes'],
        categories: ['News'],
        body: 'With **butter-sync** both sides stay in step.',
      },
    });
  });

  it('names file and line for an unknown key, a bad status, a bad date, a missing title and empty names', () => {
    const read = (matter: string[], config = withPosts()) =>
      errorOf(() =>
        readPostFile('content/posts/p.md', bytes(['---', ...matter, '---', '', 'Body'].join('\n')), config),
      );
    const unknown = read(['title: T', 'layout: post']);
    expect(unknown).toMatchObject({ code: 'CONTENT_UNKNOWN_FIELD', file: 'content/posts/p.md', line: 3 });
    expect(unknown.message).toContain('"layout"');
    expect(unknown.message).toContain('a blog post has: title, status, published');
    expect(unknown.hint).toContain('posts.gitOnly');
    expect(unknown.hint).toContain('posts.keys');
    expect(read(['title: T', 'status: scheduled'])).toMatchObject({ code: 'CONTENT_WRONG_TYPE', line: 3 });
    expect(read(['title: T', 'published: last tuesday'])).toMatchObject({
      code: 'CONTENT_WRONG_TYPE',
      line: 3,
    });
    expect(read(['summary: no title'])).toMatchObject({
      code: 'CONTENT_WRONG_TYPE',
      file: 'content/posts/p.md',
    });
    expect(read(['title: ""'])).toMatchObject({ code: 'CONTENT_WRONG_TYPE', line: 2 });
    expect(read(['title: T', 'tags: ["ok", " "]'])).toMatchObject({ code: 'CONTENT_WRONG_TYPE', line: 3 });
    expect(read(['title: T', 'tags: {a: 1}'])).toMatchObject({ code: 'CONTENT_WRONG_TYPE', line: 3 });
    // YAML reports an unclosed flow list where it gives up: the line after it.
    expect(read(['title: [T'])).toMatchObject({ code: 'CONTENT_PARSE', file: 'content/posts/p.md', line: 3 });
    // gitOnly keeps a key in the file without an error.
    expect(
      readPostFile(
        'content/posts/p.md',
        bytes('---\ntitle: T\nlayout: post\n---\nBody\n'),
        withPosts({ gitOnly: ['layout'] }),
      ).variant.fields,
    ).toEqual({ body: 'Body' });
  });

  it('a real Node.js release post: a name is not an author; with keys and gitOnly it reads as it is', () => {
    const file = corpus(NODE_RELEASE);
    const config = withPosts({ keys: { published: 'date' }, gitOnly: ['category', 'layout'] });
    const error = errorOf(() => readPostFile('content/posts/v0-10-0.md', file, config));
    expect(error.code).toBe('CONTENT_WRONG_TYPE');
    expect(error.message).toBe('"author" must be an author slug or e-mail address, not "Isaac Z. Schlueter"');
    expect(error.line).toBe(6);
    expect(error.hint).toContain('dashboard');
    const kept = withPosts({ keys: { published: 'date' }, gitOnly: ['category', 'layout', 'author'] });
    const { variant } = readPostFile('content/posts/v0-10-0.md', file, kept);
    expect(variant.meta).toEqual({ title: 'Node.js 0.10.0 (Stable)' });
    expect(variant.fields.published).toBe('2013-03-11T16:00:00.000Z');
    expect(String(variant.fields.body)).toMatch(/^I am pleased to announce a new stable version of Node\./);
    expect(`${variant.fields.body}\n`).toBe(file.toString('utf8').split('---\n\n')[1]);
  });

  it('a real Jekyll post (quoted zoned date, author slug) and a Tauri MDX post (renamed keys)', () => {
    const jekyll = readPostFile(
      'content/posts/jekyll-1-0-0-released.markdown',
      corpus(JEKYLL),
      withPosts({ keys: { published: 'date' }, gitOnly: ['version', 'category'] }),
    );
    expect(jekyll.variant.meta.title).toBe('Jekyll 1.0.0 Released');
    expect(jekyll.variant.fields).toMatchObject({ published: '2013-05-06 02:12:52 +0200', author: 'parkr' });
    const tauri = readPostFile(
      'content/posts/tauri-1-7.mdx',
      corpus(TAURI),
      withPosts({ keys: { published: 'date', author: 'authors', summary: 'excerpt' } }),
    );
    expect(tauri.variant.fields).toMatchObject({
      published: '2024-07-01',
      author: 'lucasfernog',
      summary: 'The Tauri team is happy to announce the 1.7.0 release.',
    });
    expect(String(tauri.variant.fields.body)).toContain(
      "import CommandTabs from '@components/CommandTabs.astro';",
    );
  });

  it('a real Rust blog post in TOML frontmatter, and a Vite post whose author is a list of maps', () => {
    const rust = readPostFile(
      'content/posts/rust-1-0-timeline.md',
      corpus(RUST),
      withPosts({ keys: { summary: 'description' }, gitOnly: ['path', 'authors', 'aliases'] }),
    );
    expect(rust.variant.meta.title).toBe('Rust 1.0: Scheduling the trains');
    expect(rust.variant.fields.summary).toMatch(/^As 2014 is drawing to a close/);
    const vite = errorOf(() =>
      readPostFile(
        'content/posts/announcing-vite2.md',
        corpus(VITE),
        withPosts({ keys: { published: 'date' } }),
      ),
    );
    expect(vite).toMatchObject({
      code: 'CONTENT_WRONG_TYPE',
      file: 'content/posts/announcing-vite2.md',
      line: 3,
    });
    expect(vite.message).toContain('field "author" must be text, not a list');
  });
});

describe('writing post files', () => {
  const config = withPosts({ keys: { published: 'date' }, gitOnly: ['version', 'category'] });

  it('edits only the changed keys of a real post and keeps the date spelling and zone', () => {
    const file = corpus(JEKYLL).toString('utf8');
    const relPath = 'content/posts/jekyll-1-0-0-released.markdown';
    expect(editPostFile(relPath, file, { title: 'Jekyll 1.0.0 Released', author: 'parkr' }, config)).toBe(
      file,
    );
    const edited = editPostFile(
      relPath,
      file,
      { title: 'Jekyll 1.0 is out', published: '2013-05-07T10:00:00', tags: ['release'] },
      config,
    );
    const lines = edited.split('\n');
    expect(lines.slice(0, 8)).toEqual([
      '---',
      'title: "Jekyll 1.0 is out"',
      'date: "2013-05-07 12:00:00 +0200"',
      'author: parkr',
      'version: 1.0.0',
      'category: release',
      'tags:',
      '  - release',
    ]);
    expect(lines[8]).toBe('---');
    expect(readPostFile(relPath, bytes(edited), config).variant.fields.tags).toEqual(['release']);
    // The body is untouched byte for byte.
    expect(edited.slice(edited.indexOf('\n---\n'))).toBe(file.slice(file.indexOf('\n---\n')));
  });

  it('replaces the body keeping CRLF on untouched lines, and removes a key set to null', () => {
    const text = '---\r\ntitle: T\r\nsummary: S\r\n---\r\n\r\nFirst paragraph.\r\n\r\nSecond paragraph.\r\n';
    const edited = editPostFile(
      'content/posts/t.md',
      text,
      { summary: null, body: 'First paragraph.\n\nSecond, edited.' },
      withPosts(),
    );
    expect(edited).toBe('---\r\ntitle: T\r\n---\r\n\r\nFirst paragraph.\r\n\r\nSecond, edited.\r\n');
  });

  it('renders a new post file that reads back to the same post', () => {
    const variant = {
      meta: { title: 'New: from the dashboard', status: 'draft' as const },
      fields: {
        published: '2024-05-01T08:00:00',
        summary: '',
        author: 'ann',
        tags: ['A', 'B'],
        categories: [],
        featured_image: 'https://cdn.buttercms.com/abcdefghijklmnopqrst',
        body: 'Hello **there**.',
      },
    };
    const relPath = pathForPost('new-post', 'es', config);
    const text = renderPostFile(relPath, variant, config);
    expect(text).toBe(
      [
        '---',
        'title: "New: from the dashboard"',
        'status: draft',
        'date: 2024-05-01T08:00:00',
        'featured_image: https://cdn.buttercms.com/abcdefghijklmnopqrst',
        'author: ann',
        'tags:',
        '  - A',
        '  - B',
        '---',
        '',
        'Hello **there**.',
        '',
      ].join('\n'),
    );
    const back = readPostFile(relPath, bytes(text), config);
    expect(back.location).toEqual({ slug: 'new-post', locale: 'es' });
    expect(back.variant.meta).toEqual(variant.meta);
    const { summary: _s, categories: _c, ...nonEmpty } = variant.fields;
    expect(back.variant.fields).toEqual(nonEmpty);
  });
});
