/**
 * Push benchmark (issue "Push"; not part of `npm test`). On generated trees of 1k/10k/50k entities:
 * no-change scan+plan (cold and with the scan cache), a 1%-changed plan, and — on the 1k tree against
 * the emulator — 100 single-field edits: requests and bytes versus sending each whole item.
 * Writes test/bench/results/push.json. Sizes: BENCH_PUSH_SIZES=1000,10000 (default 1000,10000,50000).
 * Run: npm run build && npx vitest run --config test/bench.config.ts test/bench/push.bench.test.ts
 */

import { rm } from 'node:fs/promises';
import { afterAll, expect, it } from 'vitest';
import { configDigest } from '../../src/cli/wiring.js';
import { toApiFields } from '../../src/cms/butter/api-values.js';
import {
  BUTTER_RULES,
  createButterClient,
  estimateButterWrite,
  makeButterBackend,
} from '../../src/cms/butter/index.js';
import type { CmsClient } from '../../src/cms/butter/wire-types.js';
import { makeIdLookup } from '../../src/cms/read-helpers.js';
import { pathForEntity } from '../../src/content/index.js';
import { stringifyStable } from '../../src/core/digest.js';
import { modelFor } from '../../src/core/model.js';
import { normalizeVariant } from '../../src/core/normalize.js';
import { planSync } from '../../src/core/plan.js';
import type { Manifest, SyncPlan } from '../../src/core/types.js';
import type { EmulatorHandle, RequestLogEntry } from '../../src/emulator/index.js';
import { openContentRepo } from '../../src/git/index.js';
import { ManifestStore } from '../../src/state/manifest-store.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { scanLocal } from '../../src/sync/local-scan.js';
import { scanCachePath, scanRecentPath, scanValuesPath } from '../../src/sync/scan-cache.js';
import { runCli } from '../helpers/cli-process.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { quietLogger } from '../helpers/sync-fixture.js';
import { measure, median, round, writeResult } from './bench-results.js';
import {
  type BenchTree,
  buildMatchingManifest,
  editOneField,
  type FieldEdit,
  generateTree,
  spreadPick,
  writeMatchingManifest,
} from './bench-tree.js';

const SIZES = (process.env.BENCH_PUSH_SIZES ?? '1000,10000,50000').split(',').map(Number);
/** Up to this size the matching manifest comes from a real initial push against the emulator. */
const REAL_PUSH_MAX = 1_000;
const WARM_RUNS = 5;
const EDITS = 100;

interface Session {
  engine: SyncEngine;
  cms: CmsClient;
  store: ManifestStore;
  done(): Promise<void>;
}

async function openSession(tree: BenchTree, emulator: EmulatorHandle): Promise<Session> {
  const { config, repoDir } = tree;
  const cms = createButterClient({
    baseUrl: emulator.url,
    readToken: TEST_READ_TOKEN,
    writeToken: TEST_WRITE_TOKEN,
    requestsPerSecond: config.rate.requestsPerSecond,
    concurrency: config.rate.concurrency,
    timeoutMs: config.rate.timeoutMs,
    maxRetries: config.rate.maxRetries,
  });
  const store = await ManifestStore.open(repoDir, configDigest(config), { waitMs: 5_000 });
  const engine = new SyncEngine({
    repoDir,
    repo: openContentRepo(repoDir),
    config,
    backend: makeButterBackend(cms, config),
    store,
    logger: quietLogger(),
  });
  return {
    engine,
    cms,
    store,
    async done() {
      await cms.close(2_000);
      await store.close();
    },
  };
}

/** One push in a fresh session (like a new `butter-sync push` process), timed, with its API calls. */
async function timedPush(tree: BenchTree, emulator: EmulatorHandle, dryRun: boolean) {
  const session = await openSession(tree, emulator);
  try {
    const run = await measure(() => session.engine.push({ dryRun }));
    return {
      ms: run.ms,
      peakRssMb: run.peakRssMb,
      calls: session.cms.stats().total,
      plan: run.result.plan,
      errors: run.result.report.errors.length,
    };
  } finally {
    await session.done();
  }
}

