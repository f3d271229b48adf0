import { createHmac } from 'node:crypto';
import type { ItemEvent } from './webflow-store.js';
import type { WebflowWebhookTarget, WebhookDeliveryLogEntry } from './webflow-types.js';

/**
 * Webhook deliveries as Webflow sends them (webflow-api.md §8, "Emulator must" 14): `{triggerType, payload}`,
 * signed with `x-webflow-timestamp` (Unix ms) and `x-webflow-signature` = hex HMAC-SHA256(secret, "ts:body"),
 * one delivery per locale, up to 3 retries on a non-2xx; faults drop, duplicate or replay with an old timestamp.
 */

export interface DeliveryFaults {
  dropRate: number;
  duplicateRate: number;
  staleRate: number;
}

export interface RegisteredWebhook extends WebflowWebhookTarget {
  id: string;
  siteId: string;
  workspaceId: string;
  createdOn: string;
  lastTriggered: string | null;
  filter: unknown;
}

const MAX_RETRIES = 3;
/** How old a replayed delivery's timestamp is: past the 5-minute window a receiver must enforce. */
const STALE_BY_MS = 10 * 60 * 1000;

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}:${body}`).digest('hex');
}

export class WebhookSender {
  private readonly pending = new Set<Promise<void>>();
  /** Retries waiting for their delay, with the function that ends the wait early. */
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  private closed = false;
  /** Bumped by reset/close: deliveries of an older generation stop retrying. */
  private generation = 0;
  private log: WebhookDeliveryLogEntry[] = [];

  constructor(
    private readonly options: {
      now: () => number;
      retryDelayMs: () => number;
      faults: () => DeliveryFaults;
      targets: () => WebflowWebhookTarget[];
      siteId: string;
      workspaceId: string;
    },
  ) {}

  deliveries(): WebhookDeliveryLogEntry[] {
    return this.log.map((e) => ({ ...e }));
  }

  clearLog(): void {
    this.log = [];
  }

  /** Send each event to every target that listens to its trigger. */
  fire(events: ItemEvent[]): void {
    if (this.closed) return;
    for (const event of events) {
      const payload =
        event.triggerType === 'collection_item_deleted'
          ? {
              id: event.item.id,
              siteId: this.options.siteId,
              workspaceId: this.options.workspaceId,
              collectionId: event.collectionId,
            }
          : {
              id: event.item.id,
              siteId: this.options.siteId,
              workspaceId: this.options.workspaceId,
              collectionId: event.collectionId,
              ...Object.fromEntries(Object.entries(event.item).filter(([k]) => k !== 'id')),
            };
      const body = JSON.stringify({ triggerType: event.triggerType, payload });
      for (const target of this.options.targets()) {
        if (target.triggerTypes && !target.triggerTypes.includes(event.triggerType)) continue;
        const faults = this.options.faults();
        if (Math.random() < faults.dropRate) continue;
        const copies = Math.random() < faults.duplicateRate ? 2 : 1;
        for (let i = 0; i < copies; i++) {
          const stale = Math.random() < faults.staleRate;
          this.track(this.deliver(target, event.triggerType, body, 0, stale, this.generation));
        }
      }
    }
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async deliver(
    target: WebflowWebhookTarget,
    triggerType: string,
    body: string,
    attempt: number,
    stale: boolean,
    generation: number,
  ): Promise<void> {
    if (this.closed || generation !== this.generation) return;
    const timestamp = String(this.options.now() - (stale ? STALE_BY_MS : 0));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.secretKey) {
      headers['x-webflow-timestamp'] = timestamp;
      headers['x-webflow-signature'] = signWebhook(target.secretKey, timestamp, body);
    }
    let status: number | 'error';
    try {
      const response = await fetch(target.url, { method: 'POST', headers, body, redirect: 'manual' });
      await response.arrayBuffer();
      status = response.status;
    } catch {
      status = 'error';
    }
    this.log.push({
      url: target.url,
      triggerType,
      attempt,
      status,
      timestamp,
      signed: Boolean(target.secretKey),
      body,
    });
    // §8: a non-2xx (a redirect included) is a failure; up to 3 retries.
    const failed = status === 'error' || status < 200 || status >= 300;
    if (!failed || attempt >= MAX_RETRIES || generation !== this.generation) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waits.delete(timer);
        resolve();
      }, this.options.retryDelayMs());
      this.waits.set(timer, resolve);
    });
    await this.deliver(target, triggerType, body, attempt + 1, stale, generation);
  }

  /** Forget every retry still waiting (reset, close). */
  cancelRetries(): void {
    this.generation++;
    for (const [timer, resolve] of this.waits) {
      clearTimeout(timer);
      resolve();
    }
    this.waits.clear();
  }

  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stop retrying; deliveries in flight finish. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelRetries();
    await this.settle();
  }
}
