import fs from 'node:fs';
import { mkdir, readFile, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { SyncError } from '../core/errors.js';
import { stateDir } from './manifest-file.js';

export interface ManifestLock {
  release(): Promise<void>;
  /** False once released or once the lock was found compromised (taken over as stale). */
  isHeld(): boolean;
}

export interface LockOptions {
  /** Keep retrying a held lock this long before giving up with MANIFEST_LOCKED (default 0: fail at once). */
  waitMs?: number;
  /** Called if another process took the lock over (we stalled past `staleMs`); the lock is no longer held. */
  onCompromised?: (err: Error) => void;
  /** Age after which a lock whose holder stopped refreshing it (SIGKILL) is taken over; proper-lockfile's floor is 2 s. */
  staleMs?: number;
}

const DEFAULT_STALE_MS = 10_000;
const RETRY_INTERVAL_MS = 100;

/** The lock directory proper-lockfile creates with mkdir (atomic on every filesystem we care about). */
export function manifestLockPath(repoDir: string): string {
  return join(stateDir(repoDir), 'manifest.lock');
}

/**
 * Take the one-writer lock on a clone's manifest so watch, hook and reconcile never collide (DESIGN.md §3).
 * The holder refreshes the lock's mtime; a holder that was SIGKILLed stops refreshing, and after `staleMs`
 * the next process takes the lock over.
 */
export async function lockManifest(repoDir: string, options: LockOptions = {}): Promise<ManifestLock> {
  const dir = stateDir(repoDir);
  await mkdir(dir, { recursive: true });
  const lockfilePath = manifestLockPath(repoDir);
  const stale = options.staleMs ?? DEFAULT_STALE_MS;
  const deadline = Date.now() + (options.waitMs ?? 0);
  let held = true;
  const onCompromised = (err: Error): void => {
    held = false;
    options.onCompromised?.(err);
  };

  let takeovers = 0;
  for (;;) {
    try {
      const releaseLock = await lockfile.lock(dir, { lockfilePath, stale, onCompromised, fs: LOCK_FS });
      return {
        isHeld: () => held,
        release: async () => {
          if (!held) return;
          held = false;
          await releaseLock().catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ERELEASED' && error.code !== 'ENOTACQUIRED') throw error;
          });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      const owner = await readOwner(lockfilePath);
      if (owner && takeovers < 3 && (await isDead(owner))) {
        takeovers += 1;
        // The holder was killed (SIGKILL, a container stop): age the lock so proper-lockfile takes it over now
        // instead of after `staleMs`.
        await utimes(lockfilePath, new Date(0), new Date(0)).catch(() => undefined);
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const who = owner
          ? `butter-sync ${owner.command ?? ''} (pid ${owner.pid} on ${owner.hostname}, since ${owner.since})`.replace(
              '  ',
              ' ',
            )
          : 'another butter-sync process';
        throw new SyncError(
          'MANIFEST_LOCKED',
          `${who} is running on this repository (it holds ${lockfilePath})`,
          {
            file: lockfilePath,
            hint:
              owner?.command === 'watch'
                ? 'A `watch` daemon syncs this repository itself; `plan`, `--dry-run` and `status` still work. Stop the daemon to run this command.'
                : 'Wait for it to finish and run again; `plan`, `--dry-run` and `status` work meanwhile.',
          },
        );
      }
      await sleep(Math.min(RETRY_INTERVAL_MS, remaining));
    }
  }
}

/** Who holds the lock, written inside the lock directory so it always describes that very lock. */
interface LockOwner {
  pid: number;
  hostname: string;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the holder. */
  startTicks?: string | undefined;
  command?: string | undefined;
  since: string;
}

/**
 * proper-lockfile's fs, with two changes: the owner file is written into the lock directory right after the
 * mkdir that takes the lock (before proper-lockfile sets the mtime it later checks, which a write into the
 * directory would change), and the directory is removed with what is inside it.
 */
const LOCK_FS = {
  ...fs,
  mkdir: (path: fs.PathLike, callback: (err: NodeJS.ErrnoException | null) => void) =>
    fs.mkdir(path, (err) => {
      if (!err) writeOwner(String(path));
      callback(err);
    }),
  rmdir: (path: fs.PathLike, callback: (err: NodeJS.ErrnoException | null) => void) =>
    fs.rm(path, { recursive: true, force: true }, callback),
  rmdirSync: (path: fs.PathLike) => fs.rmSync(path, { recursive: true, force: true }),
};

function ownerFile(lockfilePath: string): string {
  return join(lockfilePath, 'owner.json');
}

function writeOwner(lockfilePath: string): void {
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    startTicks: OWN_START_TICKS,
    command: process.argv[2],
    since: new Date().toISOString(),
  };
  try {
    fs.writeFileSync(ownerFile(lockfilePath), `${JSON.stringify(owner)}\n`);
  } catch {
    // The lock itself is the directory: without the owner file a dead holder is only found by the lock's age.
  }
}

async function readOwner(lockfilePath: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(ownerFile(lockfilePath), 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.hostname === 'string' ? owner : undefined;
  } catch {
    return undefined; // not written yet (taken a moment ago) or an older butter-sync: judge by age only
  }
}

/** A holder on this host whose pid is gone, or now belongs to a process started at another time. */
async function isDead(owner: LockOwner): Promise<boolean> {
  if (owner.hostname !== hostname()) return false; // another machine on a shared volume: only the age tells
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const ticks = await startTicksOf(owner.pid);
  return owner.startTicks !== undefined && ticks !== undefined && ticks !== owner.startTicks;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces). */
async function startTicksOf(pid: number): Promise<string | undefined> {
  try {
    return parseStartTicks(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseStartTicks(stat: string): string | undefined {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const OWN_START_TICKS = (() => {
  try {
    return parseStartTicks(fs.readFileSync(`/proc/${process.pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
})();
