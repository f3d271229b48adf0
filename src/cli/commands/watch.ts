import { entityOfCall } from '../../cms/butter/index.js';
import type { PullTarget, SnapshotScope } from '../../cms/port.js';
import { isContentPath } from '../../content/index.js';
import { SyncError } from '../../core/errors.js';
import { type Manifest, parseEntityKey } from '../../core/types.js';
import { ConflictBaseFinder } from '../../server/conflict-base.js';
import { createConsole } from '../../server/console.js';
import { buildSnapshot, ConsoleRecorder } from '../../server/console-state.js';
import { startDaemonServer } from '../../server/daemon-server.js';
import { createDaemonMetrics } from '../../server/metrics.js';
import { SyncDaemon } from '../../sync/daemon-loop.js';

import { startFileWatcher } from '../../watch/file-watcher.js';
import { type GlobalOptions, openSession, readSecrets } from '../wiring.js';

export interface WatchFlags {
  port?: number;
  host?: string;
  /** Skip the webhook receiver (polling only). */
  noWebhook?: boolean;
  /** Skip fetching the git remote (a local-only checkout). */
  noFetch?: boolean;
}

function itemKeysById(entities: Manifest['entities']): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [key, entity] of Object.entries(entities)) {
    const ref = key.startsWith('item:') ? parseEntityKey(key) : undefined;
    if (ref?.kind === 'item' && entity.remoteId !== undefined)
      keys.set(`${ref.collection}#${entity.remoteId}`, key);
  }
  return keys;
}

/** A webhook pulls only the entity it names (every locale of it: a page's locales are read one by one). */
function scopeOfTarget(target: PullTarget): SnapshotScope {
  const none = { pageTypes: [], singlePages: [], collections: [], postList: false };
  if (target.kind === 'post') return { ...none, posts: [target.slug] };
  if (target.kind === 'item') return { ...none, items: [{ collection: target.collection, id: target.id }] };
  return { ...none, pages: [{ pageType: target.pageType, slug: target.slug }] };
}

/**
 * `watch`: the long-running daemon. Files → push; webhooks and a budget-aware poll → pull; the git
 * remote is fetched and merged when clean; the console (/), /healthz, /readyz and /metrics are served. Stops gracefully
 * on the abort signal (SIGTERM/SIGINT): watcher and timers first, the running job finishes within the
 * deadline, the manifest is flushed and its lock released.
 */
