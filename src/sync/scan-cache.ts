import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, type Stats } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SyncConfig } from '../config/schema.js';
import { type FileLocation, readContentFile } from '../content/index.js';
import { stringifyStable } from '../core/digest.js';
import { SyncError } from '../core/errors.js';
import type { LocalDigestEntry } from '../core/local-digests.js';
import type { LocalVariant, Variant } from '../core/types.js';
import { writeFileAtomic } from '../state/atomic-file.js';
import { stateDir } from '../state/manifest-file.js';

/** File name of the scan cache inside `.butter-sync/` (git-ignored, local to the clone like the manifest). */
export const SCAN_CACHE_FILE = 'scan-cache.json';

/**
 * A file whose mtime or ctime lies this close to the moment it was stat'ed is not cached: a second
 * write in the same timestamp tick (2 s on FAT, a jiffy on ext4) would keep the same stamp ("racy git").
 */
export const RACY_WINDOW_MS = 2_000;

/**
 * Bump when the cache's shape changes. 2: the parsed values moved to their own file (SCAN_VALUES_FILE), so a run
 * over an unchanged tree loads only stamps, locations and digests.
 */
const FORMAT = 2;

/** File name of the parsed values beside the scan cache, read only when a run needs a cached file's values. */
export const SCAN_VALUES_FILE = 'scan-values.json';

/** What identifies one version of a file without reading it. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** One file in the index (scan-cache.json): what a run over unchanged files needs, without the values. */
interface IndexEntry extends FileStamp {
  /** The planner's digests of the variant and the media lookups they depend on (core/local-digests.ts). */
  digests?: LocalDigestEntry;
  /** The entity and locale the file holds (locateVariant: a function of the path, the variant and the config). */
  location?: FileLocation;
}

/** One file's parsed values (scan-values.json), with the stamp they were parsed at. */
interface ValueEntry extends FileStamp {
  variant: LocalVariant;
}

interface CacheData<T> {
  format: number;
  /** Digest of the tool version and the config: a parse under other rules is never reused. */
  key: string;
  files: Record<string, T>;
}

export function stampOf(stats: Stats): FileStamp {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

function stampPart(stamp: FileStamp): FileStamp {
  return { size: stamp.size, mtimeMs: stamp.mtimeMs, ctimeMs: stamp.ctimeMs, ino: stamp.ino };
}

/** True when the file changed so recently (or in the future) that an equal stamp proves nothing. */
export function isRacy(stamp: FileStamp, statAt: number): boolean {
  return Math.max(stamp.mtimeMs, stamp.ctimeMs) > statAt - RACY_WINDOW_MS;
}

/** Values that survive JSON unchanged; anything else (TOML dates, bigints, NaN, -0) is re-read every scan. */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value).every(isPlainJson);
}

let toolVersion: string | undefined;

function readToolVersion(): string {
  if (toolVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: string;
      };
      toolVersion = pkg.version ?? 'unknown';
    } catch {
      toolVersion = 'unknown';
    }
  }
  return toolVersion;
}

function cacheKey(config: SyncConfig): string {
  return createHash('sha256')
    .update(`${FORMAT}\u0000${readToolVersion()}\u0000${stringifyStable(config)}`)
    .digest('hex')
    .slice(0, 32);
}

export function scanCachePath(repoDir: string): string {
  return path.join(stateDir(repoDir), SCAN_CACHE_FILE);
}

export function scanValuesPath(repoDir: string): string {
  return path.join(stateDir(repoDir), SCAN_VALUES_FILE);
}

/**
 * Values parsed since the values file was last written, beside it: a run that changed a few files writes these
 * (small) instead of reading and rewriting every value (at 10k files, 13 MB read and written, +70 MB peak).
 */
export const SCAN_RECENT_FILE = 'scan-values-recent.json';

export function scanRecentPath(repoDir: string): string {
  return path.join(stateDir(repoDir), SCAN_RECENT_FILE);
}

