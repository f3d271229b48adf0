import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SyncError } from '../core/errors.js';
import type { Manifest } from '../core/types.js';
import { writeFileAtomic } from './atomic-file.js';
import {
  assertStateWritable,
  type LoadedManifest,
  loadManifest,
  manifestPath,
  serializeManifest,
  stateDir,
  stateTempDir,
} from './manifest-file.js';
import {
  appendJournal,
  cutJournal,
  type JournalRecord,
  journalPath,
  resetJournal,
  snapshotId,
} from './manifest-journal.js';
import { type LockOptions, lockManifest, type ManifestLock } from './manifest-lock.js';
import { KEYED_COLLECTIONS, ManifestTracker, type TrackedChanges } from './manifest-tracking.js';

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
/** The journal is compacted into a new snapshot once it outgrows this, or half the snapshot if that is more. */
const COMPACT_MIN_BYTES = 256 * 1024;

/** What the saves of this store cost: for the state benchmark and the tests that prove saves are O(changed). */
export interface SaveStats {
  /** Saves that found nothing changed and wrote nothing. */
  skipped: number;
  appends: number;
  appendedBytes: number;
  compactions: number;
}

/**
 * The one writer of a clone's manifest (Astro's MutableDataStore idea): holds the lock, the in-memory
 * manifest, a dirty flag and a debounced, serialised save. Write-ahead callers `await save()` before
 * sending a create; everything else can `markDirty()` and let saves coalesce.
 */
