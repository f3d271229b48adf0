import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { callEmulator, startTestEmulator } from '../helpers/emulator.js';

// Pages: reads (§2.1), writes (§3.1, §3.2), drafts and preview (§7), references and levels (§2.3), lists (§2.4).

let em: EmulatorHandle;
const call = (path: string, init?: Parameters<typeof callEmulator>[2]) => callEmulator(em, path, init);

const faqFields = (headline: string) => ({
  headline,
  body: '<p>Body</p>',
  hero_image: '',
  questions: [{ question: 'Q1', answer: 'A1' }],
  related: '',
});

async function createFaq(slug: string, headline: string, status: 'draft' | 'published' = 'published') {
  const r = await call('/v2/pages/', {
    method: 'POST',
    body: { title: `T ${slug}`, slug, page_type: 'faq', status, fields: faqFields(headline) },
  });
  expect(r.status).toBe(202);
}

beforeAll(async () => {
  em = await startTestEmulator();
});
afterAll(async () => {
  await em.close();
});
afterEach(() => {
  em.reset();
});

describe('page detail', () => {
  it('renders the documented shape and key order, with no meta', async () => {
    await createFaq('about', 'About us');
    await em.settle();
    const r = await call('/v2/pages/faq/about/');
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['data']);
    expect(Object.keys(r.json.data)).toEqual([
      'slug',
      'name',
      'published',
      'updated',
      'page_type',
      'fields',
      'scheduled',
      'status',
    ]);
    expect(r.json.data).toMatchObject({
      slug: 'about',
      name: 'T about',
      page_type: 'faq',
      status: 'published',
      scheduled: null,
    });
    expect(r.json.data.updated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(r.json.data.fields.questions).toEqual([{ question: 'Q1', answer: 'A1' }]);
    expect(r.json.data.fields.related).toBeNull();
  });

  it('looks up * across types, answers 403 when ambiguous and 404 when missing', async () => {
    em.seedPage({ pageType: 'faq', slug: 'shared', title: 'F', fields: { headline: 'f' } });
    em.seedPage({ pageType: 'article', slug: 'shared', title: 'A', fields: { headline: 'a' } });
    em.seedPage({ pageType: '*', slug: 'homepage', title: 'Home', fields: { headline: 'Hi' } });
    expect((await call('/v2/pages/*/shared/')).status).toBe(403);
    const home = await call('/v2/pages/*/homepage/');
    expect(home.json.data.page_type).toBeNull();
    expect(home.json.data.fields).toEqual({ headline: 'Hi', tagline: '', hero_image: '' });
    const missing = await call('/v2/pages/faq/none/');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ detail: 'Page not found.' });
  });

  it('validates locale and levels', async () => {
    expect((await call('/v2/pages/faq/?locale=fr')).json).toEqual({ detail: 'Invalid locale parameter' });
    const levels = await call('/v2/pages/faq/?levels=6');
    expect(levels.status).toBe(400);
    expect(levels.json.detail).toMatch(/between 1 and 5/);
  });
});

