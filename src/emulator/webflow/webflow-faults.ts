import { FaultState } from '../faults.js';
import type { WebflowExtraFaults, WebflowFaults } from './webflow-types.js';

/**
 * The ButterCMS emulator's fault set (same keys, same meaning: 5xx share, dropped sockets, latency, 429 bursts,
 * accepted-then-lost writes, webhook drops and duplicates) plus what Webflow adds ("Emulator must" 13, 14).
 */

const NO_EXTRA: WebflowExtraFaults = { webhookStaleRate: 0, failNthCall: 0 };

export class WebflowFaultState {
  private readonly base: FaultState;
  private extra: WebflowExtraFaults;

  constructor(initial: Partial<WebflowFaults> = {}) {
    const { base, extra } = split(initial);
    this.base = new FaultState(base);
    this.extra = mergeExtra(NO_EXTRA, extra);
  }

  get current(): WebflowFaults {
    return { ...this.base.current, ...this.extra };
  }

  set(patch: Partial<WebflowFaults>): void {
    const { base, extra } = split(patch);
    const nextExtra = mergeExtra(this.extra, extra); // validate both before changing either
    this.base.set(base);
    this.extra = nextExtra;
  }

  reset(): void {
    this.base.reset();
    this.extra = { ...NO_EXTRA };
  }

  delayMs(): number {
    return this.base.delayMs();
  }

  decide(): ReturnType<FaultState['decide']> {
    return this.base.decide();
  }

  /** Lengthen the 429 burst by n requests (burst429AfterPost). */
  addBurst429(n: number): void {
    this.base.set({ burst429: this.base.current.burst429 + n });
  }
}

function split(patch: Partial<WebflowFaults>): {
  base: Record<string, number>;
  extra: Partial<WebflowExtraFaults>;
} {
  const base: Record<string, number> = {};
  const extra: Partial<WebflowExtraFaults> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key in NO_EXTRA) (extra as Record<string, unknown>)[key] = value;
    else base[key] = value as number;
  }
  return { base, extra };
}

function mergeExtra(current: WebflowExtraFaults, patch: Partial<WebflowExtraFaults>): WebflowExtraFaults {
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`Fault "${key}" must be a number`);
    if (key === 'webhookStaleRate') next.webhookStaleRate = Math.min(1, Math.max(0, value));
    else next.failNthCall = Math.max(0, Math.floor(value));
  }
  return next;
}
