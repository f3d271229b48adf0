import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode for a new file (an existing file keeps its own mode unless this is given). */
  mode?: number;
  /**
   * Where the temp file goes (default: beside the file). Content files use `.butter-sync/tmp`, where no scan,
   * glob or `git add` can take a temp file left by a SIGKILL for content. It must be on the same filesystem
   * for the rename to be atomic; when it is not (EXDEV), the temp file goes beside the file after all.
   */
  tempDir?: string;
}

/**
 * Write a file so a reader (or a SIGKILL at any moment) only ever sees the old or the new complete
 * content: temp file in the same directory → fsync → rename → fsync the directory (Litestream's
 * file replica). Returns false and writes nothing when the current bytes are already identical.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<boolean> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  const current = await readExisting(path);
  const mode = options.mode ?? current?.mode;
  const sameMode = options.mode === undefined || current?.mode === (options.mode & 0o7777);
  if (current?.bytes.equals(bytes) && sameMode) return false;

  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  if (options.tempDir !== undefined) {
    await mkdir(options.tempDir, { recursive: true });
    try {
      await writeThenRename(options.tempDir, path, bytes, mode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await writeThenRename(dir, path, bytes, mode);
    }
  } else {
    await writeThenRename(dir, path, bytes, mode);
  }
  await syncDirectory(dir);
  return true;
}

async function writeThenRename(
  tempDir: string,
  path: string,
  bytes: Buffer,
  mode: number | undefined,
): Promise<void> {
  const temp = join(tempDir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode ?? 0o666);
    try {
      await handle.writeFile(bytes);
      // `open` applies the umask; an explicit mode (e.g. a hook's 0755) must land as asked.
      if (mode !== undefined) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** The temp file name writeFileAtomic uses beside a file: `.<name>.<pid>.<12 hex>.tmp`. */
export const TEMP_FILE_PATTERN = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;

async function readExisting(path: string): Promise<{ bytes: Buffer; mode: number } | undefined> {
  try {
    const [bytes, info] = await Promise.all([readFile(path), stat(path)]);
    return { bytes, mode: info.mode & 0o7777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Make the rename itself durable; some platforms cannot open a directory, which is harmless there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the data itself is already fsynced and the rename is atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
