import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';

const example = JSON.parse(readFileSync(new URL('../../sync.config.json', import.meta.url), 'utf8'));

describe('parseConfig', () => {
  it('accepts the shipped example config and fills defaults', () => {
    const result = parseConfig(example);
    expect(result.errors).toEqual([]);
    expect(result.config?.collections.tags?.fields.slug).toEqual({ type: 'text' });
    expect(result.config?.rate.timeoutMs).toBe(30_000);
  });

  it('bounds what a config may ask for: contentDir inside the repository, at most 50 locales (issue 15)', () => {
    for (const contentDir of ['..', '../elsewhere', 'content/../../x', '/etc', 'C:\\content']) {
      const result = parseConfig({ ...example, contentDir });
      expect(
        result.errors.map((e) => e.path),
        contentDir,
      ).toContain('contentDir');
    }
    expect(parseConfig({ ...example, contentDir: 'site/content' }).errors).toEqual([]);
    const many = Array.from({ length: 10_000 }, (_, i) => `x${String(i).padStart(5, '0')}`.slice(0, 3));
    const result = parseConfig({ ...example, locales: { default: 'en', all: ['en', ...many] } });
    expect(result.config).toBeNull();
    expect(result.errors[0]?.path).toBe('locales.all');
  });

  it('turns blog posts on with "posts": {} and fills their defaults; leaves them off without the key', () => {
    expect(parseConfig(example).config?.posts).toBeUndefined();
    const on = parseConfig({ ...example, posts: {} });
    expect(on.errors).toEqual([]);
    expect(on.config?.posts).toEqual({
      folder: 'posts',
      keys: {},
      gitOnly: [],
      uploadImagesToMediaLibrary: false,
    });
    const custom = parseConfig({
      ...example,
      posts: { folder: 'blog/posts', keys: { published: 'date' }, gitOnly: ['layout'] },
    });
    expect(custom.errors).toEqual([]);
    expect(custom.config?.posts?.keys).toEqual({ published: 'date' });
  });

  it('refuses a posts folder outside contentDir or inside pages/ or collections/, and clashing post keys', () => {
    for (const folder of ['../posts', '/posts', 'pages/blog', 'collections', 'a//b', '', 'a\\b']) {
      const result = parseConfig({ ...example, posts: { folder } });
      expect(result.config, folder).toBeNull();
      expect(
        result.errors.map((e) => e.path),
        folder,
      ).toContain('posts.folder');
    }
    const unknown = parseConfig({ ...example, posts: { keys: { date: 'published' } } });
    expect(unknown.errors.map((e) => e.path)).toContain('posts.keys');
    const clash = parseConfig({ ...example, posts: { keys: { published: 'title' } } });
    expect(clash.errors.map((e) => `${e.path}: ${e.message}`)).toContain(
      'posts.keys.published: "title" would hold both title and published',
    );
    const hidden = parseConfig({ ...example, posts: { gitOnly: ['layout', 'status'] } });
    expect(hidden.errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'posts.gitOnly.1: "status" is the post\'s status, which is always synced',
    ]);
    // Any other property may stay in the files only (it is then not synced).
    expect(parseConfig({ ...example, posts: { gitOnly: ['author'] } }).errors).toEqual([]);
    const stray = parseConfig({ ...example, posts: { folders: 'x' } });
    expect(stray.errors[0]?.path).toBe('posts');
  });

  it('names the JSON path of an unknown key', () => {
    const result = parseConfig({ ...example, rate: { requestsPerSecond: 5, burst: 3 } });
    expect(result.config).toBeNull();
    expect(result.errors[0]?.path).toBe('rate');
    expect(result.errors[0]?.message).toContain('burst');
  });

  it('refuses a keyField that is not a field', () => {
    const result = parseConfig({
      ...example,
      collections: { tags: { keyField: 'id', fields: { name: 'text' } } },
    });
    expect(result.errors.map((e) => e.path)).toContain('collections.tags.keyField');
  });

  it('refuses a reference to an unknown collection', () => {
    const result = parseConfig({
      ...example,
      collections: {
        a: { keyField: 'k', fields: { k: 'text', r: { type: 'reference', to: 'collection:nope' } } },
      },
    });
    expect(result.errors.map((e) => e.path)).toContain('collections.a.fields.r.to');
  });

  it('refuses a page field that collides with the title metadata key', () => {
    const result = parseConfig({ ...example, pageTypes: { x: { fields: { title: 'text' } } } });
    expect(result.errors.map((e) => e.path)).toContain('pageTypes.x.fields.title');
  });
});