export class ManifestStore {
  readonly repoDir: string;
  readonly #tracker: ManifestTracker<Manifest>;
  /** The snapshot on disk and the journal that applies to it (manifest-journal.ts). */
  #snapshot: string;
  #snapshotBytes: number;
  /** Bytes of a journal that belongs to `#snapshot`; undefined: none yet (the next append starts one). */
  #journalBytes: number | undefined;
  /** The head (every top-level key but the keyed collections) as last saved. */
  #savedHead: string;
  /** Lists of records with an `id` (pending, failed) as last saved: list → id → JSON of the item. */
  #savedLists: Map<string, Map<string, string>>;
  #generation = 0;
  /**
   * Nothing was on disk when the store opened (a new clone, or a cache someone deleted): the cache includes no
   * shared state, whatever this clone's local state ref says (state-ref.ts relies on it).
   */
  readonly startedEmpty: boolean;
  readonly stats: SaveStats = { skipped: 0, appends: 0, appendedBytes: 0, compactions: 0 };
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
    loaded: LoadedManifest,
    lock: ManifestLock,
    debounceMs: number,
    readOnly = false,
  ) {
    this.repoDir = repoDir;
    this.#tracker = new ManifestTracker(loaded.manifest);
    this.#snapshot = loaded.snapshot;
    this.#snapshotBytes = loaded.snapshotBytes;
    this.#journalBytes = loaded.journal.current ? loaded.journal.goodBytes : undefined;
    this.startedEmpty = loaded.snapshot === 'none' && loaded.journal.records.length === 0;
    const split = splitHead(loaded.manifest);
    this.#savedHead = JSON.stringify(split.head);
    this.#savedLists = diffLists(split.lists, new Map()).saved;
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
      const loaded = await loadManifest(repoDir, configDigest);
      const none: ManifestLock = { isHeld: () => false, release: async () => undefined };
      return new ManifestStore(repoDir, loaded, none, options.debounceMs ?? DEFAULT_DEBOUNCE_MS, true);
    }
    const lock = await lockManifest(repoDir, options);
    try {
      await assertStateWritable(repoDir);
      await removeOrphanedTempFiles(repoDir);
      const loaded = await loadManifest(repoDir, configDigest);
      // A save cut short by a kill never resolved, so nothing relied on it: cut it off before appending.
      if (loaded.journal.tornTail) await cutJournal(journalPath(stateDir(repoDir)), loaded.journal.goodBytes);
      return new ManifestStore(repoDir, loaded, lock, options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /**
   * The manifest the engine reads and edits in place. Writes through it are tracked (manifest-tracking.ts), so
   * a save writes only what changed.
   */
  get manifest(): Manifest {
    return this.#tracker.view;
  }

  /** The same manifest as plain objects, to serialise or copy without going through the tracking proxies. */
  get plainManifest(): Manifest {
    return this.#tracker.raw;
  }

  /** Counts the saves that wrote something: equal numbers mean nothing was saved in between. */
  get generation(): number {
    return this.#generation;
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

  /** Write now (crash-safe; nothing is written when nothing changed), after any write already in flight. */
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
    const changes = this.#tracker.take();
    try {
      await this.#persist(changes);
      this.#backgroundError = undefined;
    } catch (error) {
      this.#tracker.restore(changes);
      this.#dirty = true;
      throw error;
    }
  }

  /** One journal line with the changed entries (or a new snapshot now and then); nothing when nothing changed. */
  async #persist(changes: TrackedChanges): Promise<void> {
    const raw = this.#tracker.raw as unknown as Record<string, unknown>;
    const split = splitHead(this.#tracker.raw);
    const head = JSON.stringify(split.head);
    const lists = diffLists(split.lists, this.#savedLists);
    const headChanged = head !== this.#savedHead || lists.changed;
    if (!headChanged && changes.keys.size === 0 && changes.replaced.size === 0) {
      this.stats.skipped += 1;
      return;
    }
    const journalFile = journalPath(stateDir(this.repoDir));
    const full =
      changes.replaced.size > 0 ||
      this.#snapshot === 'none' ||
      (this.#journalBytes ?? 0) > Math.max(COMPACT_MIN_BYTES, this.#snapshotBytes / 2);
    if (full) {
      // Compaction: a new snapshot, then a new journal for it. Killed in between, the old journal names the
      // old snapshot and is ignored; its saves are in the new snapshot.
      const text = serializeManifest(this.#tracker.raw);
      const bytes = Buffer.from(text, 'utf8');
      await writeFileAtomic(manifestPath(this.repoDir), bytes);
      this.#snapshot = snapshotId(bytes);
      this.#snapshotBytes = bytes.length;
      this.#journalBytes = await resetJournal(journalFile, this.#snapshot);
      this.stats.compactions += 1;
    } else {
      if (this.#journalBytes === undefined)
        this.#journalBytes = await resetJournal(journalFile, this.#snapshot);
      const record: JournalRecord = {};
      const set: Record<string, Record<string, unknown>> = {};
      for (const [name, keys] of changes.keys) {
        const collection = (raw[name] ?? {}) as Record<string, unknown>;
        const entries: Record<string, unknown> = {};
        for (const key of keys) entries[key] = collection[key] ?? null;
        set[name] = entries;
      }
      if (changes.keys.size > 0) record.set = set;
      if (headChanged) {
        record.head = split.head;
        record.lists = lists.record;
      }
      const written = await appendJournal(journalFile, record);
      this.#journalBytes += written;
      this.stats.appends += 1;
      this.stats.appendedBytes += written;
    }
    this.#savedHead = head;
    this.#savedLists = lists.saved;
    this.#generation += 1;
    if (process.env.BUTTER_SYNC_CHECK_JOURNAL) await this.#checkOnDisk();
  }

  /**
   * Test mode (BUTTER_SYNC_CHECK_JOURNAL=1): what a fresh read of the disk gives must be the manifest in memory,
   * so a write that bypassed the tracking (see manifest-tracking.ts) fails the test that made it.
   */
  async #checkOnDisk(): Promise<void> {
    const onDisk = (await loadManifest(this.repoDir, this.#tracker.raw.configDigest)).manifest;
    const expected = serializeManifest(this.#tracker.raw);
    if (serializeManifest(onDisk) === expected) return;
    const entities = this.#tracker.raw.entities;
    const differs = Object.keys({ ...entities, ...onDisk.entities }).filter(
      (key) => JSON.stringify(entities[key]) !== JSON.stringify(onDisk.entities[key]),
    );
    throw new SyncError(
      'INTERNAL',
      `the manifest on disk differs from memory after a save (untracked write?): ${differs.slice(0, 5).join(', ') || 'head or media'}`,
    );
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
    if (/^\.manifest\.(json|journal)\..+\.tmp$/.test(name)) await rm(join(dir, name), { force: true });
  }
  const temp = stateTempDir(repoDir);
  for (const name of await readdir(temp).catch(() => [] as string[])) {
    await rm(join(temp, name), { force: true, recursive: true });
  }
}

/**
 * The head of the manifest: every top-level key but the keyed collections. Lists whose items all carry a
 * unique string `id` (pending, failed writes) are journaled item by item (a save that adds one pending write
 * to a hundred writes one, plus the order of ids); everything else in the head is small and written whole.
 */
function splitHead(manifest: Manifest): { head: Record<string, unknown>; lists: Map<string, unknown[]> } {
  const head: Record<string, unknown> = {};
  const lists = new Map<string, unknown[]>();
  for (const [key, value] of Object.entries(manifest)) {
    if (KEYED_COLLECTIONS.includes(key) || value === undefined) continue;
    if (Array.isArray(value) && hasUniqueIds(value)) lists.set(key, value);
    else head[key] = value;
  }
  return { head, lists };
}

function hasUniqueIds(items: unknown[]): boolean {
  const ids = new Set<string>();
  for (const item of items) {
    const id = (item as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || ids.has(id)) return false;
    ids.add(id);
  }
  return true;
}

/** What changed in the id-keyed lists since `saved`: the journal's `lists` part, and the new saved form. */
function diffLists(
  lists: Map<string, unknown[]>,
  saved: Map<string, Map<string, string>>,
): {
  changed: boolean;
  record: NonNullable<JournalRecord['lists']>;
  saved: Map<string, Map<string, string>>;
} {
  let changed = lists.size !== saved.size;
  const record: NonNullable<JournalRecord['lists']> = {};
  const next = new Map<string, Map<string, string>>();
  for (const [name, items] of lists) {
    const before = saved.get(name);
    if (before === undefined) changed = true;
    const now = new Map<string, string>();
    const set: Record<string, unknown> = {};
    const ids: string[] = [];
    for (const item of items) {
      const id = (item as { id: string }).id;
      const json = JSON.stringify(item);
      ids.push(id);
      now.set(id, json);
      if (before?.get(id) !== json) set[id] = item;
    }
    const beforeIds = before ? [...before.keys()] : [];
    if (
      Object.keys(set).length > 0 ||
      beforeIds.length !== ids.length ||
      beforeIds.some((id, i) => ids[i] !== id)
    )
      changed = true;
    record[name] = { ids, set };
    next.set(name, now);
  }
  return { changed, record, saved: next };
}
