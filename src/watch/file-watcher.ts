import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { watch } from 'chokidar';

/** One debounced set of content changes; the engine treats it like a full scan restricted to these paths. */
export interface WatchBatch {
  /** Repo-relative POSIX paths, sorted and unique: changed, added or removed. */
  paths: string[];
}

export interface FileWatcherOptions {
  repoDir: string;
  /** Watched recursively under repoDir. */
  contentDir: string;
  /** Quiet time before a batch is emitted. Default 300. */
  debounceMs?: number;
  /** Emit even if events keep coming. Default 2000. */
  maxBatchWaitMs?: number;
  /** chokidar awaitWriteFinish.stabilityThreshold. Default 100. */
  stabilityMs?: number;
  /** Extra filter on repo-relative file paths (the engine passes content's isContentPath). */
  isRelevant?: (relPath: string) => boolean;
  /** Batches are delivered one at a time; events arriving meanwhile go into the next batch. */
  onBatch: (batch: WatchBatch) => Promise<void> | void;
  onError?: (error: Error) => void;
}

export interface FileWatcher {
  /** Settles when the initial directory scan is done and changes are being seen. */
  ready: Promise<void>;
  /** Stops watching and waits for a batch in delivery; events not yet delivered are dropped. */
  close(): Promise<void>;
  /** Echo suppression: events on these paths within `ms` (default 2000) are ignored, for files the engine writes. */
  suppress(relPaths: string[], ms?: number): void;
}

export const DEFAULT_SUPPRESS_MS = 2_000;

const IGNORED_SEGMENTS = new Set(['.git', '.butter-sync', 'node_modules']);

/**
 * Names that are never content: dot-files (also our own `.<name>.tmp-*` temp files and emacs `.#*` locks),
 * editor swap/backup files, vim's `4913` probe, and write-file-atomic's `<name>.<uint32>` temp files.
 */
const IGNORED_NAME_PATTERNS: readonly RegExp[] = [
  /^\./,
  /~$/,
  /^#.*#$/,
  /\.sw[a-p]$/i,
  /^4913$/,
  /\.tmp[-.]/i,
  /\.tmp$/i,
  /___jb_(tmp|old)___$/,
  /\.[a-z]{1,10}\.\d{6,10}$/i,
];

/** Tells whether a path under the watched root is noise (VCS, state, dependencies, editor or atomic-write temp files). */
export function isIgnoredPath(relToRoot: string): boolean {
  if (relToRoot === '') return false;
  return relToRoot
    .split('/')
    .some((segment) => IGNORED_SEGMENTS.has(segment) || IGNORED_NAME_PATTERNS.some((re) => re.test(segment)));
}

/** Watches the content folder with chokidar 5 and delivers debounced batches of repo-relative paths, one at a time. */
export function startFileWatcher(options: FileWatcherOptions): FileWatcher {
  const repoDir = path.resolve(options.repoDir);
  const root = path.resolve(repoDir, options.contentDir);
  const debounceMs = options.debounceMs ?? 300;
  const maxBatchWaitMs = options.maxBatchWaitMs ?? 2_000;
  const reportError = (error: unknown) => {
    try {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // An error handler that throws must not take the daemon down with it.
    }
  };

  const pending = new Set<string>();
  const suppressed = new Map<string, number>();
  let debounceTimer: NodeJS.Timeout | undefined;
  let maxWaitTimer: NodeJS.Timeout | undefined;
  let delivering: Promise<void> | undefined;
  let flushWhenIdle = false;
  let closed = false;

  // chokidar 5 has no globs: `ignored` is a function of the absolute path.
  const watcher = watch(root, {
    ignoreInitial: true,
    followSymlinks: false,
    ignored: (absPath: string) => {
      const rel = path.relative(root, absPath);
      const outside = rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
      return !outside && isIgnoredPath(toPosix(rel));
    },
    awaitWriteFinish: { stabilityThreshold: options.stabilityMs ?? 100, pollInterval: 50 },
  });

  // Resolved on close too, so a caller awaiting `ready` never hangs on a watcher closed early.
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  watcher.once('ready', () => resolveReady());

  watcher.on('error', (error) => reportError(error));
  for (const event of ['add', 'change', 'unlink'] as const) {
    watcher.on(event, (absPath: string) => noteChange(absPath));
  }

  function noteChange(absPath: string): void {
    if (closed) return;
    const relPath = toPosix(path.relative(repoDir, absPath));
    if (isSuppressed(relPath)) return;
    try {
      if (options.isRelevant && !options.isRelevant(relPath)) return;
    } catch (error) {
      reportError(error);
      return;
    }
    pending.add(relPath);
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(flush, debounceMs);
    maxWaitTimer ??= setTimeout(flush, maxBatchWaitMs);
  }

  function isSuppressed(relPath: string): boolean {
    const until = suppressed.get(relPath);
    if (until === undefined) return false;
    if (performance.now() < until) return true;
    suppressed.delete(relPath);
    return false;
  }

  function flush(): void {
    clearTimeout(debounceTimer);
    clearTimeout(maxWaitTimer);
    debounceTimer = undefined;
    maxWaitTimer = undefined;
    if (closed || pending.size === 0) return;
    if (delivering) {
      flushWhenIdle = true;
      return;
    }
    const batch: WatchBatch = { paths: [...pending].sort() };
    pending.clear();
    // `.then` runs asynchronously, so `delivering` is set before it is cleared even if onBatch throws at once.
    delivering = deliver(batch).then(() => {
      delivering = undefined;
      if (flushWhenIdle) {
        flushWhenIdle = false;
        flush();
      }
    });
  }

  async function deliver(batch: WatchBatch): Promise<void> {
    try {
      await options.onBatch(batch);
    } catch (error) {
      reportError(error);
    }
  }

  let closing: Promise<void> | undefined;
  return {
    ready,
    suppress(relPaths, ms = DEFAULT_SUPPRESS_MS) {
      const now = performance.now();
      // Unchanged files are never written, so some entries never see their echo: prune them here.
      for (const [key, expiry] of suppressed) if (expiry <= now) suppressed.delete(key);
      const until = now + ms;
      for (const relPath of relPaths) {
        const key = path.posix.normalize(toPosix(relPath));
        if ((suppressed.get(key) ?? 0) < until) suppressed.set(key, until);
      }
    },
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(debounceTimer);
        clearTimeout(maxWaitTimer);
        pending.clear();
        resolveReady();
        await watcher.close();
        await delivering;
      })();
      return closing;
    },
  };
}

function toPosix(relPath: string): string {
  return path.sep === '/' ? relPath : relPath.split(path.sep).join('/');
}
