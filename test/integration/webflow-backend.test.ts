import { afterEach, describe, expect, it } from 'vitest';
import { makeWebflowBackend, type WriteIntent } from '../../src/cms/webflow/backend.js';
import type { SyncConfig } from '../../src/config/schema.js';
import { isSyncError } from '../../src/core/errors.js';
import { signWebhook, type WebflowEmulatorHandle } from '../../src/emulator/webflow/index.js';
import { validConfig } from '../helpers/valid-config.js';
import {
  callWebflow,
  startTestWebflowEmulator,
  WEBFLOW_TEST_SCHEMA,
  WEBFLOW_TOKEN,
} from '../helpers/webflow-emulator.js';

// The Webflow backend (issue 12) against the emulator over real HTTP: intents written in bulk, read back in file
// form, `estimate` equal to the emulator's request log, the bulk limits, the slug lookup before a create, the
// suffixed-slug guard, the never-published 409 avoided, the publish `errors` list and a 429 paused for.

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

function configFor(em: WebflowEmulatorHandle, locales: string[] = ['en']): SyncConfig {
  return validConfig({
    cms: { kind: 'webflow', siteId: em.siteId },
    locales: { default: locales[0]!, all: locales },
    collections: {
      authors: { keyField: 'slug', fields: { name: 'text', slug: 'text', bio: 'text' } },
      posts: {
        keyField: 'slug',
        fields: {
          name: 'text',
          slug: 'text',
          body: 'richtext',
          views: 'number',
          kind: { type: 'text', options: ['News', 'Guide'] },
          author: { type: 'reference', to: 'collection:authors' },
          tags: { type: 'reference', to: 'collection:authors', many: true },
          cover: 'media',
        },
      },
    },
  });
}

async function setup(emOptions: Parameters<typeof startTestWebflowEmulator>[0] = {}, locales?: string[]) {
  const em = await startTestWebflowEmulator({
    ...emOptions,
    ...(locales ? { schema: { ...WEBFLOW_TEST_SCHEMA, locales } } : {}),
  });
  open.push(em);
  const media: Record<string, string> = {};
  const learned: Array<[string, string]> = [];
  const backend = makeWebflowBackend({
    config: configFor(em, locales),
    token: WEBFLOW_TOKEN,
    baseUrl: em.url,
    media,
    learnRichText: (html, markdown) => learned.push([html, markdown]),
    webhookSecret: 'hook-secret',
    pipeline: { requestsPerMinute: 1000 },
  });
  open.push(backend);
  return { em, backend, media, learnedRichText: learned };
}

const item = (collection: string, key: string) => ({
  entity: `item:${collection}:${key}`,
  ref: { kind: 'item' as const, collection, key },
});

const calls = (em: WebflowEmulatorHandle) =>
  em.requestLog().map((e) => `${e.method} ${e.path.replace(/\?.*$/, '')}`);

