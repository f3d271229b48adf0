/**
 * Watch latency benchmark (not part of `npm test`): `butter-sync watch` runs as a child process against
 * the emulator; one page file is edited N times, spaced out, and each save is timed to the arrival of
 * its PATCH in the emulator's request log (same clock: the emulator runs in this process).
 * Writes test/bench/results/watch-latency.json. Needs `npm run build` (dist/).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { configDigest } from '../../src/cli/wiring.js';
import { createButterClient, makeButterBackend } from '../../src/cms/butter/index.js';
import { openContentRepo } from '../../src/git/index.js';
import { ManifestStore } from '../../src/state/manifest-store.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { startCli } from '../helpers/cli-process.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { quietLogger } from '../helpers/sync-fixture.js';
import { median, percentile, round, writeResult } from './bench-results.js';
import { editOneField, generateTree } from './bench-tree.js';

const ENTITIES = 500;
const EDITS = 30;
/** Pause after a PATCH arrived before the next save: lets the read-back finish, like a writer pausing. */
const SPACING_MS = 1_000;
const PATCH_TIMEOUT_MS = 15_000;

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

it('save-to-request latency in watch', async () => {
  const tree = await generateTree(ENTITIES);
  const emulator = await startTestEmulator({ config: tree.config });
  const env = {
    ...process.env,
    BUTTER_API_URL: emulator.url,
    BUTTER_READ_TOKEN: TEST_READ_TOKEN,
    BUTTER_WRITE_TOKEN: TEST_WRITE_TOKEN,
  };
  try {
    // Start in step: an initial push, so the daemon's start-up pass has nothing to send.
    const cms = createButterClient({
      baseUrl: emulator.url,
      readToken: TEST_READ_TOKEN,
      writeToken: TEST_WRITE_TOKEN,
      requestsPerSecond: tree.config.rate.requestsPerSecond,
      concurrency: tree.config.rate.concurrency,
      timeoutMs: tree.config.rate.timeoutMs,
      maxRetries: tree.config.rate.maxRetries,
    });
    const store = await ManifestStore.open(tree.repoDir, configDigest(tree.config));
    const engine = new SyncEngine({
      repoDir: tree.repoDir,
      repo: openContentRepo(tree.repoDir),
      config: tree.config,
      backend: makeButterBackend(cms, tree.config),
      store,
      logger: quietLogger(),
    });
    await engine.push({ verifyWaitMs: 60_000 });
    expect(store.manifest.pending).toEqual([]);
    await cms.close(1_000);
    await store.close();

    const watch = startCli(
      [
        'watch',
        '--no-fetch',
        '--no-webhook',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--repo',
        tree.repoDir,
        '--log-level',
        'info',
      ],
      env,
      tree.repoDir,
    );
    let output = '';
    watch.child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    watch.child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const latencies: number[] = [];
    try {
      await waitFor(() => output.includes('start-up sync done'), 60_000, `watch start-up (${output})`);
      const target = tree.entities.find((e) => e.kind === 'article');
      if (!target) throw new Error('no article in the tree');
      const slug = target.key.split(':').at(-1)!;
      for (let i = 0; i < EDITS; i++) {
        const savedAt = Date.now();
        const edit = await editOneField(tree, target, 100 + i);
        const needle = JSON.stringify(edit.value);
        let arrivedAt: number | undefined;
        await waitFor(
          () => {
            const hit = emulator
              .requestLog()
              .find(
                (r) =>
                  r.method === 'PATCH' &&
                  r.at >= savedAt &&
                  r.path.includes(`/${slug}/`) &&
                  (r.body ?? '').includes(needle),
              );
            arrivedAt = hit?.at;
            return hit !== undefined;
          },
          PATCH_TIMEOUT_MS,
          `the PATCH of edit ${i}`,
        );
        latencies.push(arrivedAt! - savedAt);
        await sleep(SPACING_MS);
      }
    } finally {
      watch.child.kill('SIGTERM');
      await watch.done;
    }

    const patches = emulator.requestLog().filter((r) => r.method === 'PATCH').length;
    await writeResult('watch-latency', {
      entities: ENTITIES,
      edits: EDITS,
      spacingMs: SPACING_MS,
      watcherDefaults: { stabilityMs: 100, debounceMs: 300 },
      latencyMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        min: Math.min(...latencies),
        max: Math.max(...latencies),
        mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
        median: median(latencies),
      },
      samplesMs: latencies,
      patchRequests: patches,
    });
    expect(latencies).toHaveLength(EDITS);
    // One PATCH per save: nothing is sent twice.
    expect(patches).toBe(EDITS);
  } finally {
    await emulator.close();
    await tree.cleanup().catch((error: unknown) => console.warn(`cleanup: ${String(error)}`));
  }
});