export async function runWatch(
  options: GlobalOptions,
  flags: WatchFlags,
  signal: AbortSignal,
): Promise<{ exitCode: number }> {
  const secrets = readSecrets();
  // Refuse before taking the manifest lock: an unauthenticated webhook receiver would let anyone trigger pulls.
  if (!flags.noWebhook && !secrets.webhookSecret) {
    throw new SyncError(
      'MISSING_TOKEN',
      'BUTTER_WEBHOOK_SECRET is not set, so the webhook receiver cannot check who calls it',
      {
        hint: 'Set BUTTER_WEBHOOK_SECRET (and the same value as a custom header in the ButterCMS webhook settings), or run `watch --no-webhook` to rely on polling.',
      },
    );
  }
  const metrics = createDaemonMetrics();
  const recorder = new ConsoleRecorder();
  // Call events name items by id; the console charges calls to entity keys. The id map is built on demand
  // and rebuilt once for an id it lacks (an item created by the running job).
  let entities = (): Manifest['entities'] => ({});
  let itemKeys: Map<string, string> | null = null;
  const missed = new Set<string>();
  const keyOfItem = (collection: string, id: number): string | undefined => {
    const name = `${collection}#${id}`;
    itemKeys ??= itemKeysById(entities());
    if (!itemKeys.has(name) && !missed.has(name)) {
      missed.add(name);
      itemKeys = itemKeysById(entities());
    }
    return itemKeys.get(name);
  };
  let queueDepth = (): number => 0;
  const session = await openSession(options, {
    needsWrite: true,
    signal,
    logKind: 'daemon',
    onCall: (event) => {
      metrics.recordCall(event.method, event.status);
      metrics.setQueueDepth(queueDepth());
      recorder.recordCall({ status: event.status, entity: entityOfCall(event.entity, keyOfItem) });
    },
  });
  const { config, logger, engine, store, backend } = session;
  entities = () => store.manifest.entities;
  if (secrets.consoleToken !== undefined && secrets.consoleToken.length < 16) {
    logger.warn(
      'BUTTER_SYNC_CONSOLE_TOKEN is shorter than 16 characters: whoever reaches the console could guess it. Use a long random value (e.g. `openssl rand -hex 32`).',
    );
  }

  let lastCmsOk: number | null = null;
  const lastError = new Map<string, string>();
  const daemon = new SyncDaemon(engine, {
    onReport: (report) => {
      metrics.setPending(store.manifest.pending.length);
      metrics.setConflicts(store.manifest.conflicts.length);
      metrics.setFailures(store.manifest.failed.length + store.manifest.heldBack.length);
      metrics.setCallsThisMonth(store.manifest.calls[new Date().toISOString().slice(0, 7)] ?? 0);
      if (report.mode === 'push') metrics.markPush();
      if (report.mode === 'pull') metrics.markPull();
      recorder.recordReport(report);
      itemKeys = null;
      missed.clear();
      for (const error of report.errors)
        logger.warn({ file: error.file, line: error.line, code: error.code }, error.message);
    },
    onError: (error, job) => {
      // The same failure every fetch interval (no remote, say) is said once, with what to do; repeats at debug.
      const message = `${job} failed: ${(error as Error).message}`;
      if (lastError.get(job) === message) {
        logger.debug({ job }, `${message} (again)`);
        return;
      }
      lastError.set(job, message);
      const hint =
        job === 'fetch'
          ? ` — if this clone has no remote to follow, run watch with --no-fetch (or set pull.remote / pull.fetchIntervalSeconds: 0); said once until it changes`
          : '';
      logger.error({ job }, `${message}${hint}`);
    },
    onCmsOk: () => {
      lastCmsOk = Date.now();
    },
    // Between jobs, never during one: a merge of another machine's state mid-job could drop the job's changes.
    // A fetch job (the writers' commits) also takes the other machines' state in when this one has nothing new.
    afterJob: (job) => session.publishState({ refresh: job === 'fetch' }),
  });
  // Requests in the client's pipeline plus jobs waiting in the daemon's line.
  queueDepth = () => backend.queueDepth() + daemon.depth();

  const timers: NodeJS.Timeout[] = [];
  const month = () => new Date().toISOString().slice(0, 7);
  const budgetLeft = () =>
    config.rate.monthlyCallBudget === undefined ||
    (store.manifest.calls[month()] ?? 0) < config.rate.monthlyCallBudget;
  let nextPollAt: Date | null = null;
  const bases = new ConflictBaseFinder(session.repo, config);
  const operatorConsole = createConsole({
    token: secrets.consoleToken,
    backend: {
      snapshot: () =>
        buildSnapshot({
          manifest: store.manifest,
          recorder,
          queueDepth: queueDepth(),
          nextPoll: nextPollAt,
          pollNote: budgetLeft()
            ? undefined
            : 'paused: the monthly call budget is reached (webhooks still pull)',
          monthlyCallBudget: config.rate.monthlyCallBudget,
          baseOf: (conflict) => bases.lookup(conflict, store.manifest),
        }),
      // Through the daemon's line, like every other job: the same engine path as `butter-sync resolve`.
      resolve: (path, take) => daemon.enqueueResolve(path, take),
    },
  });

  const server = await startDaemonServer({
    // BUTTER_SYNC_PORT lets the container image pin the port its HEALTHCHECK probes.
    port: flags.port ?? (Number(process.env.BUTTER_SYNC_PORT) || config.webhook.port),
    host: flags.host ?? '0.0.0.0',
    webhookPath: config.webhook.path,
    webhook: flags.noWebhook ? undefined : backend.webhook,
    ...(flags.noWebhook ? { webhookOffReason: 'watch runs with --no-webhook (polling pulls instead)' } : {}),
    onWebhook: (target) => daemon.enqueuePull(scopeOfTarget(target)),
    readiness: () => {
      const cmsRecent =
        lastCmsOk !== null && Date.now() - lastCmsOk < Math.max(600, config.pull.intervalSeconds * 3) * 1000;
      const checks = { config: true, manifestLock: store.isLockHeld(), cmsAnsweredRecently: cmsRecent };
      return { ready: checks.manifestLock && checks.cmsAnsweredRecently, checks };
    },
    metrics,
    logger,
    console: operatorConsole,
  });
  logger.info(
    { port: server.port },
    secrets.consoleToken
      ? 'console, health, metrics and webhook endpoints listening (console needs BUTTER_SYNC_CONSOLE_TOKEN)'
      : 'console, health, metrics and webhook endpoints listening (console open to loopback only: BUTTER_SYNC_CONSOLE_TOKEN is not set)',
  );

  // A file the daemon itself pulled comes back as an event too; its digests equal the base, so the push it
  // triggers sends nothing. (No time-window suppression: that would swallow a writer's real save.)
  const watcher = startFileWatcher({
    repoDir: session.repoDir,
    contentDir: config.contentDir,
    isRelevant: (rel) => isContentPath(rel, config),
    onBatch: async (batch) => {
      daemon.enqueuePush(batch.paths);
      await daemon.idle();
    },
    onError: (error) => logger.warn(`file watcher: ${error.message}`),
  });
  await watcher.ready;

  if (config.pull.intervalSeconds > 0) {
    const everyMs = config.pull.intervalSeconds * 1000;
    nextPollAt = new Date(Date.now() + everyMs);
    timers.push(
      setInterval(() => {
        nextPollAt = new Date(Date.now() + everyMs);
        if (budgetLeft()) daemon.enqueuePull();
        else logger.warn('monthly call budget reached: polling paused (webhooks still pull)');
      }, everyMs),
    );
  }
  if (!flags.noFetch && config.pull.fetchIntervalSeconds > 0) {
    timers.push(setInterval(() => daemon.enqueueFetch(), config.pull.fetchIntervalSeconds * 1000));
  }

  // Start in step: a full reconcile-like pass (push local changes, pull remote ones).
  daemon.enqueuePush();
  daemon.enqueuePull();
  if (!flags.noFetch) daemon.enqueueFetch();
  logger.info({ contentDir: config.contentDir }, 'watching for changes');
  void daemon.idle().then(() => {
    // "In step" only when it is true: what is left for a person or for later is said instead.
    const { failed, conflicts, pending } = store.manifest;
    const open = [
      conflicts.length ? `${conflicts.length} conflict(s) need a person` : '',
      failed.length ? `${failed.length} failed write(s)` : '',
      pending.length ? `${pending.length} write(s) still pending` : '',
    ].filter(Boolean);
    if (open.length === 0) logger.info('start-up sync done: files and ButterCMS in step');
    else logger.warn(`start-up sync done: ${open.join(', ')} (\`butter-sync status\` lists them)`);
  });

  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });

  logger.info('stopping: finishing the current job');
  for (const timer of timers) clearInterval(timer);
  await watcher.close();
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, 8_000).unref());
  await Promise.race([daemon.stop(), deadline]);
  await server.close();
  await backend.close(1_000);
  try {
    // Published once more after the daemon stopped (the last job's changes, if its publish failed).
    await session.publishState();
  } catch (error) {
    logger.warn(`the shared state was not published: ${(error as Error).message}; the next run publishes it`);
  }
  await store.close();
  logger.info('stopped');
  return { exitCode: 0 };
}
