/**
 * The rate gate every HTTP attempt passes through: p-queue in strict (sliding-window) mode, so no 1 s
 * window ever holds more starts than the configured rate, plus a queue-wide pause for 429 Retry-After.
 */

import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import PQueue from 'p-queue';

/** p-queue settings for a rate in requests per second. */
export interface RateWindow {
  intervalCap: number;
  interval: number;
}

/**
 * A fractional rate ≥ 1 is rounded down (never above the rate in any 1 s window); below 1/s the window
 * stretches so that one start per window is the rate.
 */
export function deriveRateWindow(requestsPerSecond: number): RateWindow {
  if (!(requestsPerSecond > 0) || !Number.isFinite(requestsPerSecond)) {
    throw new RangeError(`requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
  }
  if (requestsPerSecond >= 1) return { intervalCap: Math.floor(requestsPerSecond), interval: 1000 };
  return { intervalCap: 1, interval: Math.ceil(1000 / requestsPerSecond) };
}

export interface RequestQueueOptions {
  requestsPerSecond: number;
  concurrency: number;
}

/**
 * A rate- and concurrency-limited queue that can be paused as a whole (a 429 pauses everyone).
 *
 * Two p-queues: `#rate` (strict window, `intervalCap` slots) and `#http` (`concurrency`). A rate slot is held
 * from before the request starts until one interval after its answer. Strict mode alone bounds our *start*
 * times; the server counts *arrivals*, which trail starts by a varying latency (a cold connection, a busy
 * event loop), so only a slot held past the answer keeps every server-side window at or under the rate.
 */
const HOLD_MARGIN_MS = 10;

export class RequestQueue {
  readonly #rate: PQueue;
  readonly #http: PQueue;
  readonly #holdMs: number;
  readonly #disposed = new AbortController();
  #resumeTimer: NodeJS.Timeout | undefined;
  #resumeAt = 0;

  constructor(options: RequestQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
    }
    const window = deriveRateWindow(options.requestsPerSecond);
    // A few ms past the interval: timers may fire a millisecond early and clocks tick in whole ms, which
    // otherwise lets one extra arrival into a server-side window on a loaded machine.
    this.#holdMs = window.interval + HOLD_MARGIN_MS;
    this.#rate = new PQueue({ ...window, strict: true, concurrency: window.intervalCap });
    this.#http = new PQueue({ concurrency: options.concurrency });
    setMaxListeners(0, this.#disposed.signal);
  }

  /** Runs `task` when the rate, the concurrency and any pause allow; higher `priority` goes first. */
  run<T>(task: () => Promise<T>, options: { priority?: number; signal?: AbortSignal } = {}): Promise<T> {
    const priority = options.priority ?? 0;
    const signal = options.signal ? { signal: options.signal } : {};
    return new Promise<T>((resolve, reject) => {
      this.#rate
        .add(
          async () => {
            try {
              resolve(await this.#http.add(task, { priority, ...signal }));
            } catch (error) {
              reject(error);
            }
            await this.#hold();
          },
          { priority, ...signal },
        )
        .catch(reject);
    });
  }

  /** The slot stays taken `holdMs` after the answer (or until the queue is disposed). */
  #hold(): Promise<void> {
    return delay(this.#holdMs, undefined, { signal: this.#disposed.signal }).catch(() => undefined);
  }

  /** Holds every queued task for `ms` (running ones finish); a longer pause already in place wins. */
  pauseFor(ms: number): void {
    const until = Date.now() + Math.max(0, ms);
    if (until <= this.#resumeAt) return;
    this.#resumeAt = until;
    this.#rate.pause();
    this.#http.pause();
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = setTimeout(() => this.resume(), until - Date.now());
  }

  /** True while a pause from `pauseFor` is in force. */
  get paused(): boolean {
    return this.#rate.isPaused;
  }

  /** Tasks waiting for a slot plus tasks running (slots merely held after an answer do not count). */
  get depth(): number {
    return this.#rate.size + this.#http.size + this.#http.pending;
  }

  /** Ends any pause so queued tasks can drain (or fail fast on an aborted signal). */
  resume(): void {
    clearTimeout(this.#resumeTimer);
    this.#resumeTimer = undefined;
    this.#resumeAt = 0;
    this.#rate.start();
    this.#http.start();
  }

  /** Ends the pause and releases held slots at once, so no timer outlives the client. */
  dispose(): void {
    this.#disposed.abort();
    this.resume();
  }
}
