import type { WebhookTarget } from './emulator-types.js';

/**
 * The background queue behind every write (butter-api.md §3.0): a job is accepted (202/204) at once,
 * applied after a delay, possibly dropped without a word (§9.2), then its webhooks are POSTed once,
 * with no retry and a 5 s timeout (§4).
 */

export interface WebhookEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Applies a job to the store; returns the webhook events it caused. Throwing drops the job silently. */
export type JobApply = () => WebhookEvent[];

export interface WriteJobsOptions {
  applyDelayMs: number;
  failAfterAcceptRate: () => number;
  targets: () => WebhookTarget[];
  /** Delivery faults: share of deliveries dropped, share sent twice. */
  webhookFaults?: () => { dropRate: number; duplicateRate: number };
}

const WEBHOOK_TIMEOUT_MS = 5_000;

/** `page.all` / `page.*` subscribe to every event of the group. */
export function isSubscribed(target: WebhookTarget, event: string): boolean {
  if (!target.events || target.events.length === 0) return true;
  const group = event.split('.')[0];
  return target.events.some((e) => e === event || e === `${group}.all` || e === `${group}.*`);
}

export class WriteJobs {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly queued = new Map<NodeJS.Timeout, () => void>();
  private deliveries: Promise<void> = Promise.resolve();

  constructor(private readonly options: WriteJobsOptions) {}

  accept(apply: JobApply): void {
    let release: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.track(done);
    const timer = setTimeout(() => {
      this.queued.delete(timer);
      const dropped = Math.random() < this.options.failAfterAcceptRate();
      const events = dropped ? [] : this.runApply(apply);
      this.deliver(events).finally(release);
    }, this.options.applyDelayMs);
    this.queued.set(timer, release);
  }

  /** Deliver events caused outside the queue (dashboard edits); tracked by settle(). */
  fire(events: WebhookEvent[]): void {
    this.track(this.deliver(events));
  }

  /** Resolves once every accepted job has been applied or dropped and its webhooks sent. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Forget queued jobs (reset/close); deliveries already under way finish on their own. */
  cancelAll(): void {
    for (const [timer, release] of this.queued) {
      clearTimeout(timer);
      release();
    }
    this.queued.clear();
  }

  private runApply(apply: JobApply): WebhookEvent[] {
    try {
      return apply();
    } catch {
      // A job that no longer fits the store (e.g. its item was deleted meanwhile) fails after the 202, as on Butter.
      return [];
    }
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    promise.finally(() => this.inFlight.delete(promise));
  }

  /** Deliveries go out one at a time, in the order the changes happened, so tests see a stable sequence. */
  private deliver(events: WebhookEvent[]): Promise<void> {
    const sends = this.options
      .targets()
      .flatMap((target) =>
        events.filter((e) => isSubscribed(target, e.event)).map((event) => ({ target, event })),
      );
    const faults = this.options.webhookFaults?.() ?? { dropRate: 0, duplicateRate: 0 };
    for (const { target, event } of sends) {
      if (Math.random() < faults.dropRate) continue;
      const copies = Math.random() < faults.duplicateRate ? 2 : 1;
      for (let i = 0; i < copies; i += 1) {
        this.deliveries = this.deliveries.then(() => postWebhook(target, event));
      }
    }
    return this.deliveries;
  }
}

async function postWebhook(target: WebhookTarget, event: WebhookEvent): Promise<void> {
  const body = JSON.stringify({ data: event.data, webhook: { event: event.event, target: target.url } });
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...target.headers },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    await response.arrayBuffer();
  } catch {
    // One attempt, no retry; Butter only logs a failed delivery (§4).
  }
}