describe('page writes', () => {
  it('keeps a draft on top of the published version; PATCH defaults to draft; published promotes', async () => {
    await createFaq('faq1', 'v1');
    await em.settle();
    const patch = await call('/v2/pages/faq/faq1/', {
      method: 'PATCH',
      body: { fields: { headline: 'v2' } },
    });
    expect(patch.status).toBe(202);
    expect(patch.json).toEqual({ status: 'pending' });
    await em.settle();
    const live = await call('/v2/pages/faq/faq1/');
    expect(live.json.data.fields.headline).toBe('v1');
    expect(live.json.data.status).toBe('published');
    const preview = await call('/v2/pages/faq/faq1/?preview=1');
    expect(preview.json.data.fields.headline).toBe('v2');
    expect(preview.json.data.fields.body).toBe('<p>Body</p>');
    expect(preview.json.data.status).toBe('draft');
    await call('/v2/pages/*/faq1/', { method: 'PUT', body: { status: 'published', fields: {} } });
    await em.settle();
    expect((await call('/v2/pages/faq/faq1/')).json.data.fields.headline).toBe('v2');
  });

  it('hides never-published drafts without preview, in detail and lists', async () => {
    await createFaq('draft-only', 'd', 'draft');
    await em.settle();
    expect((await call('/v2/pages/faq/draft-only/')).status).toBe(404);
    expect((await call('/v2/pages/faq/')).json.meta.count).toBe(0);
    const preview = await call('/v2/pages/faq/?preview=1');
    expect(preview.json.data.map((p: { slug: string }) => p.slug)).toEqual(['draft-only']);
    expect(preview.json.data[0].published).toBeNull();
  });

  it('applies writes only after the delay, and re-hosts media then', async () => {
    const slow = await startTestEmulator({ applyDelayMs: 100 });
    try {
      const r = await callEmulator(slow, '/v2/pages/', {
        method: 'POST',
        body: {
          title: 'Media',
          slug: 'media',
          'page-type': 'faq',
          status: 'published',
          fields: { ...faqFields('m'), hero_image: 'https://example.com/a.jpg' },
        },
      });
      expect(r.status).toBe(202);
      expect((await callEmulator(slow, '/v2/pages/faq/media/')).status).toBe(404);
      await slow.settle();
      const page = await callEmulator(slow, '/v2/pages/faq/media/');
      expect(page.json.data.fields.hero_image).toMatch(/^https:\/\/cdn\.buttercms\.com\/[A-Za-z0-9]{20}$/);
      const cdn = page.json.data.fields.hero_image;
      await callEmulator(slow, '/v2/pages/faq/media/', {
        method: 'PATCH',
        body: { status: 'published', fields: { hero_image: cdn, headline: 'm2' } },
      });
      await slow.settle();
      expect((await callEmulator(slow, '/v2/pages/faq/media/')).json.data.fields.hero_image).toBe(cdn);
    } finally {
      await slow.close();
    }
  });

  it('validates creates: required keys, every schema field, unknown fields, duplicates', async () => {
    const noTitle = await call('/v2/pages/', { method: 'POST', body: { page_type: 'faq', fields: {} } });
    expect(noTitle.status).toBe(400);
    expect(noTitle.json).toEqual({
      title: ['You must specify a page title.'],
      slug: ['You must specify a page slug.'],
    });
    const missingKey = await call('/v2/pages/', {
      method: 'POST',
      body: { title: 'x', slug: 'x', page_type: 'faq', fields: { headline: 'h' } },
    });
    expect(missingKey.status).toBe(400);
    expect(missingKey.json.fields[0]).toMatch(/body, hero_image, questions, related/);
    const unknown = await call('/v2/pages/', {
      method: 'POST',
      body: { title: 'x', slug: 'x', page_type: 'faq', fields: { ...faqFields('h'), colour: 'red' } },
    });
    expect(unknown.json).toEqual({ colour: ['Unknown field.'] });
    const badType = await call('/v2/pages/', {
      method: 'POST',
      body: { title: 'x', slug: 'x', page_type: 'nope', fields: {} },
    });
    expect(badType.json.page_type).toBeDefined();
    await createFaq('dup', 'h');
    await em.settle();
    const dup = await call('/v2/pages/', {
      method: 'POST',
      body: { title: 'x', slug: 'dup', page_type: 'faq', fields: faqFields('h') },
    });
    expect(dup.status).toBe(400);
    expect(dup.json.slug).toBeDefined();
    const missing = await call('/v2/pages/faq/ghost/', { method: 'PATCH', body: { fields: {} } });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ detail: 'Not found.' });
  });

  it('takes the multi-locale shape and ?locale= on the single-locale shape', async () => {
    const r = await call('/v2/pages/', {
      method: 'POST',
      body: {
        title: 'FAQ',
        slug: 'multi',
        page_type: 'faq',
        status: 'published',
        fields: { en: faqFields('Hello'), es: faqFields('Hola') },
      },
    });
    expect(r.status).toBe(202);
    // The create is applied asynchronously: the page must exist before it can be patched.
    await em.settle();
    await call('/v2/pages/faq/multi/?locale=es', {
      method: 'PATCH',
      body: { status: 'published', fields: { headline: '¡Hola!' } },
    });
    await em.settle();
    expect((await call('/v2/pages/faq/multi/')).json.data.fields.headline).toBe('Hello');
    expect((await call('/v2/pages/faq/multi/?locale=es')).json.data.fields.headline).toBe('¡Hola!');
    await createFaq('en-only', 'x');
    await em.settle();
    expect((await call('/v2/pages/faq/en-only/?locale=es')).status).toBe(404);
  });

  it('replaces repeaters whole, keeps title and slug, warns about scheduled fields', async () => {
    await createFaq('rep', 'h');
    await em.settle();
    const r = await call('/v2/pages/faq/rep/', {
      method: 'PATCH',
      body: {
        status: 'published',
        title: 'New title',
        scheduled: '2030-01-01T00:00:00Z',
        fields: { questions: [{ question: 'Only' }] },
      },
    });
    expect(r.json).toEqual({ status: 'pending', warnings: ['scheduled fields are ignored'] });
    await em.settle();
    const page = (await call('/v2/pages/faq/rep/')).json.data;
    expect(page.name).toBe('T rep');
    expect(page.fields.questions).toEqual([{ question: 'Only', answer: '' }]);
  });
});

