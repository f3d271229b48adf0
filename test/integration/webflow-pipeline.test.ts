import { describe, expect, it } from 'vitest';
import { WebflowPipeline } from '../../src/cms/webflow/webflow-pipeline.js';
import { isSyncError } from '../../src/core/errors.js';
import { startTestWebflowEmulator, WEBFLOW_TOKEN } from '../helpers/webflow-emulator.js';

// The Webflow request pipeline against the emulator (webflow-api.md §5): even pacing within the per-token
// minute, a pause when X-RateLimit-Remaining reaches 0, a pause for Retry-After on a 429, no POST re-sent.

/** A clock running `speed` times faster than the wall clock, so a Webflow minute passes in 60/speed s. */
function fastClock(speed: number): () => number {
  const t0 = Date.now();
  return () => t0 + (Date.now() - t0) * speed;
}

describe('WebflowPipeline', () => {
  it('holds 95-100% of 60 requests per minute with no minute over it', async () => {
    const speed = 10;
    const em = await startTestWebflowEmulator({ rateLimitPerMinute: 60, now: fastClock(speed) });
    const pipeline = new WebflowPipeline({
      baseUrl: em.url,
      token: WEBFLOW_TOKEN,
      requestsPerMinute: 60,
      windowMs: 60_000 / speed,
      concurrency: 4,
      // The default 100 ms is for a real minute; 15 ms of a 600 ms slice is the same share of jitter here.
      sliceMarginMs: 15,
    });
    try {
      const path = `collections/${em.collectionId('posts')}/items`;
      const n = 120;
      const answers = await Promise.all(
        Array.from({ length: n }, () => pipeline.send({ method: 'GET', path })),
      );
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const log = em.requestLog();
      expect(log).toHaveLength(n);
      expect(log.filter((e) => e.status === 429)).toEqual([]);
      const at = log.map((e) => e.at).sort((a, b) => a - b);
      // No sliding (Webflow-time) minute holds more than 60 starts.
      const busiest = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 60_000).length));
      expect(busiest).toBeLessThanOrEqual(60);
      // Each of the two full minutes from the first request holds 57 to 60 of them (95-100% of the budget).
      const inMinute = (k: number) =>
        at.filter((t) => t >= at[0]! + k * 60_000 && t < at[0]! + (k + 1) * 60_000);
      for (const k of [0, 1]) {
        expect(inMinute(k).length).toBeGreaterThanOrEqual(57);
        expect(inMinute(k).length).toBeLessThanOrEqual(60);
      }
    } finally {
      await pipeline.close();
      await em.close();
    }
  });

  it('pauses when X-RateLimit-Remaining reaches 0, so a budget shared with another client gets no 429', async () => {
    const speed = 200;
    const em = await startTestWebflowEmulator({ rateLimitPerMinute: 3, now: fastClock(speed) });
    // Configured far above the real budget: only the Remaining header keeps it from 429s.
    const pipeline = new WebflowPipeline({
      baseUrl: em.url,
      token: WEBFLOW_TOKEN,
      requestsPerMinute: 600,
      windowMs: 60_000 / speed,
      concurrency: 1,
    });
    try {
      const path = `collections/${em.collectionId('posts')}/items`;
      for (let i = 0; i < 7; i++) expect((await pipeline.send({ method: 'GET', path })).status).toBe(200);
      expect(em.requestLog().map((e) => e.status)).toEqual(Array(7).fill(200));
    } finally {
      await pipeline.close();
      await em.close();
    }
  });

  it('waits for Retry-After on a 429 and sends the request again, a POST too', async () => {
    const em = await startTestWebflowEmulator();
    const pipeline = new WebflowPipeline({ baseUrl: em.url, token: WEBFLOW_TOKEN, requestsPerMinute: 600 });
    try {
      em.setFaults({ burst429: 1, retryAfterSeconds: 1 });
      const started = Date.now();
      const created = await pipeline.send({
        method: 'POST',
        path: `collections/${em.collectionId('posts')}/items`,
        body: { fieldData: { name: 'After the pause' } },
      });
      expect(created.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(em.requestLog().map((e) => e.status)).toEqual([429, 202]);
      // A Retry-After beyond the limit is not waited for: the caller can exit 75 (try later).
      em.setFaults({ burst429: 1, retryAfterSeconds: 3600 });
      const error = await pipeline
        .send({ method: 'GET', path: `sites/${em.siteId}` })
        .catch((e: unknown) => e);
      expect(isSyncError(error) && error.code).toBe('CMS_RATE_LIMITED');
    } finally {
      await pipeline.close();
      await em.close();
    }
  });

  it('re-sends a GET after a 500 but never a POST create; errors carry Webflow code and message, not the token', async () => {
    const em = await startTestWebflowEmulator();
    const pipeline = new WebflowPipeline({ baseUrl: em.url, token: WEBFLOW_TOKEN, requestsPerMinute: 600 });
    try {
      const path = `collections/${em.collectionId('posts')}/items`;
      em.setFaults({ failNthCall: 1 });
      expect((await pipeline.send({ method: 'GET', path })).status).toBe(200);
      expect(em.requestLog().map((e) => e.status)).toEqual([500, 200]);
      em.reset();
      em.setFaults({ failNthCall: 1 });
      const failed = await pipeline
        .send({ method: 'POST', path, body: { fieldData: { name: 'Once' } } })
        .catch((e: unknown) => e);
      expect(isSyncError(failed) && failed.code).toBe('CMS_SERVER');
      expect(em.requestLog().map((e) => e.status)).toEqual([500]);
      const invalid = await pipeline
        .send({ method: 'POST', path, body: { fieldData: { name: 'X', nope: 1 } } })
        .catch((e: unknown) => e);
      expect(isSyncError(invalid) && invalid.code).toBe('CMS_BAD_REQUEST');
      expect(String((invalid as Error).message)).toContain('validation_error: Validation Error');
      expect(JSON.stringify({ m: (invalid as Error).message, ...(invalid as object) })).not.toContain(
        WEBFLOW_TOKEN,
      );
    } finally {
      await pipeline.close();
      await em.close();
    }
  });
});