/** The recent values are folded into the values file once they are this many, or a tenth of the files. */
const RECENT_MAX = 1_000;

/** A cache file's entries, or undefined when it is missing, unreadable, foreign or of another format. */
function readCacheFile<T>(file: string, key: string): Map<string, T> | undefined {
  try {
    return parseCacheData<T>(readFileSync(file, 'utf8'), key);
  } catch {
    return undefined;
  }
}

/** The files of a cache written under this key; undefined when missing, unreadable, foreign or of another format. */
function parseCacheData<T>(text: string, key: string): Map<string, T> | undefined {
  const data = JSON.parse(text) as Partial<CacheData<T>>;
  if (data.format !== FORMAT || data.key !== key || !data.files || typeof data.files !== 'object')
    return undefined;
  return new Map(Object.entries(data.files));
}

function serializeCache<T>(key: string, files: Map<string, T>): string {
  const sorted: Record<string, T> = {};
  for (const relPath of [...files.keys()].sort()) sorted[relPath] = files.get(relPath)!;
  const data: CacheData<T> = { format: FORMAT, key, files: sorted };
  return JSON.stringify(data);
}

/**
 * What each content file parsed to, keyed by its stat stamp, so a full scan of an unchanged tree stats
 * files instead of reading and parsing them (the Astro glob loader's digest skip, one step earlier).
 * Entries are only ever used when size, mtime, ctime and inode all still match, and racy entries are
 * never stored, so an edited file is always re-read. Losing or corrupting the file only costs a re-read.
 *
 * Two files (issue 14: a no-change push at 10k entities in < 150 MB): the index (stamp, location, digests) is
 * read every full scan; the parsed values are read only when the run first touches a cached file's values (the
 * planner skips settled entities by their digests, so an unchanged tree never does). A cached file's variant is
 * handed out as an object whose `fields` and `meta` load on first access; the value is the one parsed at that
 * same stamp, exactly what the cache returned before the split.
 */
export class ScanCache {
  #index: Map<string, IndexEntry>;
  #indexDirty = false;
  /** The values file, once loaded; until then only `#fresh` parses and `#dropped` paths are known. */
  #values: Map<string, ValueEntry> | undefined;
  #fresh = new Map<string, ValueEntry>();
  #dropped = new Set<string>();
  #valuesDirty = false;

  private constructor(
    private readonly repoDir: string,
    private readonly config: SyncConfig,
    private readonly key: string,
    index: Map<string, IndexEntry>,
  ) {
    this.#index = index;
  }

  /** Load the cache of a clone; a missing, unreadable or foreign (other config/version) file is an empty cache. */
  static async load(repoDir: string, config: SyncConfig): Promise<ScanCache> {
    const file = scanCachePath(repoDir);
    const key = cacheKey(config);
    await removeStaleTempFiles(path.dirname(file));
    let index: Map<string, IndexEntry> | undefined;
    let stale = false;
    try {
      index = parseCacheData<IndexEntry>(await readFile(file, 'utf8'), key);
      stale = index === undefined;
    } catch (error) {
      stale = (error as NodeJS.ErrnoException).code !== 'ENOENT';
    }
    const cache = new ScanCache(repoDir, config, key, index ?? new Map());
    cache.#indexDirty = stale;
    return cache;
  }

  get size(): number {
    return this.#index.size;
  }

