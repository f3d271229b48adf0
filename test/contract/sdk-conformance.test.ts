import Butter from 'buttercms';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator, TEST_READ_TOKEN } from '../helpers/emulator.js';

/**
 * The official JS SDK (buttercms v3) against the emulator: if the SDK is happy with our shapes, the
 * shapes match what it was written for. The SDK hard-codes https://api.buttercms.com/v2 and has no
 * base-URL option (its onRequest hook may change params and headers, not the URL), so the test
 * installs a global fetch dispatcher that sends that one origin to the emulator on 127.0.0.1 and
 * refuses every other origin. The SDK itself is not patched.
 */

const BUTTER_ORIGIN = 'https://api.buttercms.com';

let em: EmulatorHandle;
let original: Dispatcher;
let loopbackOnly: Dispatcher;
const requested: string[] = [];

beforeAll(async () => {
  em = await startTestEmulator();
  original = getGlobalDispatcher();
  loopbackOnly = new Agent().compose((dispatch) => (options, handler) => {
    if (String(options.origin) !== BUTTER_ORIGIN) {
      throw new Error(`test dispatcher: refusing ${String(options.origin)}`);
    }
    requested.push(String(options.path));
    return dispatch({ ...options, origin: em.origin }, handler);
  });
  setGlobalDispatcher(loopbackOnly);

  const tag = em.seedItem({
    collection: 'tags',
    fields: { slug: 'ts', name: 'TypeScript', color: '#3178c6' },
  });
  em.seedItem({ collection: 'team_members', fields: { slug: 'ann', name: 'Ann', years: 3, tags: [tag] } });
  em.seedPage({
    pageType: 'faq',
    slug: 'shipping',
    title: 'Shipping',
    fields: { headline: 'Shipping', questions: [{ question: 'When?', answer: 'Soon.' }] },
  });
  em.seedPage({ pageType: 'faq', slug: 'returns', title: 'Returns', fields: { headline: 'Returns' } });
  em.seedAuthor({ slug: 'ann', first_name: 'Ann', last_name: 'Lee', email: 'ann@example.com' });
  for (const n of [1, 2, 3]) {
    em.seedPost({
      slug: `post-${n}`,
      title: `Post ${n}`,
      author: 'ann',
      published: `2024-02-0${n}T09:00:00Z`,
      tags: n === 2 ? ['Release'] : [],
      categories: ['News'],
      body: `<p>Body <strong>${n}</strong></p>`,
    });
  }
});

afterAll(async () => {
  setGlobalDispatcher(original);
  await loopbackOnly?.close();
  await em?.close();
});

describe('official buttercms SDK against the emulator', () => {
  const butter = () => Butter(TEST_READ_TOKEN, { timeout: 5_000 });
  // The SDK's generic content typings recurse too deep for tsc on an untyped model; this is the same call, typed plainly.
  type Items = Record<string, Array<Record<string, unknown>>>;
  type ContentRetrieve = (
    keys: string[],
    params?: Record<string, unknown>,
  ) => Promise<{ data?: { meta?: unknown; data?: Items } }>;
  const retrieveContent = (keys: string[], params?: Record<string, unknown>) =>
    (butter().content.retrieve as unknown as ContentRetrieve)(keys, params);

  it('retrieves a page', async () => {
    const response = await butter().page.retrieve('faq', 'shipping', { locale: 'en' });
    expect(response.status).toBe(200);
    const page = response.data?.data;
    expect(page).toMatchObject({ slug: 'shipping', name: 'Shipping', page_type: 'faq', status: 'published' });
    expect(page?.fields).toMatchObject({
      headline: 'Shipping',
      questions: [{ question: 'When?', answer: 'Soon.' }],
    });
    expect(requested.at(-1)).toMatch(/^\/v2\/pages\/faq\/shipping\/\?.*auth_token=/);
  });

  it('lists pages with pagination meta', async () => {
    const response = await butter().page.list('faq', { page: 1, page_size: 1 });
    expect(response.data?.meta).toEqual({ count: 2, next_page: 2, previous_page: null });
    expect(response.data?.data.map((p) => p.slug)).toEqual(['shipping']);
  });

  it('retrieves a collection with flat items and meta.id, references expanded', async () => {
    const response = await retrieveContent(['team_members'], { levels: 2 });
    const members = response.data?.data?.team_members;
    expect(response.data?.meta).toEqual({ count: 1, next_page: null, previous_page: null });
    expect(members?.[0]).toMatchObject({ name: 'Ann', years: 3, meta: { id: expect.any(Number) } });
    expect(members?.[0]?.tags).toEqual([
      { meta: { id: expect.any(Number) }, slug: 'ts', name: 'TypeScript', color: '#3178c6' },
    ]);
  });

  it('retrieves two collections at once', async () => {
    const response = await retrieveContent(['tags', 'team_members']);
    expect(Object.keys(response.data?.data ?? {})).toEqual(['tags', 'team_members']);
  });

  it('lists, retrieves and searches blog posts (butter-api.md §2.5)', async () => {
    const list = await butter().post.list({ page: 1, page_size: 2, exclude_body: true });
    expect(list.data?.meta).toEqual({ count: 3, next_page: 2, previous_page: null });
    expect(list.data?.data.map((p) => p.slug)).toEqual(['post-3', 'post-2']);
    expect(list.data?.data[0]?.body).toBeUndefined();
    expect(requested.at(-1)).toMatch(/^\/v2\/posts\/\?.*exclude_body=true/);
    const byTag = await butter().post.list({ tag_slug: 'release' });
    expect(byTag.data?.data.map((p) => p.slug)).toEqual(['post-2']);
    const one = await butter().post.retrieve('post-2');
    expect(one.data?.data).toMatchObject({
      slug: 'post-2',
      title: 'Post 2',
      status: 'published',
      body: '<p>Body <strong>2</strong></p>',
      author: { slug: 'ann', first_name: 'Ann', last_name: 'Lee' },
      tags: [{ name: 'Release', slug: 'release' }],
      categories: [{ name: 'News', slug: 'news' }],
    });
    expect(one.data?.meta).toEqual({
      next_post: { slug: 'post-1', title: 'Post 1', featured_image: null },
      previous_post: { slug: 'post-3', title: 'Post 3', featured_image: null },
    });
    const found = await butter().post.search('Body', { page: 1, page_size: 10 });
    expect(found.data?.meta.count).toBe(3);
    await expect(butter().post.retrieve('missing')).rejects.toThrow(/Not found\. \(404\)/);
  });

  it('lists and retrieves authors, categories and tags', async () => {
    const authors = await butter().author.list();
    expect(authors.data?.data.map((a) => a.slug)).toContain('ann');
    const ann = await butter().author.retrieve('ann', { include: 'recent_posts' });
    expect(ann.data?.data.recent_posts?.map((p) => p.slug)).toEqual(['post-3', 'post-2', 'post-1']);
    expect((await butter().category.list()).data?.data).toEqual([{ name: 'News', slug: 'news' }]);
    const tag = await butter().tag.retrieve('release', { include: 'recent_posts' });
    expect(tag.data?.data).toMatchObject({ name: 'Release', slug: 'release' });
    expect(tag.data?.data.recent_posts).toHaveLength(1);
  });

  it('surfaces API errors the way the SDK reports them', async () => {
    await expect(butter().page.retrieve('faq', 'missing')).rejects.toThrow(/Page not found\. \(404\)/);
    await expect(Butter('wrong-token').page.list('faq')).rejects.toThrow(/Invalid token\. \(401\)/);
  });
});
