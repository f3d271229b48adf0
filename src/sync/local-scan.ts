import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { SyncConfig } from '../config/schema.js';
import {
  type FileLocation,
  inPostsFolder,
  isContentPath,
  isIgnoredPath,
  locateFile,
  locateVariant,
  notAPostFile,
  pathForEntity,
  readContentFile,
} from '../content/index.js';
import { SyncError } from '../core/errors.js';
import { LocalDigests } from '../core/local-digests.js';
import { modelFor } from '../core/model.js';
import {
  type EntityKey,
  entityKey,
  type LocalEntity,
  type LocalVariant,
  type Manifest,
} from '../core/types.js';
import { TEMP_FILE_PATTERN } from '../state/atomic-file.js';
import { type FileStamp, ScanCache, stampOf } from './scan-cache.js';

/** Longest stretch of synchronous file work before the scan lets other events (HTTP, timers) run. */
const SLICE_MS = 20;

/** What the files say, plus the files that could not be read (each with its own error). */
export interface LocalScan {
  local: Map<EntityKey, LocalEntity>;
  errors: SyncError[];
  /** Entities the scan covered: everything for a full scan, the touched entities for a scoped one. */
  scope: Set<EntityKey> | undefined;
  filesRead: number;
  /** The planner's digests of the values read (PlanInput.localDigests); a full scan keeps them in its cache. */
  digests: LocalDigests;
  /** Temp files an older butter-sync left beside content files when it was killed mid-write (full scans). */
  strayTemp?: string[];
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Every file under the content dir's pages/ and collections/, repo-relative. Symlinks are not followed. */
async function listContentFiles(repoDir: string, config: SyncConfig): Promise<string[]> {
  const root = path.join(repoDir, config.contentDir);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  // Every parent lies under root: its repo-relative form is made once per folder, not path.relative per file.
  const relOf = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    const parent =
      (entry as { parentPath?: string; path?: string }).parentPath ?? (entry as { path: string }).path;
    let rel = relOf.get(parent);
    if (rel === undefined) {
      rel = toPosix(path.relative(repoDir, parent));
      relOf.set(parent, rel);
    }
    files.push(rel === '' ? entry.name : `${rel}/${entry.name}`);
  }
  return files.sort();
}

/** Accumulates what a scan found, with one error per unreadable file (the rest of the batch goes on). */
class ScanResult {
  readonly local = new Map<EntityKey, LocalEntity>();
  readonly errors: SyncError[] = [];
  readonly digests = new LocalDigests();
  filesRead = 0;

  add(relPath: string, location: FileLocation, variant: LocalVariant): void {
    const key = entityKey(location.ref);
    const entity = this.local.get(key) ?? { key, ref: location.ref, locales: {} };
    const existing = entity.locales[location.locale];
    if (existing && existing.path !== relPath) {
      this.errors.push(
        new SyncError(
          'CONTENT_PATH',
          `two files hold the same entity and locale: ${existing.path} and ${relPath}`,
          {
            file: relPath,
            hint: 'Keep one of them (for example .md or .mdx, not both), or rename one: nested paths and names that slugify alike map to one page.',
          },
        ),
      );
      return;
    }
    entity.locales[location.locale] = variant;
    this.local.set(key, entity);
  }
}

/**
 * Read (or take from the cache) one file. Synchronous fs calls on purpose: for thousands of small files
 * they measured 3-4x faster than fs/promises (which pays a thread-pool round trip per open/stat/read/close),
 * and the caller yields to the event loop between slices.
 */
function readOne(
  repoDir: string,
  relPath: string,
  config: SyncConfig,
  result: ScanResult,
  cache: ScanCache | undefined,
): void {
  const abs = path.join(repoDir, relPath);
  const statAt = Date.now();
  let stamp: FileStamp;
  let bytes: Buffer | undefined;
  try {
    const stats = lstatSync(abs);
    if (stats.isSymbolicLink()) {
      result.errors.push(
        new SyncError(
          'CONTENT_PATH',
          'symbolic links are not synced (the target may lie outside the content folder)',
          { file: relPath },
        ),
      );
      return;
    }
    stamp = stampOf(stats);
    const cached = cache?.lookup(relPath, stamp);
    if (cached) {
      result.filesRead += 1;
      let location = cache?.locationOf(relPath);
      if (!location) {
        location = locateVariant(relPath, cached, config);
        cache?.rememberLocation(relPath, location);
      }
      result.add(relPath, location, cached);
      const digests = cache?.digestsOf(relPath);
      if (digests) result.digests.remember(cached, digests);
      return;
    }
    bytes = readFileSync(abs);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    result.errors.push(
      new SyncError('CONTENT_PARSE', `cannot read file: ${(error as Error).message}`, { file: relPath }),
    );
    return;
  }
  result.filesRead += 1;
  try {
    const { location, variant } = readContentFile(relPath, bytes, config);
    result.add(relPath, location, variant);
    cache?.remember(relPath, stamp, statAt, variant);
    cache?.rememberLocation(relPath, location);
  } catch (error) {
    cache?.forget(relPath);
    result.errors.push(
      error instanceof SyncError
        ? withoutTakenRename(error, abs)
        : new SyncError('CONTENT_PARSE', (error as Error).message, { file: relPath, cause: error }),
    );
  }
}

/** A "rename the file to X" hint never points at a file that exists: renaming would overwrite it. */
function withoutTakenRename(error: SyncError, abs: string): SyncError {
  const renameTo = error.details?.renameTo;
  if (typeof renameTo !== 'string' || renameTo.includes('/')) return error;
  const taken = path.join(path.dirname(abs), renameTo);
  if (taken === abs || !existsSync(taken)) return error;
  return new SyncError(error.code, error.message, {
    ...(error.file ? { file: error.file } : {}),
    ...(error.line ? { line: error.line } : {}),
    hint: `${renameTo} already exists beside it, so do not rename this file over it: fix the key field in this file, or remove the file if it is a stray copy.`,
  });
}

