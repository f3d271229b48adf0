import { setTimeout as delay } from 'node:timers/promises';
import type { CmsClient } from '../cms/butter/wire-types.js';
import type { CmsBackend } from '../cms/port.js';
import type { SyncConfig } from '../config/schema.js';
import type { ContentRepo } from '../git/port.js';
import type { Logger } from '../log.js';
import type { ManifestStore } from '../state/manifest-store.js';

/** Everything the engine needs, wired by the CLI (only `cli/` builds real objects). */
export interface SyncContext {
  repoDir: string;
  /** The content repository at `repoDir`: every git command the engine needs goes through it. */
  repo: ContentRepo;
  config: SyncConfig;
  /** The Butter client: the reads still go through it directly (until the read side of the port). */
  cms: CmsClient;
  /** The CMS behind the neutral port: every write goes through it. */
  backend: CmsBackend;
  store: ManifestStore;
  logger: Logger;
  now?: () => Date;
  /** Set when a stop was requested: the engine finishes the current operation and returns. */
  signal?: AbortSignal;
  /** Where a run is (the CLI draws it on a TTY); `done`/`total` count operations while applying. */
  onProgress?: (progress: SyncProgress) => void;
  /** Digest of the content model now; when the manifest was written under another one, a push becomes a full reconcile. */
  configDigest?: string;
}

/** One step of a run, for a progress line. */
export interface SyncProgress {
  phase: 'scan' | 'read-cms' | 'apply' | 'verify' | 'commit';
  done?: number;
  total?: number;
}

export function nowOf(ctx: SyncContext): Date {
  return ctx.now ? ctx.now() : new Date();
}

/** Wait `ms`, or less when `signal` aborts first; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}
