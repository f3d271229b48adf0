/**
 * One HTTP attempt after another through the rate gate: token placement, per-request timeout, no redirects,
 * retries (backoff with full jitter for idempotent methods; queue-wide pause on 429), counters and call events.
 */

import { setMaxListeners } from 'node:events';
import { createRequire } from 'node:module';
import { setTimeout as delay } from 'node:timers/promises';
import type { Agent } from 'undici';
import { SyncError } from '../../core/errors.js';
import type { CallStats } from '../port.js';
import {
  badResponse,
  butterError,
  type ForbiddenReading,
  mapHttpError,
  mapTransportError,
  parseRetryAfter,
  type RequestContext,
} from './http-errors.js';
import { RequestQueue } from './request-queue.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One per HTTP attempt (retries included), for logs and metrics; `path` never carries a token. */
export interface CallEvent {
  method: HttpMethod;
  path: string;
  status: number | 'network' | 'timeout';
  ms: number;
  bytesSent: number;
  bytesReceived: number;
  entity?: string;
}

export interface PipelineOptions {
  /** e.g. https://api.buttercms.com/v2 (a trailing slash is tolerated). */
  baseUrl: string;
  readToken: string;
  writeToken?: string | undefined;
  requestsPerSecond: number;
  concurrency: number;
  timeoutMs: number;
  /** Re-sends after a 5xx, network error or timeout (idempotent methods only). */
  maxRetries: number;
  onCall?: ((event: CallEvent) => void) | undefined;
  /** Backoff base; the n-th retry waits a random 0..base·2^(n-1) ms (capped at 30 s). Default 250. */
  retryBaseMs?: number | undefined;
  userAgent?: string | undefined;
  /** A 429 asking for a longer wait is not waited for: it throws CMS_RATE_LIMITED at once. Default 60. */
  maxRetryAfterSeconds?: number | undefined;
  /** How many 429 pauses one request may sit through before it gives up. Default 5. */
  maxRateLimitWaits?: number | undefined;
  /**
   * A stop (SIGTERM): reads in flight or queued are aborted at once, writes not yet sent are refused, and a
   * write already on the wire is let finish (its 202 must be recorded: a create cut off mid-flight may still
   * have been accepted, so it could only be looked up later, not known).
   */
  stopSignal?: AbortSignal | undefined;
}

/** A request relative to the API base; `path` must end in `/` (butter-api.md §0.2). */
export interface ApiRequest {
  method: HttpMethod;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  entity?: string;
  forbidden?: ForbiddenReading;
}

/** A 2xx answer; `body` is the parsed JSON, or undefined for an empty body (DELETE 204). */
export interface ApiResponse {
  status: number;
  body: unknown;
}

type Outcome =
  | { kind: 'ok'; response: ApiResponse }
  | { kind: 'fatal'; error: SyncError }
  | { kind: 'transient'; error: SyncError; retryAfterMs?: number }
  | { kind: 'rate-limited'; error: SyncError; waitMs: number | undefined };

const require = createRequire(import.meta.url);
let undici: typeof import('undici') | undefined;

/** undici, loaded with the first request: a run that sends none (an unchanged push) never pays its load time. */
function http(): typeof import('undici') {
  undici ??= require('undici') as typeof import('undici');
  return undici;
}

/**
 * Which methods are re-sent after a 5xx / network error / timeout. PATCH is included although undici counts
 * it as non-idempotent: our PATCH bodies only set absolute values (whole repeaters, no relative ops), so a
 * replay converges on the same state (butter-api.md §3.2, §3.4). POST never is: a create that may have been
 * accepted is looked up by the sync engine before any re-send (butter-api.md §5, §9.1).
 */
