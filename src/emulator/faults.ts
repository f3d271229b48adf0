import type { EmulatorFaults } from './emulator-types.js';

/** Injected failures for the daemon's retry paths: 5xx, dropped sockets, latency, 429 bursts (butter-api.md §5). */

export const NO_FAULTS: EmulatorFaults = {
  errorRate: 0,
  resetRate: 0,
  latencyMs: 0,
  latencyJitterMs: 0,
  failAfterAcceptRate: 0,
  burst429: 0,
  retryAfterSeconds: 1,
  webhookDropRate: 0,
  webhookDuplicateRate: 0,
  burst429AfterPost: 0,
};

const RATE_KEYS = [
  'errorRate',
  'resetRate',
  'failAfterAcceptRate',
  'webhookDropRate',
  'webhookDuplicateRate',
] as const;
const SERVER_ERRORS = [500, 502, 503] as const;

/** Merge a partial fault set into the current one; rates are clamped to 0..1, counts to >= 0. */
export function mergeFaults(current: EmulatorFaults, patch: Partial<EmulatorFaults>): EmulatorFaults {
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (!(key in NO_FAULTS)) throw new Error(`Unknown fault "${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`Fault "${key}" must be a number`);
    const bounded = RATE_KEYS.includes(key as (typeof RATE_KEYS)[number])
      ? Math.min(1, Math.max(0, value))
      : Math.max(0, value);
    next[key as keyof EmulatorFaults] =
      key === 'burst429' || key === 'burst429AfterPost' ? Math.floor(bounded) : bounded;
  }
  return next;
}

/** What a request suffers before it is routed. */
export type FaultDecision = { kind: 'none' } | { kind: 'reset' } | { kind: 'status'; status: number };

export class FaultState {
  current: EmulatorFaults;

  constructor(initial: Partial<EmulatorFaults> = {}) {
    this.current = mergeFaults(NO_FAULTS, initial);
  }

  set(patch: Partial<EmulatorFaults>): void {
    this.current = mergeFaults(this.current, patch);
  }

  reset(): void {
    this.current = { ...NO_FAULTS };
  }

  delayMs(): number {
    const { latencyMs, latencyJitterMs } = this.current;
    return latencyMs + (latencyJitterMs > 0 ? Math.random() * latencyJitterMs : 0);
  }

  /** Decide once per API request; a 429 burst is consumed one request at a time. */
  decide(): FaultDecision {
    if (Math.random() < this.current.resetRate) return { kind: 'reset' };
    if (this.current.burst429 > 0) {
      this.current.burst429--;
      return { kind: 'status', status: 429 };
    }
    if (Math.random() < this.current.errorRate) {
      return {
        kind: 'status',
        status: SERVER_ERRORS[Math.floor(Math.random() * SERVER_ERRORS.length)] ?? 500,
      };
    }
    return { kind: 'none' };
  }
}
