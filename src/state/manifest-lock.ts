import { mkdir } from 'node:fs/promises';
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

  for (;;) {
    try {
      const releaseLock = await lockfile.lock(dir, { lockfilePath, stale, onCompromised });
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
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new SyncError('MANIFEST_LOCKED', `another butter-sync process holds the lock ${lockfilePath}`, {
          file: lockfilePath,
        });
      }
      await sleep(Math.min(RETRY_INTERVAL_MS, remaining));
    }
  }
}