/** scan and plan timed apart (what `push` spends before it would send anything). */
async function timedScanAndPlan(tree: BenchTree, manifest: Manifest) {
  const { config, repoDir } = tree;
  const scan = await measure(() => scanLocal(repoDir, config, manifest));
  const plan = await measure(async () =>
    planSync({
      config,
      manifest,
      local: scan.result.local,
      scope: 'push',
      resolvePath: (ref, locale) => pathForEntity(ref, locale, config),
      ids: makeIdLookup(manifest),
      now: new Date(),
      rules: BUTTER_RULES,
      estimate: (intent) =>
        estimateButterWrite(intent, {
          defaultLocale: config.locales.default,
          defaultStatus: config.defaultStatus,
        }),
    }),
  );
  return { scanMs: scan.ms, planMs: plan.ms };
}

function writesOf(plan: SyncPlan) {
  return plan.operations.filter((op) => op.cost > 0);
}

const results: Record<string, unknown>[] = [];
let editsResult: Record<string, unknown> | undefined;

afterAll(async () => {
  await writeResult('push', {
    sizes: results,
    edits: editsResult ?? null,
    goals: {
      noChangeAt10kMs: 1_000,
      onePercentChangedMs: 2_000,
      editRequests: 'changed entities',
      editBytes: "≤ 1.2 × changed fields' JSON",
    },
  });
});

