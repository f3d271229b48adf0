import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { callEmulator, startTestEmulator, TEST_READ_TOKEN } from '../helpers/emulator.js';

// Blog posts over raw HTTP: reads (butter-api.md §2.5), writes (§3.8), authors/tags/categories, post webhooks (§4).

let em: EmulatorHandle;
const call = (path: string, init?: Parameters<typeof callEmulator>[2]) => callEmulator(em, path, init);

beforeAll(async () => {
  em = await startTestEmulator();
});
afterAll(async () => {
  await em.close();
});
afterEach(() => {
  em.reset();
});

async function createPost(body: Record<string, unknown>, query = '') {
  const r = await call(`/v2/posts/${query}`, { method: 'POST', body });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  expect(r.json).toEqual({ status: 'pending' });
  await em.settle();
}

describe('post writes', () => {
  it('creates a post: 202 pending, then readable with every documented key, HTML body kept as sent', async () => {
    em.seedAuthor({ slug: 'ann', first_name: 'Ann', last_name: 'Lee', email: 'ann@example.com' });
    const html = '<p>With <strong>butter-sync</strong> both sides stay in step.</p>';
    await createPost({
      title: 'Hello',
      slug: 'hello',
      status: 'published',
      author: { email: 'ANN@example.com' },
      tags: ['Node.js', 'Release Notes'],
      categories: ['News'],
      body: html,
      summary: 'Short',
      seo_title: 'Hello SEO',
      meta_description: 'Meta',
      featured_image: 'https://example.com/hero.png',
      featured_image_alt: 'A hero',
    });
    const r = await call('/v2/posts/hello/');
    expect(r.status).toBe(200);
    const post = r.json.data;
    expect(Object.keys(post)).toEqual([
      'status',
      'created',
      'updated',
      'published',
      'scheduled',
      'title',
      'slug',
      'body',
      'summary',
      'seo_title',
      'meta_description',
      'featured_image',
      'featured_image_alt',
      'url',
      'author',
      'tags',
      'categories',
      'deleted',
    ]);
    expect(post).toMatchObject({
      status: 'published',
      title: 'Hello',
      slug: 'hello',
      body: html,
      summary: 'Short',
      seo_title: 'Hello SEO',
      meta_description: 'Meta',
      featured_image_alt: 'A hero',
      scheduled: null,
      author: { slug: 'ann', first_name: 'Ann', email: 'ann@example.com' },
      tags: [
        { name: 'Node.js', slug: 'nodejs' },
        { name: 'Release Notes', slug: 'release-notes' },
      ],
      categories: [{ name: 'News', slug: 'news' }],
    });
    // The featured image is always re-hosted (§3.7): the URL read back is never the one written.
    expect(post.featured_image).toMatch(/^https:\/\/cdn\.buttercms\.com\/[A-Za-z0-9]{20}$/);
    expect(post.published).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(r.json.meta).toEqual({ next_post: null, previous_post: null });
  });

  it('validates before the 202: required title and slug, unique slug, existing author, list shapes', async () => {
    const missing = await call('/v2/posts/', { method: 'POST', body: { body: '<p>x</p>' } });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ title: ['This field is required.'], slug: ['This field is required.'] });
    const badSlug = await call('/v2/posts/', { method: 'POST', body: { title: 'T', slug: '../etc' } });
    expect(badSlug.json).toEqual({ slug: ['Enter a valid slug.'] });
    const noAuthor = await call('/v2/posts/', {
      method: 'POST',
      body: { title: 'T', slug: 't', author: { slug: 'ghost' } },
    });
    expect(noAuthor.status).toBe(400);
    expect(noAuthor.json).toEqual({ author: ['Author ghost does not exist.'] });
    const badTags = await call('/v2/posts/', {
      method: 'POST',
      body: { title: 'T', slug: 't', tags: 'one', categories: [1] },
    });
    expect(badTags.json).toEqual({
      tags: ['Expected a list of tag names.'],
      categories: ['Expected a list of category names.'],
    });
    const misspelt = await call('/v2/posts/', {
      method: 'POST',
      body: { title: 'T', slug: 't', sumary: 'x' },
    });
    expect(misspelt.json).toEqual({ sumary: ['Unknown field for a blog post.'] });
    await createPost({ title: 'T', slug: 't' });
    const twice = await call('/v2/posts/', { method: 'POST', body: { title: 'T2', slug: 't' } });
    expect(twice.status).toBe(400);
    expect(twice.json).toEqual({ slug: ['Post with this slug already exists.'] });
    // Nothing that was refused was stored; tags from refused writes were not created.
    expect((await call('/v2/posts/?preview=1')).json.meta.count).toBe(1);
    expect((await call('/v2/tags/')).json).toEqual({ data: [] });
  });

  it('defaults: draft status, the org owner as author, scheduled ignored with a warning', async () => {
    await createPost({ title: 'Draft', slug: 'draft' });
    const hidden = await call('/v2/posts/draft/');
    expect(hidden.status).toBe(404);
    expect(hidden.json).toEqual({ detail: 'Not found.' });
    const draft = (await call('/v2/posts/draft/?preview=1')).json.data;
    expect(draft).toMatchObject({ status: 'draft', published: null, featured_image: null, body: '' });
    expect(draft.author.slug).toBe('emulator-owner');
    const scheduled = await call('/v2/posts/', {
      method: 'POST',
      body: { title: 'Later', slug: 'later', status: 'scheduled' },
    });
    expect(scheduled.status).toBe(202);
    expect(scheduled.json).toEqual({ status: 'pending', warnings: ['scheduled fields are ignored'] });
    await em.settle();
    expect((await call('/v2/posts/later/?preview=1')).json.data.status).toBe('draft');
  });

  it('PATCH is partial, keeps what it omits, defaults status to draft, and cannot rename', async () => {
    await createPost({ title: 'One', slug: 'one', status: 'published', body: '<p>a</p>', tags: ['x'] });
    const created = (await call('/v2/posts/one/')).json.data;
    const patch = await call('/v2/posts/one/', {
      method: 'PATCH',
      body: { title: 'One, edited', status: 'published' },
    });
    expect(patch.status).toBe(202);
    expect(patch.json).toEqual({ status: 'pending' });
    await em.settle();
    const edited = (await call('/v2/posts/one/')).json.data;
    expect(edited).toMatchObject({
      title: 'One, edited',
      body: '<p>a</p>',
      tags: [{ name: 'x', slug: 'x' }],
    });
    expect(edited.created).toBe(created.created);
    expect(edited.published).toBe(created.published);
    expect(edited.updated > created.updated).toBe(true);

    // Without `status` the post goes back to draft (as page updates do, §3.2): a client must send it.
    await call('/v2/posts/one/', { method: 'PATCH', body: { summary: 's' } });
    await em.settle();
    expect((await call('/v2/posts/one/')).status).toBe(404);
    expect((await call('/v2/posts/one/?preview=1')).json.data).toMatchObject({
      status: 'draft',
      summary: 's',
    });

    const blank = await call('/v2/posts/one/', { method: 'PATCH', body: { title: ' ' } });
    expect(blank.status).toBe(400);
    expect(blank.json).toEqual({ title: ['This field may not be blank.'] });
    const rename = await call('/v2/posts/one/', { method: 'PATCH', body: { slug: 'two' } });
    expect(rename.status).toBe(400);
    expect(rename.json.slug).toBeDefined();
    const missing = await call('/v2/posts/nope/', { method: 'PATCH', body: { title: 'x' } });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ detail: 'Not found.' });
    // PUT is accepted on the route (§0.1) and behaves as PATCH.
    const put = await call('/v2/posts/one/', { method: 'PUT', body: { status: 'published' } });
    expect(put.status).toBe(202);
    await em.settle();
    expect((await call('/v2/posts/one/')).json.data).toMatchObject({ title: 'One, edited', summary: 's' });
  });

  it('?locale= updates or creates a locale version; a new one needs a title; reads take ?locale=', async () => {
    await createPost({ title: 'Hello', slug: 'hello', status: 'published', body: '<p>Hi</p>' });
    const noTitle = await call('/v2/posts/hello/?locale=es', {
      method: 'PATCH',
      body: { body: '<p>Hola</p>' },
    });
    expect(noTitle.status).toBe(400);
    expect(noTitle.json).toEqual({ title: ['This field is required.'] });
    await call('/v2/posts/hello/?locale=es', {
      method: 'PATCH',
      body: { title: 'Hola', body: '<p>Hola</p>', status: 'published' },
    });
    await em.settle();
    expect((await call('/v2/posts/hello/?locale=es')).json.data).toMatchObject({
      title: 'Hola',
      body: '<p>Hola</p>',
    });
    expect((await call('/v2/posts/hello/')).json.data).toMatchObject({ title: 'Hello', body: '<p>Hi</p>' });
    const bad = await call('/v2/posts/?locale=xx');
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ detail: 'Invalid locale parameter' });
    await createPost({ title: 'English only', slug: 'en-only', status: 'published' });
    expect((await call('/v2/posts/?locale=es')).json.data.map((p: { slug: string }) => p.slug)).toEqual([
      'hello',
    ]);
  });

  it('DELETE answers 204 with no body, then the post is gone from every read', async () => {
    await createPost({ title: 'Bye', slug: 'bye', status: 'published' });
    const r = await fetch(`${em.origin}/v2/posts/bye/`, {
      method: 'DELETE',
      headers: { authorization: 'Token test-write-token' },
    });
    expect(r.status).toBe(204);
    expect(await r.text()).toBe('');
    await em.settle();
    expect((await call('/v2/posts/bye/?preview=1')).status).toBe(404);
    expect((await call('/v2/posts/?preview=1')).json.meta.count).toBe(0);
    expect((await call('/v2/posts/bye/', { method: 'DELETE' })).status).toBe(404);
    // A deleted slug is free again (soft delete hides it from the API, §3.5).
    await createPost({ title: 'Back', slug: 'bye' });
  });

  it('writes need the write token in the header; a read token on a write is a 401', async () => {
    const r = await call('/v2/posts/', {
      method: 'POST',
      token: TEST_READ_TOKEN,
      body: { title: 'T', slug: 't' },
    });
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ detail: 'Authentication credentials were not provided.' });
    const list = await call(`/v2/posts/?auth_token=${TEST_READ_TOKEN}`, { token: null });
    expect(list.status).toBe(200);
  });

  it('re-hosts body images only with upload_images_to_media_library (§3.7)', async () => {
    const body = '<p><img src="https://example.com/a.png" alt="a"></p>';
    await createPost({ title: 'Kept', slug: 'kept', body });
    await createPost({ title: 'Moved', slug: 'moved', body, upload_images_to_media_library: true });
    expect((await call('/v2/posts/kept/?preview=1')).json.data.body).toBe(body);
    expect((await call('/v2/posts/moved/?preview=1')).json.data.body).toMatch(
      /^<p><img src="https:\/\/cdn\.buttercms\.com\/[A-Za-z0-9]{20}" alt="a"><\/p>$/,
    );
  });
});