const RETRIED_ON_FAILURE: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']);
const MAX_BACKOFF_MS = 30_000;
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** The request pipeline behind the ButterCMS client; usable alone for raw API calls. */
export class RequestPipeline {
  readonly #options: PipelineOptions;
  readonly #base: URL;
  readonly #basePath: string;
  /** Made with the first request (http()). */
  #agent: Agent | undefined;
  readonly #queue: RequestQueue;
  readonly #shutdown = new AbortController();
  readonly #counts = new Map<string, number>();
  #total = 0;
  #bytesSent = 0;
  #bytesReceived = 0;
  #active = 0;
  #idleWaiters: Array<() => void> = [];
  #closed = false;
  /** Aborted on a stop, or on shutdown: what reads listen on. */
  readonly #readsStop: AbortSignal;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#readsStop = options.stopSignal
      ? AbortSignal.any([this.#shutdown.signal, options.stopSignal])
      : this.#shutdown.signal;
    // Every queued request listens on the shutdown signal; hundreds may queue at once.
    setMaxListeners(0, this.#shutdown.signal);
    setMaxListeners(0, this.#readsStop);
    this.#base = new URL(options.baseUrl.replace(/\/+$/, ''));
    this.#basePath = this.#base.pathname.replace(/\/+$/, '');
    if (!(options.timeoutMs > 0)) {
      throw new RangeError(`timeoutMs must be positive, got ${options.timeoutMs}`);
    }
    if (!Number.isInteger(options.maxRetries) || options.maxRetries < 0) {
      throw new RangeError(`maxRetries must be a non-negative integer, got ${options.maxRetries}`);
    }
    this.#queue = new RequestQueue({
      requestsPerSecond: options.requestsPerSecond,
      concurrency: options.concurrency,
    });
  }

  #dispatcher(): Agent {
    const options = this.#options;
    this.#agent ??= new (http().Agent)({
      connections: options.concurrency,
      keepAliveTimeout: 10_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
    });
    return this.#agent;
  }

  /** Sends `req` through the queue with the retry policy; resolves with a 2xx or throws a catalogue error. */
  async send(req: ApiRequest): Promise<ApiResponse> {
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    const context: RequestContext = {
      method: req.method,
      path: this.#displayPath(req),
      write,
      ...(req.forbidden ? { forbidden: req.forbidden } : {}),
    };
    if (this.#closed) {
      throw butterError(
        'CMS_NETWORK',
        `${context.method} ${context.path} was not sent: the client is closed`,
      );
    }
    if (write && !this.#options.writeToken) {
      throw new SyncError('MISSING_TOKEN', `${context.method} ${context.path} needs a write token`, {
        hint: 'Set BUTTER_WRITE_TOKEN; ButterCMS only accepts writes with the write token in the Authorization header.',
      });
    }
    if (!write && !this.#options.readToken) {
      throw butterError('MISSING_TOKEN', `${context.method} ${context.path} needs a read token`);
    }
    this.#active++;
    try {
      return await this.#sendWithRetries(req, context);
    } finally {
      this.#active--;
      if (this.#active === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  async #sendWithRetries(req: ApiRequest, context: RequestContext): Promise<ApiResponse> {
    const maxWaits = this.#options.maxRateLimitWaits ?? 5;
    let failures = 0;
    let waits = 0;
    for (;;) {
      const retrying = failures + waits > 0;
      let outcome: Outcome;
      const stop = context.write ? this.#shutdown.signal : this.#readsStop;
      try {
        outcome = await this.#queue.run(
          () =>
            context.write && this.#options.stopSignal?.aborted
              ? Promise.resolve<Outcome>({ kind: 'fatal', error: this.#stoppedError(context) })
              : this.#attempt(req, context),
          { priority: retrying ? 1 : 0, signal: stop },
        );
      } catch (error) {
        if (this.#options.stopSignal?.aborted && !context.write) throw this.#stoppedError(context, error);
        if (this.#shutdown.signal.aborted) throw this.#closedError(context, error);
        throw error;
      }
      switch (outcome.kind) {
        case 'ok':
          return outcome.response;
        case 'fatal':
          // A DELETE re-sent after a lost answer finds the item already gone: that is the wanted end state.
          if (req.method === 'DELETE' && failures > 0 && outcome.error.code === 'CMS_NOT_FOUND') {
            return { status: 204, body: undefined };
          }
          throw outcome.error;
        case 'rate-limited':
          // A 429 means the request was not processed, so every method may be re-sent (butter-api.md §5).
          if (outcome.waitMs === undefined || waits >= maxWaits) throw outcome.error;
          waits++;
          continue;
        case 'transient': {
          if (!RETRIED_ON_FAILURE.has(req.method) || failures >= this.#options.maxRetries) {
            throw outcome.error;
          }
          failures++;
          await this.#sleep(outcome.retryAfterMs ?? this.#backoffMs(failures), context);
          continue;
        }
      }
    }
  }

  async #attempt(req: ApiRequest, context: RequestContext): Promise<Outcome> {
    const write = context.write;
    const url = new URL(`${this.#basePath}${req.path}`, this.#base);
    for (const [key, value] of Object.entries(req.query ?? {})) url.searchParams.append(key, value);
    // Read token as a query param, write token ONLY in the header (butter-api.md §1.1).
    if (!write) url.searchParams.append('auth_token', this.#options.readToken);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.#options.userAgent ?? 'butter-sync',
    };
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    if (write) headers.authorization = `Token ${this.#options.writeToken}`;
    const bytesSent = payload === undefined ? 0 : Buffer.byteLength(payload);

    const timeout = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      timeout.abort();
    }, this.#options.timeoutMs);
    const signal = AbortSignal.any([timeout.signal, write ? this.#shutdown.signal : this.#readsStop]);
    const started = performance.now();
    let status: number;
    let raw: Buffer;
    let retryAfterHeader: string | undefined;
    try {
      // undici's request() never follows redirects: a 301 on a write would be replayed as a GET (§0.2).
      const res = await http().request(url, {
        method: req.method,
        headers,
        body: payload,
        dispatcher: this.#dispatcher(),
        signal,
      });
      status = res.statusCode;
      const header = res.headers['retry-after'];
      retryAfterHeader = Array.isArray(header) ? header[0] : header;
      raw = Buffer.from(await res.body.arrayBuffer());
    } catch (error) {
      const mapped = mapTransportError(error, context, timedOut);
      this.#record(
        req,
        context,
        mapped.code === 'CMS_TIMEOUT' ? 'timeout' : 'network',
        started,
        bytesSent,
        0,
      );
      if (!write && this.#options.stopSignal?.aborted && !timedOut)
        return { kind: 'fatal', error: this.#stoppedError(context, error) };
      if (this.#shutdown.signal.aborted && !timedOut)
        return { kind: 'fatal', error: this.#closedError(context, error) };
      return { kind: 'transient', error: mapped };
    } finally {
      clearTimeout(timer);
    }
    this.#record(req, context, status, started, bytesSent, raw.byteLength);

    const text = raw.toString('utf8');
    let body: unknown;
    let json = true;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        json = false;
        body = text.slice(0, 200);
      }
    }

    if (status >= 200 && status < 300) {
      // 202 and 204 are decided by the status alone: a write that was accepted must not look failed.
      if (!json && status !== 202 && status !== 204) {
        return { kind: 'fatal', error: badResponse(context, status, 'with a body that is not JSON') };
      }
      return { kind: 'ok', response: { status, body: json ? body : undefined } };
    }
    const retryAfterSeconds = parseRetryAfter(retryAfterHeader);
    if (status === 429) {
      const seconds = retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      const error = mapHttpError(status, body, context, seconds);
      if (seconds > (this.#options.maxRetryAfterSeconds ?? 60))
        return { kind: 'rate-limited', error, waitMs: undefined };
      this.#queue.pauseFor(seconds * 1000);
      return { kind: 'rate-limited', error, waitMs: seconds * 1000 };
    }
    const error = mapHttpError(status, body, context, retryAfterSeconds);
    if (status >= 500) {
      const capped =
        retryAfterSeconds !== undefined && retryAfterSeconds * 1000 <= MAX_BACKOFF_MS
          ? { retryAfterMs: retryAfterSeconds * 1000 }
          : {};
      return { kind: 'transient', error, ...capped };
    }
    return { kind: 'fatal', error };
  }

  #record(
    req: ApiRequest,
    context: RequestContext,
    status: CallEvent['status'],
    started: number,
    bytesSent: number,
    bytesReceived: number,
  ): void {
    const key = `${req.method} ${status}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    this.#total++;
    this.#bytesSent += bytesSent;
    this.#bytesReceived += bytesReceived;
    const onCall = this.#options.onCall;
    if (!onCall) return;
    try {
      onCall({
        method: req.method,
        path: context.path,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        bytesSent,
        bytesReceived,
        ...(req.entity ? { entity: req.entity } : {}),
      });
    } catch {
      // An observer's bug must not turn a landed write into a failure.
    }
  }

  #displayPath(req: ApiRequest): string {
    const query = new URLSearchParams(req.query ?? {}).toString();
    return `${this.#basePath}${req.path}${query ? `?${query}` : ''}`;
  }

  #backoffMs(failures: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, (this.#options.retryBaseMs ?? 250) * 2 ** (failures - 1));
    return Math.random() * ceiling;
  }

  /** Wait before a retry; a client closed (or, for a read, a stop) meanwhile turns the wait into an error. */
  async #sleep(ms: number, context: RequestContext): Promise<void> {
    const signal = context.write ? this.#shutdown.signal : this.#readsStop;
    try {
      await delay(ms, undefined, { signal });
    } catch {
      if (!context.write && this.#options.stopSignal?.aborted) throw this.#stoppedError(context);
      throw this.#closedError(context, signal.reason);
    }
  }

  #stoppedError(context: RequestContext, cause?: unknown): SyncError {
    return new SyncError(
      'CMS_NETWORK',
      `${context.method} ${context.path} was ${context.write ? 'not sent' : 'cut short'}: stopping`,
      { hint: 'The run was stopped (SIGTERM or Ctrl-C); the next run picks up from here.', cause },
    );
  }

  #closedError(context: RequestContext, cause: unknown): SyncError {
    return butterError('CMS_NETWORK', `${context.method} ${context.path} was cut short: the client closed`, {
      cause,
    });
  }

  /** Counters since the pipeline was made; keys like `GET 200`, `POST network`, `GET timeout`. */
  stats(): CallStats {
    return {
      byMethodStatus: Object.fromEntries([...this.#counts.entries()].sort(([a], [b]) => a.localeCompare(b))),
      total: this.#total,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
    };
  }

  /** Requests waiting, running, or sleeping before a retry. */
  queueDepth(): number {
    return this.#active;
  }

  /** Refuses new requests, waits up to `deadlineMs` for the rest, then cuts what remains and frees the pool. */
  async close(deadlineMs = 10_000): Promise<void> {
    this.#closed = true;
    if (this.#active > 0) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadlineMs));
      });
      await Promise.race([idle, deadline]);
      clearTimeout(timer);
    }
    if (this.#active > 0) {
      this.#shutdown.abort(new Error('client closed'));
      this.#queue.resume();
      await new Promise<void>((resolve) => {
        if (this.#active === 0) resolve();
        else this.#idleWaiters.push(resolve);
      });
    }
    this.#queue.dispose();
    await this.#agent?.destroy();
  }
}