for (const size of SIZES) {
  it(`push at ${size.toLocaleString('en')} entities`, async () => {
    const generated = await measure(() => generateTree(size));
    const tree = generated.result;
    const emulator = await startTestEmulator({ config: tree.config });
    try {
      const entry: Record<string, unknown> = {
        entities: size,
        files: tree.fileCount,
        megabytes: round(tree.bytes / 2 ** 20),
        generateMs: generated.ms,
      };

      // ---- a manifest that matches the files --------------------------------------------------------
      let manifest: Manifest;
      if (size <= REAL_PUSH_MAX) {
        const session = await openSession(tree, emulator);
        const initial = await measure(() => session.engine.push({ verifyWaitMs: 120_000 }));
        entry.manifestSource = 'real initial push against the emulator';
        entry.initialPush = {
          ms: initial.ms,
          calls: session.cms.stats().total,
          creates: writesOf(initial.result.plan).length,
          pendingLeft: session.store.manifest.pending.length,
        };
        expect(session.store.manifest.pending).toEqual([]);
        expect(session.store.manifest.failed).toEqual([]);
        await session.done();
        // The push after a create adopts the page titles the create could not record (cost 0), so one
        // settling push brings the manifest to the steady state the timed runs start from.
        const settle = await timedPush(tree, emulator, false);
        expect(settle.calls).toBe(0);
        entry.settlingPush = { ms: settle.ms, adopts: settle.plan.operations.length, apiCalls: settle.calls };
        const settled = await openSession(tree, emulator);
        manifest = structuredClone(settled.store.plainManifest);
        await settled.done();
        // The shortcut used for larger sizes must produce the same bases as the real push.
        const direct = await buildMatchingManifest(tree, configDigest(tree.config));
        let same = 0;
        for (const [key, entity] of Object.entries(direct.entities)) {
          const pushed = manifest.entities[key];
          for (const [locale, slot] of Object.entries(entity.locales)) {
            const base = pushed?.locales[locale]?.base;
            if (stringifyStable(base) === stringifyStable(slot.base)) same += 1;
          }
        }
        const total = Object.values(direct.entities).reduce((n, e) => n + Object.keys(e.locales).length, 0);
        entry.directManifestAgreesWithPush = `${same}/${total} locale bases`;
        expect(same).toBe(total);
      } else {
        entry.manifestSource = "digests computed with the project's own scan/normalize/digest (no push)";
        manifest = await writeMatchingManifest(tree, configDigest(tree.config));
      }
      await rm(scanCachePath(tree.repoDir), { force: true });
      await rm(scanValuesPath(tree.repoDir), { force: true });
      await rm(scanRecentPath(tree.repoDir), { force: true });

      // ---- no-change push: cold (no scan cache), then warm -------------------------------------------
      const cold = await timedPush(tree, emulator, false);
      expect(cold.calls).toBe(0);
      expect(cold.plan.operations).toEqual([]);
      expect(cold.errors).toBe(0);
      // Warm: `push --dry-run` is exactly scan + plan (the goal's measure); the full push adds the
      // no-op apply and the manifest save, and is the one that must not call the API.
      const warm = [];
      const full = [];
      for (let i = 0; i < WARM_RUNS; i++) {
        const dry = await timedPush(tree, emulator, true);
        const real = await timedPush(tree, emulator, false);
        for (const run of [dry, real]) {
          expect(run.calls).toBe(0);
          expect(run.plan.operations).toEqual([]);
        }
        warm.push(dry);
        full.push(real);
      }
      const split = await timedScanAndPlan(tree, manifest);
      entry.noChangeCold = { ms: cold.ms, peakRssMb: cold.peakRssMb, apiCalls: cold.calls };
      entry.noChange = {
        msMedian: median(warm.map((r) => r.ms)),
        runsMs: warm.map((r) => r.ms),
        peakRssMb: Math.max(...warm.map((r) => r.peakRssMb)),
        ...split,
        msPer1kEntities: round((median(warm.map((r) => r.ms)) / size) * 1000, 2),
      };
      entry.noChangeFullPush = {
        msMedian: median(full.map((r) => r.ms)),
        runsMs: full.map((r) => r.ms),
        peakRssMb: Math.max(...full.map((r) => r.peakRssMb)),
        apiCalls: full.reduce((n, r) => n + r.calls, 0),
      };

      // The command a user runs: a fresh `butter-sync push` process (JIT-cold), wall clock.
      emulator.clearLog();
      const started = performance.now();
      const cli = await runCli(['push', '--repo', tree.repoDir, '--json'], {
        ...process.env,
        BUTTER_API_URL: emulator.url,
        BUTTER_READ_TOKEN: TEST_READ_TOKEN,
        BUTTER_WRITE_TOKEN: TEST_WRITE_TOKEN,
      });
      entry.noChangeCliPush = {
        wallMs: round(performance.now() - started),
        exitCode: cli.code,
        apiCalls: emulator.requestLog().length,
      };
      expect(cli.code, cli.stderr).toBe(0);
      expect(emulator.requestLog()).toEqual([]);

      // ---- 100 single-field edits against the emulator (the really pushed tree only) ---------------
      if (size <= REAL_PUSH_MAX) editsResult = await runEdits(tree, emulator);

      // ---- 1% changed: plan only ----------------------------------------------------------------------
      const changed = spreadPick(tree.entities, Math.max(1, Math.round(size / 100)));
      for (const entity of changed) await editOneField(tree, entity, 2);
      const onePercent = await timedPush(tree, emulator, true);
      expect(onePercent.calls).toBe(0);
      const ops = writesOf(onePercent.plan);
      expect(ops.map((op) => op.entity).sort()).toEqual(changed.map((e) => e.key).sort());
      expect(onePercent.plan.totalCalls).toBe(changed.length);
      entry.onePercentChanged = {
        changedEntities: changed.length,
        ms: onePercent.ms,
        peakRssMb: onePercent.peakRssMb,
        plannedCalls: onePercent.plan.totalCalls,
        apiCallsWhilePlanning: onePercent.calls,
      };
      results.push(entry);
      console.log(JSON.stringify(entry, null, 2));
    } finally {
      await emulator.close();
      await tree.cleanup().catch((error: unknown) => console.warn(`cleanup: ${String(error)}`));
    }
  });
}

/**
 * 100 single-field edits pushed for real; then the same edits as whole-entity writes (every field:
 * PUT for items, the page update with every field for pages, which the API treats as PATCH) sent to
 * the same emulator, whose request log measures both.
 */
