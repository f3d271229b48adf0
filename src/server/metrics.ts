import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** How the webhook receiver disposed of one delivery. */
export type WebhookResult = 'accepted' | 'unauthorized' | 'invalid' | 'ignored';

/** The daemon's Prometheus metrics, on a registry of its own so tests (and embedders) can hold several. */
export interface DaemonMetrics {
  registry: Registry;
  recordCall(method: string, status: string | number): void;
  setQueueDepth(n: number): void;
  setPending(n: number): void;
  setConflicts(n: number): void;
  setFailures(n: number): void;
  markPush(at?: Date): void;
  markPull(at?: Date): void;
  setCallsThisMonth(n: number): void;
  recordWebhook(result: WebhookResult): void;
}

export interface DaemonMetricsOptions {
  /** Also export prom-client's process metrics (CPU, memory, event-loop lag), prefixed `butter_sync_`. Default true. */
  processMetrics?: boolean;
}

const WEBHOOK_RESULTS: readonly WebhookResult[] = ['accepted', 'unauthorized', 'invalid', 'ignored'];

/** Creates the metric set served on `/metrics`. */
export function createDaemonMetrics(options: DaemonMetricsOptions = {}): DaemonMetrics {
  const registry = new Registry();
  const registers = [registry];
  const createdAt = Date.now();
  let lastPushAt: number | undefined;
  let lastPullAt: number | undefined;

  const calls = new Counter({
    name: 'butter_sync_api_calls_total',
    help: 'CMS API calls made by this process (every call is billed, reads too).',
    labelNames: ['method', 'status'] as const,
    registers,
  });
  const queueDepth = new Gauge({
    name: 'butter_sync_queue_depth',
    help: 'Requests waiting in the CMS request queue.',
    registers,
  });
  const pending = new Gauge({
    name: 'butter_sync_pending_writes',
    help: 'Writes answered 202 that a read-back has not yet confirmed.',
    registers,
  });
  const conflicts = new Gauge({
    name: 'butter_sync_conflicts',
    help: 'Recorded conflicts waiting for `butter-sync resolve`.',
    registers,
  });
  const failures = new Gauge({
    name: 'butter_sync_failures',
    help: 'Writes that failed or were never confirmed by a read-back.',
    registers,
  });
  const callsThisMonth = new Gauge({
    name: 'butter_sync_api_calls_this_month',
    help: 'CMS API calls counted against this month’s budget.',
    registers,
  });
  // Until the first push/pull the age is measured from process start, so "no pull for an hour" alerts
  // also fire for a daemon that never managed a first pull.
  new Gauge({
    name: 'butter_sync_seconds_since_last_push',
    help: 'Seconds since the last successful push (since start if none yet).',
    registers,
    collect() {
      this.set(secondsSince(lastPushAt ?? createdAt));
    },
  });
  new Gauge({
    name: 'butter_sync_seconds_since_last_pull',
    help: 'Seconds since the last successful pull (since start if none yet).',
    registers,
    collect() {
      this.set(secondsSince(lastPullAt ?? createdAt));
    },
  });
  const webhooks = new Counter({
    name: 'butter_sync_webhooks_total',
    help: 'Webhook deliveries received, by outcome.',
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of WEBHOOK_RESULTS) webhooks.inc({ result }, 0);

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'butter_sync_' });

  return {
    registry,
    recordCall: (method, status) => calls.inc({ method: method.toUpperCase(), status: String(status) }),
    setQueueDepth: (n) => queueDepth.set(n),
    setPending: (n) => pending.set(n),
    setConflicts: (n) => conflicts.set(n),
    setFailures: (n) => failures.set(n),
    markPush: (at = new Date()) => {
      lastPushAt = at.getTime();
    },
    markPull: (at = new Date()) => {
      lastPullAt = at.getTime();
    },
    setCallsThisMonth: (n) => callsThisMonth.set(n),
    recordWebhook: (result) => webhooks.inc({ result }),
  };
}

function secondsSince(epochMs: number): number {
  return Math.max(0, Math.round((Date.now() - epochMs) / 100) / 10);
}
