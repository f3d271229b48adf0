import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { makeButterWebhook } from '../../src/cms/butter/index.js';
import type { PullTarget, WebhookDecoder } from '../../src/cms/port.js';
import { verifyWebflowSignature } from '../../src/cms/webflow/webhook-signature.js';
import { SyncError } from '../../src/core/errors.js';
import {
  type DaemonServer,
  type DaemonServerOptions,
  type Readiness,
  startDaemonServer,
  WEBHOOK_BODY_LIMIT,
} from '../../src/server/daemon-server.js';
import { createDaemonMetrics } from '../../src/server/metrics.js';
import { ITEM_DATA, PAGE_DATA, webhookEnvelope } from '../helpers/webhook-payloads.js';

const SECRET = 's3cr3t-Shared-Value-7f1c';
const HEADER = 'X-Butter-Sync-Secret';
const PATH = '/webhooks/butter';

const PAGE_EVENT = webhookEnvelope('page.published', PAGE_DATA);
const ITEM_EVENT = webhookEnvelope('collectionitem.published', ITEM_DATA);

interface Harness {
  server: DaemonServer;
  base: string;
  targets: PullTarget[];
  logs: Array<{ level: string; obj: object; msg?: string | undefined }>;
  metrics: ReturnType<typeof createDaemonMetrics>;
  readiness: Readiness;
}

const servers: DaemonServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startHarness(overrides: Partial<DaemonServerOptions> = {}): Promise<Harness> {
  const targets: PullTarget[] = [];
  const logs: Harness['logs'] = [];
  const metrics = createDaemonMetrics({ processMetrics: false });
  const state = { readiness: { ready: true, checks: { config: true } } as Readiness };
  const server = await startDaemonServer({
    port: 0,
    host: '127.0.0.1',
    webhookPath: PATH,
    webhook: makeButterWebhook({ header: HEADER, secret: SECRET }),
    onWebhook: (target) => targets.push(target),
    readiness: () => state.readiness,
    metrics,
    logger: {
      info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
    },
    ...overrides,
  });
  servers.push(server);
  return {
    server,
    base: `http://127.0.0.1:${server.port}`,
    targets,
    logs,
    metrics,
    set readiness(value: Readiness) {
      state.readiness = value;
    },
    get readiness() {
      return state.readiness;
    },
  };
}

