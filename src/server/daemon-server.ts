import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { PullTarget, WebhookDecoder } from '../cms/port.js';
import { SyncError } from '../core/errors.js';
import type { ConsoleRoutes } from './console.js';
import type { DaemonMetrics } from './metrics.js';

/** Readiness as `/readyz` reports it: config loaded, manifest lock held, CMS answered recently. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean | string>;
}

export interface DaemonServerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface DaemonServerOptions {
  port: number;
  /** Default 0.0.0.0 (the daemon runs in a container); tests use 127.0.0.1. */
  host?: string;
  webhookPath: string;
  /** The backend's check and decoding of deliveries (CmsBackend.webhook); undefined: the route answers 503. */
  webhook: WebhookDecoder | undefined;
  /** Why the receiver is off, for the log (default: the secret is not set); e.g. `watch --no-webhook`. */
  webhookOffReason?: string;
  /** Called after the 2xx has gone out: Butter waits 5 s, once, and never retries (butter-api.md §4). */
  onWebhook: (target: PullTarget) => void;
  readiness: () => Readiness;
  metrics: DaemonMetrics;
  logger?: DaemonServerLogger;
  /** The operator console at `/` (see console.ts); without it `/` answers 404. */
  console?: ConsoleRoutes;
}

export interface DaemonServer {
  port: number;
  close(): Promise<void>;
}

