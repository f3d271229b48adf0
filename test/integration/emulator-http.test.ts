import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';

// Transport-level behaviour: auth (§1), trailing slash (§0.2), verbs and Allow (§0.1), quota and faults (§5).

let em: EmulatorHandle;

beforeAll(async () => {
  em = await startTestEmulator();
});
afterAll(async () => {
  await em.close();
});
afterEach(() => {
  em.reset();
});

async function call(
  path: string,
  init: {
    method?: string;
    token?: string | null;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.authorization = `Token ${init.token ?? TEST_WRITE_TOKEN}`;
  if (init.body !== undefined || init.raw !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${em.origin}${path}`, {
    method: init.method ?? 'GET',
    headers,
    redirect: 'manual',
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text ? JSON.parse(text) : undefined,
  };
}

describe('authentication', () => {
  it('accepts the read token in the query and in the header', async () => {
    expect((await call(`/v2/content/tags/?auth_token=${TEST_READ_TOKEN}`, { token: null })).status).toBe(200);
    expect((await call('/v2/content/tags/', { token: TEST_READ_TOKEN })).status).toBe(200);
  });

  it('accepts the write token for reads', async () => {
    expect((await call('/v2/content/tags/', { token: TEST_WRITE_TOKEN })).status).toBe(200);
  });

  it('answers 401 with WWW-Authenticate and the DRF texts', async () => {
    const missing = await call('/v2/content/tags/', { token: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Token');
    expect(missing.json).toEqual({ detail: 'Authentication credentials were not provided.' });
    const unknown = await call('/v2/content/tags/?auth_token=nope', { token: null });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual({ detail: 'Invalid token.' });
    const bearer = await call('/v2/content/tags/', {
      token: null,
      headers: { authorization: `Bearer ${TEST_READ_TOKEN}` },
    });
    expect(bearer.status).toBe(401);
  });

  it('refuses the read token and the query token on writes', async () => {
    const body = { key: 'tags', fields: [{ slug: 'a', name: 'A', color: '#fff' }] };
    const readToken = await call('/v2/content/', { method: 'POST', token: TEST_READ_TOKEN, body });
    expect(readToken.status).toBe(401);
    expect(readToken.json).toEqual({ detail: 'Authentication credentials were not provided.' });
    const query = await call(`/v2/content/?auth_token=${TEST_WRITE_TOKEN}`, {
      method: 'POST',
      token: null,
      body,
    });
    expect(query.status).toBe(401);
    await em.settle();
    expect((await call('/v2/content/tags/?preview=1')).json.meta.count).toBe(0);
  });
});

describe('routing', () => {
  it('redirects slash-less GETs to the slashed URL, query kept, counted as a call', async () => {
    const r = await call(`/v2/pages/faq/about?auth_token=${TEST_READ_TOKEN}&locale=en`, { token: null });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe(`/v2/pages/faq/about/?auth_token=${TEST_READ_TOKEN}&locale=en`);
    expect(em.requestLog()).toHaveLength(1);
    expect(em.requestLog()[0]?.path).toBe('/v2/pages/faq/about?auth_token=***&locale=en');
  });

  it('redirects slash-less writes too, and 404s them when configured', async () => {
    const body = { key: 'tags', fields: [{ slug: 'a', name: 'A', color: '' }] };
    const r = await call('/v2/content', { method: 'POST', body });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe('/v2/content/');
    const strict = await startTestEmulator({ slashlessWrites: '404' });
    try {
      const s = await fetch(`${strict.url}/content`, {
        method: 'POST',
        headers: { authorization: `Token ${TEST_WRITE_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(s.status).toBe(404);
      const get = await fetch(`${strict.url}/content?auth_token=${TEST_READ_TOKEN}`, { redirect: 'manual' });
      expect(get.status).toBe(301);
    } finally {
      await strict.close();
    }
  });

  it('sends Allow headers and 405 for a wrong verb', async () => {
    const r = await call('/v2/pages/faq/about/', { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(r.json).toEqual({ detail: 'Method "DELETE" not allowed.' });
    expect(r.headers.get('allow')).toBe('GET, PUT, PATCH, HEAD, OPTIONS');
    const post = await call('/v2/content/tags/', { method: 'POST', body: {} });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await call('/v2/content/')).headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
    expect((await call('/v2/content/tags/5/', { method: 'OPTIONS' })).headers.get('allow')).toBe(
      'GET, PUT, PATCH, DELETE, HEAD, OPTIONS',
    );
  });

  it('answers HEAD without a body and OPTIONS with metadata', async () => {
    const head = await call('/v2/content/tags/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-type')).toBe('application/json');
    const options = await call('/v2/pages/faq/', { method: 'OPTIONS' });
    expect(options.status).toBe(200);
    expect(options.json.renders).toEqual(['application/json']);
  });

  it('answers unknown routes and unknown collections with 404 Not found.', async () => {
    expect((await call('/v2/nothing/')).json).toEqual({ detail: 'Not found.' });
    const missing = await call('/v2/content/nope/');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ detail: 'Not found.' });
  });

  it('answers malformed bodies with 4xx, never a crash', async () => {
    const broken = await call('/v2/content/', { method: 'POST', raw: '{"key": "tags", ' });
    expect(broken.status).toBe(400);
    expect(broken.json.detail).toMatch(/^JSON parse error/);
    const list = await call('/v2/content/', { method: 'POST', raw: '[1,2]' });
    expect(list.status).toBe(400);
    expect(list.json.non_field_errors[0]).toMatch(/got list/);
    const empty = await call('/v2/pages/', { method: 'POST', raw: '' });
    expect(empty.status).toBe(400);
    const text = await call('/v2/pages/', {
      method: 'POST',
      raw: '{}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const badPercent = await call('/v2/pages/faq/%E0%A4%A/');
    expect(badPercent.status).toBe(404);
    expect((await call('/v2/content/tags/')).status).toBe(200);
  });
});

