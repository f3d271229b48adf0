import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ButterClientOptions, createButterBlogClient } from '../../src/cms/butter/index.js';
import { SyncError } from '../../src/core/errors.js';
import type { EmulatorHandle, RequestLogEntry } from '../../src/emulator/index.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';

/**
 * The ButterCMS client's blog calls (butter-api.md §2.5, §3.8) over real HTTP against the emulator: the exact
 * requests (verb, slashed path, query, token, body) and how the answers are read.
 */

let em: EmulatorHandle;
let client: ReturnType<typeof createButterBlogClient>;
let options: ButterClientOptions;

beforeAll(async () => {
  em = await startTestEmulator({ applyDelayMs: 400 });
  options = {
    baseUrl: em.url,
    readToken: TEST_READ_TOKEN,
    writeToken: TEST_WRITE_TOKEN,
    requestsPerSecond: 500,
    concurrency: 4,
    timeoutMs: 5_000,
    maxRetries: 1,
    retryBaseMs: 1,
  };
  client = createButterBlogClient(options);
});
afterAll(async () => {
  await client.close();
  await em.close();
});

const since = (mark: number): RequestLogEntry[] => em.requestLog().slice(mark);

describe('ButterCMS client: blog posts', () => {
  it('creates, reads back, patches a locale and deletes a post with the documented requests', async () => {
    em.seedAuthor({ slug: 'ann', first_name: 'Ann', last_name: 'Lee', email: 'ann@example.com' });
    const mark = em.requestLog().length;
    const accepted = await client.createPost({
      title: 'Hello',
      slug: 'client-hello',
      status: 'published',
      author: { slug: 'ann' },
      tags: ['Release Notes'],
      categories: ['News'],
      body: '<p>With <strong>butter-sync</strong>.</p>',
      featured_image: 'https://example.com/hero.png',
    });
    expect(accepted).toEqual({ status: 'pending' });
    // 202 is not success (§3.0): before the job runs the post is not there.
    expect(await client.getPost('client-hello', { preview: true })).toBeNull();
    await em.settle();
    const post = await client.getPost('client-hello');
    expect(post).toMatchObject({
      slug: 'client-hello',
      title: 'Hello',
      status: 'published',
      body: '<p>With <strong>butter-sync</strong>.</p>',
      author: { slug: 'ann', email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee' },
      tags: [{ name: 'Release Notes', slug: 'release-notes' }],
      categories: [{ name: 'News', slug: 'news' }],
    });
    expect(post?.featured_image).toMatch(/^https:\/\/cdn\.buttercms\.com\//);

    await client.updatePost(
      'client-hello',
      { title: 'Hola', body: '<p>Hola</p>', status: 'published' },
      { locale: 'es' },
    );
    await em.settle();
    expect((await client.getPost('client-hello', { locale: 'es' }))?.title).toBe('Hola');
    expect((await client.getPost('client-hello'))?.title).toBe('Hello');

    await client.deletePost('client-hello');
    await em.settle();
    expect(await client.getPost('client-hello', { preview: true })).toBeNull();

    const log = since(mark);
    const writes = log.filter((r) => r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.path} ${r.status} ${r.auth}`)).toEqual([
      'POST /v2/posts/ 202 write',
      'PATCH /v2/posts/client-hello/?locale=es 202 write',
      'DELETE /v2/posts/client-hello/ 204 write',
    ]);
    expect(JSON.parse(writes[0]?.body ?? '{}')).toMatchObject({
      author: { slug: 'ann' },
      tags: ['Release Notes'],
    });
    // Reads carry the read token in the query (§1.1), never the write token.
    for (const read of log.filter((r) => r.method === 'GET')) {
      expect(read.auth).toBe('read');
      expect(read.path).toMatch(/^\/v2\/posts\/client-hello\/\?/);
    }
  });

  it('lists every post across pages at page_size=100, with the filters as the contract names them', async () => {
    em.reset();
    for (let i = 1; i <= 130; i++) {
      em.seedPost({
        slug: `bulk-${i}`,
        title: `Bulk ${i}`,
        tags: i % 10 === 0 ? ['Tenth'] : [],
        status: i === 1 ? 'draft' : 'published',
      });
    }
    const mark = em.requestLog().length;
    const all = await client.listPosts({ excludeBody: true });
    expect(all).toHaveLength(129);
    expect(all.every((p) => p.body === undefined)).toBe(true);
    const reads = since(mark);
    expect(reads).toHaveLength(2);
    expect(reads[0]?.path).toMatch(/^\/v2\/posts\/\?/);
    expect(new URLSearchParams(reads[0]?.path.split('?')[1]).get('page_size')).toBe('100');
    expect(new URLSearchParams(reads[1]?.path.split('?')[1]).get('page')).toBe('2');
    expect(new URLSearchParams(reads[0]?.path.split('?')[1]).get('exclude_body')).toBe('true');

    const drafts = await client.listPosts({ preview: true, tagSlug: 'tenth' });
    expect(drafts.map((p) => p.slug).sort()).toEqual(
      [
        'bulk-10',
        'bulk-20',
        'bulk-30',
        'bulk-40',
        'bulk-50',
        'bulk-60',
        'bulk-70',
        'bulk-80',
        'bulk-90',
        'bulk-100',
        'bulk-110',
        'bulk-120',
        'bulk-130',
      ].sort(),
    );
    expect((await client.listPosts({ preview: true, authorSlug: 'emulator-owner' })).length).toBe(130);
    expect(await client.listPosts({ categorySlug: 'none' })).toEqual([]);
  });

  it('lists authors, refuses a create the API refuses, and never builds a URL from "." or ".."', async () => {
    em.reset();
    em.seedAuthor({ slug: 'bob', email: 'bob@example.com' });
    expect((await client.listAuthors()).map((a) => a.slug)).toEqual(['emulator-owner', 'bob']);
    const refused = await client
      .createPost({ title: 'T', slug: 'ghostly', author: { email: 'ghost@example.com' } })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SyncError);
    expect((refused as SyncError).code).toBe('CMS_BAD_REQUEST');
    const mark = em.requestLog().length;
    await expect(client.getPost('..')).rejects.toThrow(/not a valid post slug/);
    await expect(client.deletePost('.')).rejects.toThrow(/not a valid post slug/);
    expect(since(mark)).toEqual([]);
    const readOnly = createButterBlogClient({ ...options, writeToken: undefined });
    try {
      await expect(readOnly.createPost({ title: 'T', slug: 't' })).rejects.toBeInstanceOf(SyncError);
    } finally {
      await readOnly.close();
    }
  });
});