describe('post reads', () => {
  async function seedBlog() {
    em.seedAuthor({ slug: 'ann', first_name: 'Ann', email: 'ann@example.com' });
    em.seedAuthor({ slug: 'bob', first_name: 'Bob', email: 'bob@example.com' });
    for (let i = 1; i <= 12; i++) {
      em.seedPost({
        slug: `post-${i}`,
        title: `Post ${i}`,
        published: `2024-01-${String(i).padStart(2, '0')}T10:00:00Z`,
        author: i % 2 ? 'ann' : 'bob',
        tags: i % 3 === 0 ? ['Three'] : [],
        categories: ['All'],
        body: `<p>Body ${i}</p>`,
      });
    }
    em.seedPost({ slug: 'secret', title: 'Secret', status: 'draft' });
  }

  it('lists newest first with page/page_size meta, and limit/offset', async () => {
    await seedBlog();
    const first = await call('/v2/posts/?page_size=5');
    expect(first.json.meta).toEqual({ count: 12, next_page: 2, previous_page: null });
    expect(first.json.data.map((p: { slug: string }) => p.slug)).toEqual([
      'post-12',
      'post-11',
      'post-10',
      'post-9',
      'post-8',
    ]);
    const last = await call('/v2/posts/?page=3&page_size=5');
    expect(last.json.meta).toEqual({ count: 12, next_page: null, previous_page: 2 });
    expect(last.json.data).toHaveLength(2);
    const byOffset = await call('/v2/posts/?limit=2&offset=10');
    expect(byOffset.json.meta).toEqual({ count: 12, next_offset: null, previous_offset: 8 });
    const defaults = await call('/v2/posts/');
    expect(defaults.json.data).toHaveLength(10);
    const tooBig = await call('/v2/posts/?page_size=101');
    expect(tooBig.status).toBe(400);
    expect((await call('/v2/posts/?preview=1')).json.meta.count).toBe(13);
  });

  it('filters by author_slug, tag_slug, category_slug and drops bodies with exclude_body', async () => {
    await seedBlog();
    expect((await call('/v2/posts/?author_slug=bob&page_size=100')).json.meta.count).toBe(6);
    const three = await call('/v2/posts/?tag_slug=three');
    expect(three.json.data.map((p: { slug: string }) => p.slug)).toEqual([
      'post-12',
      'post-9',
      'post-6',
      'post-3',
    ]);
    expect((await call('/v2/posts/?category_slug=all')).json.meta.count).toBe(12);
    expect((await call('/v2/posts/?category_slug=none')).json.meta.count).toBe(0);
    const slim = await call('/v2/posts/?exclude_body=true&page_size=1');
    expect('body' in slim.json.data[0]).toBe(false);
    expect(slim.json.data[0].title).toBe('Post 12');
  });

  it('names the neighbours of one post in meta, and searches', async () => {
    await seedBlog();
    const r = await call('/v2/posts/post-5/');
    expect(r.json.meta).toEqual({
      next_post: { slug: 'post-4', title: 'Post 4', featured_image: null },
      previous_post: { slug: 'post-6', title: 'Post 6', featured_image: null },
    });
    const found = await call('/v2/posts/search/?query=body%2011');
    expect(found.json.meta.count).toBe(1);
    expect(found.json.data[0].slug).toBe('post-11');
    // Post routes answer without the trailing slash too (recorded, §0.2).
    expect((await call('/v2/posts/post-5')).status).toBe(200);
  });

  it('serves authors, tags and categories, with include=recent_posts, and 404s unknown slugs', async () => {
    await seedBlog();
    const authors = await call('/v2/authors/');
    expect(authors.json.data.map((a: { slug: string }) => a.slug)).toEqual(['emulator-owner', 'ann', 'bob']);
    expect(Object.keys(authors.json.data[1])).toEqual([
      'first_name',
      'last_name',
      'email',
      'slug',
      'bio',
      'title',
      'linkedin_url',
      'facebook_url',
      'instagram_url',
      'pinterest_url',
      'twitter_handle',
      'profile_image',
    ]);
    const ann = await call('/v2/authors/ann/?include=recent_posts');
    expect(ann.json.data.recent_posts.map((p: { slug: string }) => p.slug)).toEqual([
      'post-11',
      'post-9',
      'post-7',
      'post-5',
      'post-3',
      'post-1',
    ]);
    expect((await call('/v2/tags/')).json).toEqual({ data: [{ name: 'Three', slug: 'three' }] });
    expect((await call('/v2/categories/all')).json).toEqual({ data: { name: 'All', slug: 'all' } });
    const tag = await call('/v2/tags/three/?include=recent_posts');
    expect(tag.json.data.recent_posts).toHaveLength(4);
    for (const path of ['/v2/authors/ghost/', '/v2/tags/ghost/', '/v2/categories/ghost/']) {
      const missing = await call(path);
      expect(missing.status, path).toBe(404);
      expect(missing.json).toEqual({ detail: 'Not found.' });
    }
    // These routes are read-only (§0.1 Allow: GET, HEAD, OPTIONS).
    const post = await call('/v2/tags/', { method: 'POST', body: { name: 'x' } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('reuses an existing tag whose name slugs the same, keeping the first spelling', async () => {
    await createPost({ title: 'A', slug: 'a', tags: ['TypeScript'] });
    await createPost({ title: 'B', slug: 'b', tags: ['typescript', 'TypeScript'] });
    expect((await call('/v2/tags/')).json).toEqual({ data: [{ name: 'TypeScript', slug: 'typescript' }] });
    expect((await call('/v2/posts/b/?preview=1')).json.data.tags).toEqual([
      { name: 'TypeScript', slug: 'typescript' },
    ]);
  });
});

describe('post write semantics shared with pages and items', () => {
  it('applies after the configured delay: a read right after the 202 does not see the post yet', async () => {
    const slow = await startTestEmulator({ applyDelayMs: 400 });
    try {
      const r = await callEmulator(slow, '/v2/posts/', {
        method: 'POST',
        body: { title: 'Slow', slug: 'slow', status: 'published' },
      });
      expect(r.status).toBe(202);
      expect((await callEmulator(slow, '/v2/posts/slow/')).status).toBe(404);
      await slow.settle();
      expect((await callEmulator(slow, '/v2/posts/slow/')).status).toBe(200);
    } finally {
      await slow.close();
    }
  });

  it('drops accepted writes at failAfterAcceptRate 1 and answers injected 5xx and 429', async () => {
    em.setFaults({ failAfterAcceptRate: 1 });
    await createPost({ title: 'Lost', slug: 'lost', status: 'published' });
    expect((await call('/v2/posts/lost/?preview=1')).status).toBe(404);
    em.setFaults({ failAfterAcceptRate: 0, errorRate: 1 });
    expect([500, 502, 503]).toContain((await call('/v2/posts/')).status);
    em.setFaults({ errorRate: 0, burst429: 1 });
    const limited = await call('/v2/posts/');
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ detail: 'API Calls limit reached.' });
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await call('/v2/posts/')).status).toBe(200);
  });

  it('sends post.published, post.draft and post.delete (also for an unpublish) with {id, _id} only', async () => {
    const received: Array<{ data: Record<string, unknown>; webhook: Record<string, string> }> = [];
    const receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        received.push(JSON.parse(text));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    try {
      em.setWebhooks([{ url, events: ['post.all'] }]);
      await createPost({ title: 'Hook', slug: 'hook', status: 'published' });
      await call('/v2/posts/hook/', { method: 'PATCH', body: { status: 'draft' } });
      await em.settle();
      await call('/v2/posts/hook/', { method: 'PATCH', body: { title: 'Hook 2' } });
      await em.settle();
      await call('/v2/posts/hook/', { method: 'DELETE' });
      await em.settle();
      // Items and pages do not reach a post-only target.
      em.seedItem({ collection: 'tags', fields: { slug: 'quiet' } });
      await em.settle();
      expect(received.map((r) => r.webhook.event)).toEqual([
        'post.published',
        'post.delete',
        'post.draft',
        'post.delete',
      ]);
      const id = received[0]?.data._id;
      expect(typeof id).toBe('number');
      for (const r of received) {
        expect(r.data).toEqual({ id: 'hook', _id: id });
        expect(r.webhook.target).toBe(url);
      }
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});

describe('admin seeding and persistence', () => {
  it('seeds authors and posts through /__emulator/ and lists the routes', async () => {
    const admin = (path: string, body: unknown) =>
      fetch(`${em.origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
    expect(
      await admin('/__emulator/authors', [{ slug: 'cy', first_name: 'Cy', email: 'cy@example.com' }]),
    ).toEqual({
      status: 200,
      json: { authors: 1 },
    });
    const seeded = await admin('/__emulator/posts', {
      slug: 'seeded',
      title: 'Seeded',
      author: 'cy',
      tags: ['T'],
    });
    expect(seeded.status).toBe(200);
    expect(typeof seeded.json.id).toBe('number');
    expect((await call('/v2/posts/seeded/')).json.data).toMatchObject({
      status: 'published',
      author: { slug: 'cy' },
      tags: [{ name: 'T', slug: 't' }],
    });
    const bad = await admin('/__emulator/posts', { slug: 'x', title: 'X', author: 'ghost' });
    expect(bad.status).toBe(400);
    expect((await admin('/__emulator/authors', { first_name: 'no slug' })).status).toBe(400);
    const routes = (await (await fetch(`${em.origin}/__emulator/`)).json()) as {
      routes: Array<{ route: string }>;
    };
    expect(routes.routes.map((r: { route: string }) => r.route)).toEqual(
      expect.arrayContaining(['POST /__emulator/authors', 'POST /__emulator/posts']),
    );
    // A dashboard edit keeps the status; a dashboard delete fires like an API one.
    em.editPost('seeded', { title: 'Edited in the dashboard' });
    expect((await call('/v2/posts/seeded/')).json.data.title).toBe('Edited in the dashboard');
    em.deletePost('seeded');
    expect((await call('/v2/posts/seeded/')).status).toBe(404);
    expect(() => em.editPost('seeded', { title: 'x' })).toThrow(/editPost seeded: 404/);
  });

  it('saves posts, authors and terms to the data file and loads them back; reset keeps ids counting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emulator-posts-'));
    const dataFile = join(dir, 'data.json');
    try {
      const first = await startTestEmulator({ dataFile });
      first.seedAuthor({ slug: 'ann', first_name: 'Ann' });
      const id = first.seedPost({ slug: 'kept', title: 'Kept', author: 'ann', categories: ['C'] });
      await first.close();
      const saved = JSON.parse(await readFile(dataFile, 'utf8'));
      expect(saved.blog.posts).toHaveLength(1);
      const second = await startTestEmulator({ dataFile });
      try {
        const post = (await callEmulator(second, '/v2/posts/kept/')).json.data;
        expect(post).toMatchObject({ title: 'Kept', author: { slug: 'ann', first_name: 'Ann' } });
        expect(post.categories).toEqual([{ name: 'C', slug: 'c' }]);
        second.reset();
        expect(
          (await callEmulator(second, '/v2/authors/')).json.data.map((a: { slug: string }) => a.slug),
        ).toEqual(['emulator-owner']);
        expect(second.seedPost({ slug: 'next', title: 'Next' })).toBeGreaterThan(id);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('loads a data file written before the emulator had posts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emulator-posts-'));
    const dataFile = join(dir, 'data.json');
    try {
      await writeFile(dataFile, `${JSON.stringify({ version: 1, nextId: 2000, pages: [], items: [] })}\n`);
      const old = await startTestEmulator({ dataFile });
      try {
        expect((await callEmulator(old, '/v2/posts/')).json).toEqual({
          meta: { count: 0, next_page: null, previous_page: null },
          data: [],
        });
        expect(old.seedPost({ slug: 'first', title: 'First' })).toBeGreaterThan(0);
      } finally {
        await old.close();
      }
      expect(JSON.parse(await readFile(dataFile, 'utf8')).blog.posts).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