describe('quota and faults', () => {
  it('answers 429 with Retry-After once the quota is used up', async () => {
    const limited = await startTestEmulator({ quota: 2, faults: { retryAfterSeconds: 7 } });
    try {
      const get = () => fetch(`${limited.url}/content/tags/?auth_token=${TEST_READ_TOKEN}`);
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200);
      const third = await get();
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBe('7');
      expect(await third.json()).toEqual({ detail: 'API Calls limit reached.' });
      const admin = await fetch(`${limited.origin}/__emulator/state`);
      expect(((await admin.json()) as { calls: number }).calls).toBe(3);
    } finally {
      await limited.close();
    }
  });

  it('answers a 429 burst, then recovers', async () => {
    em.setFaults({ burst429: 2, retryAfterSeconds: 3 });
    const a = await call('/v2/content/tags/');
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('3');
    expect((await call('/v2/content/tags/')).status).toBe(429);
    expect((await call('/v2/content/tags/')).status).toBe(200);
  });

  it('answers 5xx at errorRate 1', async () => {
    em.setFaults({ errorRate: 1 });
    const r = await call('/v2/content/tags/');
    expect([500, 502, 503]).toContain(r.status);
    em.setFaults({ errorRate: 0 });
    expect((await call('/v2/content/tags/')).status).toBe(200);
  });

  it('destroys the socket at resetRate 1', async () => {
    em.setFaults({ resetRate: 1 });
    await expect(call('/v2/content/tags/')).rejects.toThrow();
    expect(em.requestLog()[0]?.status).toBe(0);
  });

  it('adds latency', async () => {
    em.setFaults({ latencyMs: 150 });
    const started = performance.now();
    await call('/v2/content/tags/');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('accepts writes and silently drops them at failAfterAcceptRate 1', async () => {
    em.setFaults({ failAfterAcceptRate: 1 });
    const r = await call('/v2/content/', {
      method: 'POST',
      body: { key: 'tags', fields: [{ slug: 'x', name: 'X', color: '' }] },
    });
    expect(r.status).toBe(202);
    await em.settle();
    expect((await call('/v2/content/tags/?preview=1')).json.meta.count).toBe(0);
  });

  it('is driven over the admin routes as well, which are not logged or counted', async () => {
    const set = await fetch(`${em.origin}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ burst429: 1 }),
    });
    expect(((await set.json()) as { burst429: number }).burst429).toBe(1);
    expect((await call('/v2/content/tags/')).status).toBe(429);
    const bad = await fetch(`${em.origin}/__emulator/faults`, { method: 'POST', body: '{"nope": 1}' });
    expect(bad.status).toBe(400);
    const log = (await (await fetch(`${em.origin}/__emulator/log`)).json()) as unknown[];
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ method: 'GET', path: '/v2/content/tags/', status: 429 });
    expect((await fetch(`${em.origin}/__emulator/log`, { method: 'DELETE' })).status).toBe(204);
    expect(em.requestLog()).toHaveLength(0);
    expect((await fetch(`${em.origin}/__emulator/settle`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${em.origin}/__emulator/reset`, { method: 'POST' })).status).toBe(200);
  });

  it('logs bytes in and out and masks the token', async () => {
    await call(`/v2/content/tags/?auth_token=${TEST_READ_TOKEN}`, { token: null });
    await call('/v2/content/', {
      method: 'POST',
      body: { key: 'tags', fields: [{ slug: 'y', name: 'Y', color: '' }] },
    });
    const [read, write] = em.requestLog();
    expect(read).toMatchObject({ method: 'GET', path: '/v2/content/tags/?auth_token=***', status: 200 });
    expect(read?.bytesOut).toBeGreaterThan(10);
    expect(write).toMatchObject({ method: 'POST', status: 202, bytesOut: '{"status":"pending"}'.length });
    expect(write?.bytesIn).toBeGreaterThan(20);
    expect(JSON.stringify(em.requestLog())).not.toContain(TEST_READ_TOKEN);
  });
});
