/**
 * Pull benchmark (not part of `npm test`): 5,000 items across 2 collections, each in 2 locales (10,000 files),
 * pulled from the emulator into an empty repo, then pulled again with nothing changed, then with 10 remote edits.
 * Goal: ⌈items/100⌉ list calls per collection per locale, and zero file writes when nothing changed.
 * Prints the numbers and writes them to test/bench/results/pull.json.
 * Run: npm run build && npx vitest run --config test/bench.config.ts test/bench/pull.bench.test.ts
 */

import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Fixture, makeFixture } from '../helpers/sync-fixture.js';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 5_000);
const COLLECTIONS = ['articles_index', 'products'] as const;
const LOCALES = ['en', 'es'];
const PER_COLLECTION = ITEMS / COLLECTIONS.length;

interface RunNumbers {
  apiCalls: number;
  seconds: number;
  filesWritten: number;
  filesChangedOnDisk: number;
}

let fx: Fixture;
const ids = new Map<string, number>();

async function mtimes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.set(file, (await stat(file)).mtimeMs);
  }
  return out;
}

async function pullOnce(): Promise<RunNumbers> {
  const contentDir = path.join(fx.repoDir, fx.config.contentDir);
  await mkdir(contentDir, { recursive: true });
  const before = await mtimes(contentDir);
  const s = await fx.open();
  const started = performance.now();
  const { report } = await s.engine.pull({ commit: false });
  const seconds = (performance.now() - started) / 1000;
  await s.done();
  expect(report.errors).toEqual([]);
  const after = await mtimes(contentDir);
  const changed = [...after].filter(([file, mtime]) => before.get(file) !== mtime).length;
  return {
    apiCalls: report.calls,
    seconds: Math.round(seconds * 100) / 100,
    filesWritten: report.operations.filter((op) => op.status === 'written').length,
    filesChangedOnDisk: changed,
  };
}

beforeAll(async () => {
  const fields = { slug: 'text', title: 'text', price: 'number', in_stock: 'boolean' } as const;
  fx = await makeFixture({
    withContent: false,
    config: {
      locales: { default: 'en', all: LOCALES },
      pageTypes: {},
      singlePages: {},
      collections: Object.fromEntries(COLLECTIONS.map((c) => [c, { keyField: 'slug', fields }])),
      maxDeletePercent: 100,
      rate: { requestsPerSecond: 1000, concurrency: 8, timeoutMs: 30_000, maxRetries: 2 },
    },
  });
  for (const collection of COLLECTIONS) {
    for (let i = 0; i < PER_COLLECTION; i++) {
      const slug = `${collection}-${String(i).padStart(5, '0')}`;
      const id = fx.emulator.seedItem({
        collection,
        fields: {
          en: { slug, title: `Item ${i}`, price: i * 1.5, in_stock: i % 2 === 0 },
          es: { slug, title: `Artículo ${i}`, price: i * 1.5, in_stock: i % 2 === 0 },
        },
      });
      ids.set(slug, id);
    }
  }
}, 300_000);

afterAll(async () => {
  await fx?.cleanup();
});

it('pulls 5,000 items in 2 locales at ⌈n/100⌉ calls per list and writes nothing when nothing changed', async () => {
  const first = await pullOnce();
  const unchanged = await pullOnce();
  const edited = [...ids.entries()].filter((_, i) => i % (ITEMS / 10) === 0);
  for (const [slug, id] of edited) {
    const collection = COLLECTIONS.find((c) => slug.startsWith(c))!;
    fx.emulator.editItem(collection, id, { title: `${slug} edited` });
  }
  const tenChanged = await pullOnce();

  const goalCalls = COLLECTIONS.length * LOCALES.length * Math.ceil(PER_COLLECTION / 100);
  const results = {
    items: ITEMS,
    collections: COLLECTIONS.length,
    locales: LOCALES.length,
    files: ITEMS * LOCALES.length,
    goalCallsPerFullPull: goalCalls,
    firstPullIntoEmptyRepo: first,
    pullWithNothingChanged: unchanged,
    pullWithRemoteEdits: { edits: edited.length, ...tenChanged },
    node: process.version,
    measuredAt: new Date().toISOString(),
  };
  console.log(JSON.stringify(results, null, 2));
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL('./results/pull.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);

  expect(first.filesWritten).toBe(ITEMS * LOCALES.length);
  expect(first.apiCalls).toBe(goalCalls);
  expect(unchanged.apiCalls).toBe(goalCalls);
  expect(unchanged.filesWritten).toBe(0);
  expect(unchanged.filesChangedOnDisk).toBe(0);
  expect(tenChanged.filesWritten).toBe(edited.length);
  expect(tenChanged.filesChangedOnDisk).toBe(edited.length);
});
