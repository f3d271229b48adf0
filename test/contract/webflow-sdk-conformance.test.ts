import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebflowClient, WebflowError } from 'webflow-api';
import { verifyWebflowSignature } from '../../src/cms/webflow/webhook-signature.js';
import type { WebflowEmulatorHandle } from '../../src/emulator/webflow/index.js';
import { startTestWebflowEmulator, WEBFLOW_TOKEN } from '../helpers/webflow-emulator.js';

// The official SDK, unmodified, pointed at the emulator through `baseUrl` (webflow-api.md §10, "Emulator must" 16):
// every call the daemon will make goes through it and gets the shapes §2 documents.

let em: WebflowEmulatorHandle;
let client: WebflowClient;
let posts: string;

beforeAll(async () => {
  em = await startTestWebflowEmulator();
  posts = em.collectionId('posts');
  // maxRetries 0: §5, the SDK would retry a POST create and a retried create duplicates the item.
  client = new WebflowClient({ accessToken: WEBFLOW_TOKEN, baseUrl: em.url, maxRetries: 0 });
});
afterAll(async () => {
  await em.close();
});
afterEach(() => {
  em.reset();
});

const HEX24 = /^[0-9a-f]{24}$/;
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('webflow-api SDK against the emulator', () => {
  it('reads the site, the collections and a collection schema', async () => {
    const site = await client.sites.get(em.siteId);
    expect(site.id).toBe(em.siteId);
    expect(site.locales?.primary?.tag).toBe('en');
    const list = await client.collections.list(em.siteId);
    expect(list.collections?.map((c) => c.slug)).toEqual(['authors', 'posts']);
    const col = await client.collections.get(posts);
    expect(col.id).toBe(posts);
    const fields = Object.fromEntries((col.fields ?? []).map((f) => [f.slug, f]));
    expect(fields.name?.isRequired).toBe(true);
    expect(fields.body?.type).toBe('RichText');
    expect(fields.body?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(fields.author?.validations).toEqual({ collectionId: em.collectionId('authors') });
  });

  it('creates (single and bulk), lists, patches (single and bulk), publishes and deletes items', async () => {
    const items = client.collections.items;
    const one = await items.createItem(posts, {
      isDraft: false,
      fieldData: { name: 'First Post', slug: 'first' },
    });
    expect(one.id).toMatch(HEX24);
    // The wire says `lastPublished: null` (§2.5); the SDK's parser turns a null optional into undefined.
    expect(one.lastPublished ?? null).toBeNull();
    expect(one.createdOn).toMatch(ISO_MS);
    expect(one.fieldData).toEqual({ name: 'First Post', slug: 'first' });

    const bulk = (await items.createItems(posts, {
      isDraft: true,
      fieldData: [
        { name: 'Second', slug: 'second' },
        { name: 'Third', slug: 'first' },
      ],
    })) as unknown as { items: Array<{ id: string; fieldData: { slug: string } }> };
    expect(bulk.items).toHaveLength(2);
    // A taken slug is suffixed, not refused (§2.5): the daemon must write the server's slug back.
    expect(bulk.items[1]!.fieldData.slug).toMatch(/^first-[0-9a-f]{5}$/);

    const listed = await items.listItems(posts, { limit: 2, offset: 0 });
    expect(listed.pagination).toEqual({ limit: 2, offset: 0, total: 3 });
    expect(listed.items?.map((i) => i.fieldData?.name)).toEqual(['First Post', 'Second']);
    const bySlug = await items.listItems(posts, { slug: 'second' });
    expect(bySlug.items?.map((i) => i.id)).toEqual([bulk.items[0]!.id]);

    const patched = await items.updateItem(posts, one.id!, { fieldData: { body: '<p>Hello</p>' } } as never);
    expect(patched.fieldData).toEqual({ name: 'First Post', slug: 'first', body: '<p>Hello</p>' });

    const patchedMany = (await items.updateItems(posts, {
      items: bulk.items.map((i) => ({ id: i.id, fieldData: { views: 10 } })),
    } as never)) as unknown as { items: Array<{ fieldData: { views: number } }> };
    expect(patchedMany.items.map((i) => i.fieldData.views)).toEqual([10, 10]);

    const missing = '0123456789abcdef01234567';
    const published = await items.publishItem(posts, { itemIds: [one.id!, bulk.items[0]!.id, missing] });
    expect(published).toEqual({
      publishedItemIds: [one.id, bulk.items[0]!.id],
      errors: [`Staging item ID ${missing} not found.`],
    });
    // §2.4: the SDK sends object filters with brackets (lastPublished[gte]=…); only published items match.
    const since = await items.listItems(posts, { lastPublished: { gte: new Date(Date.now() - 60_000) } });
    expect(since.items?.map((i) => i.id)).toEqual([one.id, bulk.items[0]!.id]);
    expect(em.requestLog().at(-1)?.path).toMatch(/lastPublished%5Bgte%5D=|lastPublished\[gte\]=/);
    const live = await items.listItemsLive(posts);
    expect(live.items?.map((i) => i.id)).toEqual([one.id, bulk.items[0]!.id]);
    const liveOne = await items.getItemLive(posts, one.id!);
    expect(liveOne.isDraft).toBe(false);
    expect(liveOne.lastPublished).toMatch(ISO_MS);

    const liveBulk = (await items.updateItemsLive(posts, {
      items: [{ id: one.id!, fieldData: { views: 1 } }],
    } as never)) as unknown as { items: Array<{ id: string; fieldData: { views: number } }> };
    expect(liveBulk.items[0]!.fieldData.views).toBe(1);

    await items.deleteItemLive(posts, one.id!);
    await expect(items.getItemLive(posts, one.id!)).rejects.toMatchObject({ statusCode: 404 });
    await items.deleteItem(posts, one.id!);
    await items.deleteItems(posts, { items: bulk.items.map((i) => ({ id: i.id })) });
    expect((await items.listItems(posts)).pagination?.total).toBe(0);
  });

  it('sees the error statuses the contract documents: 409 on a live PATCH of a draft, 400, 404, 429', async () => {
    const items = client.collections.items;
    const draft = await items.createItem(posts, { fieldData: { name: 'Draft', slug: 'draft' } });
    const conflict = await items
      .updateItemLive(posts, draft.id!, { fieldData: { views: 1 } } as never)
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(WebflowError);
    expect((conflict as WebflowError).statusCode).toBe(409);
    expect((conflict as WebflowError).body).toMatchObject({ code: 'conflict' });
    const invalid = await items
      .createItem(posts, { fieldData: { name: 'X', slug: 'x', nope: 1 } as never })
      .catch((e: unknown) => e);
    expect((invalid as WebflowError).statusCode).toBe(400);
    expect((invalid as WebflowError).body).toMatchObject({
      code: 'validation_error',
      details: [{ param: 'nope', description: 'Field not described in schema: undefined' }],
    });
    expect(
      await items
        .getItem(posts, '0123456789abcdef01234567')
        .catch((e: unknown) => (e as WebflowError).statusCode),
    ).toBe(404);
    em.setFaults({ burst429: 1, retryAfterSeconds: 3 });
    const limited = await items
      .listItems(posts)
      .withRawResponse()
      .catch((e: unknown) => e);
    expect((limited as WebflowError).statusCode).toBe(429);
    // Headers only through withRawResponse (§10): the budget is on every answer.
    const raw = await items.listItems(posts).withRawResponse();
    expect(raw.rawResponse.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(Number(raw.rawResponse.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
  });

  it("sends what the SDK sends: Bearer auth, JSON bodies and no trailing slash, under the emulator's /v2", async () => {
    await client.collections.items.createItem(posts, { fieldData: { name: 'Logged', slug: 'logged' } });
    const [entry] = em.requestLog();
    expect(entry).toMatchObject({
      method: 'POST',
      path: `/v2/collections/${posts}/items`,
      status: 202,
      auth: 'test',
    });
    expect(JSON.parse(entry!.body!)).toEqual({ fieldData: { name: 'Logged', slug: 'logged' } });
  });

  it("verifies the emulator's webhook signatures with the SDK's verifySignature", async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
      const hook = await client.webhooks.create(em.siteId, { triggerType: 'collection_item_changed', url });
      const secret = (hook as { secretKey?: string }).secretKey;
      expect(secret).toBeTruthy();
      const id = em.seedItem({ collection: 'posts', fieldData: { name: 'Hooked', slug: 'hooked' } });
      em.editItem('posts', id, { body: '<p>changed</p>' });
      await em.settle();
      expect(received).toHaveLength(1);
      const { headers, body } = received[0]!;
      const flat = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));
      expect(await client.webhooks.verifySignature({ headers: flat, body, secret: secret! })).toBe(true);
      expect(
        await client.webhooks.verifySignature({ headers: flat, body: `${body} `, secret: secret! }),
      ).toBe(false);
      expect(JSON.parse(body)).toMatchObject({ triggerType: 'collection_item_changed', payload: { id } });
      // The daemon's own check (constant time, 5-minute window) agrees with the SDK's.
      expect(verifyWebflowSignature({ headers, rawBody: body, secret: secret! }).ok).toBe(true);
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});
