import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SyncError } from '../core/errors.js';
import type { Manifest } from '../core/types.js';
import { assertStateWritable, readManifest, stateDir, stateTempDir, writeManifest } from './manifest-file.js';
import { type LockOptions, lockManifest, type ManifestLock } from './manifest-lock.js';

export {
  emptyManifest,
  MANIFEST_VERSION,
  manifestPath,
  readManifest,
  serializeManifest,
  stateDir,
  stateTempDir,
  writeManifest,
} from './manifest-file.js';
export { type LockOptions, lockManifest, type ManifestLock, manifestLockPath } from './manifest-lock.js';

export interface ManifestStoreOptions extends LockOptions {
  /** A `markDirty()` is flushed to disk at most this long after it (default 200 ms). */
  debounceMs?: number;
  /**
   * `plan` and `--dry-run`: read the manifest without taking the lock and never write it, so they run beside a
   * `watch` daemon that holds the lock. Changes made in memory are dropped.
   */
  readOnly?: boolean;
}

const DEFAULT_DEBOUNCE_MS = 200;

/**
 * The one writer of a clone's manifest (Astro's MutableDataStore idea): holds the lock, the in-memory
 * manifest, a dirty flag and a debounced, serialised save. Write-ahead callers `await save()` before
 * sending a create; everything else can `markDirty()` and let saves coalesce.
 */
export class ManifestStore {
  readonly manifest: Manifest;
  readonly repoDir: string;
  readonly #lock: ManifestLock;
  readonly #debounceMs: number;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #backgroundError: unknown;
  #closed = false;
  readonly #readOnly: boolean;

  private constructor(
    repoDir: string,
    manifest: Manifest,
    lock: ManifestLock,
    debounceMs: number,
    readOnly = false,
  ) {
    this.repoDir = repoDir;
    this.manifest = manifest;
    this.#lock = lock;
    this.#debounceMs = debounceMs;
    this.#readOnly = readOnly;
  }

  /** Take the lock (MANIFEST_LOCKED if another process holds it past `waitMs`), then read the manifest. */
  static async open(
    repoDir: string,
    configDigest: string,
    options: ManifestStoreOptions = {},
  ): Promise<ManifestStore> {
    if (options.readOnly) {
      const manifest = await readManifest(repoDir, configDigest);
      const none: ManifestLock = { isHeld: () => false, release: async () => undefined };
      return new ManifestStore(repoDir, manifest, none, options.debounceMs ?? DEFAULT_DEBOUNCE_MS, true);
    }
    const lock = await lockManifest(repoDir, options);
    try {
      await assertStateWritable(repoDir);
      await removeOrphanedTempFiles(repoDir);
      const manifest = await readManifest(repoDir, configDigest);
      return new ManifestStore(repoDir, manifest, lock, options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /**
   * Schedule a save. The first mark starts the timer and later marks ride along, so a steady stream of
   * changes is still flushed every `debounceMs` instead of being postponed forever.
   */
  markDirty(): void {
    this.#assertOpen();
    if (this.#readOnly) return;
    this.#dirty = true;
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#enqueueWrite().catch((error: unknown) => {
        this.#backgroundError = error;
      });
    }, this.#debounceMs);
  }

  /** Write now (atomic; skipped when the bytes are unchanged), after any write already in flight. */
  async save(): Promise<void> {
    this.#assertOpen();
    if (this.#readOnly) return;
    this.#cancelTimer();
    // A successful write carries every change so far, so it supersedes a failed background save.
    await this.#enqueueWrite();
  }

  /** Resolve once every change marked so far is on disk; rethrows a failed background save. */
  async waitUntilSaveComplete(): Promise<void> {
    if (this.#dirty && !this.#closed) {
      await this.save();
      return;
    }
    await this.#writing.catch(() => undefined);
    this.#throwBackgroundError();
  }

  /** Final save, then release the lock (also when the save fails). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.save();
    } finally {
      this.#closed = true;
      this.#cancelTimer();
      await this.#lock.release();
    }
  }

  isLockHeld(): boolean {
    return this.#lock.isHeld();
  }

  #enqueueWrite(): Promise<void> {
    const write = this.#writing.catch(() => undefined).then(() => this.#writeNow());
    this.#writing = write;
    return write;
  }

  async #writeNow(): Promise<void> {
    if (!this.#lock.isHeld()) {
      // Another process took the lock over as stale: writing now could undo its work.
      throw new SyncError('MANIFEST_LOCKED', 'the manifest lock was lost; the manifest was not saved', {
        hint: 'Another butter-sync process took over the lock while this one stalled; restart this one.',
      });
    }
    this.#dirty = false;
    try {
      await writeManifest(this.repoDir, this.manifest);
      this.#backgroundError = undefined;
    } catch (error) {
      this.#dirty = true;
      throw error;
    }
  }

  #cancelTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #throwBackgroundError(): void {
    const error = this.#backgroundError;
    if (error === undefined) return;
    this.#backgroundError = undefined;
    throw error;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SyncError('INTERNAL', 'the manifest store is closed');
  }
}

/** Temp files of a writer that was killed mid-write; only the lock holder may remove them. */
async function removeOrphanedTempFiles(repoDir: string): Promise<void> {
  const dir = stateDir(repoDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (/^\.manifest\.json\..+\.tmp$/.test(name)) await rm(join(dir, name), { force: true });
  }
  const temp = stateTempDir(repoDir);
  for (const name of await readdir(temp).catch(() => [] as string[])) {
    await rm(join(temp, name), { force: true, recursive: true });
  }
}