/** Read the files in order, yielding to the event loop every few milliseconds so a daemon stays responsive. */
async function readAll(
  repoDir: string,
  files: Iterable<string>,
  config: SyncConfig,
  result: ScanResult,
  cache?: ScanCache,
): Promise<void> {
  let sliceStart = performance.now();
  for (const file of files) {
    readOne(repoDir, file, config, result, cache);
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
}

/**
 * Read the content files into entities. With `paths`, only the entities those paths belong to are read
 * (all of their locale files, so an untouched locale is not mistaken for a deleted one). A full scan is
 * just the batch with every file in it (STYLE.md principle 5). A full scan takes unchanged files from the
 * scan cache (scan-cache.ts) instead of re-parsing them; the result is the same either way.
 */
export async function scanLocal(
  repoDir: string,
  config: SyncConfig,
  manifest: Manifest,
  paths?: string[],
): Promise<LocalScan> {
  const result = new ScanResult();

  if (!paths) {
    const files = await listContentFiles(repoDir, config);
    const contentFiles: string[] = [];
    const strayTemp: string[] = [];
    for (const file of files) {
      if (TEMP_FILE_PATTERN.test(path.posix.basename(file))) {
        strayTemp.push(file); // never content: the run removes it
      } else if (isContentPath(file, config)) {
        contentFiles.push(file);
      } else if (isIgnoredPath(file, config)) {
        // the config's `ignore` globs: not content, and not an error either
      } else if (
        file.startsWith(`${config.contentDir}/pages/`) ||
        file.startsWith(`${config.contentDir}/collections/`)
      ) {
        result.errors.push(
          new SyncError('CONTENT_PATH', 'not a content file (unknown extension)', {
            file,
            hint: 'Use .md, .mdx, .markdown or .json, move the file out of the content folder, or skip it with an "ignore" glob in sync.config.json.',
          }),
        );
      } else if (inPostsFolder(file, config)) {
        result.errors.push(notAPostFile(file, config)); // post-path.ts says why (nested, not Markdown)
      }
    }
    // Only full scans use the cache: a scoped scan reads a handful of files, cheaper than loading it.
    const cache = await ScanCache.load(repoDir, config);
    await readAll(repoDir, contentFiles, config, result, cache);
    cache.retainOnly(new Set(contentFiles));
    keepDigests(result, config, manifest, cache);
    // A cache that cannot be written (read-only checkout, full disk) only costs the next scan a re-read.
    await cache.save().catch(() => undefined);
    return {
      local: result.local,
      errors: result.errors,
      scope: undefined,
      filesRead: result.filesRead,
      digests: result.digests,
      strayTemp,
    };
  }

  const scope = new Set<EntityKey>();
  const candidates = new Set<string>();
  for (const raw of paths) {
    const rel = toPosix(path.isAbsolute(raw) ? path.relative(repoDir, raw) : path.normalize(raw));
    if (!isContentPath(rel, config)) continue;
    let key: EntityKey;
    try {
      const location = locateFile(rel, config);
      key = entityKey(location.ref);
      candidates.add(rel);
      for (const locale of config.locales.all) {
        try {
          candidates.add(pathForEntity(location.ref, locale, config));
        } catch {
          // an unsafe name cannot have a sibling file; the touched path itself reports the problem
        }
      }
    } catch (error) {
      result.errors.push(
        error instanceof SyncError ? error : new SyncError('CONTENT_PATH', String(error), { file: rel }),
      );
      continue;
    }
    scope.add(key);
    for (const known of Object.values(manifest.entities[key]?.locales ?? {})) {
      if (known.path) candidates.add(known.path);
    }
    // `fra.json` holds item "FRA": the manifest knows the entity by the key its key field gives.
    for (const [known, entity] of Object.entries(manifest.entities)) {
      if (Object.values(entity.locales).some((l) => l.path === rel)) {
        scope.add(known);
        for (const l of Object.values(entity.locales)) if (l.path) candidates.add(l.path);
      }
    }
  }
  await readAll(repoDir, [...candidates].sort(), config, result);
  for (const entity of result.local.values()) {
    if (Object.values(entity.locales).some((v) => candidates.has(v.path))) scope.add(entity.key);
  }
  return {
    local: result.local,
    errors: result.errors,
    scope,
    filesRead: result.filesRead,
    digests: result.digests,
  };
}

/**
 * Digest every value a full scan found and keep the digests in the scan cache: the planner needs them for every
 * entity (to skip the unchanged ones), and the next run over an unchanged tree then digests nothing.
 */
function keepDigests(result: ScanResult, config: SyncConfig, manifest: Manifest, cache: ScanCache): void {
  for (const entity of result.local.values()) {
    let model: ReturnType<typeof modelFor>;
    try {
      model = modelFor(entity.ref, config);
    } catch {
      continue; // the planner refuses the entity itself
    }
    for (const variant of Object.values(entity.locales)) {
      // A cached file's digests still valid under this media map are the ones the cache holds already.
      const cached = cache.digestsOf(variant.path);
      if (cached !== undefined && result.digests.entryOf(variant, manifest.media) === cached) continue;
      result.digests.of(variant, model, manifest.media);
      const entry = result.digests.entryOf(variant, manifest.media);
      if (entry) cache.rememberDigests(variant.path, entry);
    }
  }
}
