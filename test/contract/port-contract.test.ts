/**
 * The port contract (review-architecture.md §1): what every CmsBackend must do, in file form, whatever its wire.
 * Each backend adds one `describePortContract` call with its own fixture (real HTTP to its emulator on
 * 127.0.0.1); the suite runs the read side and the write side against it. Read side: planned reads cost what
 * they say, scopes and entities come back in file form, `locate` finds an id. Write side: an intent written
 * through `CmsBackend.write` reads back in file form, a create is found by its key, and `estimate` equals the
 * write calls the server saw (plan = run). The shared part knows no backend's id form: seeds return `RemoteId`
 * text. The ButterCMS wire itself (paths, bodies, tokens) is pinned by butter-wire-conformance.test.ts.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createButterClient, makeButterBackend } from '../../src/cms/butter/index.js';
import type { CmsBackend, RemoteId, WriteIntent } from '../../src/cms/port.js';
import { makeIdLookup } from '../../src/cms/read-helpers.js';
import type { SyncConfig } from '../../src/config/schema.js';
import { type EntityKey, entityKey, type Manifest } from '../../src/core/types.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { emptyManifest } from '../../src/state/manifest-file.js';
import { readState } from '../../src/sync/context.js';
import {
  loadExampleConfig,
  startTestEmulator,
  TEST_READ_TOKEN,
  TEST_WRITE_TOKEN,
} from '../helpers/emulator.js';
import { writesIn } from '../helpers/sync-fixture.js';

const SECRET = 'port-contract-secret-0123456789';
const HEADER = 'X-Butter-Sync-Secret';

/**
 * What a backend's suite supplies. The content model is the example config's (page type `faq`, collections
 * `tags` and `team_members`, locales en + es); ids are the port's opaque text.
 */
