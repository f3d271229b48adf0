import { createHash } from 'node:crypto';
import { readFileSync, type Stats } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SyncConfig } from '../config/schema.js';
import type { FileLocation } from '../content/index.js';
import { stringifyStable } from '../core/digest.js';
import type { LocalDigestEntry } from '../core/local-digests.js';
import type { LocalVariant } from '../core/types.js';
import { writeFileAtomic } from '../state/atomic-file.js';
import { stateDir } from '../state/manifest-file.js';

/** File name of the scan cache inside `.butter-sync/` (git-ignored, local to the clone like the manifest). */
export const SCAN_CACHE_FILE = 'scan-cache.json';

/**
 * A file whose mtime or ctime lies this close to the moment it was stat'ed is not cached: a second
 * write in the same timestamp tick (2 s on FAT, a jiffy on ext4) would keep the same stamp ("racy git").
 */
export const RACY_WINDOW_MS = 2_000;

/** Bump when the cache's shape changes (an entry's optional `digests` came later: older entries lack it). */
const FORMAT = 1;

/** What identifies one version of a file without reading it. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

interface CachedFile extends FileStamp {
  variant: LocalVariant;
  /** The planner's digests of the variant and the media lookups they depend on (core/local-digests.ts). */
  digests?: LocalDigestEntry;
  /** The entity and locale the file holds (locateVariant: a function of the path, the variant and the config). */
  location?: FileLocation;
}

interface ScanCacheData {
  format: number;
  /** Digest of the tool version and the config: a parse under other rules is never reused. */
  key: string;
  files: Record<string, CachedFile>;
}

export function stampOf(stats: Stats): FileStamp {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
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

/**
 * What each content file parsed to, keyed by its stat stamp, so a full scan of an unchanged tree stats
 * files instead of reading and parsing them (the Astro glob loader's digest skip, one step earlier).
 * Entries are only ever used when size, mtime, ctime and inode all still match, and racy entries are
 * never stored, so an edited file is always re-read. Losing or corrupting the file only costs a re-read.
 */
export class ScanCache {
  #files: Map<string, CachedFile>;
  #dirty = false;

  private constructor(
    private readonly file: string,
    private readonly key: string,
    files: Map<string, CachedFile>,
  ) {
    this.#files = files;
  }

  /** Load the cache of a clone; a missing, unreadable or foreign (other config/version) file is an empty cache. */
  static async load(repoDir: string, config: SyncConfig): Promise<ScanCache> {
    const file = scanCachePath(repoDir);
    const key = cacheKey(config);
    await removeStaleTempFiles(path.dirname(file));
    let files = new Map<string, CachedFile>();
    let stale = false;
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as Partial<ScanCacheData>;
      if (data.format === FORMAT && data.key === key && data.files && typeof data.files === 'object') {
        files = new Map(Object.entries(data.files));
      } else {
        stale = true;
      }
    } catch (error) {
      stale = (error as NodeJS.ErrnoException).code !== 'ENOENT';
    }
    const cache = new ScanCache(file, key, files);
    cache.#dirty = stale;
    return cache;
  }

  get size(): number {
    return this.#files.size;
  }

  /** The variant parsed from this exact version of the file, or undefined when it must be read. */
  lookup(relPath: string, stamp: FileStamp): LocalVariant | undefined {
    const entry = this.#files.get(relPath);
    if (!entry || !sameStamp(entry, stamp) || entry.variant?.path !== relPath) return undefined;
    return entry.variant;
  }

  /** Remember a fresh parse; racy stamps and values JSON would alter are forgotten instead. */
  remember(relPath: string, stamp: FileStamp, statAt: number, variant: LocalVariant): void {
    const cacheable =
      !isRacy(stamp, statAt) && isPlainJson(variant.fields) && isPlainJson({ ...variant.meta });
    if (!cacheable) {
      this.forget(relPath);
      return;
    }
    this.#files.set(relPath, { ...stamp, variant });
    this.#dirty = true;
  }

  /** The location kept with a file's entry (valid only while lookup() finds the entry). */
  locationOf(relPath: string): FileLocation | undefined {
    return this.#files.get(relPath)?.location;
  }

  /** Keep where a cached file's variant belongs, so the next scan need not work it out from the path again. */
  rememberLocation(relPath: string, location: FileLocation): void {
    const entry = this.#files.get(relPath);
    if (!entry || entry.location === location) return;
    entry.location = location;
    this.#dirty = true;
  }

  /** The digests kept with a file's entry (valid only while lookup() finds the entry). */
  digestsOf(relPath: string): LocalDigestEntry | undefined {
    return this.#files.get(relPath)?.digests;
  }

  /** Keep the planner's digests with a cached file, so the next run need not make them. */
  rememberDigests(relPath: string, digests: LocalDigestEntry): void {
    const entry = this.#files.get(relPath);
    if (!entry || entry.digests === digests) return;
    entry.digests = digests;
    this.#dirty = true;
  }

  forget(relPath: string): void {
    if (this.#files.delete(relPath)) this.#dirty = true;
  }

  /** After a full scan: drop the files that no longer exist. */
  retainOnly(seen: Set<string>): void {
    for (const relPath of this.#files.keys()) {
      if (!seen.has(relPath)) this.forget(relPath);
    }
  }

  /** Write atomically, and only when something changed; false when nothing was written. */
  async save(): Promise<boolean> {
    if (!this.#dirty) return false;
    const files: Record<string, CachedFile> = {};
    for (const relPath of [...this.#files.keys()].sort()) files[relPath] = this.#files.get(relPath)!;
    const data: ScanCacheData = { format: FORMAT, key: this.key, files };
    const written = await writeFileAtomic(this.file, JSON.stringify(data));
    this.#dirty = false;
    return written;
  }
}

/** Temp files of a writer killed mid-save; an hour old means no live writer still owns them. */
async function removeStaleTempFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const pattern = new RegExp(`^\\.${SCAN_CACHE_FILE.replace('.', '\\.')}\\..+\\.tmp$`);
  for (const name of names) {
    if (!pattern.test(name)) continue;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > 3_600_000) await rm(file, { force: true });
  }
}
