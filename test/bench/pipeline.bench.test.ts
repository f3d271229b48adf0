/**
 * Pipeline benchmark (not part of `npm test`): 1,000 GETs at a configured 50 req/s against the emulator,
 * then the same run with a burst of 429s. Prints the numbers and writes them to test/bench/results/pipeline.json.
 * Run: npx vitest run --config test/bench.config.ts test/bench/pipeline.bench.test.ts
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { createButterClient } from '../../src/cms/butter/index.js';
import type { EmulatorFaults, RequestLogEntry } from '../../src/emulator/index.js';
import { startTestEmulator, TEST_READ_TOKEN } from '../helpers/emulator.js';
import { maxInWindow } from '../helpers/rate-window.js';

const REQUESTS = 1_000;
const RATE = 50;
const CONCURRENCY = 4;

interface RunResult {
  requests: number;
  failed: number;
  seconds: number;
  achievedRate: number;
  achievedShare: number;
  /** Arrivals after the first window's burst, over the time they took: the rate the gate settles at. */
  steadyRate: number;
  maxIn1sWindow: number;
  serverCalls: number;
  status429: number;
}

async function runOnce(faults: Partial<EmulatorFaults>): Promise<RunResult> {
  const emulator = await startTestEmulator({ faults });
  emulator.seedItem({ collection: 'tags', fields: { slug: 'bench', name: 'Bench', color: '' } });
  const client = createButterClient({
    baseUrl: emulator.url,
    readToken: TEST_READ_TOKEN,
    requestsPerSecond: RATE,
    concurrency: CONCURRENCY,
    timeoutMs: 10_000,
    maxRetries: 4,
  });
  try {
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: REQUESTS }, () => client.listItems('tags', { filters: { slug: 'bench' } })),
    );
    const seconds = (performance.now() - started) / 1000;
    const log: RequestLogEntry[] = emulator.requestLog();
    const achievedRate = REQUESTS / seconds;
    const times = log.map((e) => e.at).sort((a, b) => a - b);
    const span = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
    return {
      requests: REQUESTS,
      failed: results.filter((r) => r.status === 'rejected').length,
      seconds: Math.round(seconds * 100) / 100,
      achievedRate: Math.round(achievedRate * 10) / 10,
      achievedShare: Math.round((achievedRate / RATE) * 1000) / 1000,
      steadyRate: Math.round(((times.length - RATE) / span) * 10) / 10,
      maxIn1sWindow: maxInWindow(times, 1000),
      serverCalls: log.length,
      status429: log.filter((e) => e.status === 429).length,
    };
  } finally {
    await client.close();
    await emulator.close();
  }
}

it('holds 50 req/s over 1,000 GETs, and recovers from a 429 burst', async () => {
  const steady = await runOnce({});
  const burst = await runOnce({ burst429: 20, retryAfterSeconds: 2 });
  const report = {
    configured: { requestsPerSecond: RATE, concurrency: CONCURRENCY, requests: REQUESTS },
    steady,
    burst429: { burst: 20, retryAfterSeconds: 2, ...burst },
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log(JSON.stringify(report, null, 2));
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('./results/pipeline.json', import.meta.url),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  expect(steady.failed).toBe(0);
  expect(burst.failed).toBe(0);
  expect(steady.maxIn1sWindow).toBeLessThanOrEqual(RATE);
  expect(burst.maxIn1sWindow).toBeLessThanOrEqual(RATE);
});