function postWebhook(
  h: Harness,
  body: unknown,
  headers: Record<string, string> = { [HEADER]: SECRET },
): Promise<Response> {
  return fetch(`${h.base}${PATH}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('webhook route', () => {
  it('accepts a page event with the right secret, answers 202, then hands over the parsed target', async () => {
    const h = await startHarness();
    const res = await postWebhook(h, PAGE_EVENT);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted' });
    await waitFor(() => h.targets.length === 1, 'onWebhook');
    expect(h.targets[0]).toEqual({
      kind: 'page',
      pageType: 'landing',
      slug: 'product-launch',
      locale: null,
      event: 'page.published',
    });
  });

  it('accepts a collection item event and parses the item id from itemid', async () => {
    const h = await startHarness();
    const res = await postWebhook(h, ITEM_EVENT);
    expect(res.status).toBe(202);
    await waitFor(() => h.targets.length === 1, 'onWebhook');
    expect(h.targets[0]).toEqual({
      kind: 'item',
      collection: 'products',
      id: '5678',
      locale: null,
      event: 'collectionitem.published',
      deleted: false,
    });
  });

  it.each([
    ['a wrong secret', { [HEADER]: 'not-the-secret' }],
    ['a secret differing only in case', { [HEADER]: SECRET.toUpperCase() }],
    ['a prefix of the secret', { [HEADER]: SECRET.slice(0, 5) }],
    ['the secret in another header', { 'X-API-Key': SECRET }],
    ['no secret', {}],
  ])('refuses %s with 401, calls nothing and logs neither secret nor header value', async (_, headers) => {
    const h = await startHarness();
    const res = await postWebhook(h, PAGE_EVENT, headers);
    expect(res.status).toBe(401);
    // A valid delivery afterwards: once it arrives, the refused one provably did not.
    expect((await postWebhook(h, ITEM_EVENT)).status).toBe(202);
    await waitFor(() => h.targets.length >= 1, 'the valid delivery');
    expect(h.targets.map((t) => t.kind)).toEqual(['item']);
    const logged = JSON.stringify(h.logs);
    expect(logged).not.toContain(SECRET);
    for (const value of Object.values(headers)) expect(logged).not.toContain(value);
    expect(h.logs.some((l) => l.level === 'warn' && /secret/.test(l.msg ?? ''))).toBe(true);
  });

  it('answers 400 to malformed JSON', async () => {
    const h = await startHarness();
    const res = await postWebhook(h, '{"data": {"id": ');
    expect(res.status).toBe(400);
    expect(h.targets).toEqual([]);
  });

  it('answers 202 to payloads it does not sync (blog posts) and ignores them', async () => {
    const h = await startHarness();
    const res = await postWebhook(h, {
      data: { id: 'hello-world', _id: 5678 },
      webhook: { event: 'post.published', target: 'x' },
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'ignored' });
    expect((await postWebhook(h, ITEM_EVENT)).status).toBe(202);
    await waitFor(() => h.targets.length >= 1, 'the valid delivery');
    expect(h.targets).toHaveLength(1);
  });

  it('answers 405 to other methods, with Allow: POST', async () => {
    const h = await startHarness();
    const res = await fetch(`${h.base}${PATH}`, { headers: { [HEADER]: SECRET } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    await res.arrayBuffer();
  });

  it('answers 413 to a body over 1 MiB', async () => {
    const h = await startHarness();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${h.base}${PATH}`,
        { method: 'POST', headers: { [HEADER]: SECRET, 'Content-Length': WEBHOOK_BODY_LIMIT + 1 } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      // The server answers from Content-Length alone and hangs up: a reset while we write is expected.
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
      });
      req.write(Buffer.alloc(64 * 1024, 0x20));
    });
    expect(status).toBe(413);
  });

  it('answers 413 to a chunked body that grows past 1 MiB', async () => {
    const h = await startHarness();
    const chunk = new TextEncoder().encode(' '.repeat(256 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${h.base}${PATH}`, {
      method: 'POST',
      headers: { [HEADER]: SECRET },
      body,
      duplex: 'half',
    } as RequestInit).catch((error: Error) => error);
    // Depending on timing the client sees the 413 or a reset after it: never a 2xx.
    if (res instanceof Response) expect(res.status).toBe(413);
    expect(h.targets).toEqual([]);
  });

  it('answers 503 and calls nothing when no secret is configured, and logs why', async () => {
    const h = await startHarness({ webhook: undefined });
    const res = await postWebhook(h, PAGE_EVENT);
    expect(res.status).toBe(503);
    expect(h.targets).toEqual([]);
    expect(h.logs.some((l) => l.level === 'warn' && /BUTTER_WEBHOOK_SECRET/.test(l.msg ?? ''))).toBe(true);
  });

  it('drops an identical page delivery within seconds but not repeated item deliveries', async () => {
    const h = await startHarness();
    expect((await postWebhook(h, PAGE_EVENT)).status).toBe(202);
    const again = await postWebhook(h, PAGE_EVENT);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ status: 'duplicate' });
    // Item bodies carry only a whole-second timestamp: two real edits can look identical.
    await postWebhook(h, ITEM_EVENT);
    await postWebhook(h, ITEM_EVENT);
    await waitFor(() => h.targets.length === 3, 'three handed-over targets');
    expect(h.targets.map((t) => t.kind)).toEqual(['page', 'item', 'item']);
  });

  it('keeps answering when onWebhook throws', async () => {
    const h = await startHarness({
      onWebhook: () => {
        throw new Error('engine busy');
      },
    });
    expect((await postWebhook(h, ITEM_EVENT)).status).toBe(202);
    await waitFor(() => h.logs.some((l) => l.msg === 'webhook handler failed'), 'the logged failure');
    expect((await postWebhook(h, PAGE_EVENT)).status).toBe(202);
  });

  it('accepts the path with a trailing slash and a query string', async () => {
    const h = await startHarness();
    const res = await fetch(`${h.base}${PATH}/?source=butter`, {
      method: 'POST',
      headers: { [HEADER]: SECRET },
      body: JSON.stringify(ITEM_EVENT),
    });
    expect(res.status).toBe(202);
    await waitFor(() => h.targets.length === 1, 'onWebhook');
  });

  it('refuses a body whose signature does not match (a backend that signs deliveries), and pulls nothing', async () => {
    // A signing backend (Webflow's scheme, webflow-api.md §8) over the ButterCMS payload decoder: the receiver
    // must check the body before decoding it, whatever the CMS.
    const signingSecret = 'whsec-test-0123456789';
    const butter = makeButterWebhook({ header: HEADER, secret: SECRET });
    const signed: WebhookDecoder = {
      admits: () => true,
      verify: (headers, body) => verifyWebflowSignature({ headers, rawBody: body, secret: signingSecret }).ok,
      decode: (body) => butter.decode(body),
    };
    const h = await startHarness({ webhook: signed });
    const body = JSON.stringify(PAGE_EVENT);
    const timestamp = String(Date.now());
    const sign = (text: string) =>
      createHmac('sha256', signingSecret).update(`${timestamp}:${text}`).digest('hex');
    const forged = await postWebhook(h, body, {
      'x-webflow-timestamp': timestamp,
      'x-webflow-signature': sign(`${body} `),
    });
    expect(forged.status).toBe(401);
    expect(h.targets).toEqual([]);
    expect(h.logs.some((l) => l.level === 'warn' && /signature/.test(l.msg ?? ''))).toBe(true);
    const genuine = await postWebhook(h, body, {
      'x-webflow-timestamp': timestamp,
      'x-webflow-signature': sign(body),
    });
    expect(genuine.status).toBe(202);
    await waitFor(() => h.targets.length === 1, 'onWebhook');
    expect(h.targets[0]).toMatchObject({ kind: 'page', slug: 'product-launch' });
  });
});

describe('health, readiness and metrics', () => {
  it('/healthz answers 200 {"status":"ok"}', async () => {
    const h = await startHarness();
    const res = await fetch(`${h.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 when ready and 503 with the checks when not', async () => {
    const h = await startHarness();
    h.readiness = { ready: true, checks: { config: true, manifestLock: true, cms: true } };
    const ok = await fetch(`${h.base}/readyz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual(h.readiness);

    h.readiness = { ready: false, checks: { config: true, manifestLock: false, cms: 'no answer for 300 s' } };
    const notReady = await fetch(`${h.base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual(h.readiness);
  });

  it('/readyz answers 503 when the readiness check itself throws', async () => {
    const h = await startHarness({
      readiness: () => {
        throw new Error('manifest unreadable');
      },
    });
    const res = await fetch(`${h.base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ready: false,
      checks: { readiness: 'check failed: manifest unreadable' },
    });
  });

  it('/metrics serves Prometheus text with every daemon metric and the recorded values', async () => {
    const h = await startHarness();
    h.metrics.recordCall('get', 200);
    h.metrics.recordCall('PATCH', 202);
    h.metrics.recordCall('PATCH', 202);
    h.metrics.setQueueDepth(4);
    h.metrics.setPending(3);
    h.metrics.setConflicts(2);
    h.metrics.setFailures(1);
    h.metrics.setCallsThisMonth(1234);
    h.metrics.markPull(new Date(Date.now() - 90_000));
    await postWebhook(h, ITEM_EVENT);
    await postWebhook(h, ITEM_EVENT, {});

    const res = await fetch(`${h.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('butter_sync_api_calls_total{method="GET",status="200"} 1');
    expect(text).toContain('butter_sync_api_calls_total{method="PATCH",status="202"} 2');
    expect(text).toContain('butter_sync_queue_depth 4');
    expect(text).toContain('butter_sync_pending_writes 3');
    expect(text).toContain('butter_sync_conflicts 2');
    expect(text).toContain('butter_sync_failures 1');
    expect(text).toContain('butter_sync_api_calls_this_month 1234');
    expect(text).toContain('butter_sync_webhooks_total{result="accepted"} 1');
    expect(text).toContain('butter_sync_webhooks_total{result="unauthorized"} 1');
    expect(text).toContain('butter_sync_webhooks_total{result="invalid"} 0');
    expect(text).toMatch(/butter_sync_seconds_since_last_push \d/);
    const sincePull = Number(/butter_sync_seconds_since_last_pull ([\d.]+)/.exec(text)?.[1]);
    expect(sincePull).toBeGreaterThanOrEqual(90);
  });

  it('process metrics can be switched on, and two metric sets live side by side', async () => {
    const a = createDaemonMetrics();
    const b = createDaemonMetrics();
    a.recordCall('GET', 200);
    expect(await a.registry.metrics()).toContain('butter_sync_process_cpu_user_seconds_total');
    expect(await b.registry.metrics()).not.toContain('butter_sync_api_calls_total{');
  });

  it('answers 404 to unknown paths and 405 to writes on read-only routes', async () => {
    const h = await startHarness();
    expect((await fetch(`${h.base}/nope`)).status).toBe(404);
    const res = await fetch(`${h.base}/healthz`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('lifecycle', () => {
  it('close() resolves with a keep-alive connection still open, and twice', async () => {
    const h = await startHarness();
    expect((await fetch(`${h.base}/healthz`)).status).toBe(200);
    await h.server.close();
    await h.server.close();
    await expect(fetch(`${h.base}/healthz`)).rejects.toThrow();
  });

  it('rejects with a usage error naming the port when it is taken', async () => {
    const h = await startHarness();
    const error = await startHarness({ port: h.server.port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).code).toBe('USAGE');
    expect((error as SyncError).message).toContain(String(h.server.port));
  });
});
