/**
 * The port contract (issue 10), run for the ButterCMS backend against the emulator over HTTP on 127.0.0.1: an
 * intent written through `CmsBackend.write` reads back in file form, a create is found by its key, and
 * `estimate` equals the write calls the server saw (plan = run). The read half still uses today's read
 * functions (sync/remote-read.ts) until the read side of the port lands.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createButterBackend, createButterClient } from '../../src/cms/butter/index.js';
import type { CmsClient } from '../../src/cms/butter/wire-types.js';
import type { CmsBackend, WriteIntent } from '../../src/cms/port.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { planReads, runReads } from '../../src/sync/remote-read.js';
import { makeIdLookup } from '../../src/sync/remote-snapshot.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { writesIn } from '../helpers/sync-fixture.js';
import { config, emptyManifest } from '../unit/core-fixtures.js';

describe('CMS port contract: ButterCMS backend (emulator)', () => {
  let emulator: EmulatorHandle;
  let client: CmsClient;
  let backend: CmsBackend;
  const manifest = emptyManifest();

  beforeAll(async () => {
    emulator = await startTestEmulator({ config });
    client = createButterClient({
      baseUrl: emulator.url,
      readToken: TEST_READ_TOKEN,
      writeToken: TEST_WRITE_TOKEN,
      requestsPerSecond: config.rate.requestsPerSecond,
      concurrency: config.rate.concurrency,
      timeoutMs: config.rate.timeoutMs,
      maxRetries: config.rate.maxRetries,
      retryBaseMs: 20,
    });
    backend = createButterBackend(client, config);
  });
  afterAll(async () => {
    await client.close(1_000);
    await emulator.close();
  });

  /** Sends the intent; the writes the server saw equal its estimate. */
  async function writeCounted(intent: WriteIntent): Promise<void> {
    emulator.clearLog();
    await backend.write(intent, makeIdLookup(manifest));
    await emulator.settle();
    expect(writesIn(emulator)).toHaveLength(backend.estimate(intent));
  }

  async function readBack(entity: string, locales: string[]) {
    const read = await runReads(client, config, manifest, planReads([{ entity, locales }], manifest));
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
    expect(created?.remoteId).toEqual(expect.any(Number));
    expect(created?.locales.en?.fields).toMatchObject(fields);
    manifest.entities[entity] = { remoteId: created?.remoteId, locales: { en: { base: {} } } };

    await writeCounted({ kind: 'update', entity, ref, locales: { en: { fields: { name: 'Port 2' } } } });
    expect((await readBack(entity, ['en']))?.locales.en?.fields).toMatchObject({ ...fields, name: 'Port 2' });

    // A replace clears what it omits (rules.replaceClearsOmitted).
    expect(backend.rules.replaceClearsOmitted).toBe(true);
    await writeCounted({
      kind: 'replace',
      entity,
      ref,
      locales: { en: { fields: { slug: 'port-contract', name: 'Port 3' } } },
    });
    expect((await readBack(entity, ['en']))?.locales.en?.fields).toMatchObject({ name: 'Port 3', color: '' });

    await writeCounted({ kind: 'delete', entity, ref, locales: {} });
    expect(await readBack(entity, ['en'])).toBeUndefined();
    // Deleting what is already gone is what a delete wanted.
    expect(await backend.write({ kind: 'delete', entity, ref, locales: {} }, makeIdLookup(manifest))).toEqual(
      {
        state: 'gone',
      },
    );
  });
});
