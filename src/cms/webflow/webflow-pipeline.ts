import { setTimeout as delay } from 'node:timers/promises';
import PQueue from 'p-queue';
import { Agent, request } from 'undici';
import { type ErrorCode, SyncError } from '../../core/errors.js';

/**
 * The HTTP pipeline of the Webflow adapter (webflow-api.md §5, §10): every request passes a p-queue gate that
 * spaces starts evenly over the per-token minute budget (60 or 120 per minute), reads `X-RateLimit-Remaining`
 * on every answer and pauses the whole queue when it reaches 0 (the token is shared with someone else), and
 * pauses for `Retry-After` on a 429, then sends the same request again. It is self-contained, not the ButterCMS
 * pipeline, because Webflow counts per minute and per token, answers JSON error bodies, and a create must never
 * be re-sent after a 5xx (a taken slug is suffixed, so a blind retry duplicates the item, §2.5).
 */

export type WebflowMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface WebflowPipelineOptions {
  /** e.g. https://api.webflow.com/v2, or the emulator's http://127.0.0.1:PORT/v2 (WEBFLOW_API_URL). */
  baseUrl: string;
  /** From WEBFLOW_TOKEN only; never logged, never in an error. */
  token: string;
  /** The plan's budget per token: 60 (Starter, Basic; the default, so an unknown plan is never overrun) or 120. */
  requestsPerMinute?: number;
  /** Length of the budget window; 60 000 on Webflow (tests shrink it together with the emulator's clock). */
  windowMs?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** Re-sends after a 5xx, a network error or a timeout: GET, PATCH and DELETE only, never POST. Default 2. */
  maxRetries?: number;
  /** A 429 asking for a longer wait throws CMS_RATE_LIMITED at once (the caller exits 75). Default 120. */
  maxRetryAfterSeconds?: number;
  /** How many 429 pauses one request sits through before it gives up. Default 5. */
  maxRateLimitWaits?: number;
  onCall?: (event: WebflowCallEvent) => void;
  /** Added to each slice of the minute (see the constructor). Default 100 ms. */
  sliceMarginMs?: number;
}

export interface WebflowCallEvent {
  method: WebflowMethod;
  path: string;
  status: number | 'network' | 'timeout';
  ms: number;
  remaining: number | undefined;
}

export interface WebflowRequest {
  method: WebflowMethod;
  /** Relative to the base, no leading or trailing slash: `collections/{id}/items` (§0 Paths). */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
}

export interface WebflowResponse {
  status: number;
  /** Parsed JSON; undefined for a 204. */
  body: unknown;
}

const RETRY_BASE_MS = 250;

export class WebflowPipeline {
  private readonly queue: PQueue;
  private readonly agent: Agent;
  private readonly base: string;
  private readonly windowMs: number;
  private resumeAt = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private readonly perMinute: number;
  /** Start times of our recent attempts, to tell our own use of the budget from another client's. */
  private readonly starts: number[] = [];

  constructor(private readonly options: WebflowPipelineOptions) {
    const perMinute = options.requestsPerMinute ?? 60;
    if (!Number.isInteger(perMinute) || perMinute < 1) {
      throw new RangeError(`requestsPerMinute must be a positive integer, got ${perMinute}`);
    }
    this.perMinute = perMinute;
    this.windowMs = options.windowMs ?? 60_000;
    this.base = options.baseUrl.replace(/\/+$/, '');
    // The minute is cut into k slices of cap = limit/k starts each, in p-queue's strict (sliding) mode: any
    // window of k slices then holds at most k·cap = limit starts, however Webflow cuts its minute. Slices
    // (6 starts per 6 s at 60/min) rather than one start per second keep late timers from costing throughput,
    // and bursts stay small. A margin per slice absorbs jitter between our start and Webflow's count (a slow
    // connect of the first request of a minute): 100 ms of a 6 s slice keeps 98% of the budget.
    const slices = largestDivisorUpTo(perMinute, 10);
    this.queue = new PQueue({
      concurrency: options.concurrency ?? 4,
      intervalCap: perMinute / slices,
      interval: Math.ceil(this.windowMs / slices) + (options.sliceMarginMs ?? 100),
      strict: true,
    });
    this.agent = new Agent({ connections: options.concurrency ?? 4 });
  }

  /** Send one request; a non-2xx becomes a SyncError carrying Webflow's code and message (§6). */
  async send(req: WebflowRequest): Promise<WebflowResponse> {
    let retries = 0;
    let rateWaits = 0;
    for (;;) {
      const outcome = await this.queue.add(() => this.attempt(req));
      if (outcome.kind === 'ok') return outcome.response;
      if (outcome.kind === 'rate-limited') {
        const max = this.options.maxRetryAfterSeconds ?? 120;
        if (outcome.waitMs > max * 1000 || rateWaits >= (this.options.maxRateLimitWaits ?? 5))
          throw outcome.error;
        rateWaits++;
        // A 429 is answered before the request is processed, so re-sending it (a POST too) cannot duplicate.
        this.pauseFor(outcome.waitMs);
        continue;
      }
      if (outcome.kind === 'transient' && req.method !== 'POST' && retries < (this.options.maxRetries ?? 2)) {
        retries++;
        await delay(Math.random() * RETRY_BASE_MS * 2 ** (retries - 1));
        continue;
      }
      throw outcome.error;
    }
  }

