/**
 * State benchmark (issue 14, "State that scales"; not part of `npm test`). On generated trees of 10k and 50k
 * entities: a no-change `butter-sync push` as a whole CLI process (wall clock and peak RSS from
 * `/usr/bin/time`, so the test worker's own heap is not counted), and 100 creates in the same repo pushed
 * in-process against the emulator with the time spent saving state summed.
 * Writes test/bench/results/state.json. Sizes: BENCH_STATE_SIZES=10000 (default 10000,50000).
 * Run: npm run build && npx vitest run --config test/bench.config.ts test/bench/state.bench.test.ts
 */

import { spawn } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { configDigest } from '../../src/cli/wiring.js';
import { createButterClient, makeButterBackend } from '../../src/cms/butter/index.js';
import { openContentRepo } from '../../src/git/index.js';
import { ManifestStore, manifestPath } from '../../src/state/manifest-store.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { CLI, quietLogger } from '../helpers/sync-fixture.js';
import { median, round, writeResult } from './bench-results.js';
import { CONTENT_DIR, generateTree, writeMatchingManifest } from './bench-tree.js';

const SIZES = (process.env.BENCH_STATE_SIZES ?? '10000,50000').split(',').map(Number);
const CLI_RUNS = 5;
const CREATES = 100;

interface TimedCli {
  code: number | null;
  wallMs: number;
  /** User + system CPU of the process (GNU time `%U + %S`): less at the mercy of the shared machine's load. */
  cpuMs: number;
  peakRssMb: number;
  stderr: string;
}

/** One CLI process under GNU time: its wall clock, CPU time and its own peak RSS (`%M`, KiB). */
function timedCli(args: string[], env: NodeJS.ProcessEnv): Promise<TimedCli> {
  const started = performance.now();
  const format = 'maxrss-kib=%M cpu-s=%U+%S';
  const child = spawn('/usr/bin/time', ['-f', format, process.execPath, CLI, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const kib = Number(/maxrss-kib=(\d+)/.exec(stderr)?.[1] ?? Number.NaN);
      const cpu = /cpu-s=([\d.]+)\+([\d.]+)/.exec(stderr);
      const cpuMs = cpu ? round((Number(cpu[1]) + Number(cpu[2])) * 1000) : Number.NaN;
      resolve({
        code,
        wallMs: round(performance.now() - started),
        cpuMs,
        peakRssMb: round(kib / 1024),
        stderr,
      });
    });
  });
}

const results: Record<string, unknown>[] = [];

/**
 * The same bench at commit 88e845d (before the journal: every save serialised the whole manifest), 10k
 * entities, on this 2-core machine shared with other work (load average about 1).
 */
const BEFORE_AT_10K = {
  commit: '88e845d',
  noChangeCliPushMsMedian: 1_726.8,
  noChangeCliPushPeakRssMb: 194.7,
  hundredCreatesStateSaveMs: 22_209.8,
  hundredCreatesPushMs: 24_726.7,
};

/**
 * The same bench at commit 295717b (journal, before the planner skipped settled entities and before the CLI
 * loaded its commands lazily), 10k entities, under load average 8.9.
 */
const BEFORE_SETTLED_SKIP_AT_10K = {
  commit: '295717b',
  loadAverage1m: 8.93,
  noChangeCliPushMsMedian: 2_155.9,
  noChangeCliPushPeakRssMb: 180.8,
  hundredCreatesStateSaveMs: 2_415.6,
  hundredCreateSaveCyclesMs: 770.7,
};

/**
 * Commit 6b10ee4 (the scan cache held every parsed file: 17 MB at 10k; the no-change push planned twice), 10k
 * entities: a fresh CLI process, runs interleaved with the same push of this branch (7 each, medians; peak RSS
 * the largest), under load average 3.6-3.8. CPU time is user + system.
 */
const BEFORE_LEAN_CACHE_AT_10K = {
  commit: '6b10ee4',
  loadAverage1m: 3.7,
  noChangeCliPushMsMedian: 1_410,
  noChangeCliPushCpuMsMedian: 1_330,
  noChangeCliPushPeakRssMb: 176.7,
  /** This branch (lean scan cache, one plan) in the same interleaved runs. */
  after: { noChangeCliPushMsMedian: 1_040, noChangeCliPushCpuMsMedian: 960, noChangeCliPushPeakRssMb: 132.2 },
};

afterAll(async () => {
  await writeResult('state', {
    sizes: results,
    beforeAt10k: BEFORE_AT_10K,
    beforeSettledSkipAt10k: BEFORE_SETTLED_SKIP_AT_10K,
    beforeLeanCacheAt10k: BEFORE_LEAN_CACHE_AT_10K,
    goals: {
      noChangeCliPushAt10kMs: 500,
      noChangeCliPushAt10kPeakRssMb: 150,
      stateMsFor100CreatesAt10k: 1_000,
      fiftyKVersusTenK: '≤ 5×',
    },
  });
});