/** Webhook payloads are a few hundred bytes (butter-api.md §4, webflow-api.md §8); anything near this is not one. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

// Deliveries the backend marks `dedupe` (ButterCMS pages: same microsecond `updated`, butter-api.md §4) repeat within seconds.
const DUPLICATE_WINDOW_MS = 5_000;
const DUPLICATE_MEMORY = 256;
const CLOSE_GRACE_MS = 2_000;

const silentLogger: DaemonServerLogger = { info() {}, warn() {} };

/** Starts the daemon's HTTP endpoints: the webhook receiver, `/healthz`, `/readyz`, `/metrics`, and the console. */
export async function startDaemonServer(options: DaemonServerOptions): Promise<DaemonServer> {
  const logger = options.logger ?? silentLogger;
  const webhook = options.webhook ?? null;
  if (webhook === null) {
    logger.warn(
      { path: options.webhookPath },
      `webhook receiver disabled: ${options.webhookOffReason ?? 'BUTTER_WEBHOOK_SECRET is not set'}, so deliveries are answered 503`,
    );
  }
  const context: RequestContext = {
    options,
    logger,
    webhook,
    webhookPath: normalisePath(options.webhookPath),
    recentDeliveries: new Map(),
  };

  const server = createServer((req, res) => {
    handleRequest(context, req, res).catch((error: unknown) => {
      logger.warn({ err: errorMessage(error), path: req.url }, 'daemon server request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  // Slow or stalled clients must not pin sockets; a webhook body is tiny.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'daemon server error'));

  const host = options.host ?? '0.0.0.0';
  await listen(server, options.port, host);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  logger.info({ host, port }, 'daemon server listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        options.console?.close();
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

interface RequestContext {
  options: DaemonServerOptions;
  logger: DaemonServerLogger;
  webhook: WebhookDecoder | null;
  webhookPath: string;
  recentDeliveries: Map<string, number>;
}

async function handleRequest(
  context: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = normalisePath(new URL(req.url ?? '/', 'http://localhost').pathname);
  if (path === context.webhookPath) return handleWebhook(context, req, res);

  const isRead = req.method === 'GET' || req.method === 'HEAD';
  switch (path) {
    case '/healthz':
      if (!isRead) return sendMethodNotAllowed(res, 'GET, HEAD');
      return sendJson(res, 200, { status: 'ok' });
    case '/readyz': {
      if (!isRead) return sendMethodNotAllowed(res, 'GET, HEAD');
      const readiness = readReadiness(context.options.readiness);
      return sendJson(res, readiness.ready ? 200 : 503, readiness);
    }
    case '/metrics': {
      if (!isRead) return sendMethodNotAllowed(res, 'GET, HEAD');
      const registry = context.options.metrics.registry;
      const text = await registry.metrics();
      res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
      res.end(text);
      return;
    }
    default:
      if (context.options.console && (await context.options.console.handle(req, res, path))) return;
      return sendJson(res, 404, { error: 'not found' });
  }
}

async function handleWebhook(
  context: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { options, logger, webhook } = context;
  const record = options.metrics.recordWebhook;
  if (req.method !== 'POST') {
    record('invalid');
    return sendMethodNotAllowed(res, 'POST');
  }
  if (webhook === null) {
    record('unauthorized');
    logger.warn(
      {},
      `webhook refused: receiver disabled because ${options.webhookOffReason ?? 'BUTTER_WEBHOOK_SECRET is not set'}`,
    );
    return sendJson(res, 503, { error: 'webhook receiver not configured' }, { close: true });
  }
  // Authenticate before reading the body, so strangers cannot make us buffer anything.
  if (!webhook.admits(req.headers)) {
    record('unauthorized');
    logger.warn({ remote: req.socket.remoteAddress }, 'webhook refused: missing or wrong secret header');
    return sendJson(res, 401, { error: 'unauthorized' }, { close: true });
  }

  const body = await readBody(req, WEBHOOK_BODY_LIMIT);
  if (body === null) {
    record('invalid');
    return sendJson(res, 413, { error: 'payload too large' }, { close: true });
  }
  if (!webhook.verify(req.headers, body)) {
    record('unauthorized');
    logger.warn(
      { remote: req.socket.remoteAddress },
      'webhook refused: the signature does not match the body',
    );
    return sendJson(res, 401, { error: 'unauthorized' }, { close: true });
  }
  const decoded = webhook.decode(body);
  if (decoded.kind === 'invalid') {
    record('invalid');
    return sendJson(res, 400, { error: decoded.reason });
  }
  if (decoded.kind === 'ignored') {
    record('ignored');
    return sendJson(res, 202, { status: 'ignored' });
  }
  const { target } = decoded;
  if (decoded.dedupe && isDuplicateDelivery(context.recentDeliveries, body)) {
    record('ignored');
    return sendJson(res, 202, { status: 'duplicate' });
  }

  record('accepted');
  logger.info({ event: target.event, kind: target.kind }, 'webhook accepted');
  // 'close' fires after the response is flushed and also if the sender hung up: the delivery was
  // authenticated and parsed either way, so the pull still happens.
  res.once('close', () => {
    try {
      options.onWebhook(target);
    } catch (error) {
      logger.warn({ err: errorMessage(error), event: target.event }, 'webhook handler failed');
    }
  });
  sendJson(res, 202, { status: 'accepted' });
}

/** A body seen within the last few seconds (only for deliveries the backend marks as deduplicable). */
function isDuplicateDelivery(recent: Map<string, number>, body: Buffer): boolean {
  const now = Date.now();
  for (const [digest, expiresAt] of recent) {
    if (expiresAt > now && recent.size <= DUPLICATE_MEMORY) break;
    recent.delete(digest);
  }
  const digest = createHash('sha256').update(body).digest('hex');
  const expiresAt = recent.get(digest);
  if (expiresAt !== undefined && expiresAt > now) return true;
  recent.set(digest, now + DUPLICATE_WINDOW_MS);
  return false;
}

/** Reads the whole body, or returns null as soon as it exceeds `limit`. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function readReadiness(readiness: () => Readiness): Readiness {
  try {
    return readiness();
  } catch (error) {
    return { ready: false, checks: { readiness: `check failed: ${errorMessage(error)}` } };
  }
}

function sendMethodNotAllowed(res: ServerResponse, allow: string): void {
  sendJson(res, 405, { error: 'method not allowed' }, { allow, close: true });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: object,
  extra: { allow?: string; close?: boolean } = {},
): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  };
  if (extra.allow !== undefined) headers.Allow = extra.allow;
  // A body we did not read may still be arriving: end the connection rather than parse it as a request.
  if (extra.close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}

function normalisePath(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const message =
        error.code === 'EADDRINUSE'
          ? `Port ${port} on ${host} is already in use`
          : `Could not listen on ${host}:${port}: ${error.message}`;
      reject(
        new SyncError('USAGE', message, {
          hint: 'Set webhook.port in sync.config.json to a free port, or stop the other process.',
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
