/**
 * ButterCMS wire conformance: the Butter client's REST surface (`CmsClient`: paths, bodies, tokens, status codes)
 * as butter-api.md describes it. The backend-neutral port contract is port-contract.test.ts.
 * One suite for CmsClient (Litestream's RunWithReplicaClient idea): the same tests run against the
 * emulator over HTTP on 127.0.0.1, and against a real ButterCMS account when BUTTER_CONTRACT_REAL=1 and
 * BUTTER_READ_TOKEN / BUTTER_WRITE_TOKEN (optionally BUTTER_API_URL) are set. The real account must hold the
 * content model of sync.config.json (page types faq + article, collection tags, locales en + es). Pages it
 * creates cannot be deleted through the API (butter-api.md §0.1) and are left behind under `contract-<run>-*`
 * slugs; items are deleted. Tests that need bulk seeding or an observable apply delay run on the emulator only.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ButterClientOptions, createButterClient } from '../../src/cms/butter/index.js';
import type { CmsClient, RemoteItem } from '../../src/cms/butter/wire-types.js';
import { SyncError } from '../../src/core/errors.js';
import type { RequestLogEntry, SeedItem, SeedPage } from '../../src/emulator/index.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';

interface ContractFixture {
  /** A client with both tokens. */
  client: CmsClient;
  /** Another client against the same backend, e.g. with a wrong token. */
  makeClient(overrides: Partial<ButterClientOptions>): CmsClient;
  /** Wait until accepted writes are applied (emulator) or likely applied (real). */
  settle(): Promise<void>;
  /** Re-run `check` until it passes (real accounts apply writes "within seconds", §6.2). */
  eventually<T>(check: () => Promise<T>): Promise<T>;
  /** What the server saw (emulator only). */
  requestLog?: () => RequestLogEntry[];
  seedPage?: (page: SeedPage) => void;
  seedItem?: (item: SeedItem) => number;
  close(): Promise<void>;
}

interface ContractBackend {
  enabled: boolean;
  /** Can seed hundreds of entities without API calls. */
  canSeed: boolean;
  /** Writes are applied after a delay the suite can observe before `settle()`. */
  delayedApply: boolean;
  start(): Promise<ContractFixture>;
}

const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;

function faqFields(headline: string): Record<string, unknown> {
  return { headline, body: '<p>Body</p>', hero_image: '', questions: [], related: '' };
}