for (const size of SIZES) {
  it(`state at ${size.toLocaleString('en')} entities`, async () => {
    const tree = await generateTree(size);
    const emulator = await startTestEmulator({ config: tree.config });
    const env = {
      ...process.env,
      BUTTER_API_URL: emulator.url,
      BUTTER_READ_TOKEN: TEST_READ_TOKEN,
      BUTTER_WRITE_TOKEN: TEST_WRITE_TOKEN,
    };
    try {
      await writeMatchingManifest(tree, configDigest(tree.config));
      const entry: Record<string, unknown> = {
        entities: size,
        loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
        files: tree.fileCount,
        manifestBytes: (await stat(manifestPath(tree.repoDir))).size,
      };

      // ---- no-change push as a whole process; the first run fills the scan cache ---------------------
      const args = ['push', '--repo', tree.repoDir, '--json'];
      const first = await timedCli(args, env);
      expect(first.code, first.stderr).toBe(0);
      const runs: TimedCli[] = [];
      for (let i = 0; i < CLI_RUNS; i++) {
        const run = await timedCli(args, env);
        expect(run.code, run.stderr).toBe(0);
        runs.push(run);
      }
      expect(emulator.requestLog()).toEqual([]);
      entry.noChangeCliPush = {
        firstRunMs: first.wallMs,
        msMedian: median(runs.map((r) => r.wallMs)),
        runsMs: runs.map((r) => r.wallMs),
        cpuMsMedian: median(runs.map((r) => r.cpuMs)),
        peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
      };

      // ---- 100 creates: the time spent saving state, in-process against the emulator --------------
      const created: string[] = [];
      for (let i = 0; i < CREATES; i++) {
        const slug = `bench-new-${String(i).padStart(4, '0')}`;
        const file = path.join(tree.repoDir, CONTENT_DIR, 'collections', 'tags', `${slug}.json`);
        await writeFile(file, `${JSON.stringify({ slug, name: `New ${i}`, color: '#123456' }, null, 2)}\n`);
        created.push(`item:tags:${slug}`);
      }
      const cms = createButterClient({
        baseUrl: emulator.url,
        readToken: TEST_READ_TOKEN,
        writeToken: TEST_WRITE_TOKEN,
        requestsPerSecond: tree.config.rate.requestsPerSecond,
        concurrency: tree.config.rate.concurrency,
        timeoutMs: tree.config.rate.timeoutMs,
        maxRetries: tree.config.rate.maxRetries,
      });
      const store = await ManifestStore.open(tree.repoDir, configDigest(tree.config), { waitMs: 5_000 });
      // Every save the engine awaits, and the final one, timed from outside the store.
      let saveMs = 0;
      let saves = 0;
      const save = store.save.bind(store);
      store.save = async () => {
        const started = performance.now();
        try {
          await save();
        } finally {
          saveMs += performance.now() - started;
          saves += 1;
        }
      };
      const engine = new SyncEngine({
        repoDir: tree.repoDir,
        repo: openContentRepo(tree.repoDir),
        config: tree.config,
        backend: makeButterBackend(cms, tree.config),
        store,
        logger: quietLogger(),
      });
      const pushStarted = performance.now();
      const pushed = await engine.push({ verifyWaitMs: 120_000 });
      const pushMs = performance.now() - pushStarted;
      await cms.close(2_000);
      const closeStarted = performance.now();
      await store.close();
      saveMs += performance.now() - closeStarted;
      expect(pushed.report.errors).toEqual([]);
      for (const key of created) expect(store.manifest.entities[key]?.remoteId).toMatch(/^[1-9][0-9]*$/);
      expect(store.manifest.pending).toEqual([]);
      entry.hundredCreates = {
        creates: CREATES,
        pushMs: round(pushMs),
        stateSaveMs: round(saveMs),
        awaitedSaves: saves,
        ...store.stats,
      };

      // ---- the same save pattern without the emulator: write-ahead intent, sent, verified, per create ----
      const alone = await ManifestStore.open(tree.repoDir, configDigest(tree.config), { waitMs: 5_000 });
      const started = performance.now();
      for (let i = 0; i < CREATES; i++) {
        const key = `item:tags:alone-${i}`;
        alone.manifest.pending.push({
          id: `alone-${i}`,
          entity: key,
          kind: 'create',
          state: 'intent',
          expect: { en: { name: 'x', slug: 'y' } },
          createdAt: new Date().toISOString(),
          deadline: new Date(Date.now() + 60_000).toISOString(),
        });
        await alone.save();
        alone.manifest.pending.find((w) => w.id === `alone-${i}`)!.state = 'sent';
        await alone.save();
      }
      for (let i = 0; i < CREATES; i++) {
        alone.manifest.entities[`item:tags:alone-${i}`] = {
          remoteId: String(90_000 + i),
          locales: { en: { base: { name: 'x' } } },
        };
      }
      alone.manifest.pending.splice(0, alone.manifest.pending.length);
      await alone.save();
      await alone.close();
      entry.hundredCreateSaveCycles = {
        ms: round(performance.now() - started),
        saves: 2 * CREATES + 1,
        ...alone.stats,
      };
      results.push(entry);
      console.log(JSON.stringify(entry, null, 2));
    } finally {
      await emulator.close();
      await tree.cleanup().catch((error: unknown) => console.warn(`cleanup: ${String(error)}`));
    }
  });
}
