import { type CallEvent, createButterClient, makeButterBackend } from '../cms/butter/index.js';
import type { CmsClient } from '../cms/butter/wire-types.js';
import type { CmsBackend } from '../cms/port.js';
import type { SyncConfig } from '../config/schema.js';
import { SyncError } from '../core/errors.js';
import { openContentRepo } from '../git/index.js';
import type { ContentRepo } from '../git/port.js';
import type { Logger } from '../log.js';
import { ManifestStore } from '../state/manifest-store.js';
import { SharedState } from '../state/state-ref.js';
import { SyncEngine } from '../sync/engine.js';
import { forgetSaid, sayOnce } from './notice-store.js';
import { configDigest, type GlobalOptions, loadProjectConfig, makeLogger, repoDirOf } from './project.js';
import { readSecrets } from './secrets.js';

export {
  configDigest,
  configPathOf,
  type GlobalOptions,
  loadProjectConfig,
  logFormatOf,
  makeLogger,
  repoDirOf,
} from './project.js';
export { DEFAULT_API_URL, readSecrets } from './secrets.js';

/**
 * BUTTER_API_URL, checked before any call: a value without a scheme, with a misspelt one or without the
 * `/v2` version path would otherwise surface as a stack trace, a network error or a misleading 404 (F18).
 */