async function caught(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function pathOf(entry: RequestLogEntry): string {
  return entry.path.split('?')[0] ?? '';
}

function describeCmsContract(name: string, backend: ContractBackend): void {
  // Real accounts apply writes "within seconds" (§6.2), so their tests may poll for a minute.
  const timeout = backend.delayedApply ? 30_000 : 180_000;
  describe.skipIf(!backend.enabled)(`CmsClient contract: ${name}`, { timeout }, () => {
    let fx: ContractFixture;
    const createdItems: Array<{ collection: string; id: number }> = [];

    beforeAll(async () => {
      fx = await backend.start();
    });

    afterAll(async () => {
      if (!fx) return;
      for (const { collection, id } of createdItems) {
        await fx.client.deleteItem(collection, id).catch(() => undefined);
      }
      await fx.close();
    });

    async function findItem(
      collection: string,
      slug: string,
      preview = true,
    ): Promise<RemoteItem | undefined> {
      const items = await fx.client.listItems(collection, { preview, filters: { slug } });
      return items[0];
    }

    it('creates a page (page_type in the body), pending until applied, then reads it back', async () => {
      const slug = `contract-${runId}-faq`;
      const accepted = await fx.client.createPage({
        title: 'Contract FAQ',
        slug,
        page_type: 'faq',
        status: 'published',
        fields: faqFields('Hello'),
      });
      expect(accepted.status).toBe('pending');
      if (backend.delayedApply) expect(await fx.client.getPage('faq', slug, { preview: true })).toBeNull();
      await fx.settle();
      const page = await fx.eventually(async () => {
        const found = await fx.client.getPage('faq', slug, { preview: true });
        expect(found).not.toBeNull();
        return found;
      });
      expect(page).toMatchObject({ slug, name: 'Contract FAQ', pageType: 'faq' });
      expect(page?.fields.headline).toBe('Hello');
      expect(await fx.client.getPage('faq', `contract-${runId}-missing`)).toBeNull();

      const log = fx.requestLog?.();
      if (log) {
        const post = log.find((e) => e.method === 'POST');
        expect(post?.path).toBe('/v2/pages/');
        expect(post?.status).toBe(202);
        const get = log.find((e) => e.method === 'GET' && pathOf(e) === `/v2/pages/faq/${slug}/`);
        expect(get?.path).toContain('preview=1');
        expect(get?.path).toContain('auth_token=***');
      }
    });

    it('updates one locale of a page with PATCH and ?locale=, leaving the other locale alone', async () => {
      const slug = `contract-${runId}-locales`;
      await fx.client.createPage({
        title: 'Locales',
        slug,
        page_type: 'faq',
        status: 'published',
        fields: { en: faqFields('Hello'), es: faqFields('Hola') },
      });
      await fx.settle();
      await fx.eventually(async () =>
        expect(await fx.client.getPage('faq', slug, { locale: 'es' })).not.toBeNull(),
      );
      const accepted = await fx.client.updatePage(
        'faq',
        slug,
        { status: 'published', fields: { headline: 'Hola de nuevo' } },
        { locale: 'es' },
      );
      expect(accepted.status).toBe('pending');
      await fx.settle();
      await fx.eventually(async () => {
        const es = await fx.client.getPage('faq', slug, { locale: 'es' });
        expect(es?.fields.headline).toBe('Hola de nuevo');
        expect(es?.status ?? 'published').toBe('published');
      });
      const en = await fx.client.getPage('faq', slug, { locale: 'en' });
      expect(en?.fields.headline).toBe('Hello');
      const patch = fx.requestLog?.().find((e) => e.method === 'PATCH');
      if (patch) expect(patch.path).toBe(`/v2/pages/faq/${slug}/?locale=es`);
    });

    it('creates an item (fields as an array), finds it by its key field, and reads it by id', async () => {
      const slug = `contract-${runId}-tag`;
      const accepted = await fx.client.createItem({
        key: 'tags',
        status: 'published',
        fields: [{ slug, name: 'Tag', color: '#ff0000' }],
      });
      expect(accepted).toEqual({ status: 'pending' });
      if (backend.delayedApply) expect(await findItem('tags', slug)).toBeUndefined();
      await fx.settle();
      const item = await fx.eventually(async () => {
        const found = await findItem('tags', slug);
        expect(found).toBeDefined();
        return found as RemoteItem;
      });
      createdItems.push({ collection: 'tags', id: item.id });
      expect(item.fields).toMatchObject({ slug, name: 'Tag', color: '#ff0000' });
      expect(item.fields).not.toHaveProperty('meta');
      const byId = await fx.client.getItem('tags', item.id, { preview: true });
      expect(byId).toEqual(item);
      expect(await fx.client.getItem('tags', 999_999_999)).toBeNull();
      const list = fx
        .requestLog?.()
        .find((e) => e.method === 'GET' && e.path.includes(`fields.slug=${slug}`));
      if (list)
        expect(list.path).toMatch(
          /^\/v2\/content\/tags\/\?preview=1&fields\.slug=[^&]+&page=1&page_size=100/,
        );
    });

    it('patches only the sent fields, replaces (PUT) clearing the rest, and deletes with 204', async () => {
      const slug = `contract-${runId}-edit`;
      await fx.client.createItem({
        key: 'tags',
        status: 'published',
        fields: [{ slug, name: 'A', color: '#00ff00' }],
      });
      await fx.settle();
      const created = await fx.eventually(async () => {
        const found = await findItem('tags', slug);
        expect(found).toBeDefined();
        return found as RemoteItem;
      });
      createdItems.push({ collection: 'tags', id: created.id });

      await fx.client.patchItem('tags', created.id, { fields: { name: 'B' } });
      await fx.settle();
      await fx.eventually(async () =>
        expect((await fx.client.getItem('tags', created.id))?.fields).toMatchObject({
          name: 'B',
          color: '#00ff00',
        }),
      );

      await fx.client.replaceItem('tags', created.id, { status: 'published', fields: { slug, name: 'C' } });
      await fx.settle();
      await fx.eventually(async () => {
        const replaced = await fx.client.getItem('tags', created.id);
        expect(replaced?.fields.name).toBe('C');
        expect(replaced?.fields.color ?? '').toBe('');
      });

      await expect(fx.client.deleteItem('tags', created.id)).resolves.toBeUndefined();
      await fx.settle();
      await fx.eventually(async () =>
        expect(await fx.client.getItem('tags', created.id, { preview: true })).toBeNull(),
      );
      const log = fx.requestLog?.();
      if (log) {
        const writes = log.filter((e) => e.method !== 'GET' && e.path.startsWith('/v2/content/tags/'));
        expect(writes.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
          `PATCH /v2/content/tags/${created.id}/ 202`,
          `PUT /v2/content/tags/${created.id}/ 202`,
          `DELETE /v2/content/tags/${created.id}/ 204`,
        ]);
      }
    });

    it('shows drafts only with preview=1', async () => {
      const slug = `contract-${runId}-draft`;
      await fx.client.createItem({
        key: 'tags',
        status: 'draft',
        fields: [{ slug, name: 'Draft', color: '' }],
      });
      await fx.settle();
      const draft = await fx.eventually(async () => {
        const found = await findItem('tags', slug, true);
        expect(found).toBeDefined();
        return found as RemoteItem;
      });
      createdItems.push({ collection: 'tags', id: draft.id });
      expect(await findItem('tags', slug, false)).toBeUndefined();
    });

    it.skipIf(!backend.canSeed)('follows pagination past 100 items at page_size=100', async () => {
      for (let i = 0; i < 230; i++) {
        fx.seedItem?.({ collection: 'tags', fields: { slug: `bulk-${i}`, name: `Bulk ${i}`, color: '' } });
      }
      const before = fx.requestLog?.().length ?? 0;
      const items = await fx.client.listItems('tags', { order: 'slug' });
      const bulk = items.filter((item) => String(item.fields.slug).startsWith('bulk-'));
      expect(bulk).toHaveLength(230);
      expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
      const calls = fx.requestLog?.().slice(before) ?? [];
      expect(calls.map((e) => e.path.replace(/&auth_token=\*\*\*$/, ''))).toEqual([
        '/v2/content/tags/?order=slug&page=1&page_size=100',
        '/v2/content/tags/?order=slug&page=2&page_size=100',
        '/v2/content/tags/?order=slug&page=3&page_size=100',
      ]);
    });

    it.skipIf(!backend.canSeed)('lists pages past 100, with filters and order passed through', async () => {
      for (let i = 0; i < 120; i++) {
        fx.seedPage?.({
          pageType: 'article',
          slug: `article-${String(i).padStart(3, '0')}`,
          title: `Article ${i}`,
          status: 'published',
          fields: {
            headline: i % 2 === 0 ? 'even' : 'odd',
            summary: `s${String(i).padStart(3, '0')}`,
            body: '',
            published_on: '',
            author: '',
          },
        });
      }
      const all = await fx.client.listPages('article');
      expect(all).toHaveLength(120);
      const even = await fx.client.listPages('article', { filters: { headline: 'even' }, order: '-summary' });
      expect(even).toHaveLength(60);
      expect(even[0]?.slug).toBe('article-118');
      expect(even.every((page) => page.pageType === 'article')).toBe(true);
      const error = await caught(fx.client.listPages('article', { filters: { no_such_field: 'x' } }));
      expect(error.code).toBe('CMS_BAD_REQUEST');
      expect(error.status).toBe(403);
    });

    it.skipIf(!backend.canSeed)(
      'reads single pages through "*", and calls an ambiguous "*" slug a bad request',
      async () => {
        fx.seedPage?.({
          pageType: '*',
          slug: 'homepage',
          title: 'Home',
          fields: { headline: 'Hi', tagline: '', hero_image: '' },
        });
        const home = await fx.client.getPage('*', 'homepage');
        expect(home).toMatchObject({ slug: 'homepage', name: 'Home', pageType: null });
        expect((await fx.client.listPages('*')).map((page) => page.slug)).toContain('homepage');
        fx.seedPage?.({ pageType: 'faq', slug: 'shared', title: 'Shared', fields: faqFields('a') });
        fx.seedPage?.({
          pageType: 'article',
          slug: 'shared',
          title: 'Shared',
          fields: { headline: 'b', summary: '', body: '', published_on: '', author: '' },
        });
        const error = await caught(fx.client.getPage('*', 'shared'));
        expect(error.code).toBe('CMS_BAD_REQUEST');
        expect(error.hint).toMatch(/several page types/);
      },
    );

    it('types errors: bad token, read token on a write, no write token, unknown collection or page', async () => {
      const badRead = fx.makeClient({ readToken: 'not-a-real-token' });
      const auth = await caught(badRead.listItems('tags'));
      expect(auth.code).toBe('CMS_AUTH');
      expect(auth.status).toBe(401);
      expect(auth.message).not.toContain('not-a-real-token');
      const readAsWrite = fx.makeClient({ writeToken: readTokenOf(name) });
      expect((await caught(readAsWrite.patchItem('tags', 1, { fields: { name: 'x' } }))).code).toBe(
        'CMS_AUTH',
      );
      const noWrite = fx.makeClient({ writeToken: undefined });
      expect((await caught(noWrite.createItem({ key: 'tags', status: 'draft', fields: [{}] }))).code).toBe(
        'MISSING_TOKEN',
      );
      expect((await caught(fx.client.listItems(`no_such_collection_${runId}`))).code).toBe('CMS_NOT_FOUND');
      const missing = await caught(
        fx.client.updatePage('faq', `contract-${runId}-nope`, { status: 'draft', fields: { headline: 'x' } }),
      );
      expect(missing.code).toBe('CMS_NOT_FOUND');
      expect(missing.message).toContain(`PATCH /v2/pages/faq/contract-${runId}-nope/`);
      await Promise.all([badRead.close(), readAsWrite.close(), noWrite.close()]);
    });

    it('sends every URL with its trailing slash, counts every call, and never puts the write token in a URL', async () => {
      const log = fx.requestLog?.();
      if (!log) return;
      expect(log.length).toBeGreaterThan(10);
      for (const entry of log) {
        expect(pathOf(entry).endsWith('/'), entry.path).toBe(true);
        expect(entry.status, entry.path).not.toBe(301);
        if (entry.method !== 'GET') expect(entry.path, entry.path).not.toContain('auth_token');
      }
      expect(log.map((e) => e.path).join('\n')).not.toContain(TEST_WRITE_TOKEN);
      // Only the wrong-token clients of the error test got 401s; every other call is this client's.
      const stats = fx.client.stats();
      expect(stats.total).toBe(log.filter((e) => e.status !== 401).length);
      expect(stats.byMethodStatus['POST 202']).toBeGreaterThanOrEqual(4);
      expect(fx.client.queueDepth()).toBe(0);
    });
  });
}