describe('page lists', () => {
  it('paginates with page/page_size and limit/offset', async () => {
    for (let i = 1; i <= 5; i++) em.seedPage({ pageType: 'faq', slug: `p${i}`, title: `P${i}`, fields: {} });
    const first = await call('/v2/pages/faq/?page=1&page_size=2');
    expect(first.json.meta).toEqual({ count: 5, next_page: 2, previous_page: null });
    expect(first.json.data.map((p: { slug: string }) => p.slug)).toEqual(['p1', 'p2']);
    const last = await call('/v2/pages/faq/?page=3&page_size=2');
    expect(last.json.meta).toEqual({ count: 5, next_page: null, previous_page: 2 });
    expect(last.json.data).toHaveLength(1);
    const offset = await call('/v2/pages/faq/?limit=2&offset=2');
    expect(offset.json.meta).toEqual({ count: 5, next_offset: 4, previous_offset: 0 });
    expect(offset.json.data.map((p: { slug: string }) => p.slug)).toEqual(['p3', 'p4']);
    expect((await call('/v2/pages/faq/?page_size=101')).status).toBe(400);
    expect((await call('/v2/pages/faq/')).json.data).toHaveLength(5);
    expect((await call('/v2/pages/nope/')).status).toBe(404);
  });

  it('orders by -updated and by a field, filters on fields', async () => {
    em.seedPage({ pageType: 'faq', slug: 'a', title: 'A', fields: { headline: 'zeta' } });
    em.seedPage({ pageType: 'faq', slug: 'b', title: 'B', fields: { headline: 'alpha' } });
    em.editPage('faq', 'a', { body: 'changed' });
    const byUpdated = await call('/v2/pages/faq/?order=-updated');
    expect(byUpdated.json.data.map((p: { slug: string }) => p.slug)).toEqual(['a', 'b']);
    const byHeadline = await call('/v2/pages/faq/?order=headline');
    expect(byHeadline.json.data.map((p: { slug: string }) => p.slug)).toEqual(['b', 'a']);
    const filtered = await call('/v2/pages/faq/?fields.headline=zeta');
    expect(filtered.json.meta.count).toBe(1);
    expect(filtered.json.data[0].slug).toBe('a');
    expect((await call('/v2/pages/faq/?fields.nope=1')).status).toBe(403);
    expect((await call('/v2/pages/faq/?order=nope')).status).toBe(403);
  });
});

describe('references', () => {
  it('expands page and item references up to levels, URI strings past it', async () => {
    const tag = em.seedItem({
      collection: 'tags',
      fields: { slug: 'ts', name: 'TypeScript', color: '#00f' },
    });
    const member = em.seedItem({
      collection: 'team_members',
      fields: { slug: 'ann', name: 'Ann', tags: [tag] },
    });
    em.seedPage({
      pageType: 'article',
      slug: 'post',
      title: 'Post',
      fields: { headline: 'P', author: member },
    });
    em.seedPage({ pageType: 'faq', slug: 'faq', title: 'FAQ', fields: { headline: 'F', related: 'post' } });

    const two = (await call('/v2/pages/article/post/')).json.data.fields.author;
    expect(two.meta).toEqual({ id: member });
    expect(two.name).toBe('Ann');
    expect(two.tags).toEqual([`/v2/content/?keys=tags[_id=${tag}]`]);

    const three = (await call('/v2/pages/article/post/?levels=3')).json.data.fields.author;
    expect(three.tags).toEqual([{ meta: { id: tag }, slug: 'ts', name: 'TypeScript', color: '#00f' }]);

    const one = (await call('/v2/pages/article/post/?levels=1')).json.data.fields.author;
    expect(one).toBe(`/v2/content/?keys=team_members[_id=${member}]`);

    const faq = (await call('/v2/pages/faq/faq/')).json.data.fields.related;
    expect(faq.slug).toBe('post');
    expect(faq.page_type).toBe('article');
    expect(faq.fields.author).toBe(`/v2/content/?keys=team_members[_id=${member}]`);
    expect((await call('/v2/pages/faq/faq/?levels=1')).json.data.fields.related).toBe(
      '/v2/pages/article/post/',
    );

    const byUri = await call(`/v2/content/?keys=team_members[_id=${member}]`);
    expect(byUri.json.data.team_members).toHaveLength(1);
  });

  it('stores references written as ids, numeric strings and slugs; "" clears', async () => {
    const tag = em.seedItem({ collection: 'tags', fields: { slug: 't', name: 'T', color: '' } });
    const r = await call('/v2/content/', {
      method: 'POST',
      body: {
        key: 'team_members',
        status: 'published',
        fields: [{ slug: 'bo', name: 'Bo', tags: [String(tag)] }],
      },
    });
    expect(r.status).toBe(202);
    await em.settle();
    const items = (await call('/v2/content/team_members/')).json.data.team_members;
    expect(items[0].tags[0].meta.id).toBe(tag);
    await call(`/v2/content/team_members/${items[0].meta.id}/`, {
      method: 'PATCH',
      body: { fields: { tags: '' } },
    });
    await em.settle();
    expect((await call(`/v2/content/team_members/${items[0].meta.id}/`)).json.data.tags).toEqual([]);
  });
});
