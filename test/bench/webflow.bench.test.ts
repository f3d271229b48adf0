/**
 * Webflow backend benchmark (issue 12 "Proof"; not part of `npm test`):
 * 1. 500 one-field edits across 2 collections of live items: at most 6 bulk PATCHes plus the publishes, and
 *    `estimate` equal to the requests made (the ButterCMS path needs 500 writes).
 * 2. Pacing at 60 requests per minute: a first push of 240 new items (a slug lookup each, then bulk creates and
 *    publishes) keeps every full minute at 95-100% of the budget and no sliding minute over it. The minute is
 *    scaled 5× (the emulator's clock and the pipeline's window together, as test/integration/webflow-pipeline
 *    does at 10×), so it runs in ~50 s instead of 4 minutes.
 * Run: npx vitest run --config test/bench.config.ts test/bench/webflow.bench.test.ts
 */

import { expect, it } from 'vitest';
import { makeWebflowBackend, type WriteIntent } from '../../src/cms/webflow/backend.js';
import type { WebflowEmulatorHandle } from '../../src/emulator/webflow/index.js';
import { maxInWindow } from '../helpers/rate-window.js';
import { validConfig } from '../helpers/valid-config.js';
import { startTestWebflowEmulator, WEBFLOW_TOKEN } from '../helpers/webflow-emulator.js';
import { measure, writeResult } from './bench-results.js';

const COLLECTIONS = ['authors', 'posts'] as const;

function configFor(em: WebflowEmulatorHandle) {
  return validConfig({
    cms: { kind: 'webflow', siteId: em.siteId },
    locales: { default: 'en', all: ['en'] },
    collections: {
      authors: { keyField: 'slug', fields: { name: 'text', slug: 'text', bio: 'text' } },
      posts: { keyField: 'slug', fields: { name: 'text', slug: 'text', views: 'number' } },
    },
  });
}

/** A clock running `speed` times faster than the wall clock. */
function fastClock(speed: number): () => number {
  const t0 = Date.now();
  return () => t0 + (Date.now() - t0) * speed;
}

async function bulkEdits() {
  const em = await startTestWebflowEmulator();
  const backend = makeWebflowBackend({
    config: configFor(em),
    token: WEBFLOW_TOKEN,
    baseUrl: em.url,
    pipeline: { requestsPerMinute: 1000 },
  });
  try {
    const ids = new Map<string, string>();
    for (const collection of COLLECTIONS) {
      for (let i = 0; i < 250; i++) {
        const slug = `${collection}-${i}`;
        ids.set(
          `item:${collection}:${slug}`,
          em.seedItem({ collection, fieldData: { name: `N ${i}`, slug } }),
        );
      }
    }
    await backend.read({ collections: [...COLLECTIONS] }, ids);
    em.clearLog();
    const intents: WriteIntent[] = [...ids].map(([entity, remoteId], i) => {
      const [, collection, key] = entity.split(':') as [string, string, string];
      const fields = collection === 'posts' ? { views: i } : { bio: `bio ${i}` };
      return {
        kind: 'update',
        entity,
        ref: { kind: 'item', collection, key },
        remoteId,
        locales: { en: { fields } },
      };
    });
    const estimated = backend.estimate(intents, ids);
    const run = await measure(() => backend.writeAll(intents, ids));
    const log = em.requestLog();
    const patches = log.filter((e) => e.method === 'PATCH');
    const publishes = log.filter((e) => e.method === 'POST' && e.path.includes('/items/publish'));
    return {
      edits: intents.length,
      collections: COLLECTIONS.length,
      applied: run.result.filter((r) => r.state === 'applied').length,
      live: run.result.filter((r) => r.live).length,
      patchRequests: patches.length,
      publishRequests: publishes.length,
      requests: log.length,
      estimated,
      ms: run.ms,
      butterWritesForSameEdits: intents.length,
    };
  } finally {
    await backend.close();
    await em.close();
  }
}