interface PortFixture {
  config: SyncConfig;
  /** A backend over a fresh connection; `webhookSecret` turns its receiver on. */
  makeBackend(options?: { webhookSecret?: string }): CmsBackend;
  /** Make an item the way an editor would (not through the backend); returns its remote id. */
  seedItem(collection: string, fields: Record<string, unknown>): RemoteId;
  seedPage(pageType: string, slug: string, fields: Record<string, unknown>): void;
  /** A webhook delivery of this CMS for one item, with the headers its sender sets. */
  itemDelivery(collection: string, id: RemoteId): { headers: Record<string, string>; body: Buffer };
  /** Write requests (anything but GET/HEAD) the server has seen so far. */
  writeCalls(): number;
  /** Wait until every accepted write shows in reads (a CMS whose writes apply later). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** A manifest that knows these items by id, with a base in the default locale (as after a sync). */
function manifestKnowing(items: Array<{ key: EntityKey; id: RemoteId }>): Manifest {
  const manifest = emptyManifest('port');
  for (const { key, id } of items)
    manifest.entities[key] = { remoteId: id, locales: { en: { base: { x: 'y' } } } };
  return manifest;
}

/** The port contract for one backend: its read side, then its write side, over one fixture. */
function describePortContract(name: string, start: () => Promise<PortFixture>): void {
  let fixture: Promise<PortFixture> | undefined;
  const started = () => {
    fixture ??= start();
    return fixture;
  };
  let sidesLeft = 2;
  const closeWhenDone = async () => {
    sidesLeft -= 1;
    if (sidesLeft === 0 && fixture) await (await fixture).close();
  };

  describe(`CmsBackend contract (read side): ${name}`, { timeout: 30_000 }, () => {
    let fx: PortFixture;
    let backend: CmsBackend;
    const tagIds = new Map<string, RemoteId>();

    beforeAll(async () => {
      fx = await started();
      backend = fx.makeBackend();
      for (const slug of ['port-a', 'port-b', 'port-c'])
        tagIds.set(slug, fx.seedItem('tags', { slug, name: `Tag ${slug}`, color: '#123456' }));
      fx.seedItem('team_members', {
        slug: 'port-ana',
        name: 'Ana',
        role: 'Editor',
        photo: 'https://example.com/ana.jpg',
        years: 3,
        active: true,
        tags: [tagIds.get('port-b')],
      });
      fx.seedPage('faq', 'port-shipping', { headline: 'Shipping', body: '<p>Fast.</p>', questions: [] });
    });

    afterAll(async () => {
      await backend?.close(1_000);
      await closeWhenDone();
    });

    it('planReads names the cost of each read, and read makes exactly those calls', async () => {
      const keys = ['port-a', 'port-b'].map((slug) =>
        entityKey({ kind: 'item', collection: 'tags', key: slug }),
      );
      const state = readState(manifestKnowing(keys.map((key, i) => ({ key, id: [...tagIds.values()][i]! }))));
      const page = entityKey({ kind: 'page', pageType: 'faq', slug: 'port-shipping' });
      const targets = [
        ...keys.map((entity) => ({ entity, locales: ['en'] })),
        { entity: page, locales: ['en', 'es'] },
      ];
      const steps = backend.planReads(targets, state);
      const planned = steps.reduce((sum, step) => sum + step.calls, 0);
      expect(planned).toBeGreaterThan(0);
      const before = backend.stats().total;
      const read = await backend.read(steps, state);
      expect(read.calls).toBe(planned);
      expect(backend.stats().total - before).toBe(planned);
      // File form: the key field and fields as the files hold them; every target marked read in its locales.
      expect(read.remote.get(keys[0]!)?.locales.en?.fields).toMatchObject({
        slug: 'port-a',
        name: 'Tag port-a',
      });
      expect(read.remote.get(page)?.locales.en?.fields).toMatchObject({ headline: 'Shipping' });
      expect(read.read.get(page)).toEqual(new Set(['en', 'es']));
    });

    it('read finds an entity the manifest has no id for, and reports an absent one as read, not found', async () => {
      const state = readState(emptyManifest('port'));
      const known = entityKey({ kind: 'item', collection: 'tags', key: 'port-c' });
      const absent = entityKey({ kind: 'item', collection: 'tags', key: 'port-never-made' });
      const read = await backend.read(
        backend.planReads(
          [
            { entity: known, locales: ['en'] },
            { entity: absent, locales: ['en'] },
          ],
          state,
        ),
        state,
      );
      expect(read.remote.get(known)?.remoteId).toBe(tagIds.get('port-c'));
      expect(read.remote.has(absent)).toBe(false);
      expect(read.read.get(absent)).toEqual(new Set(['en']));
    });

    it('readScope reads every configured list in file form: references as keys, hosted media as hosted', async () => {
      const before = backend.stats().total;
      const snapshot = await backend.readScope(
        { pageTypes: [], singlePages: [] },
        readState(emptyManifest('port')),
      );
      expect(snapshot.calls).toBe(backend.stats().total - before);
      const ana = snapshot.remote.get(
        entityKey({ kind: 'item', collection: 'team_members', key: 'port-ana' }),
      );
      expect(ana?.locales.en?.fields.tags).toEqual(['port-b']);
      const photo = ana?.locales.en?.fields.photo;
      expect(typeof photo).toBe('string');
      // The CMS keeps its own copy of the media written; the source URL is not one of its copies.
      expect(backend.media.isHosted(photo as string)).toBe(photo !== 'https://example.com/ana.jpg');
      expect(backend.media.isHosted('https://example.com/ana.jpg')).toBe(false);
      expect(snapshot.itemKeys.get('tags')?.get(tagIds.get('port-a')!)).toBe('port-a');
    });

    it('locate finds the id of an item made outside the manifest, and nothing for one that does not exist', async () => {
      const state = readState(emptyManifest('port'));
      const id = fx.seedItem('tags', { slug: 'port-late', name: 'Late', color: '#000000' });
      expect(await backend.locate({ kind: 'item', collection: 'tags', key: 'port-late' }, state)).toBe(id);
      expect(
        await backend.locate({ kind: 'item', collection: 'tags', key: 'port-nowhere' }, state),
      ).toBeUndefined();
      // An id the manifest knows costs no call.
      const known = readState(manifestKnowing([{ key: 'item:tags:port-late', id }]));
      const before = backend.stats().total;
      expect(await backend.locate({ kind: 'item', collection: 'tags', key: 'port-late' }, known)).toBe(id);
      expect(backend.stats().total).toBe(before);
    });

    it('webhook: off without a secret; with one, admits only its sender and decodes a delivery into a pull', async () => {
      expect(backend.webhook).toBeUndefined();
      const receiving = fx.makeBackend({ webhookSecret: SECRET });
      try {
        const decoder = receiving.webhook;
        expect(decoder).toBeDefined();
        const id = tagIds.get('port-a')!;
        const delivery = fx.itemDelivery('tags', id);
        expect(decoder!.admits(delivery.headers)).toBe(true);
        expect(decoder!.admits({})).toBe(false);
        expect(decoder!.verify(delivery.headers, delivery.body)).toBe(true);
        expect(decoder!.decode(delivery.body)).toMatchObject({
          kind: 'pull',
          target: { kind: 'item', collection: 'tags', id },
        });
        expect(decoder!.decode(Buffer.from('not json'))).toMatchObject({ kind: 'invalid' });
      } finally {
        await receiving.close(1_000);
      }
    });
  });

  describe(`CmsBackend contract (write side): ${name}`, { timeout: 30_000 }, () => {
    let fx: PortFixture;
    let backend: CmsBackend;
    const manifest = emptyManifest('port-write');

    beforeAll(async () => {
      fx = await started();
      backend = fx.makeBackend();
    });
    afterAll(async () => {
      await backend?.close(1_000);
      await closeWhenDone();
    });

    /** Sends the intent; the writes the server saw equal its estimate. */
    async function writeCounted(intent: WriteIntent): Promise<void> {
      const before = fx.writeCalls();
      await backend.write(intent, makeIdLookup(manifest));
      await fx.settle();
      expect(fx.writeCalls() - before).toBe(backend.estimate(intent));
    }

    async function readBack(entity: string, locales: string[]) {
      const state = readState(manifest);
      const read = await backend.read(backend.planReads([{ entity, locales }], state), state);
      return read.remote.get(entity);
    }

    const faqFields = (headline: string) => ({
      headline,
      body: 'Body',
      hero_image: '',
      questions: [],
      related: '',
    });

    it('a page created in two locales reads back in file form, title and status included', async () => {
      const entity = 'page:faq:port-contract';
      const ref = { kind: 'page' as const, pageType: 'faq', slug: 'port-contract' };
      await writeCounted({
        kind: 'create',
        entity,
        ref,
        locales: {
          en: { fields: faqFields('Port'), status: 'published', title: 'Port' },
          es: { fields: faqFields('Puerto'), status: 'published', title: 'Port' },
        },
      });
      const remote = await readBack(entity, ['en', 'es']);
      expect(remote?.locales.en?.fields.headline).toBe('Port');
      expect(remote?.locales.es?.fields.headline).toBe('Puerto');
      expect(remote?.locales.en?.meta).toMatchObject({ title: 'Port', status: 'published' });

      // Locales with different statuses take one request each; estimate says so and the server sees it.
      const update: WriteIntent = {
        kind: 'update',
        entity,
        ref,
        locales: {
          en: { fields: { headline: 'Port!' }, status: 'published' },
          es: { fields: { headline: 'Puerto!' }, status: 'draft' },
        },
      };
      expect(backend.estimate(update)).toBe(2);
      await writeCounted(update);
      const updated = await readBack(entity, ['en', 'es']);
      expect(updated?.locales.en?.fields.headline).toBe('Port!');
      expect(updated?.locales.es?.fields.headline).toBe('Puerto!');
      expect(updated?.locales.es?.meta.status).toBe('draft');
    });

    it('an item create is found by its key, then updated, replaced and deleted under the id found', async () => {
      const entity = 'item:tags:port-contract';
      const ref = { kind: 'item' as const, collection: 'tags', key: 'port-contract' };
      const fields = { slug: 'port-contract', name: 'Port', color: '#112233' };
      await writeCounted({ kind: 'create', entity, ref, locales: { en: { fields, status: 'published' } } });
      const created = await readBack(entity, ['en']);
      // Ids are opaque text at the port (the Butter backend turns meta.id into text).
      expect(created?.remoteId).toEqual(expect.any(String));
      expect(created?.locales.en?.fields).toMatchObject(fields);
      // locate: the create is found by its key while the manifest has no id for it yet.
      expect(await backend.locate(ref, readState(manifest))).toBe(created?.remoteId);
      manifest.entities[entity] = { remoteId: created?.remoteId, locales: { en: { base: {} } } };

      await writeCounted({ kind: 'update', entity, ref, locales: { en: { fields: { name: 'Port 2' } } } });
      expect((await readBack(entity, ['en']))?.locales.en?.fields).toMatchObject({
        ...fields,
        name: 'Port 2',
      });

      // A replace clears what it omits, where the backend says so (rules.replaceClearsOmitted); the planner
      // plans one nowhere else.
      if (backend.rules.replaceClearsOmitted) {
        await writeCounted({
          kind: 'replace',
          entity,
          ref,
          locales: { en: { fields: { slug: 'port-contract', name: 'Port 3' } } },
        });
        expect((await readBack(entity, ['en']))?.locales.en?.fields).toMatchObject({
          name: 'Port 3',
          color: '',
        });
      }

      await writeCounted({ kind: 'delete', entity, ref, locales: {} });
      expect(await readBack(entity, ['en'])).toBeUndefined();
      // Deleting what is already gone is what a delete wanted.
      expect(
        await backend.write({ kind: 'delete', entity, ref, locales: {} }, makeIdLookup(manifest)),
      ).toEqual({
        state: 'gone',
      });
    });
  });
}

describePortContract('ButterCMS on the emulator', async () => {
  const config = await loadExampleConfig();
  const emulator: EmulatorHandle = await startTestEmulator({ config });
  const backends: CmsBackend[] = [];
  return {
    config,
    makeBackend(options = {}) {
      const client = createButterClient({
        baseUrl: emulator.url,
        readToken: TEST_READ_TOKEN,
        writeToken: TEST_WRITE_TOKEN,
        requestsPerSecond: 200,
        concurrency: 8,
        timeoutMs: 10_000,
        maxRetries: 1,
      });
      const backend = makeButterBackend(client, config, {
        webhook: options.webhookSecret ? { header: HEADER, secret: options.webhookSecret } : undefined,
      });
      backends.push(backend);
      return backend;
    },
    seedItem: (collection, fields) => String(emulator.seedItem({ collection, fields })),
    seedPage: (pageType, slug, fields) => emulator.seedPage({ pageType, slug, title: slug, fields }),
    itemDelivery(collection, id) {
      // butter-api.md §4: the item is named only inside `itemid`; the secret travels in the custom header.
      const body = {
        data: { id: collection, itemid: `/v2/content/?keys=${collection}[_id=${Number(id)}]`, locale: null },
        webhook: { event: 'collectionitem.update', target: 'http://127.0.0.1/webhooks/butter' },
      };
      return { headers: { [HEADER.toLowerCase()]: SECRET }, body: Buffer.from(JSON.stringify(body)) };
    },
    writeCalls: () => writesIn(emulator).length,
    settle: () => emulator.settle(),
    async close() {
      await emulator.close();
    },
  };
});
