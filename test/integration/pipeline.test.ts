import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ButterClientOptions, type CallEvent, createButterClient } from '../../src/cms/butter/index.js';
import type { CmsClient } from '../../src/cms/butter/wire-types.js';
import { SyncError } from '../../src/core/errors.js';
import { maxInWindow } from '../helpers/rate-window.js';

const READ = 'read-secret-token-123';
const WRITE = 'write-secret-token-456';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
  at: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen, index: number) => void;

interface TestServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
const clients: CmsClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close(0)));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A purpose-built ButterCMS stand-in on 127.0.0.1 that records every request it sees. */
async function startServer(handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
        at,
      };
      seen.push(entry);
      handler(req, res, entry, seen.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handle: TestServer = {
    url: `http://127.0.0.1:${port}/v2`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const page = (slug: string) => ({
  data: { slug, name: slug, published: null, updated: null, page_type: 'faq', fields: { headline: slug } },
});

function makeClient(url: string, overrides: Partial<ButterClientOptions> = {}): CmsClient {
  const client = createButterClient({
    baseUrl: url,
    readToken: READ,
    writeToken: WRITE,
    requestsPerSecond: 100,
    concurrency: 4,
    timeoutMs: 5_000,
    maxRetries: 2,
    retryBaseMs: 1,
    ...overrides,
  });
  clients.push(client);
  return client;
}

async function caught(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SyncError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('request pipeline', () => {
  it('never lets more requests than the configured rate into any 1 s window', async () => {
    const server = await startServer((_req, res) => json(res, 200, page('p')));
    const client = makeClient(server.url, { requestsPerSecond: 20, concurrency: 4 });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => client.getPage('faq', `p${i}`)));
    expect(results.every((result) => result?.slug === 'p')).toBe(true);
    expect(server.seen).toHaveLength(60);
    expect(
      maxInWindow(
        server.seen.map((s) => s.at),
        1000,
      ),
    ).toBeLessThanOrEqual(20);
    expect(client.stats().byMethodStatus).toEqual({ 'GET 200': 60 });
    expect(client.queueDepth()).toBe(0);
  });

  it('pauses the whole queue for Retry-After on a 429, then lands every request', async () => {
    let limitedAt = 0;
    const server = await startServer((_req, res, _seen, index) => {
      if (index === 2) {
        limitedAt = performance.now();
        json(res, 429, { detail: 'API Calls limit reached.' }, { 'retry-after': '1' });
        return;
      }
      json(res, 200, page('p'));
    });
    const client = makeClient(server.url, { concurrency: 1 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => client.getPage('faq', `p${i}`)));
    expect(results.every((result) => result !== null)).toBe(true);
    expect(server.seen).toHaveLength(9);
    // Nothing (neither the limited request nor any other) may start inside the pause.
    const duringPause = server.seen.filter((s) => s.at > limitedAt + 250 && s.at < limitedAt + 1000);
    expect(duringPause).toEqual([]);
    expect(server.seen.filter((s) => s.at >= limitedAt + 1000)).toHaveLength(6);
    expect(client.stats().byMethodStatus).toEqual({ 'GET 200': 8, 'GET 429': 1 });
  });

  it('re-sends a POST after a 429, since a 429 means nothing was processed', async () => {
    const server = await startServer((_req, res, _seen, index) => {
      if (index === 0) json(res, 429, { detail: 'API Calls limit reached.' }, { 'retry-after': '0' });
      else json(res, 202, { status: 'pending' });
    });
    const client = makeClient(server.url);
    const accepted = await client.createItem({ key: 'tags', status: 'draft', fields: [{ slug: 'a' }] });
    expect(accepted).toEqual({ status: 'pending' });
    expect(server.seen.map((s) => s.method)).toEqual(['POST', 'POST']);
  });

  it('throws CMS_RATE_LIMITED at once when Retry-After is longer than it will wait', async () => {
    const server = await startServer((_req, res) =>
      json(res, 429, { detail: 'API Calls limit reached.' }, { 'retry-after': '86400' }),
    );
    const client = makeClient(server.url);
    const error = await caught(client.getPage('faq', 'x'));
    expect(error.code).toBe('CMS_RATE_LIMITED');
    expect(error.retryAfterSeconds).toBe(86400);
    expect(server.seen).toHaveLength(1);
  });

  it('never re-sends a POST after a 5xx', async () => {
    const server = await startServer((_req, res) => json(res, 503, { detail: 'busy' }));
    const client = makeClient(server.url, { maxRetries: 4 });
    const error = await caught(client.createItem({ key: 'tags', status: 'draft', fields: [{ slug: 'a' }] }));
    expect(error.code).toBe('CMS_SERVER');
    expect(error.status).toBe(503);
    expect(server.seen.filter((s) => s.method === 'POST')).toHaveLength(1);
  });

  it('never re-sends a POST after the connection drops', async () => {
    const server = await startServer((req) => req.socket.destroy());
    const client = makeClient(server.url, { maxRetries: 4 });
    const error = await caught(
      client.createPage({ title: 'T', slug: 't', page_type: 'faq', status: 'draft', fields: {} }),
    );
    expect(error.code).toBe('CMS_NETWORK');
    expect(server.seen).toHaveLength(1);
    expect(client.stats().byMethodStatus).toEqual({ 'POST network': 1 });
  });

  it('bounds retries of a GET at maxRetries and then throws CMS_SERVER', async () => {
    const server = await startServer((_req, res) => json(res, 500, { detail: 'boom' }));
    const client = makeClient(server.url, { maxRetries: 3 });
    const error = await caught(client.listItems('tags'));
    expect(error.code).toBe('CMS_SERVER');
    expect(error.message).toContain('GET /v2/content/tags/');
    expect(server.seen.filter((s) => s.method === 'GET')).toHaveLength(4);
  });

  it('re-sends PATCH (absolute values, idempotent in effect) and PUT after a 5xx', async () => {
    const server = await startServer((_req, res, _seen, index) => {
      if (index % 2 === 0) json(res, 502, { detail: 'bad gateway' });
      else json(res, 202, { status: 'pending' });
    });
    const client = makeClient(server.url);
    await expect(client.patchItem('tags', 7, { fields: { name: 'x' } })).resolves.toEqual({
      status: 'pending',
    });
    await expect(client.replaceItem('tags', 7, { fields: { name: 'x' } })).resolves.toEqual({
      status: 'pending',
    });
    expect(server.seen.map((s) => s.method)).toEqual(['PATCH', 'PATCH', 'PUT', 'PUT']);
  });

  it('treats a DELETE whose retry finds the item gone as done', async () => {
    const server = await startServer((req, res, _seen, index) => {
      if (index === 0) req.socket.destroy();
      else json(res, 404, { detail: 'Not found.' });
    });
    const client = makeClient(server.url);
    await expect(client.deleteItem('tags', 7)).resolves.toBeUndefined();
    expect(server.seen.map((s) => s.method)).toEqual(['DELETE', 'DELETE']);
  });

  it('gives up after timeoutMs with CMS_TIMEOUT, once per allowed attempt', async () => {
    const server = await startServer(() => {
      // never answers
    });
    const events: CallEvent[] = [];
    const client = makeClient(server.url, { timeoutMs: 150, maxRetries: 1, onCall: (e) => events.push(e) });
    const error = await caught(client.getPage('faq', 'slow'));
    expect(error.code).toBe('CMS_TIMEOUT');
    expect(server.seen).toHaveLength(2);
    expect(events.map((e) => e.status)).toEqual(['timeout', 'timeout']);
  });

  it('does not follow a redirect and explains the trailing slash', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(301, { location: '/v2/content/' });
      res.end();
    });
    const client = makeClient(server.url);
    const error = await caught(client.createItem({ key: 'tags', status: 'draft', fields: [{ slug: 'a' }] }));
    expect(error.code).toBe('CMS_BAD_RESPONSE');
    expect(error.hint).toMatch(/trailing slash/);
    expect(server.seen).toHaveLength(1);
  });

  it('answers a non-JSON 200 with CMS_BAD_RESPONSE', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>captive portal</html>');
    });
    const client = makeClient(server.url, { maxRetries: 0 });
    const error = await caught(client.listPages('faq'));
    expect(error.code).toBe('CMS_BAD_RESPONSE');
  });

  it('puts the read token in the query, the write token only in the header, and neither in events or errors', async () => {
    const server = await startServer((req, res) => {
      if (req.method === 'GET') json(res, 401, { detail: 'Invalid token.' }, { 'www-authenticate': 'Token' });
      else json(res, 400, { title: ['You must specify a page title.'] });
    });
    const events: CallEvent[] = [];
    const client = makeClient(server.url, { onCall: (e) => events.push(e) });
    const readError = await caught(client.getPage('faq', 'x', { preview: true, locale: 'es' }));
    const writeError = await caught(
      client.updatePage('faq', 'x', { status: 'published', fields: { headline: 'h' } }, { locale: 'es' }),
    );
    const [get, patch] = server.seen;
    expect(get?.url).toBe(`/v2/pages/faq/x/?preview=1&locale=es&auth_token=${READ}`);
    expect(get?.authorization).toBeUndefined();
    expect(patch?.url).toBe('/v2/pages/faq/x/?locale=es');
    expect(patch?.authorization).toBe(`Token ${WRITE}`);
    expect(JSON.parse(patch?.body ?? '')).toEqual({ status: 'published', fields: { headline: 'h' } });
    expect(readError.code).toBe('CMS_AUTH');
    expect(writeError.code).toBe('CMS_BAD_REQUEST');
    expect(writeError.details).toEqual({ fieldErrors: { title: ['You must specify a page title.'] } });
    const visible = JSON.stringify([events, client.stats(), readError.message, writeError.message]);
    expect(visible).not.toContain(READ);
    expect(visible).not.toContain(WRITE);
    expect(events.map((e) => e.path)).toEqual([
      '/v2/pages/faq/x/?preview=1&locale=es',
      '/v2/pages/faq/x/?locale=es',
    ]);
  });

  it('refuses writes without a write token before sending anything', async () => {
    const server = await startServer((_req, res) => json(res, 202, { status: 'pending' }));
    const client = makeClient(server.url, { writeToken: undefined });
    const error = await caught(client.deleteItem('tags', 1));
    expect(error.code).toBe('MISSING_TOKEN');
    expect(server.seen).toHaveLength(0);
  });

  it('close() waits for in-flight requests, and cuts them at the deadline', async () => {
    let answerSlow: (() => void) | undefined;
    const server = await startServer((req, res) => {
      if (req.url?.includes('/hang/')) return;
      answerSlow = () => json(res, 200, page('slow'));
    });
    const client = makeClient(server.url);
    const slow = client.getPage('faq', 'slow');
    while (!answerSlow) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(client.queueDepth()).toBe(1);
    const closing = client.close(5_000);
    answerSlow();
    await expect(slow).resolves.toMatchObject({ slug: 'slow' });
    await closing;

    const second = makeClient(server.url);
    const hung = caught(second.getPage('faq', 'hang'));
    while (server.seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await second.close(50);
    expect((await hung).code).toBe('CMS_NETWORK');
    expect((await caught(second.getPage('faq', 'after'))).code).toBe('CMS_NETWORK');
  });
});