async function pacing() {
  const speed = 5;
  const em = await startTestWebflowEmulator({ rateLimitPerMinute: 60, now: fastClock(speed) });
  const backend = makeWebflowBackend({
    config: configFor(em),
    token: WEBFLOW_TOKEN,
    baseUrl: em.url,
    // 20 ms of a 1.2 s slice is the default 100 ms of a real 6 s slice. The scaled minute also scales each
    // request's latency 5× (on a loaded 2-core machine one can take 300 ms, i.e. 1.5 s of Webflow time), so 8
    // requests in flight instead of the default 4 keep the same headroom the default has against real latency.
    // The gate alone bounds the rate, whatever the concurrency.
    pipeline: { requestsPerMinute: 60, windowMs: 60_000 / speed, sliceMarginMs: 20, concurrency: 8 },
  });
  try {
    const intents: WriteIntent[] = [];
    for (const collection of COLLECTIONS) {
      for (let i = 0; i < 120; i++) {
        const key = `${collection}-${i}`;
        intents.push({
          kind: 'create',
          entity: `item:${collection}:${key}`,
          ref: { kind: 'item', collection, key },
          locales: { en: { fields: { name: `N ${i}` }, status: 'published' } },
        });
      }
    }
    const estimated = backend.estimate(intents, new Map());
    const run = await measure(() => backend.writeAll(intents, new Map()));
    // Every request counts against the budget, the schema load (site, collections, 2 collections) too; the
    // estimate was asked before it, so it includes those 4.
    const log = em.requestLog();
    if (process.env.WEBFLOW_BENCH_DEBUG) {
      const t0 = Math.min(...log.map((e) => e.at));
      const slices: number[] = [];
      for (const e of log)
        slices[Math.floor((e.at - t0) / 6000)] = (slices[Math.floor((e.at - t0) / 6000)] ?? 0) + 1;
      console.log('per 6 s slice', slices.join(' '));
    }
    const at = log.map((e) => e.at).sort((a, b) => a - b);
    const fullMinutes = Math.floor((at.at(-1)! - at[0]!) / 60_000);
    const perMinute = Array.from(
      { length: fullMinutes },
      (_, k) => at.filter((t) => t >= at[0]! + k * 60_000 && t < at[0]! + (k + 1) * 60_000).length,
    );
    return {
      scaledBy: speed,
      budgetPerMinute: 60,
      creates: intents.length,
      applied: run.result.filter((r) => r.state === 'applied').length,
      requests: log.length,
      estimated,
      status429: log.filter((e) => e.status === 429).length,
      perFullMinute: perMinute,
      sharePerFullMinute: perMinute.map((n) => Math.round((n / 60) * 1000) / 10),
      busiestSlidingMinute: maxInWindow(at, 60_000),
      wallMs: run.ms,
    };
  } finally {
    await backend.close();
    await em.close();
  }
}

it('500 one-field edits across 2 collections: ≤ 6 PATCHes plus publishes; 60 req/min held at 95-100%', async () => {
  const edits = await bulkEdits();
  const pace = await pacing();
  await writeResult('webflow', { edits, pacing: pace });
  expect(edits.applied).toBe(500);
  expect(edits.patchRequests).toBeLessThanOrEqual(6);
  expect(edits.publishRequests).toBe(6);
  expect(edits.estimated).toBe(edits.requests);
  expect(pace.applied).toBe(240);
  expect(pace.status429).toBe(0);
  expect(pace.estimated).toBe(pace.requests);
  expect(pace.busiestSlidingMinute).toBeLessThanOrEqual(60);
  expect(pace.perFullMinute.length).toBeGreaterThanOrEqual(3);
  for (const n of pace.perFullMinute) {
    expect(n).toBeGreaterThanOrEqual(57);
    expect(n).toBeLessThanOrEqual(60);
  }
});
