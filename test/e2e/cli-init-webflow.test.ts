import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import {
  startWebflowEmulator,
  type WebflowEmulatorHandle,
  type WebflowSchemaFixture,
} from '../../src/emulator/webflow/index.js';
import { runCli } from '../helpers/cli-process.js';

// `butter-sync init --from-cms webflow --site SITE_ID` (issue 12): the content model read from the account.

const schema: WebflowSchemaFixture = {
  locales: ['en', 'fr-FR'],
  collections: [
    { slug: 'authors', fields: [{ slug: 'bio', type: 'RichText' }] },
    {
      slug: 'blog-posts',
      fields: [
        { slug: 'summary', type: 'PlainText', isRequired: true },
        { slug: 'published-on', type: 'DateTime' },
        { slug: 'featured', type: 'Switch' },
        { slug: 'cover', type: 'Image' },
        { slug: 'category', type: 'Option', validations: { options: ['News', 'How-to'] } },
        { slug: 'author', type: 'Reference', validations: { collection: 'authors' } },
        { slug: 'co-authors', type: 'MultiReference', validations: { collection: 'authors' } },
        { slug: 'gallery', type: 'MultiImage' },
        { slug: 'views', type: 'Number', isEditable: false },
      ],
    },
  ],
};

let em: WebflowEmulatorHandle;
let dir: string;
beforeAll(async () => {
  em = await startWebflowEmulator({
    schema,
    tokens: [{ token: 'init-token', scopes: ['cms:read', 'sites:read'] }],
  });
  dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-init-webflow-'));
});
afterAll(async () => {
  await em.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string>) => {
  const { WEBFLOW_TOKEN: _t, WEBFLOW_API_URL: _u, ...rest } = process.env;
  return { ...rest, ...extra };
};

describe('init --from-cms webflow', () => {
  it('writes the collections, field types, options, reference targets and locales of the site', async () => {
    const repo = path.join(dir, 'ok');
    await mkdir(repo);
    const result = await runCli(
      [
        'init',
        '--from-cms',
        'webflow',
        '--site',
        em.siteId,
        '--repo',
        repo,
        '--config',
        path.join(repo, 'sync.config.json'),
      ],
      env({ WEBFLOW_TOKEN: 'init-token', WEBFLOW_API_URL: em.url }),
      repo,
    );
    expect(result.code, result.stderr).toBe(0);
    const written = JSON.parse(await readFile(path.join(repo, 'sync.config.json'), 'utf8'));
    expect(written.cms).toEqual({ kind: 'webflow', siteId: em.siteId });
    expect(written.locales).toEqual({ default: 'en', all: ['en', 'fr-FR'] });
    expect(written.collections.authors).toEqual({
      keyField: 'slug',
      fields: { name: 'text', slug: 'text', bio: 'richtext' },
    });
    expect(written.collections['blog-posts']).toEqual({
      keyField: 'slug',
      fields: {
        name: 'text',
        slug: 'text',
        summary: { type: 'text', required: true },
        'published-on': 'date',
        featured: 'boolean',
        cover: 'media',
        category: { type: 'text', options: ['News', 'How-to'] },
        author: { type: 'reference', to: 'collection:authors' },
        'co-authors': { type: 'reference', to: 'collection:authors', many: true },
      },
    });
    expect(result.stderr).toContain('blog-posts.gallery has type MultiImage');
    expect(result.stderr).toContain('blog-posts.views is read-only');
    expect(parseConfig(written).errors).toEqual([]);
    // 1 site + 1 list + 2 collections: the whole model in four calls.
    expect(em.requestLog().map((e) => `${e.method} ${e.status}`)).toEqual(Array(4).fill('GET 200'));
    expect(result.stdout + result.stderr).not.toContain('init-token');
    // The emulator serves the written model back as the same Webflow types.
    const again = await startWebflowEmulator({
      config: parseConfig(written).config!,
      tokens: [{ token: 't' }],
    });
    try {
      const res = await fetch(`${again.url}/collections/${again.collectionId('blog-posts')}`, {
        headers: { authorization: 'Bearer t' },
      });
      const col = (await res.json()) as { fields: Array<{ slug: string; type: string }> };
      const types = Object.fromEntries(col.fields.map((f) => [f.slug, f.type]));
      expect(types).toMatchObject({
        category: 'Option',
        author: 'Reference',
        'co-authors': 'MultiReference',
        cover: 'Image',
      });
    } finally {
      await again.close();
    }
  });

  it('needs WEBFLOW_TOKEN from the environment and a site id, and writes nothing without them', async () => {
    const repo = path.join(dir, 'no-token');
    await mkdir(repo);
    const config = path.join(repo, 'sync.config.json');
    const noToken = await runCli(
      ['init', '--from-cms', 'webflow', '--site', em.siteId, '--repo', repo, '--config', config],
      env({ WEBFLOW_API_URL: em.url }),
      repo,
    );
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('WEBFLOW_TOKEN');
    const badSite = await runCli(
      ['init', '--from-cms', 'webflow', '--site', 'nope', '--repo', repo, '--config', config],
      env({ WEBFLOW_TOKEN: 'init-token', WEBFLOW_API_URL: em.url }),
      repo,
    );
    expect(badSite.code).toBe(2);
    const butter = await runCli(
      ['init', '--from-cms', 'butter', '--repo', repo, '--config', config],
      env({}),
      repo,
    );
    expect(butter.code).toBe(2);
    await expect(stat(config)).rejects.toThrow();
  });
});