  private ownStartsInWindow(): number {
    const since = Date.now() - this.windowMs;
    return this.starts.filter((t) => t > since).length;
  }

  /** Hold every queued request until `ms` from now (a later resume time wins). */
  private pauseFor(ms: number): void {
    const until = Date.now() + ms;
    if (until <= this.resumeAt) return;
    this.resumeAt = until;
    this.queue.pause();
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      this.resumeAt = 0;
      this.queue.start();
    }, ms);
  }

  private async attempt(
    req: WebflowRequest,
  ): Promise<
    | { kind: 'ok'; response: WebflowResponse }
    | { kind: 'rate-limited'; error: SyncError; waitMs: number }
    | { kind: 'transient' | 'fatal'; error: SyncError }
  > {
    const url = new URL(`${this.base}/${req.path}`);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    const started = Date.now();
    this.starts.push(started);
    if (this.starts.length > 4 * this.perMinute)
      this.starts.splice(0, this.starts.length - 2 * this.perMinute);
    const text = req.body === undefined ? undefined : JSON.stringify(req.body);
    const where = `${req.method} /${req.path}`;
    let status: number;
    let raw: string;
    let headers: Record<string, string | string[] | undefined>;
    try {
      const response = await request(url, {
        method: req.method,
        dispatcher: this.agent,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          accept: 'application/json',
          ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(text !== undefined ? { body: text } : {}),
        headersTimeout: this.options.timeoutMs ?? 30_000,
        bodyTimeout: this.options.timeoutMs ?? 30_000,
      });
      status = response.statusCode;
      headers = response.headers;
      raw = await response.body.text();
    } catch (error) {
      const timeout = /timeout/i.test((error as Error).name ?? '') || /timeout/i.test(String(error));
      this.options.onCall?.({
        method: req.method,
        path: req.path,
        status: timeout ? 'timeout' : 'network',
        ms: Date.now() - started,
        remaining: undefined,
      });
      const code: ErrorCode = timeout ? 'CMS_TIMEOUT' : 'CMS_NETWORK';
      return {
        kind: 'transient',
        error: new SyncError(
          code,
          `${where}: ${timeout ? 'no answer in time' : 'network error'} from Webflow`,
          {
            cause: error,
          },
        ),
      };
    }
    const remainingHeader = headerValue(headers, 'x-ratelimit-remaining');
    const remaining = remainingHeader === undefined ? undefined : Number(remainingHeader);
    this.options.onCall?.({
      method: req.method,
      path: req.path,
      status,
      ms: Date.now() - started,
      remaining,
    });
    // §5: the budget is spent. If our own starts spent it, the sliding gate already holds the next one back;
    // if fewer of ours are in the window, someone else shares the token (or the plan is smaller than
    // configured): wait a whole window before the next start rather than meet a 429.
    const limitHeader = Number(headerValue(headers, 'x-ratelimit-limit'));
    const limit = Number.isInteger(limitHeader) && limitHeader > 0 ? limitHeader : this.perMinute;
    const gateHolds = this.perMinute <= limit && this.ownStartsInWindow() >= limit;
    if (remaining === 0 && status !== 429 && !gateHolds) this.pauseFor(this.windowMs);
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return {
          kind: status >= 500 ? 'transient' : 'fatal',
          error: new SyncError(
            'CMS_BAD_RESPONSE',
            `${where}: Webflow answered ${status} with a body that is not JSON`,
            {
              status,
            },
          ),
        };
      }
    }
    if (status >= 200 && status < 300) return { kind: 'ok', response: { status, body } };
    const { code, message } = errorFields(body);
    const text429 = `${where}: Webflow answered ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
    if (status === 429) {
      const retryAfter = parseRetryAfterMs(headerValue(headers, 'retry-after'));
      const waitMs = retryAfter ?? this.windowMs;
      return {
        kind: 'rate-limited',
        waitMs,
        error: new SyncError('CMS_RATE_LIMITED', text429, {
          status,
          retryAfterSeconds: Math.ceil(waitMs / 1000),
        }),
      };
    }
    const mapped: ErrorCode =
      status === 401 || status === 403
        ? 'CMS_AUTH'
        : status === 404
          ? 'CMS_NOT_FOUND'
          : status >= 500
            ? 'CMS_SERVER'
            : 'CMS_BAD_REQUEST';
    const error = new SyncError(mapped, text429, { status, details: { code, body } });
    return { kind: status >= 500 ? 'transient' : 'fatal', error };
  }

  async close(): Promise<void> {
    clearTimeout(this.resumeTimer);
    this.queue.clear();
    this.queue.start();
    await this.queue.onIdle();
    await this.agent.close();
  }
}

function largestDivisorUpTo(n: number, max: number): number {
  for (let d = Math.min(n, max); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `Retry-After` in seconds or as an HTTP date (§5: "typically 60 seconds"). */
export function parseRetryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** §6: `{message, code, externalReference, details}`. */
function errorFields(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  return {
    ...(typeof b.code === 'string' ? { code: b.code } : {}),
    ...(typeof b.message === 'string' ? { message: b.message } : {}),
  };
}
