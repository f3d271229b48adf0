import { setTimeout as delay } from 'node:timers/promises';
import type { CmsBackend, ReadState } from '../cms/port.js';
import type { SyncConfig } from '../config/schema.js';
import type { Manifest } from '../core/types.js';
import type { ContentRepo } from '../git/port.js';
import type { Logger } from '../log.js';
import type { ManifestStore } from '../state/manifest-store.js';
import { richTextReader } from './rich-text-map.js';

/** Everything the engine needs, wired by the CLI (only `cli/` builds real objects). */
export interface SyncContext {
  repoDir: string;
  /** The content repository at `repoDir`: every git command the engine needs goes through it. */
  repo: ContentRepo;
  config: SyncConfig;
  /** The CMS through the neutral port: every read and write, id lookup, media rule and the call counters. */
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
  /**
   * The remote the sync state is shared through (`"state": "git"`, cli/wiring.ts). Bases then can come from
   * commits other clones pushed: a push or reconcile leaves out the files this clone's branch is behind on.
   */
  sharedStateRemote?: string;
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

/** What the backend's reads need from the sync state: the manifest and its rich-text map. */
export function readState(manifest: Manifest): ReadState {
  return { manifest, readRichText: richTextReader(manifest) };
}

export function readStateOf(ctx: SyncContext): ReadState {
  return readState(ctx.store.manifest);
}
