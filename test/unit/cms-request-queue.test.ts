import { describe, expect, it } from 'vitest';
import { deriveRateWindow, RequestQueue } from '../../src/cms/butter/request-queue.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('deriveRateWindow', () => {
  it('rounds fractional rates down and stretches the window below 1/s', () => {
    expect(deriveRateWindow(5)).toEqual({ intervalCap: 5, interval: 1000 });
    expect(deriveRateWindow(2.5)).toEqual({ intervalCap: 2, interval: 1000 });
    expect(deriveRateWindow(0.5)).toEqual({ intervalCap: 1, interval: 2000 });
    expect(() => deriveRateWindow(0)).toThrow(RangeError);
    expect(() => deriveRateWindow(Number.NaN)).toThrow(RangeError);
  });
});

describe('RequestQueue', () => {
  it('never runs more than `concurrency` tasks at once', async () => {
    const queue = new RequestQueue({ requestsPerSecond: 1000, concurrency: 3 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        queue.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await tick(5);
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
    queue.dispose();
  });

  it('holds queued tasks during a pause, then runs the higher priority first', async () => {
    const queue = new RequestQueue({ requestsPerSecond: 1000, concurrency: 1 });
    const order: string[] = [];
    const pausedAt = performance.now();
    queue.pauseFor(200);
    expect(queue.paused).toBe(true);
    const low = queue.run(async () => {
      order.push('low');
      return performance.now();
    });
    const high = queue.run(
      async () => {
        order.push('high');
        return performance.now();
      },
      { priority: 1 },
    );
    expect(queue.depth).toBe(2);
    const [lowAt, highAt] = await Promise.all([low, high]);
    expect(order).toEqual(['high', 'low']);
    expect(Math.min(lowAt, highAt) - pausedAt).toBeGreaterThanOrEqual(195);
    expect(queue.paused).toBe(false);
    queue.dispose();
  });

  it('keeps the longer of two pauses', async () => {
    const queue = new RequestQueue({ requestsPerSecond: 1000, concurrency: 1 });
    const pausedAt = performance.now();
    queue.pauseFor(250);
    queue.pauseFor(50);
    const ranAt = await queue.run(async () => performance.now());
    expect(ranAt - pausedAt).toBeGreaterThanOrEqual(245);
    queue.dispose();
  });

  it('rejects a queued task whose signal aborts, without running it', async () => {
    const queue = new RequestQueue({ requestsPerSecond: 1000, concurrency: 1 });
    queue.pauseFor(10_000);
    const controller = new AbortController();
    let ran = false;
    const task = queue.run(
      async () => {
        ran = true;
      },
      { signal: controller.signal },
    );
    controller.abort(new Error('stop'));
    await expect(task).rejects.toThrow('stop');
    queue.dispose();
    await tick(10);
    expect(ran).toBe(false);
  });

  it('holds a rate slot until one interval after the answer, so slow answers cannot bunch arrivals', async () => {
    const queue = new RequestQueue({ requestsPerSecond: 2, concurrency: 4 });
    const starts: number[] = [];
    const ends: number[] = [];
    await Promise.all(
      Array.from({ length: 3 }, () =>
        queue.run(async () => {
          starts.push(performance.now());
          await tick(100);
          ends.push(performance.now());
        }),
      ),
    );
    // The third start waits for the first slot: its answer plus 1000 ms, not its start plus 1000 ms.
    expect((starts[2] ?? 0) - Math.min(...ends)).toBeGreaterThanOrEqual(995);
    queue.dispose();
  });
});
