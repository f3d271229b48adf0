import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeWebflowWebhook } from '../../src/cms/webflow/webhook-event.js';
import {
  signWebhook,
  startWebflowEmulator,
  type WebflowEmulatorHandle,
} from '../../src/emulator/webflow/index.js';
import { loadExampleConfig } from '../helpers/emulator.js';
import { callWebflow, startTestWebflowEmulator, WEBFLOW_TOKEN } from '../helpers/webflow-emulator.js';

// The Webflow emulator over raw HTTP: codes, bodies, limits and headers of webflow-api.md §2, §5, §6, §8, §12.

let em: WebflowEmulatorHandle;
let posts: string;
let authors: string;

beforeAll(async () => {
  em = await startTestWebflowEmulator();
  posts = em.collectionId('posts');
  authors = em.collectionId('authors');
});
afterAll(async () => {
  await em.close();
});
afterEach(() => {
  em.reset();
});

const items = (cid: string, rest = '') => `/v2/collections/${cid}/items${rest}`;
const create = (cid: string, fieldData: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  callWebflow(em, items(cid), { method: 'POST', body: { fieldData, ...extra } });

describe('schema', () => {
  it('serves the site, its collections and their fields with 24-hex and 32-hex ids', async () => {
    const list = await callWebflow(em, `/v2/sites/${em.siteId}/collections`);
    expect(list.status).toBe(200);
    expect(list.json.collections.map((c: { slug: string }) => c.slug)).toEqual(['authors', 'posts']);
    expect(Object.keys(list.json.collections[0])).toEqual([
      'id',
      'displayName',
      'singularName',
      'slug',
      'createdOn',
      'lastUpdated',
    ]);
    const col = await callWebflow(em, `/v2/collections/${posts}`);
    expect(col.json.id).toMatch(/^[0-9a-f]{24}$/);
    const bySlug = Object.fromEntries(col.json.fields.map((f: { slug: string }) => [f.slug, f]));
    expect(bySlug.name).toMatchObject({ type: 'PlainText', isRequired: true });
    expect(bySlug.slug).toMatchObject({ type: 'PlainText', isRequired: true });
    expect(bySlug.body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(bySlug.author.validations).toEqual({ collectionId: authors });
    expect(bySlug.kind.validations.options.map((o: { name: string }) => o.name)).toEqual(['News', 'Guide']);
    expect(bySlug.computed.isEditable).toBe(false);
  });

  it('derives the same ids from the same config, and turns on localization for several locales', async () => {
    const config = await loadExampleConfig();
    const a = await startWebflowEmulator({ config, tokens: [{ token: 't' }] });
    const b = await startWebflowEmulator({ config, tokens: [{ token: 't' }] });
    try {
      expect(a.collectionId('team_members')).toBe(b.collectionId('team_members'));
      expect(a.fieldId('team_members', 'role')).toBe(b.fieldId('team_members', 'role'));
      const site = await callWebflow(a, `/v2/sites/${a.siteId}`, { token: 't' });
      expect(site.json.locales.primary.tag).toBe('en');
      expect(site.json.locales.secondary.map((l: { tag: string }) => l.tag)).toEqual(['es']);
      expect(site.json.locales.primary.cmsLocaleId).not.toBe(site.json.locales.primary.id);
      // The config's reference to tags becomes a MultiReference with the tags collection's id.
      const col = await callWebflow(a, `/v2/collections/${a.collectionId('team_members')}`, { token: 't' });
      const tags = col.json.fields.find((f: { slug: string }) => f.slug === 'tags');
      expect(tags).toMatchObject({
        type: 'MultiReference',
        validations: { collectionId: a.collectionId('tags') },
      });
      // Bulk create in two locales: one id shared by both variants (D8).
      const es = a.cmsLocaleId('es');
      const en = a.cmsLocaleId('en');
      const made = await callWebflow(a, `/v2/collections/${a.collectionId('tags')}/items/bulk`, {
        token: 't',
        method: 'POST',
        body: { cmsLocaleIds: [en, es], isDraft: false, fieldData: { name: 'Red', slug: 'red' } },
      });
      expect(made.status).toBe(202);
      expect(made.json.items).toHaveLength(2);
      expect(made.json.items[0].id).toBe(made.json.items[1].id);
      expect(made.json.items.map((i: { cmsLocaleId: string }) => i.cmsLocaleId)).toEqual([en, es]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('auth and errors', () => {
  it('answers 401 not_authorized without or with a wrong Bearer token, in the §6 key order', async () => {
    for (const token of [null, 'nope']) {
      const r = await callWebflow(em, items(posts), { token });
      expect(r.status).toBe(401);
      expect(r.text).toBe(
        '{"message":"Request not authorized","code":"not_authorized","externalReference":null,"details":[]}',
      );
    }
  });

  it('answers 403 missing_scopes to a read-only token that writes', async () => {
    const ro = await startTestWebflowEmulator({ tokens: [{ token: 'ro', scopes: ['cms:read'] }] });
    try {
      const cid = ro.collectionId('posts');
      expect((await callWebflow(ro, `/v2/collections/${cid}/items`, { token: 'ro' })).status).toBe(200);
      const r = await callWebflow(ro, `/v2/collections/${cid}/items`, {
        token: 'ro',
        method: 'POST',
        body: { fieldData: { name: 'x' } },
      });
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ code: 'missing_scopes' });
      expect(r.json.message).toMatch(/^OAuthForbidden: You are missing the following scopes - cms:write/);
    } finally {
      await ro.close();
    }
  });

  it('answers 404 resource_not_found for unknown collections and items', async () => {
    const r1 = await callWebflow(em, items('0123456789abcdef01234567'));
    const r2 = await callWebflow(em, items(posts, '/0123456789abcdef01234567'));
    for (const r of [r1, r2]) {
      expect(r.status).toBe(404);
      expect(r.json).toEqual({
        message: 'Requested resource not found',
        code: 'resource_not_found',
        externalReference: null,
        details: [],
      });
    }
  });

  it('refuses unknown fields, wrong types, read-only fields and a missing name with 400 validation_error', async () => {
    const unknown = await create(posts, { name: 'A', ListingId: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({
      message: 'Validation Error',
      code: 'validation_error',
      externalReference: null,
      details: [{ param: 'ListingId', description: 'Field not described in schema: undefined' }],
    });
    const typed = await create(posts, { name: 'A', views: 1.5, kind: 'News' });
    expect(typed.status).toBe(400);
    expect(typed.json.details.map((d: { param: string }) => d.param)).toEqual(['views', 'kind']);
    expect((await create(posts, { name: 'A', computed: 'x' })).status).toBe(400);
    const noName = await create(posts, { body: '<p>x</p>' });
    expect(noName.status).toBe(400);
    expect(noName.json.details).toEqual([{ param: 'name', description: 'Field is required' }]);
    const malformed = await fetch(`${em.origin}${items(posts)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WEBFLOW_TOKEN}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'bad_request' });
  });
});

describe('create', () => {
  it('answers 202 with the item in the recorded key order; isDraft defaults to true', async () => {
    const r = await create(posts, { name: 'Hello World', body: '<p>Hi</p>' });
    expect(r.status).toBe(202);
    expect(Object.keys(r.json)).toEqual([
      'id',
      'cmsLocaleId',
      'lastPublished',
      'lastUpdated',
      'createdOn',
      'isArchived',
      'isDraft',
      'fieldData',
    ]);
    expect(r.json).toMatchObject({
      cmsLocaleId: null,
      lastPublished: null,
      isDraft: true,
      isArchived: false,
    });
    expect(r.json.id).toMatch(/^[0-9a-f]{24}$/);
    expect(r.json.createdOn).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(r.json.fieldData).toEqual({ name: 'Hello World', body: '<p>Hi</p>', slug: 'hello-world' });
  });

  it('suffixes a duplicate slug with 5 hex chars instead of failing (§2.5)', async () => {
    const a = await create(posts, { name: 'A', slug: 'dup' });
    const b = await create(posts, { name: 'B', slug: 'dup' });
    expect(a.json.fieldData.slug).toBe('dup');
    expect(b.status).toBe(202);
    expect(b.json.fieldData.slug).toMatch(/^dup-[0-9a-f]{5}$/);
    expect(b.json.id).not.toBe(a.json.id);
  });

  it('takes {items} and answers {items}; refuses more than 100 items', async () => {
    const two = await callWebflow(em, items(posts), {
      method: 'POST',
      body: { items: [{ fieldData: { name: 'One' } }, { fieldData: { name: 'Two' } }] },
    });
    expect(two.status).toBe(202);
    expect(two.json.items.map((i: { fieldData: { slug: string } }) => i.fieldData.slug)).toEqual([
      'one',
      'two',
    ]);
    const many = Array.from({ length: 101 }, (_, i) => ({ name: `N${i}` }));
    const bulk = await callWebflow(em, items(posts, '/bulk'), { method: 'POST', body: { fieldData: many } });
    expect(bulk.status).toBe(400);
    expect(bulk.json.code).toBe('validation_error');
    const listed = await callWebflow(em, items(posts));
    expect(listed.json.pagination.total).toBe(2);
  });

  it('re-hosts an image URL on the CDN under a new fileId; a bad one is skipped unless skipInvalidFiles=false', async () => {
    const r = await create(posts, {
      name: 'Pic',
      cover: { url: 'https://example.org/a/cat.png', alt: 'Cat' },
    });
    expect(r.json.fieldData.cover).toEqual({
      fileId: expect.stringMatching(/^[0-9a-f]{24}$/),
      url: `https://cdn.prod.website-files.com/${em.siteId}/${r.json.fieldData.cover.fileId}_cat.png`,
      alt: 'Cat',
    });
    const skipped = await create(posts, { name: 'Bad', cover: { url: 'not a url' } });
    expect(skipped.status).toBe(202);
    expect(skipped.json.fieldData.cover).toBeUndefined();
    const strict = await callWebflow(em, items(posts, '?skipInvalidFiles=false'), {
      method: 'POST',
      body: { fieldData: { name: 'Bad', cover: { url: 'not a url' } } },
    });
    expect(strict.status).toBe(400);
  });

  it('refuses a reference to an item that does not exist', async () => {
    const r = await create(posts, { name: 'A', author: '0123456789abcdef01234567' });
    expect(r.status).toBe(400);
    const author = await create(authors, { name: 'Ann' });
    expect((await create(posts, { name: 'B', author: author.json.id })).status).toBe(202);
  });
});

describe('update, publish, unpublish, delete', () => {
  it('PATCH merges shallowly, replaces arrays, clears on null and answers 200', async () => {
    const a1 = await create(authors, { name: 'A1' });
    const a2 = await create(authors, { name: 'A2' });
    const post = await create(posts, {
      name: 'P',
      body: '<p>x</p>',
      views: 3,
      tags: [a1.json.id, a2.json.id],
    });
    const r = await callWebflow(em, items(posts, `/${post.json.id}`), {
      method: 'PATCH',
      body: { fieldData: { views: 4, tags: [a2.json.id], body: null } },
    });
    expect(r.status).toBe(200);
    expect(r.json.fieldData).toEqual({ name: 'P', views: 4, tags: [a2.json.id], slug: 'p' });
  });

  it('bulk PATCH takes up to 100 items in one request and refuses 101', async () => {
    const made = await callWebflow(em, items(posts, '/bulk'), {
      method: 'POST',
      body: { fieldData: Array.from({ length: 100 }, (_, i) => ({ name: `Item ${i}` })) },
    });
    const ids: string[] = made.json.items.map((i: { id: string }) => i.id);
    const r = await callWebflow(em, items(posts), {
      method: 'PATCH',
      body: { items: ids.map((id) => ({ id, fieldData: { views: 7 } })) },
    });
    expect(r.status).toBe(200);
    expect(r.json.items).toHaveLength(100);
    expect(r.json.items.every((i: { fieldData: { views: number } }) => i.fieldData.views === 7)).toBe(true);
    const tooMany = await callWebflow(em, items(posts), {
      method: 'PATCH',
      body: { items: [...ids, ids[0]].map((id) => ({ id, fieldData: { views: 8 } })) },
    });
    expect(tooMany.status).toBe(400);
  });

  it('a live PATCH of a never-published item is a 409, atomic for the whole bulk request', async () => {
    const draft = await create(posts, { name: 'Draft' });
    const pub = await create(posts, { name: 'Pub' });
    const published = await callWebflow(em, items(posts, '/publish'), {
      method: 'POST',
      body: { itemIds: [pub.json.id] },
    });
    expect(published.status).toBe(202);
    const single = await callWebflow(em, items(posts, `/${draft.json.id}/live`), {
      method: 'PATCH',
      body: { fieldData: { views: 1 } },
    });
    expect(single.status).toBe(409);
    expect(single.json.message).toBe(
      "Conflict: Conflict with server data: Live PATCH updates can't be applied to items that have never been published",
    );
    const bulk = await callWebflow(em, items(posts, '/live'), {
      method: 'PATCH',
      body: {
        items: [
          { id: pub.json.id, fieldData: { views: 2 } },
          { id: draft.json.id, fieldData: { views: 2 } },
        ],
      },
    });
    expect(bulk.status).toBe(409);
    const live = await callWebflow(em, items(posts, `/${pub.json.id}/live`));
    expect(live.json.fieldData.views).toBeUndefined();
    const okLive = await callWebflow(em, items(posts, `/${pub.json.id}/live`), {
      method: 'PATCH',
      body: { fieldData: { views: 5 } },
    });
    expect(okLive.status).toBe(200);
    expect(okLive.json.fieldData.views).toBe(5);
    // D13: a live write leaves the staged copy alone.
    expect((await callWebflow(em, items(posts, `/${pub.json.id}`))).json.fieldData.views).toBeUndefined();
  });

  it('publish copies staged to live and answers 202 with per-item errors', async () => {
    const a = await create(posts, { name: 'A' });
    const archived = await create(posts, { name: 'Old' }, { isArchived: true });
    expect((await callWebflow(em, items(posts, `/${a.json.id}/live`))).status).toBe(404);
    expect((await callWebflow(em, items(posts, '/live'))).json.items).toEqual([]);
    const missing = '0123456789abcdef01234567';
    const r = await callWebflow(em, items(posts, '/publish'), {
      method: 'POST',
      body: { itemIds: [a.json.id, archived.json.id, missing] },
    });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({
      publishedItemIds: [a.json.id],
      errors: [
        `Staging item ID ${archived.json.id} is archived and cannot be published.`,
        `Staging item ID ${missing} not found.`,
      ],
    });
    const live = await callWebflow(em, items(posts, `/${a.json.id}/live`));
    expect(live.status).toBe(200);
    expect(live.json.isDraft).toBe(false);
    expect(live.json.lastPublished).toMatch(/Z$/);
    // A staged edit of a live item does not reach the live copy until the next publish (§9).
    await callWebflow(em, items(posts, `/${a.json.id}`), {
      method: 'PATCH',
      body: { fieldData: { views: 9 } },
    });
    expect((await callWebflow(em, items(posts, `/${a.json.id}/live`))).json.fieldData.views).toBeUndefined();
  });

  it('unpublish (DELETE …/live) drops the live copy and makes a never-published draft; DELETE answers 204 empty', async () => {
    const a = await create(posts, { name: 'A' });
    await callWebflow(em, items(posts, '/publish'), { method: 'POST', body: { itemIds: [a.json.id] } });
    const un = await callWebflow(em, items(posts, `/${a.json.id}/live`), { method: 'DELETE' });
    expect(un.status).toBe(204);
    expect(un.text).toBe('');
    const staged = await callWebflow(em, items(posts, `/${a.json.id}`));
    expect(staged.json).toMatchObject({ isDraft: true, lastPublished: null });
    expect(
      (
        await callWebflow(em, items(posts, `/${a.json.id}/live`), {
          method: 'PATCH',
          body: { fieldData: {} },
        })
      ).status,
    ).toBe(409);
    const del = await callWebflow(em, items(posts, `/${a.json.id}`), { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await callWebflow(em, items(posts, `/${a.json.id}`))).status).toBe(404);
    expect((await callWebflow(em, items(posts, `/${a.json.id}`), { method: 'DELETE' })).status).toBe(404);
  });

  it('keeps a deleted item live and its slug taken until a site publish, when asked to (O8)', async () => {
    const keep = await startTestWebflowEmulator({ keepDeletedUntilSitePublish: true });
    try {
      const cid = keep.collectionId('posts');
      const path = `/v2/collections/${cid}/items`;
      const a = await callWebflow(keep, path, {
        method: 'POST',
        body: { fieldData: { name: 'A', slug: 'a' } },
      });
      await callWebflow(keep, `${path}/publish`, { method: 'POST', body: { itemIds: [a.json.id] } });
      await callWebflow(keep, `${path}/${a.json.id}`, { method: 'DELETE' });
      expect((await callWebflow(keep, `${path}/live`)).json.items).toHaveLength(1);
      const again = await callWebflow(keep, path, {
        method: 'POST',
        body: { fieldData: { name: 'A', slug: 'a' } },
      });
      expect(again.json.fieldData.slug).toMatch(/^a-[0-9a-f]{5}$/);
      const site = await callWebflow(keep, `/v2/sites/${keep.siteId}/publish`, { method: 'POST', body: {} });
      expect(site.status).toBe(202);
      expect((await callWebflow(keep, `${path}/live`, {})).json.items).toHaveLength(0);
      // One site publish per minute (D16).
      expect(
        (await callWebflow(keep, `/v2/sites/${keep.siteId}/publish`, { method: 'POST', body: {} })).status,
      ).toBe(429);
    } finally {
      await keep.close();
    }
  });
});

describe('flags for the open questions', () => {
  it('answers the second 409 after a schema change until a site publish', async () => {
    const a = await create(posts, { name: 'A' });
    await callWebflow(em, items(posts, '/publish'), { method: 'POST', body: { itemIds: [a.json.id] } });
    await fetch(`${em.origin}/__emulator/schema-changed`, { method: 'POST' });
    const r = await callWebflow(em, items(posts, `/${a.json.id}/live`), {
      method: 'PATCH',
      body: { fieldData: {} },
    });
    expect(r.status).toBe(409);
    expect(r.json.message).toBe('Conflict: The collection structure changed since the last publish');
    expect(
      (await callWebflow(em, `/v2/sites/${em.siteId}/publish`, { method: 'POST', body: {} })).status,
    ).toBe(202);
    expect(
      (
        await callWebflow(em, items(posts, `/${a.json.id}/live`), {
          method: 'PATCH',
          body: { fieldData: {} },
        })
      ).status,
    ).toBe(200);
  });

  it('liveWriteAlsoStages and clearedFields "null" change what a live PATCH and a clear leave behind', async () => {
    const other = await startTestWebflowEmulator({ liveWriteAlsoStages: true, clearedFields: 'null' });
    try {
      const path = `/v2/collections/${other.collectionId('posts')}/items`;
      const a = await callWebflow(other, `${path}/live`, {
        method: 'POST',
        body: { isDraft: false, fieldData: { name: 'A', body: '<p>x</p>' } },
      });
      expect(a.status).toBe(202);
      expect(a.json.lastPublished).toMatch(/Z$/);
      await callWebflow(other, `${path}/${a.json.id}/live`, {
        method: 'PATCH',
        body: { fieldData: { views: 2, body: '' } },
      });
      const staged = await callWebflow(other, `${path}/${a.json.id}`);
      expect(staged.json.fieldData).toEqual({ name: 'A', body: null, slug: 'a', views: 2 });
    } finally {
      await other.close();
    }
  });

  it('keeps one variant per locale: a PATCH of one locale leaves the other alone', async () => {
    const config = await loadExampleConfig();
    const loc = await startWebflowEmulator({ config, tokens: [{ token: 't' }] });
    try {
      const cid = loc.collectionId('tags');
      const [en, es] = [loc.cmsLocaleId('en'), loc.cmsLocaleId('es')];
      const made = await callWebflow(loc, `/v2/collections/${cid}/items/bulk`, {
        token: 't',
        method: 'POST',
        body: { cmsLocaleIds: [en, es], fieldData: { name: 'Red', slug: 'red' } },
      });
      const id = made.json.items[0].id;
      const patched = await callWebflow(loc, `/v2/collections/${cid}/items`, {
        token: 't',
        method: 'PATCH',
        body: { items: [{ id, cmsLocaleId: es, fieldData: { name: 'Rojo' } }] },
      });
      expect(patched.status).toBe(200);
      expect(patched.json.pagination).toEqual({ limit: 100, offset: 0, total: 1 });
      const both = await callWebflow(loc, `/v2/collections/${cid}/items?cmsLocaleId=${en},${es}`, {
        token: 't',
      });
      expect(both.json.items.map((i: { fieldData: { name: string } }) => i.fieldData.name)).toEqual([
        'Red',
        'Rojo',
      ]);
      const primary = await callWebflow(loc, `/v2/collections/${cid}/items/${id}`, { token: 't' });
      expect(primary.json).toMatchObject({ cmsLocaleId: en, fieldData: { name: 'Red' } });
      const unknown = await callWebflow(
        loc,
        `/v2/collections/${cid}/items?cmsLocaleId=0123456789abcdef01234567`,
        {
          token: 't',
        },
      );
      expect(unknown.status).toBe(400);
    } finally {
      await loc.close();
    }
  });
});

describe('lists', () => {
  it('pages with offset/limit (max 100), filters by exact slug and sorts', async () => {
    for (const start of [0, 60]) {
      const made = await callWebflow(em, items(posts, '/bulk'), {
        method: 'POST',
        body: {
          fieldData: Array.from({ length: 60 }, (_, i) => ({
            name: `N${String(start + i).padStart(3, '0')}`,
          })),
        },
      });
      expect(made.status).toBe(202);
    }
    const first = await callWebflow(em, items(posts, '?limit=500'));
    expect(first.json.items).toHaveLength(100);
    expect(first.json.pagination).toEqual({ limit: 100, offset: 0, total: 120 });
    const rest = await callWebflow(em, items(posts, '?offset=100&limit=50'));
    expect(rest.json.items).toHaveLength(20);
    expect(rest.json.items[0].fieldData.name).toBe('N100');
    const bySlug = await callWebflow(em, items(posts, '?slug=n007'));
    expect(bySlug.json.items.map((i: { fieldData: { name: string } }) => i.fieldData.name)).toEqual(['N007']);
    const desc = await callWebflow(em, items(posts, '?sortBy=name&sortOrder=desc&limit=1'));
    expect(desc.json.items[0].fieldData.name).toBe('N119');
    const strict = await startTestWebflowEmulator({ strictLimit: true });
    try {
      expect(
        (await callWebflow(strict, `/v2/collections/${strict.collectionId('posts')}/items?limit=101`)).status,
      ).toBe(400);
    } finally {
      await strict.close();
    }
  });
});

describe('rate limit', () => {
  it('sends X-RateLimit headers always and 429 + Retry-After past the per-token minute budget', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const limited = await startTestWebflowEmulator({
      rateLimitPerMinute: 60,
      now: () => now,
      tokens: [
        { token: 'a', label: 'a' },
        { token: 'b', label: 'b' },
      ],
    });
    try {
      const path = `/v2/collections/${limited.collectionId('posts')}/items`;
      for (let i = 1; i <= 60; i++) {
        const r = await callWebflow(limited, path, { token: 'a' });
        expect(r.status).toBe(200);
        expect(r.headers.get('x-ratelimit-limit')).toBe('60');
        expect(r.headers.get('x-ratelimit-remaining')).toBe(String(60 - i));
      }
      now += 15_000;
      const refused = await callWebflow(limited, path, { token: 'a' });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('45');
      expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(refused.json).toEqual({
        message: 'Too Many Requests',
        code: 'too_many_requests',
        externalReference: null,
        details: [],
      });
      // Per token: another key still has its budget.
      expect((await callWebflow(limited, path, { token: 'b' })).status).toBe(200);
      now += 45_000;
      const next = await callWebflow(limited, path, { token: 'a' });
      expect(next.status).toBe(200);
      expect(next.headers.get('x-ratelimit-remaining')).toBe('59');
      expect(limited.requestLog().map((e) => e.auth)).not.toContain('invalid');
    } finally {
      await limited.close();
    }
  });
});

describe('faults and the request log', () => {
  it('injects a 500 on the Nth call, 429 bursts, and lost 202 writes; logs requests by token label', async () => {
    em.setFaults({ failNthCall: 2 });
    expect((await callWebflow(em, items(posts))).status).toBe(200);
    const second = await callWebflow(em, items(posts));
    expect(second.status).toBe(500);
    expect(second.json.code).toBe('internal_error');
    em.setFaults({ burst429: 1, retryAfterSeconds: 7 });
    const burst = await callWebflow(em, items(posts));
    expect(burst.status).toBe(429);
    expect(burst.headers.get('retry-after')).toBe('7');
    em.setFaults({ failAfterAcceptRate: 1 });
    const lost = await create(posts, { name: 'Lost' });
    expect(lost.status).toBe(202);
    em.setFaults({ failAfterAcceptRate: 0 });
    expect((await callWebflow(em, items(posts, `/${lost.json.id}`))).status).toBe(404);
    const log = em.requestLog();
    expect(log.map((e) => e.status)).toEqual([200, 500, 429, 202, 404]);
    expect(log.every((e) => e.auth === 'test')).toBe(true);
    expect(log[3]?.body).toBe('{"fieldData":{"name":"Lost"}}');
    expect(JSON.stringify(log)).not.toContain(WEBFLOW_TOKEN);
  });

  it('drops sockets, adds latency and answers 429 after a quota, like the ButterCMS emulator', async () => {
    em.setFaults({ resetRate: 1 });
    await expect(callWebflow(em, items(posts))).rejects.toThrow();
    em.setFaults({ resetRate: 0, latencyMs: 150 });
    const started = Date.now();
    expect((await callWebflow(em, items(posts))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(em.requestLog().map((e) => e.status)).toEqual([0, 200]);
    const quota = await startTestWebflowEmulator({ quota: 2 });
    try {
      const path = `/v2/collections/${quota.collectionId('posts')}/items`;
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await callWebflow(quota, path)).status);
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await quota.close();
    }
  });

  it('lists the admin routes and changes faults through them', async () => {
    const routes = (await (await fetch(`${em.origin}/__emulator/`)).json()) as { routes: unknown[] };
    expect(routes.routes.length).toBeGreaterThan(5);
    const set = await fetch(`${em.origin}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ errorRate: 1 }),
    });
    expect(((await set.json()) as { errorRate: number }).errorRate).toBe(1);
    expect((await callWebflow(em, items(posts))).status).toBeGreaterThanOrEqual(500);
    const bad = await fetch(`${em.origin}/__emulator/faults`, { method: 'POST', body: '{"nope":1}' });
    expect(bad.status).toBe(400);
  });
});

describe('webhooks', () => {
  it('sends signed deliveries that verify, retries a failing receiver 3 times, and can replay stale ones', async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    let failFirst = 2;
    const receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(failFirst-- > 0 ? 500 : 200).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const hooked = await startTestWebflowEmulator({ webhookRetryDelayMs: 10 });
    try {
      hooked.setWebhooks([{ url, secretKey: 's3cret', triggerTypes: ['collection_item_created'] }]);
      const made = await callWebflow(hooked, `/v2/collections/${hooked.collectionId('posts')}/items`, {
        method: 'POST',
        body: { fieldData: { name: 'Hooked' } },
      });
      await hooked.settle();
      expect(received).toHaveLength(3);
      const last = received.at(-1)!;
      const ts = String(last.headers['x-webflow-timestamp']);
      expect(last.headers['x-webflow-signature']).toBe(signWebhook('s3cret', ts, last.body));
      expect(Math.abs(Number(ts) - Date.now())).toBeLessThan(60_000);
      const payload = JSON.parse(last.body);
      expect(payload.triggerType).toBe('collection_item_created');
      expect(payload.payload).toMatchObject({ id: made.json.id, siteId: hooked.siteId, isDraft: true });
      expect(hooked.webhookLog().map((d) => d.status)).toEqual([500, 500, 200]);
      // The daemon's decoder reads what a scoped pull needs from the delivery.
      expect(decodeWebflowWebhook(last.body)).toEqual({
        kind: 'item',
        event: {
          change: 'created',
          collectionId: hooked.collectionId('posts'),
          itemId: made.json.id,
          cmsLocaleId: null,
          lastUpdated: made.json.lastUpdated,
        },
      });

      received.length = 0;
      hooked.setFaults({ webhookStaleRate: 1 });
      hooked.seedItem({ collection: 'posts', fieldData: { name: 'Old news' } });
      await hooked.settle();
      expect(received).toHaveLength(1);
      expect(Date.now() - Number(received[0]!.headers['x-webflow-timestamp'])).toBeGreaterThan(300_000);
    } finally {
      await hooked.close();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });

  it('registers webhooks through the API with 201 and a secretKey', async () => {
    const r = await callWebflow(em, `/v2/sites/${em.siteId}/webhooks`, {
      method: 'POST',
      body: { triggerType: 'collection_item_changed', url: 'http://127.0.0.1:9/x' },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ triggerType: 'collection_item_changed', siteId: em.siteId });
    expect(r.json.secretKey).toMatch(/^[0-9a-f]{32}$/);
  });
});
