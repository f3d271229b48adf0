import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { callEmulator, startTestEmulator } from '../helpers/emulator.js';

// Collections (§2.2, §3.3–§3.5), webhooks (§4) and persistence.

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

async function createTag(slug: string, status?: 'draft' | 'published') {
  const r = await call('/v2/content/', {
    method: 'POST',
    body: {
      key: 'tags',
      ...(status ? { status } : {}),
      fields: [{ slug, name: slug.toUpperCase(), color: '#000' }],
    },
  });
  expect(r.status).toBe(202);
  expect(r.json).toEqual({ status: 'pending' });
}

describe('collection reads', () => {
  it('answers GET /v2/content/ with {} and ?keys= with or without meta', async () => {
    em.seedItem({ collection: 'tags', fields: { slug: 'a', name: 'A', color: '' } });
    em.seedItem({ collection: 'team_members', fields: { slug: 'm', name: 'M' } });
    const none = await call('/v2/content/');
    expect(none.status).toBe(200);
    expect(none.json).toEqual({});
    const two = await call('/v2/content/?keys=tags,team_members');
    expect(Object.keys(two.json)).toEqual(['data']);
    expect(Object.keys(two.json.data)).toEqual(['tags', 'team_members']);
    const one = await call('/v2/content/?keys=tags');
    expect(one.json.meta).toEqual({ count: 1, next_page: null, previous_page: null });
    const unknown = await call('/v2/content/?keys=tags,nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ detail: 'Content key nope not found' });
  });

  it('renders flat items keyed by collection, with filters, order and pagination', async () => {
    for (const [slug, years] of [
      ['c', 3],
      ['a', 9],
      ['b', 1],
    ] as const) {
      em.seedItem({ collection: 'team_members', fields: { slug, name: slug, years, active: slug !== 'b' } });
    }
    const all = await call('/v2/content/team_members/?order=-years');
    expect(all.json.data.team_members.map((i: { slug: string }) => i.slug)).toEqual(['a', 'c', 'b']);
    const item = all.json.data.team_members[0];
    expect(Object.keys(item)).toEqual(['meta', 'slug', 'name', 'role', 'photo', 'years', 'active', 'tags']);
    expect(Object.keys(item.meta)).toEqual(['id']);
    const active = await call('/v2/content/team_members/?fields.active=true&order=slug');
    expect(active.json.data.team_members.map((i: { slug: string }) => i.slug)).toEqual(['a', 'c']);
    const paged = await call('/v2/content/team_members/?page=2&page_size=2');
    expect(paged.json.meta).toEqual({ count: 3, next_page: null, previous_page: 1 });
    expect((await call('/v2/content/team_members/?fields.colour=x')).status).toBe(403);
    expect((await call('/v2/content/team_members/?order=-nope')).status).toBe(403);
  });

  it('gives items blank values in a locale they were never written in', async () => {
    em.seedItem({
      collection: 'tags',
      fields: { en: { slug: 'x', name: 'Hello' }, es: { slug: 'x', name: 'Hola' } },
    });
    em.seedItem({ collection: 'tags', fields: { slug: 'y', name: 'Only English' } });
    const es = await call('/v2/content/tags/?locale=es');
    expect(es.json.data.tags.map((t: { name: string }) => t.name)).toEqual(['Hola', '']);
  });
});

describe('collection writes', () => {
  it('creates drafts by default, visible with preview=1 and test=1 only', async () => {
    await createTag('new');
    await em.settle();
    expect((await call('/v2/content/tags/')).json.meta.count).toBe(0);
    const preview = await call('/v2/content/tags/?preview=1&fields.slug=new');
    expect(preview.json.data.tags).toHaveLength(1);
    expect(preview.json.data.tags[0].meta.id).toBeGreaterThan(0);
    expect((await call('/v2/content/?keys=tags,team_members&test=1')).json.data.tags).toHaveLength(1);
  });

  it('PATCH merges and keeps status; PUT replaces and clears; DELETE is 204 and soft', async () => {
    const id = em.seedItem({
      collection: 'team_members',
      fields: {
        slug: 'ann',
        name: 'Ann',
        role: 'Dev',
        years: 4,
        active: true,
        photo: 'https://cdn.buttercms.com/abc',
      },
    });
    const patch = await call(`/v2/content/team_members/${id}/`, {
      method: 'PATCH',
      body: { fields: { role: 'Lead' } },
    });
    expect(patch.status).toBe(202);
    await em.settle();
    const patched = (await call(`/v2/content/team_members/${id}/`)).json;
    expect(patched.data).toMatchObject({ meta: { id }, name: 'Ann', role: 'Lead', years: 4 });

    const noFields = await call(`/v2/content/team_members/${id}/`, {
      method: 'PUT',
      body: { status: 'published' },
    });
    expect(noFields.status).toBe(400);
    const arrayFields = await call(`/v2/content/team_members/${id}/`, {
      method: 'PATCH',
      body: { fields: [{}] },
    });
    expect(arrayFields.status).toBe(400);

    await call(`/v2/content/team_members/${id}/`, {
      method: 'PUT',
      body: { fields: { slug: 'ann', name: 'Ann B' } },
    });
    await em.settle();
    const replaced = (await call(`/v2/content/team_members/${id}/`)).json.data;
    expect(replaced).toEqual({
      meta: { id },
      slug: 'ann',
      name: 'Ann B',
      role: '',
      photo: '',
      years: null,
      active: false,
      tags: [],
    });

    const del = await fetch(`${em.url}/content/team_members/${id}/`, {
      method: 'DELETE',
      headers: { authorization: 'Token test-write-token' },
    });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    await em.settle();
    expect((await call(`/v2/content/team_members/${id}/?preview=1`)).status).toBe(404);
    expect(
      (await call(`/v2/content/team_members/${id}/`, { method: 'PATCH', body: { fields: {} } })).status,
    ).toBe(404);
    const next = em.seedItem({ collection: 'team_members', fields: { slug: 'z' } });
    expect(next).toBeGreaterThan(id);
  });

  it('unpublishes with status draft and rehosts media on apply', async () => {
    const id = em.seedItem({ collection: 'team_members', fields: { slug: 'p' } });
    await call(`/v2/content/team_members/${id}/`, {
      method: 'PATCH',
      body: { status: 'draft', fields: { photo: 'https://example.com/p.png' } },
    });
    await em.settle();
    expect((await call(`/v2/content/team_members/${id}/`)).status).toBe(404);
    const draft = (await call(`/v2/content/team_members/${id}/?preview=1`)).json.data;
    expect(draft.photo).toMatch(/^https:\/\/cdn\.buttercms\.com\/[A-Za-z0-9]{20}$/);
  });

  it('validates create bodies', async () => {
    const obj = await call('/v2/content/', { method: 'POST', body: { key: 'tags', fields: { slug: 'x' } } });
    expect(obj.status).toBe(400);
    expect(obj.json.fields).toBeDefined();
    const noKey = await call('/v2/content/', { method: 'POST', body: { fields: [{}] } });
    expect(noKey.json).toEqual({ key: ['This field is required.'] });
    const badKey = await call('/v2/content/', { method: 'POST', body: { key: 'nope', fields: [{}] } });
    expect(badKey.status).toBe(400);
    const unknown = await call('/v2/content/', {
      method: 'POST',
      body: { key: 'tags', fields: [{ colour: 'x' }] },
    });
    expect(unknown.json).toEqual({ colour: ['Unknown field.'] });
    const badNumber = await call('/v2/content/', {
      method: 'POST',
      body: { key: 'team_members', fields: [{ years: 'many' }] },
    });
    expect(badNumber.json.years).toBeDefined();
    const badStatus = await call('/v2/content/', {
      method: 'POST',
      body: { key: 'tags', status: 'live', fields: [{}] },
    });
    expect(badStatus.status).toBe(400);
  });

  it('creates a multi-locale item from locale-keyed fields', async () => {
    await call('/v2/content/', {
      method: 'POST',
      body: {
        key: 'tags',
        status: 'published',
        fields: [{ en: { slug: 'h', name: 'Hi' }, es: { slug: 'h', name: 'Hola' } }],
      },
    });
    await em.settle();
    expect((await call('/v2/content/tags/?locale=es')).json.data.tags[0].name).toBe('Hola');
    expect((await call('/v2/content/tags/')).json.data.tags[0].name).toBe('Hi');
  });
});

describe('webhooks', () => {
  it('POSTs the documented payloads with the custom header after each applied job', async () => {
    const received: Array<{
      headers: IncomingHttpHeaders;
      body: { data: Record<string, unknown>; webhook: Record<string, string> };
    }> = [];
    const receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(text) });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    try {
      em.setWebhooks([{ url, headers: { 'X-Butter-Sync-Secret': 's3cret' } }]);
      await createTag('hooked', 'published');
      await em.settle();
      expect(received).toHaveLength(1);
      const [first] = received;
      expect(first?.headers['x-butter-sync-secret']).toBe('s3cret');
      expect(first?.body.webhook).toEqual({ event: 'collectionitem.published', target: url });
      expect(first?.body.data).toMatchObject({
        id: 'tags',
        locale: null,
        status: 'published',
        label: 'hooked',
      });
      const itemid = String(first?.body.data.itemid);
      const id = Number(/\[_id=(\d+)\]/.exec(itemid)?.[1]);
      expect(itemid).toBe(`/v2/content/?keys=tags[_id=${id}]`);
      expect(first?.body.data.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);

      await call(`/v2/content/tags/${id}/`, { method: 'DELETE' });
      await em.settle();
      expect(received[1]?.body.webhook.event).toBe('collectionitem.delete');
      expect(received[1]?.body.data.status).toBe('deleted');

      em.setWebhooks([{ url, events: ['page.all'] }]);
      em.seedItem({ collection: 'tags', fields: { slug: 'quiet' } });
      em.seedPage({ pageType: '*', slug: 'homepage', title: 'Home', fields: { headline: 'H' } });
      await call('/v2/pages/*/homepage/?locale=es', {
        method: 'PATCH',
        body: { fields: { headline: 'Hola' } },
      });
      await em.settle();
      expect(received.map((r) => r.body.webhook.event)).toEqual([
        'collectionitem.published',
        'collectionitem.delete',
        'page.published',
        'page.draft',
      ]);
      expect(received[2]?.body.data).toMatchObject({
        id: 'homepage',
        page_type: '*',
        name: 'Home',
        locale: null,
        status: 'published',
      });
      expect(received[3]?.body.data).toMatchObject({ locale: 'es', status: 'draft' });

      // A failed job fires nothing.
      em.setFaults({ failAfterAcceptRate: 1 });
      await call('/v2/pages/*/homepage/', { method: 'PATCH', body: { fields: { headline: 'x' } } });
      await em.settle();
      expect(received).toHaveLength(4);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("drops or duplicates deliveries on demand, so the daemon's fallbacks can be exercised", async () => {
    let count = 0;
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        count += 1;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    try {
      em.setWebhooks([{ url }]);
      em.setFaults({ webhookDuplicateRate: 1 });
      await createTag('twice', 'published');
      await em.settle();
      expect(count).toBe(2);
      em.setFaults({ webhookDuplicateRate: 0, webhookDropRate: 1 });
      await createTag('never', 'published');
      await em.settle();
      expect(count).toBe(2);
      expect((await call('/v2/content/tags/')).json.meta.count).toBe(2);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('survives an unreachable webhook target', async () => {
    em.setWebhooks([{ url: 'http://127.0.0.1:9/unreachable' }]);
    await createTag('x', 'published');
    await em.settle();
    expect((await call('/v2/content/tags/')).json.meta.count).toBe(1);
  });
});

describe('persistence', () => {
  it('saves to the data file and loads it back in a new emulator', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emulator-data-'));
    const dataFile = join(dir, 'data.json');
    try {
      const first = await startTestEmulator({ dataFile });
      const id = first.seedItem({ collection: 'tags', fields: { slug: 'kept', name: 'Kept' } });
      first.seedPage({ pageType: 'faq', slug: 'saved', title: 'Saved', fields: { headline: 'S' } });
      await callEmulator(first, '/v2/pages/faq/saved/', {
        method: 'PATCH',
        body: { fields: { headline: 'draft' } },
      });
      await first.settle();
      await first.close();
      const saved = JSON.parse(await readFile(dataFile, 'utf8'));
      expect(saved.version).toBe(1);
      const mtime = (await stat(dataFile)).mtimeMs;

      const second = await startTestEmulator({ dataFile });
      try {
        expect((await callEmulator(second, `/v2/content/tags/${id}/`)).json.data.name).toBe('Kept');
        expect((await callEmulator(second, '/v2/pages/faq/saved/')).json.data.fields.headline).toBe('S');
        expect((await callEmulator(second, '/v2/pages/faq/saved/?preview=1')).json.data.fields.headline).toBe(
          'draft',
        );
        expect(second.seedItem({ collection: 'tags', fields: { slug: 'next' } })).toBeGreaterThan(id);
      } finally {
        await second.close();
      }
      expect((await stat(dataFile)).mtimeMs).toBeGreaterThanOrEqual(mtime);
      const third = await startTestEmulator({ dataFile });
      const before = (await stat(dataFile)).mtimeMs;
      await callEmulator(third, '/v2/content/tags/');
      await third.close();
      expect((await stat(dataFile)).mtimeMs).toBe(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