export function checkApiUrl(value: string): string {
  const expected =
    'expected the form https://api.buttercms.com/v2 (or http://127.0.0.1:8790/v2 for the bundled emulator)';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SyncError('USAGE', `BUTTER_API_URL "${value}" is not a URL: ${expected}`, {
      hint: 'Fix or unset BUTTER_API_URL (unset, butter-sync uses https://api.buttercms.com/v2).',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SyncError(
      'USAGE',
      `BUTTER_API_URL "${value}" must start with https:// or http://: ${expected}`,
      {
        hint: 'Fix or unset BUTTER_API_URL (unset, butter-sync uses https://api.buttercms.com/v2).',
      },
    );
  }
  if (!/\/v2\/?$/.test(url.pathname) || url.search !== '' || url.hash !== '') {
    throw new SyncError('USAGE', `BUTTER_API_URL "${value}" must end with the API version /v2: ${expected}`, {
      hint: 'Fix or unset BUTTER_API_URL (unset, butter-sync uses https://api.buttercms.com/v2).',
    });
  }
  return value.replace(/\/$/, '');
}

export function makeCmsClient(
  config: SyncConfig,
  logger: Logger,
  needsWrite: boolean,
  observeCall?: (event: CallEvent) => void,
  stopSignal?: AbortSignal,
): CmsClient {
  const secrets = readSecrets();
  if (!secrets.readToken) {
    throw new SyncError('MISSING_TOKEN', 'BUTTER_READ_TOKEN is not set');
  }
  if (needsWrite && !secrets.writeToken) {
    throw new SyncError('MISSING_TOKEN', 'BUTTER_WRITE_TOKEN is not set (writing needs the Write API token)');
  }
  const baseUrl = checkApiUrl(secrets.apiUrl);
  return createButterClient({
    baseUrl,
    readToken: secrets.readToken,
    ...(secrets.writeToken ? { writeToken: secrets.writeToken } : {}),
    requestsPerSecond: config.rate.requestsPerSecond,
    concurrency: config.rate.concurrency,
    timeoutMs: config.rate.timeoutMs,
    maxRetries: config.rate.maxRetries,
    ...(stopSignal ? { stopSignal } : {}),
    onCall: (event) => {
      const line = {
        entity: event.entity,
        method: event.method,
        path: event.path,
        status: event.status,
        ms: Math.round(event.ms),
        bytesSent: event.bytesSent,
        bytesReceived: event.bytesReceived,
      };
      // Request-level detail: --log-level debug (the operations themselves are in the report).
      logger.debug(line, `${event.method} ${event.entity ?? event.path} -> ${event.status}`);
      observeCall?.(event);
    },
  });
}

export interface Session {
  config: SyncConfig;
  logger: Logger;
  repoDir: string;
  repo: ContentRepo;
  /** The CMS through the neutral port (reads, webhooks, counters). */
  backend: CmsBackend;
  /** ButterCMS's REST surface, for the writes until they move behind the port. */
  cms: CmsClient;
  store: ManifestStore;
  engine: SyncEngine;
  /**
   * Save the manifest and publish it to the shared state ref (`"state": "git"`); `close()` does this too.
   * `refresh`: also fetch and merge the other machines' state when this clone has nothing to publish.
   */
  publishState(options?: { refresh?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Config → client → locked manifest → engine: the only place real objects are built (Litestream's main.go idea). */
export async function openSession(
  options: GlobalOptions,
  opts: {
    needsWrite: boolean;
    /** plan / --dry-run: no lock, nothing saved (they run beside a `watch` daemon). */
    readOnly?: boolean;
    lockWaitMs?: number;
    signal?: AbortSignal;
    onCall?: (event: CallEvent) => void;
    /** `--allow-delete`: this run lifts the maxDeletePercent guard (the config keeps its limit). */
    allowDelete?: boolean;
    /** `daemon`: the log is the output (info by default); a command prints a report instead. */
    logKind?: 'command' | 'daemon';
  },
): Promise<Session> {
  const logger = makeLogger(options, opts.logKind);
  const loaded = await loadProjectConfig(options, logger);
  const config = opts.allowDelete ? { ...loaded, maxDeletePercent: 100 } : loaded;
  const repoDir = repoDirOf(options);
  const repo = openContentRepo(repoDir);
  // Issue 12: the config can name Webflow before the engine speaks it; refuse rather than talk to ButterCMS.
  if (config.cms?.kind === 'webflow') {
    throw new SyncError(
      'USAGE',
      'the Webflow backend ("cms": {"kind": "webflow"}) is not yet supported by this version',
      {
        hint: 'Only the Webflow emulator (butter-sync emulator --cms webflow) and init --from-cms webflow work today; remove "cms" or set "kind": "butter" to sync with ButterCMS.',
      },
    );
  }
  const cms = makeCmsClient(config, logger, opts.needsWrite, opts.onCall, opts.signal);
  const webhookSecret = readSecrets().webhookSecret;
  const backend = makeButterBackend(cms, config, {
    webhook: webhookSecret ? { header: config.webhook.header, secret: webhookSecret } : undefined,
  });
  const digest = configDigest(config);
  const store = await ManifestStore.open(repoDir, digest, {
    waitMs: opts.lockWaitMs ?? 0,
    readOnly: opts.readOnly ?? false,
  });
  let shared: SharedState | null = null;
  try {
    // A dry run reads the local cache only: it may not save what a merge would change.
    if (!opts.readOnly) shared = await attachSharedState(config, repo, store, digest, logger);
  } catch (error) {
    await store.close();
    throw error;
  }
  // Saved locally first: a failed publish leaves the state in the cache, and the next run publishes it.
  const publishState = async (options: { refresh?: boolean } = {}): Promise<void> => {
    await store.save();
    await shared?.publish(options);
  };
  const engine = new SyncEngine({
    repoDir,
    repo,
    config,
    backend,
    store,
    logger,
    configDigest: digest,
    ...(opts.signal ? { signal: opts.signal } : {}),
    // `watch` fetches and merges the branch itself on its own schedule (and a fetch in each of its jobs would
    // cost a round trip per job): commands and the hook check for a branch behind the remote's.
    ...(shared && opts.logKind !== 'daemon' ? { sharedStateRemote: config.pull.remote } : {}),
  });
  return {
    config,
    logger,
    repoDir,
    repo,
    backend,
    cms,
    store,
    engine,
    publishState,
    async close() {
      await backend.close(5_000);
      try {
        await publishState();
      } finally {
        await store.close();
      }
    },
  };
}

/**
 * `"state": "git"` (the default when the repository has the remote): merge the team's shared state into this
 * clone's cache before the run (DESIGN.md §3). A clone with no such remote keeps its state local; the
 * "cannot reach the remote" warning is said once until the state is published again (notice-store.ts).
 */
const UNREACHABLE = 'shared-state-unreachable';

async function attachSharedState(
  config: SyncConfig,
  repo: ContentRepo,
  store: ManifestStore,
  digest: string,
  logger: Logger,
): Promise<SharedState | null> {
  if (config.state === 'local') return null;
  const remote = config.pull.remote;
  if (!(await repo.hasRemote(remote))) {
    // Left unset, a repository without the remote keeps its state local (DESIGN.md §3).
    if (config.state === 'git') {
      throw new SyncError(
        'CONFIG_INVALID',
        `"state": "git" needs the git remote "${remote}", which this repository does not have`,
        {
          hint: `Add it (\`git remote add ${remote} <url>\`), set pull.remote to the remote you use, or set "state": "local".`,
        },
      );
    }
    return null;
  }
  return SharedState.attach(store, {
    repo,
    remote,
    identity: config.pull.author,
    configDigest: digest,
    warn: async (message) => {
      if (await sayOnce(repo.dir, UNREACHABLE, message)) {
        logger.warn(`${message} (said once, until the remote is reached again)`);
      } else logger.debug(message);
    },
    reached: () => forgetSaid(repo.dir, UNREACHABLE),
  });
}