  /** The variant parsed from this exact version of the file, or undefined when it must be read. */
  lookup(relPath: string, stamp: FileStamp): LocalVariant | undefined {
    const entry = this.#index.get(relPath);
    if (!entry || !sameStamp(entry, stamp)) return undefined;
    const known = this.#fresh.get(relPath) ?? this.#values?.get(relPath);
    if (known) return sameStamp(known, stamp) && known.variant?.path === relPath ? known.variant : undefined;
    if (this.#values !== undefined) return undefined;
    return this.#lazyVariant(relPath, stampPart(stamp));
  }

  /** Remember a fresh parse; racy stamps and values JSON would alter are forgotten instead. */
  remember(relPath: string, stamp: FileStamp, statAt: number, variant: LocalVariant): void {
    const cacheable =
      !isRacy(stamp, statAt) && isPlainJson(variant.fields) && isPlainJson({ ...variant.meta });
    if (!cacheable) {
      this.forget(relPath);
      return;
    }
    this.#index.set(relPath, stampPart(stamp));
    this.#indexDirty = true;
    const entry = { ...stampPart(stamp), variant };
    this.#dropped.delete(relPath);
    if (this.#values) this.#values.set(relPath, entry);
    else this.#fresh.set(relPath, entry);
    this.#valuesDirty = true;
  }

  /** The location kept with a file's entry (valid only while lookup() finds the entry). */
  locationOf(relPath: string): FileLocation | undefined {
    return this.#index.get(relPath)?.location;
  }

  /** Keep where a cached file's variant belongs, so the next scan need not work it out from the path again. */
  rememberLocation(relPath: string, location: FileLocation): void {
    const entry = this.#index.get(relPath);
    if (!entry || entry.location === location) return;
    entry.location = location;
    this.#indexDirty = true;
  }

  /** The digests kept with a file's entry (valid only while lookup() finds the entry). */
  digestsOf(relPath: string): LocalDigestEntry | undefined {
    return this.#index.get(relPath)?.digests;
  }

  /** Keep the planner's digests with a cached file, so the next run need not make them. */
  rememberDigests(relPath: string, digests: LocalDigestEntry): void {
    const entry = this.#index.get(relPath);
    if (!entry || entry.digests === digests) return;
    entry.digests = digests;
    this.#indexDirty = true;
  }

  forget(relPath: string): void {
    if (this.#index.delete(relPath)) this.#indexDirty = true;
    this.#fresh.delete(relPath);
    if (this.#values) {
      if (this.#values.delete(relPath)) this.#valuesDirty = true;
    } else {
      this.#dropped.add(relPath);
      this.#valuesDirty = true;
    }
  }

  /** After a full scan: drop the files that no longer exist. */
  retainOnly(seen: Set<string>): void {
    for (const relPath of this.#index.keys()) {
      if (!seen.has(relPath)) this.forget(relPath);
    }
  }

  /** Write atomically, and only when something changed; false when nothing was written. */
  async save(): Promise<boolean> {
    let written = false;
    if (this.#valuesDirty && this.#values === undefined && existsSync(scanValuesPath(this.repoDir))) {
      // Values never needed in this run: this run's parses join the recent ones, the values file stays as it is
      // (what it still holds for a dropped or re-parsed file no index entry vouches for any more).
      const recent = readCacheFile<ValueEntry>(scanRecentPath(this.repoDir), this.key) ?? new Map();
      for (const relPath of this.#dropped) recent.delete(relPath);
      for (const [relPath, entry] of this.#fresh) recent.set(relPath, entry);
      for (const relPath of recent.keys()) if (!this.#index.has(relPath)) recent.delete(relPath);
      if (recent.size <= Math.max(RECENT_MAX, this.#index.size / 10)) {
        written = await writeFileAtomic(scanRecentPath(this.repoDir), serializeCache(this.key, recent));
        this.#dropped.clear();
        this.#fresh.clear();
        this.#valuesDirty = false;
      }
    }
    if (this.#valuesDirty) {
      const values = this.#loadValues();
      // Only values the index still vouches for: a value whose index entry is gone can never be used.
      for (const relPath of values.keys()) if (!this.#index.has(relPath)) values.delete(relPath);
      written = await writeFileAtomic(scanValuesPath(this.repoDir), serializeCache(this.key, values));
      // Folded in: the recent values are in the values file now (a crash before this only leaves them twice).
      await rm(scanRecentPath(this.repoDir), { force: true });
      this.#valuesDirty = false;
    }
    if (this.#indexDirty) {
      written =
        (await writeFileAtomic(scanCachePath(this.repoDir), serializeCache(this.key, this.#index))) ||
        written;
      this.#indexDirty = false;
    }
    return written;
  }

  /** The values file merged with this run's parses and drops; loaded once, on the first need. */
  #loadValues(): Map<string, ValueEntry> {
    if (this.#values) return this.#values;
    // Missing or corrupt: every value not parsed in this run is read from its file.
    const values = readCacheFile<ValueEntry>(scanValuesPath(this.repoDir), this.key) ?? new Map();
    // The recent values are newer than the values file; an entry at another stamp than the index's is not used.
    const recent = readCacheFile<ValueEntry>(scanRecentPath(this.repoDir), this.key);
    for (const [relPath, entry] of recent ?? []) values.set(relPath, entry);
    if (recent !== undefined && recent.size > 0) this.#valuesDirty = true; // folded in at the next save
    for (const relPath of this.#dropped) values.delete(relPath);
    for (const [relPath, entry] of this.#fresh) values.set(relPath, entry);
    this.#dropped.clear();
    this.#fresh.clear();
    this.#values = values;
    return values;
  }

  /**
   * The values of a cached file at this stamp: from the values file, or (when that has lost them: a crash between
   * the two writes, a deleted file) parsed again from the file itself while its stamp is still the same.
   */
  #valuesAt(relPath: string, stamp: FileStamp): LocalVariant {
    const values = this.#loadValues();
    const known = values.get(relPath);
    if (known && sameStamp(known, stamp) && known.variant?.path === relPath) return known.variant;
    const abs = path.join(this.repoDir, relPath);
    const changed = () =>
      new SyncError(
        'CONTENT_PARSE',
        'the file changed while butter-sync was reading the content folder, so its values are not the ones scanned',
        { file: relPath, hint: 'Run the command again: it reads the file as it is now.' },
      );
    let bytes: Buffer;
    try {
      const before = lstatSync(abs);
      if (!sameStamp(stampOf(before), stamp)) throw changed();
      bytes = readFileSync(abs);
      if (!sameStamp(stampOf(lstatSync(abs)), stamp)) throw changed();
    } catch (error) {
      if (error instanceof SyncError) throw error;
      throw changed();
    }
    const { variant } = readContentFile(relPath, bytes, this.config);
    values.set(relPath, { ...stamp, variant });
    this.#valuesDirty = true;
    return variant;
  }

  /** A variant whose `fields` and `meta` are read from the values file when first used. */
  #lazyVariant(relPath: string, stamp: FileStamp): LocalVariant {
    let values: Variant | undefined;
    const load = (): Variant => {
      if (!values) {
        const { fields, meta } = this.#valuesAt(relPath, stamp);
        values = { fields, meta };
      }
      return values;
    };
    // Accessors in a literal: own and enumerable like a parsed variant's (spread, JSON and deep equality see
    // the values), and far cheaper to make 10k of than defineProperty.
    return {
      path: relPath,
      get fields() {
        return load().fields;
      },
      set fields(value) {
        load().fields = value;
      },
      get meta() {
        return load().meta;
      },
      set meta(value) {
        load().meta = value;
      },
    };
  }
}

/** Temp files of a writer killed mid-save; an hour old means no live writer still owns them. */
async function removeStaleTempFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const cacheFiles = [SCAN_CACHE_FILE, SCAN_VALUES_FILE, SCAN_RECENT_FILE].map((n) =>
    n.replaceAll('.', '\\.'),
  );
  const pattern = new RegExp(`^\\.(${cacheFiles.join('|')})\\..+\\.tmp$`);
  for (const name of names) {
    if (!pattern.test(name)) continue;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > 3_600_000) await rm(file, { force: true });
  }
}