describe('Webflow backend', () => {
  it('writes creates with references, rich text, options and images in bulk, reads them back in file form, and estimates the calls it makes', async () => {
    const { em, backend, media, learnedRichText } = await setup();
    const intents: WriteIntent[] = [
      {
        kind: 'create',
        ...item('authors', 'ada'),
        locales: { en: { fields: { name: 'Ada', bio: 'Counts' } } },
      },
      {
        kind: 'create',
        ...item('authors', 'alan'),
        locales: { en: { fields: { name: 'Alan', bio: 'Machines' } } },
      },
      {
        kind: 'create',
        ...item('posts', 'hello'),
        locales: {
          en: {
            status: 'published',
            fields: {
              name: 'Hello',
              body: 'A *first* post.\n\n- one\n- two',
              views: 3,
              kind: 'Guide',
              author: 'ada',
              tags: ['ada', 'alan'],
              cover: 'https://example.com/images/cover.png',
            },
          },
        },
      },
    ];
    const ids = new Map<string, string>();
    const estimated = backend.estimate(intents, ids);
    const receipts = await backend.writeAll(intents, ids);
    expect(receipts.map((r) => r.state)).toEqual(['applied', 'applied', 'applied']);
    expect(receipts.every((r) => /^[0-9a-f]{24}$/.test(r.remoteId ?? ''))).toBe(true);
    expect(receipts[2]!.live).toBe(true);
    // Schema (site, collections, 2 collections), 3 slug lookups, 2 bulk creates (one per collection), the post's
    // deferred references in one PATCH, one publish. Requests of one phase go out together, in any order.
    const authors = `/v2/collections/${em.collectionId('authors')}`;
    const posts = `/v2/collections/${em.collectionId('posts')}`;
    const made = calls(em);
    expect(made.slice(0, 4)).toEqual([
      `GET /v2/sites/${em.siteId}`,
      `GET /v2/sites/${em.siteId}/collections`,
      `GET ${authors}`,
      `GET ${posts}`,
    ]);
    expect(made.slice(4, 7).sort()).toEqual(
      [`GET ${authors}/items`, `GET ${authors}/items`, `GET ${posts}/items`].sort(),
    );
    expect(made.slice(7, 9).sort()).toEqual(
      [`POST ${authors}/items/bulk`, `POST ${posts}/items/bulk`].sort(),
    );
    expect(made.slice(9)).toEqual([`PATCH ${posts}/items`, `POST ${posts}/items/publish`]);
    expect(estimated).toBe(em.requestLog().length);
    expect(em.requestLog().every((e) => e.status < 300)).toBe(true);
    // The rich text was learned before it was sent; the re-hosted image comes back as a CDN URL to remember.
    expect(learnedRichText.map(([, md]) => md)).toEqual(['A *first* post.\n\n- one\n- two']);
    const learnedMedia = receipts[2]!.mediaLearned ?? {};
    expect(Object.values(learnedMedia)).toEqual(['https://example.com/images/cover.png']);
    Object.assign(media, learnedMedia);

    em.clearLog();
    const snapshot = await backend.read({ collections: ['authors', 'posts'] }, new Map());
    expect(calls(em)).toEqual([
      `GET /v2/collections/${em.collectionId('authors')}/items`,
      `GET /v2/collections/${em.collectionId('posts')}/items`,
    ]);
    const post = snapshot.entities.get('item:posts:hello')!;
    expect(post.remoteId).toBe(receipts[2]!.remoteId);
    expect(post.locales.en!.meta).toEqual({ title: 'Hello', status: 'published' });
    expect(post.locales.en!.fields).toEqual({
      name: 'Hello',
      slug: 'hello',
      body: 'A _first_ post.\n\n- one\n- two',
      views: 3,
      kind: 'Guide',
      author: 'ada',
      tags: ['ada', 'alan'],
      cover: 'https://example.com/images/cover.png',
    });
    expect(snapshot.entities.get('item:authors:ada')!.locales.en!.meta.status).toBe('draft');
    expect(snapshot.ids.get('item:authors:alan')).toBe(receipts[1]!.remoteId);
    // On the wire: an option id, item ids, a {fileId,url,alt} image, HTML.
    const wire = await callWebflow(
      em,
      `/v2/collections/${em.collectionId('posts')}/items/${post.remoteId}/live`,
    );
    expect(wire.status).toBe(200);
    expect(wire.json.fieldData.kind).toMatch(/^[0-9a-f]{24}$/);
    expect(wire.json.fieldData.tags).toEqual([receipts[0]!.remoteId, receipts[1]!.remoteId]);
    expect(wire.json.fieldData.body).toContain('<em>first</em>');
    expect(wire.json.fieldData.cover.fileId).toMatch(/^[0-9a-f]{24}$/);
  });

  it('sends k edits of one collection as ⌈k/100⌉ PATCHes and publishes the live ones in batches of 100', async () => {
    const { em, backend } = await setup();
    const ids = new Map<string, string>();
    for (let i = 0; i < 150; i++) {
      const slug = `p-${String(i).padStart(3, '0')}`;
      ids.set(
        `item:posts:${slug}`,
        em.seedItem({ collection: 'posts', fieldData: { name: `P ${i}`, slug }, live: i < 120 }),
      );
    }
    await backend.read({ collections: ['posts'] }, ids); // learns which items are live
    em.clearLog();
    const intents: WriteIntent[] = [...ids].map(([entity, remoteId], i) => ({
      kind: 'update',
      entity,
      ref: { kind: 'item', collection: 'posts', key: entity.slice('item:posts:'.length) },
      remoteId,
      locales: { en: { fields: { views: i } } },
    }));
    const estimated = backend.estimate(intents, ids);
    const receipts = await backend.writeAll(intents, ids);
    expect(receipts.every((r) => r.state === 'applied')).toBe(true);
    const log = em.requestLog();
    expect(log.map((e) => e.method)).toEqual(['PATCH', 'PATCH', 'POST', 'POST']);
    expect(log.map((e) => JSON.parse(e.body!).items.length)).toEqual([100, 50, 100, 20]);
    expect(estimated).toBe(log.length);
    expect(receipts.filter((r) => r.live).length).toBe(120);
    // The staged edit of a live item went live in the same run; a draft stayed a draft.
    const live = await callWebflow(
      em,
      `/v2/collections/${em.collectionId('posts')}/items/${ids.get('item:posts:p-007')}/live`,
    );
    expect(live.json.fieldData.views).toBe(7);
    const draft = await callWebflow(
      em,
      `/v2/collections/${em.collectionId('posts')}/items/${ids.get('item:posts:p-130')}/live`,
    );
    expect(draft.status).toBe(404);
    // The client refuses a bulk call over Webflow's limit instead of splitting it silently.
    await expect(
      backend.client.updateItems(em.collectionId('posts'), Array(101).fill({ id: 'x' })),
    ).rejects.toThrow(RangeError);
  });

  it('looks the slug up before a create: an item made meanwhile is reported, never created twice', async () => {
    const { em, backend } = await setup();
    await backend.open();
    const made = em.seedItem({ collection: 'authors', fieldData: { name: 'Ada', slug: 'ada' }, live: false });
    em.clearLog();
    const [receipt] = await backend.writeAll(
      [{ kind: 'create', ...item('authors', 'ada'), locales: { en: { fields: { name: 'Ada L.' } } } }],
      new Map(),
    );
    expect(receipt).toMatchObject({ state: 'exists', remoteId: made });
    expect(em.requestLog().map((e) => e.method)).toEqual(['GET']);
    const list = await callWebflow(em, `/v2/collections/${em.collectionId('authors')}/items`);
    expect(list.json.items.map((i: { fieldData: { name: string } }) => i.fieldData.name)).toEqual(['Ada']);
    expect(await backend.locate({ kind: 'item', collection: 'authors', key: 'ada' })).toBe(made);
    expect(await backend.locate({ kind: 'item', collection: 'authors', key: 'nobody' })).toBeUndefined();
  });

  it('after a 500 on a create looks the slug up again before sending it once more: one item, not two', async () => {
    const { em, backend } = await setup();
    await backend.open();
    const before = em.requestLog().length;
    em.setFaults({ failNthCall: before + 2 }); // the lookup is call +1, the create +2
    em.clearLog();
    const [receipt] = await backend.writeAll(
      [{ kind: 'create', ...item('authors', 'grace'), locales: { en: { fields: { name: 'Grace' } } } }],
      new Map(),
    );
    expect(receipt!.state).toBe('applied');
    expect(em.requestLog().map((e) => `${e.method} ${e.status}`)).toEqual([
      'GET 200',
      'POST 500',
      'GET 200',
      'POST 202',
    ]);
    const list = await callWebflow(em, `/v2/collections/${em.collectionId('authors')}/items?slug=grace`);
    expect(list.json.items).toHaveLength(1);
  });

  it('reports the slug Webflow gave when the one asked for was still taken (a deleted item still live)', async () => {
    const { em, backend } = await setup({ keepDeletedUntilSitePublish: true });
    const old = em.seedItem({ collection: 'authors', fieldData: { name: 'Old', slug: 'taken' } });
    // Deleted without unpublishing: the slug stays taken until a site publish (O8); the staged list no longer has it.
    const removed = await callWebflow(em, `/v2/collections/${em.collectionId('authors')}/items`, {
      method: 'DELETE',
      body: { items: [{ id: old }] },
    });
    expect(removed.status).toBe(204);
    const [receipt] = await backend.writeAll(
      [
        {
          kind: 'create',
          ...item('authors', 'taken'),
          path: 'collections/authors/taken.md',
          locales: { en: { fields: { name: 'New' } } },
        },
      ],
      new Map(),
    );
    expect(receipt!.state).toBe('applied');
    expect(receipt!.keyAssigned).toMatch(/^taken-[0-9a-f]{5}$/);
    expect(receipt!.problems?.[0]).toContain('collections/authors/taken.md');
    expect(receipt!.problems?.[0]).toContain(`"${receipt!.keyAssigned}"`);
  });

  it('never meets the live-PATCH 409 of a never-published item: a mixed batch is staged, then published', async () => {
    const { em, backend } = await setup();
    const liveId = em.seedItem({
      collection: 'posts',
      fieldData: { name: 'Live', slug: 'live' },
      live: true,
    });
    const draftId = em.seedItem({
      collection: 'posts',
      fieldData: { name: 'New', slug: 'new' },
      live: false,
    });
    // What a live bulk PATCH would meet (§2.6): the whole batch refused.
    const refused = await backend.client
      .updateItemsLive(em.collectionId('posts'), [
        { id: liveId, fieldData: { views: 1 } },
        { id: draftId, fieldData: { views: 1 } },
      ])
      .catch((e: unknown) => e);
    expect(isSyncError(refused) && refused.status).toBe(409);
    await backend.open();
    em.clearLog();
    const ids = new Map([
      ['item:posts:live', liveId],
      ['item:posts:new', draftId],
    ]);
    const receipts = await backend.writeAll(
      [
        {
          kind: 'update',
          ...item('posts', 'live'),
          remoteId: liveId,
          locales: { en: { fields: { views: 2 }, status: 'published' } },
        },
        {
          kind: 'update',
          ...item('posts', 'new'),
          remoteId: draftId,
          locales: { en: { fields: { views: 2 }, status: 'published' } },
        },
      ],
      ids,
    );
    expect(receipts.map((r) => [r.state, r.live])).toEqual([
      ['applied', true],
      ['applied', true],
    ]);
    expect(em.requestLog().map((e) => `${e.method} ${e.status}`)).toEqual(['PATCH 200', 'POST 202']);
    for (const id of [liveId, draftId]) {
      const live = await callWebflow(em, `/v2/collections/${em.collectionId('posts')}/items/${id}/live`);
      expect(live.json.fieldData.views).toBe(2);
    }
  });

  it('reads the errors list of a 202 publish: an archived item is written but reported as not live', async () => {
    const { em, backend } = await setup();
    const archived = em.seedItem({
      collection: 'posts',
      fieldData: { name: 'Old', slug: 'old' },
      live: false,
      isArchived: true,
    });
    const [receipt] = await backend.writeAll(
      [
        {
          kind: 'update',
          ...item('posts', 'old'),
          remoteId: archived,
          locales: { en: { fields: { views: 9 }, status: 'published' } },
        },
      ],
      new Map(),
    );
    expect(receipt!.state).toBe('applied');
    expect(receipt!.live).toBe(false);
    expect(receipt!.problems?.join(' ')).toContain('is archived and cannot be published');
  });

  it('pauses for Retry-After on a 429 and then writes', async () => {
    const { em, backend } = await setup();
    const id = em.seedItem({ collection: 'authors', fieldData: { name: 'Ada', slug: 'ada' }, live: false });
    await backend.open();
    em.clearLog();
    em.setFaults({ burst429: 1, retryAfterSeconds: 1 });
    const started = Date.now();
    const [receipt] = await backend.writeAll(
      [
        {
          kind: 'update',
          ...item('authors', 'ada'),
          remoteId: id,
          locales: { en: { fields: { bio: 'Counts' } } },
        },
      ],
      new Map(),
    );
    expect(receipt!.state).toBe('applied');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(em.requestLog().map((e) => `${e.method} ${e.status}`)).toEqual(['PATCH 429', 'PATCH 200']);
  });

  it('holds back a write whose reference has no id yet, and sends nothing for it', async () => {
    const { em, backend } = await setup();
    const id = em.seedItem({ collection: 'posts', fieldData: { name: 'P', slug: 'p' }, live: false });
    await backend.open();
    em.clearLog();
    const intents: WriteIntent[] = [
      {
        kind: 'update',
        ...item('posts', 'p'),
        remoteId: id,
        locales: { en: { fields: { author: 'nobody' } } },
      },
    ];
    expect(backend.estimate(intents, new Map())).toBe(0);
    const [receipt] = await backend.writeAll(intents, new Map());
    expect(receipt).toMatchObject({ state: 'held-back', waitingFor: ['item:authors:nobody'] });
    expect(em.requestLog()).toEqual([]);
  });

  it('unpublishes before it deletes, in bulk, and takes an item already gone as deleted', async () => {
    const { em, backend } = await setup();
    const a = em.seedItem({ collection: 'authors', fieldData: { name: 'A', slug: 'a' } });
    const b = em.seedItem({ collection: 'authors', fieldData: { name: 'B', slug: 'b' } });
    await backend.open();
    em.deleteItem('authors', b); // an editor deleted it already
    em.clearLog();
    const intents: WriteIntent[] = [
      { kind: 'delete', ...item('authors', 'a'), remoteId: a, locales: {} },
      { kind: 'delete', ...item('authors', 'b'), remoteId: b, locales: {} },
    ];
    const receipts = await backend.writeAll(intents, new Map());
    expect(receipts.map((r) => r.state)).toEqual(['applied', 'applied']);
    // One bulk unpublish 404s for the gone item, then item by item; the same for the delete.
    expect(
      em.requestLog().map((e) => `${e.method} ${e.path.endsWith('/live') ? 'live' : 'staged'} ${e.status}`),
    ).toEqual([
      'DELETE live 404',
      'DELETE live 204',
      'DELETE live 404',
      'DELETE staged 404',
      'DELETE staged 204',
      'DELETE staged 404',
    ]);
    for (const suffix of ['', '/live']) {
      const got = await callWebflow(em, `/v2/collections/${em.collectionId('authors')}/items/${a}${suffix}`);
      expect(got.status).toBe(404);
    }
  });

  it('turns a published item back into a draft by unpublishing it', async () => {
    const { em, backend } = await setup();
    const id = em.seedItem({ collection: 'authors', fieldData: { name: 'A', slug: 'a' } });
    await backend.read({ collections: ['authors'] }, new Map());
    em.clearLog();
    const intents: WriteIntent[] = [
      {
        kind: 'update',
        ...item('authors', 'a'),
        remoteId: id,
        locales: { en: { fields: {}, status: 'draft' } },
      },
    ];
    const estimated = backend.estimate(intents, new Map());
    const [receipt] = await backend.writeAll(intents, new Map());
    expect(receipt).toMatchObject({ state: 'applied', live: false });
    expect(em.requestLog().map((e) => e.method)).toEqual(['PATCH', 'DELETE']);
    expect(estimated).toBe(2);
    const snapshot = await backend.read(
      { entities: [{ kind: 'item', collection: 'authors', key: 'a' }] },
      new Map(),
    );
    expect(snapshot.entities.get('item:authors:a')!.locales.en!.meta.status).toBe('draft');
  });

  it('creates an item in two locales: one bulk create, then the other locale PATCHed with its own fields', async () => {
    const { em, backend } = await setup({}, ['en', 'fr']);
    const intents: WriteIntent[] = [
      {
        kind: 'create',
        ...item('authors', 'ada'),
        locales: {
          en: { fields: { name: 'Ada', bio: 'Counts' } },
          fr: { fields: { name: 'Ada', slug: 'ada-fr', bio: 'Compte' } },
        },
      },
    ];
    await backend.open();
    em.clearLog();
    const estimated = backend.estimate(intents, new Map());
    const [receipt] = await backend.writeAll(intents, new Map());
    expect(receipt!.state).toBe('applied');
    expect(em.requestLog().map((e) => e.method)).toEqual(['GET', 'POST', 'PATCH']);
    expect(estimated).toBe(3);
    const snapshot = await backend.read({ collections: ['authors'] }, new Map());
    const ada = snapshot.entities.get('item:authors:ada')!;
    expect(ada.locales.en!.fields.bio).toBe('Counts');
    expect(ada.locales.fr!.fields).toMatchObject({ slug: 'ada-fr', bio: 'Compte' });
    const fr = await callWebflow(
      em,
      `/v2/collections/${em.collectionId('authors')}/items/${receipt!.remoteId}?cmsLocaleId=${em.cmsLocaleId('fr')}`,
    );
    expect(fr.json.fieldData.bio).toBe('Compte');
  });

  it('lets the good edits of a refused bulk PATCH through: a 400 is halved down to its bad entry, a 404 drops the gone item', async () => {
    const { em, backend } = await setup();
    const ids = new Map<string, string>();
    for (let i = 0; i < 8; i++) {
      ids.set(
        `item:posts:p${i}`,
        em.seedItem({ collection: 'posts', fieldData: { name: `P${i}`, slug: `p${i}` }, live: false }),
      );
    }
    await backend.open();
    em.deleteItem('posts', ids.get('item:posts:p7')!); // deleted in Webflow meanwhile
    em.clearLog();
    // `views` is an integer field: Webflow refuses 1.5 with a 400 that names the field, not the item.
    const intents: WriteIntent[] = [...ids].map(([entity, remoteId], i) => ({
      kind: 'update',
      entity,
      ref: { kind: 'item', collection: 'posts', key: entity.slice('item:posts:'.length) },
      remoteId,
      locales: { en: { fields: { views: i === 2 ? 1.5 : i } } },
    }));
    const receipts = await backend.writeAll(intents, ids);
    expect(receipts.map((r) => r.state)).toEqual([
      ...Array(2).fill('applied'),
      'failed',
      ...Array(4).fill('applied'),
      'failed',
    ]);
    expect(receipts[2]!.error?.status).toBe(400);
    expect(receipts[7]!.error?.code).toBe('CMS_NOT_FOUND');
    const log = em.requestLog().map((e) => `${e.method} ${e.status}`);
    expect(log[0]).toBe('PATCH 404');
    expect(log[1]).toBe('GET 200');
    expect(log.filter((l) => l === 'PATCH 200').length).toBeGreaterThanOrEqual(2);
    for (const [i, slug] of ['p0', 'p3', 'p6'].entries()) {
      const got = await callWebflow(
        em,
        `/v2/collections/${em.collectionId('posts')}/items/${ids.get(`item:posts:${slug}`)}`,
      );
      expect(got.json.fieldData.views).toBe([0, 3, 6][i]);
    }
  });

  it('fails only the intent whose value the site cannot take, before any request', async () => {
    const { em, backend } = await setup();
    const id = em.seedItem({ collection: 'posts', fieldData: { name: 'P', slug: 'p' }, live: false });
    await backend.open();
    em.clearLog();
    const receipts = await backend.writeAll(
      [
        {
          kind: 'update',
          ...item('posts', 'p'),
          remoteId: id,
          path: 'collections/posts/p.md',
          locales: { en: { fields: { kind: 'Rumour' } } },
        },
        { kind: 'update', ...item('posts', 'p2'), remoteId: id, locales: { en: { fields: { views: 4 } } } },
      ],
      new Map(),
    );
    expect(receipts.map((r) => r.state)).toEqual(['failed', 'applied']);
    expect(receipts[0]!.error?.message).toContain(
      'collections/posts/p.md: "kind" is "Rumour", not one of its options (News, Guide)',
    );
    expect(em.requestLog().map((e) => e.method)).toEqual(['PATCH']);
  });

  it("writes a title as Webflow's name and clears the omitted fields of a replace", async () => {
    const { em, backend } = await setup();
    const id = em.seedItem({
      collection: 'authors',
      fieldData: { name: 'A', slug: 'a', bio: 'old' },
      live: false,
    });
    await backend.open();
    const [receipt] = await backend.writeAll(
      [
        {
          kind: 'replace',
          ...item('authors', 'a'),
          remoteId: id,
          locales: { en: { fields: {}, title: 'Ada' } },
        },
      ],
      new Map(),
    );
    expect(receipt!.state).toBe('applied');
    const got = await callWebflow(em, `/v2/collections/${em.collectionId('authors')}/items/${id}`);
    expect(got.json.fieldData).toEqual({ name: 'Ada', slug: 'a' });
  });

  it('reads single entities by slug and names references into a collection it did not read', async () => {
    const { em, backend } = await setup();
    const ada = em.seedItem({ collection: 'authors', fieldData: { name: 'Ada', slug: 'ada' } });
    em.seedItem({ collection: 'posts', fieldData: { name: 'P', slug: 'p', author: ada, tags: [ada] } });
    await backend.open();
    em.clearLog();
    const snapshot = await backend.read(
      { entities: [{ kind: 'item', collection: 'posts', key: 'p' }] },
      new Map(),
    );
    expect(snapshot.entities.get('item:posts:p')!.locales.en!.fields).toMatchObject({
      author: 'ada',
      tags: ['ada'],
    });
    expect(snapshot.ids.get('item:authors:ada')).toBe(ada);
    expect(calls(em)).toEqual([
      `GET /v2/collections/${em.collectionId('posts')}/items`,
      `GET /v2/collections/${em.collectionId('authors')}/items`,
    ]);
    expect(em.requestLog()[0]!.path).toContain('slug=p');
  });

  it('verifies and decodes a webhook into a pull of the item it names', async () => {
    const { em, backend } = await setup();
    const id = em.seedItem({ collection: 'authors', fieldData: { name: 'A', slug: 'a' } });
    await backend.read({ collections: ['authors'] }, new Map());
    const body = JSON.stringify({
      triggerType: 'collection_item_changed',
      payload: {
        id,
        collectionId: em.collectionId('authors'),
        cmsLocaleId: null,
        lastUpdated: '2026-12-02T10:00:00.000Z',
      },
    });
    const ts = String(Date.now());
    const headers = {
      'x-webflow-timestamp': ts,
      'x-webflow-signature': signWebhook('hook-secret', ts, body),
    };
    expect(backend.webhook!.verify(headers, body).ok).toBe(true);
    expect(
      backend.webhook!.verify({ ...headers, 'x-webflow-signature': signWebhook('other', ts, body) }, body).ok,
    ).toBe(false);
    expect(backend.webhook!.parse(body)).toEqual({
      kind: 'pull',
      target: {
        change: 'changed',
        collection: 'authors',
        remoteId: id,
        entity: 'item:authors:a',
        locale: 'en',
        lastUpdated: '2026-12-02T10:00:00.000Z',
      },
    });
  });

  it('names the config entry when a configured field is not on the Webflow site', async () => {
    const em = await startTestWebflowEmulator();
    open.push(em);
    const config = configFor(em);
    config.collections.authors!.fields.twitter = { type: 'text' };
    const backend = makeWebflowBackend({ config, token: WEBFLOW_TOKEN, baseUrl: em.url });
    open.push(backend);
    const error = await backend.open().catch((e: unknown) => e);
    expect(isSyncError(error) && error.code).toBe('CONFIG_INVALID');
    expect(String((error as Error).message)).toContain(
      'sync.config.json: collections.authors.fields.twitter',
    );
  });
});