async function runEdits(tree: BenchTree, emulator: EmulatorHandle) {
  const targets = spreadPick(tree.entities, EDITS);
  const edits: FieldEdit[] = [];
  for (const entity of targets) edits.push(await editOneField(tree, entity, 1));
  const fieldsJsonBytes = edits.reduce(
    (n, e) => n + Buffer.byteLength(JSON.stringify({ [e.field]: e.value })),
    0,
  );

  emulator.clearLog();
  const session = await openSession(tree, emulator);
  let pushMs: number;
  try {
    const run = await measure(() => session.engine.push({ verifyWaitMs: 60_000 }));
    pushMs = run.ms;
    expect(session.store.manifest.pending).toEqual([]);
  } finally {
    await session.done();
  }
  await emulator.settle();
  const log = emulator.requestLog();
  const writes = log.filter((r) => r.method !== 'GET');
  const ours = summarize(writes);
  const reads = log.length - writes.length;

  // Baseline: the same edits, each entity sent whole.
  emulator.clearLog();
  const whole = await openSession(tree, emulator);
  try {
    const manifest = whole.store.manifest;
    const ids = makeIdLookup(manifest);
    const scan = await scanLocal(
      tree.repoDir,
      tree.config,
      manifest,
      edits.map((e) => e.file),
    );
    for (const edit of edits) {
      const local = scan.local.get(edit.entity.key)?.locales[tree.config.locales.default];
      if (!local) throw new Error(`no local variant for ${edit.entity.key}`);
      const ref = scan.local.get(edit.entity.key)!.ref;
      const model = modelFor(ref, tree.config);
      const norm = normalizeVariant(local, model, { media: manifest.media });
      const fields = toApiFields(norm.fields, model, ids);
      if (ref.kind === 'page') {
        await whole.cms.updatePage(ref.pageType, ref.slug, {
          status: norm.meta.status ?? tree.config.defaultStatus,
          fields,
        });
      } else if (ref.kind === 'item') {
        const id = manifest.entities[edit.entity.key]?.remoteId;
        if (id === undefined) throw new Error(`no id for ${edit.entity.key}`);
        await whole.cms.replaceItem(ref.collection, Number(id), { fields });
      }
    }
  } finally {
    await whole.done();
  }
  await emulator.settle();
  const baseline = summarize(emulator.requestLog().filter((r) => r.method !== 'GET'));

  expect(ours.requests).toBe(EDITS);
  const result = {
    edits: EDITS,
    editedKinds: countBy(edits.map((e) => `${e.entity.kind}.${e.field}`)),
    changedFieldsJsonBytes: fieldsJsonBytes,
    butterSync: { ...ours, verifyReads: reads, pushMs },
    wholeItem: baseline,
    bytesVsChangedFields: round(ours.bodyBytes / fieldsJsonBytes, 3),
    bytesVsWholeItem: round(ours.bodyBytes / baseline.bodyBytes, 3),
    fieldsBytesVsChangedFields: round(ours.fieldsBytes / fieldsJsonBytes, 3),
    envelopeBytesPerRequest: round((ours.bodyBytes - ours.fieldsBytes) / EDITS, 1),
  };
  // Inside `fields` nothing but the changed values travels; the envelope ({"fields":…}, and the explicit
  // page status the API needs, butter-api.md §3.2) is the floor of what the API accepts.
  expect(result.fieldsBytesVsChangedFields).toBeLessThanOrEqual(1.2);
  return result;
}

/** Requests and body bytes; `fieldsBytes` is the part inside `fields`, the rest is the API's envelope. */
function summarize(writes: RequestLogEntry[]) {
  let fieldsBytes = 0;
  for (const write of writes) {
    const body = write.body ? (JSON.parse(write.body) as { fields?: unknown }) : {};
    fieldsBytes += Buffer.byteLength(JSON.stringify(body.fields ?? {}));
  }
  return {
    requests: writes.length,
    byMethod: countBy(writes.map((w) => w.method)),
    bodyBytes: writes.reduce((n, w) => n + w.bytesIn, 0),
    fieldsBytes,
  };
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values) out[value] = (out[value] ?? 0) + 1;
  return out;
}