function readTokenOf(name: string): string {
  return name === 'emulator' ? TEST_READ_TOKEN : (process.env.BUTTER_READ_TOKEN ?? '');
}

describe('ButterCMS wire conformance', () => {
  describeCmsContract('emulator', {
    enabled: true,
    canSeed: true,
    delayedApply: true,
    async start() {
      const emulator = await startTestEmulator({ applyDelayMs: 100 });
      const options: ButterClientOptions = {
        baseUrl: emulator.url,
        readToken: TEST_READ_TOKEN,
        writeToken: TEST_WRITE_TOKEN,
        requestsPerSecond: 500,
        concurrency: 4,
        timeoutMs: 5_000,
        maxRetries: 1,
        retryBaseMs: 1,
      };
      const client = createButterClient(options);
      return {
        client,
        makeClient: (overrides) => createButterClient({ ...options, ...overrides }),
        settle: () => emulator.settle(),
        eventually: (check) => check(),
        requestLog: () => emulator.requestLog(),
        seedPage: (page) => emulator.seedPage(page),
        seedItem: (item) => emulator.seedItem(item),
        async close() {
          await client.close();
          await emulator.close();
        },
      };
    },
  });

  const real = process.env.BUTTER_CONTRACT_REAL === '1';
  describeCmsContract('ButterCMS', {
    enabled: real && Boolean(process.env.BUTTER_READ_TOKEN) && Boolean(process.env.BUTTER_WRITE_TOKEN),
    canSeed: false,
    delayedApply: false,
    async start() {
      const options: ButterClientOptions = {
        baseUrl: process.env.BUTTER_API_URL ?? 'https://api.buttercms.com/v2',
        readToken: process.env.BUTTER_READ_TOKEN ?? '',
        writeToken: process.env.BUTTER_WRITE_TOKEN,
        requestsPerSecond: 3,
        concurrency: 2,
        timeoutMs: 20_000,
        maxRetries: 3,
      };
      const client = createButterClient(options);
      return {
        client,
        makeClient: (overrides) => createButterClient({ ...options, ...overrides }),
        settle: () => sleep(1_000),
        async eventually(check) {
          const deadline = Date.now() + 60_000;
          for (;;) {
            try {
              return await check();
            } catch (error) {
              if (Date.now() > deadline) throw error;
              await sleep(2_000);
            }
          }
        },
        close: () => client.close(),
      };
    },
  });
});
