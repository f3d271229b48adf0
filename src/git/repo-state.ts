import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyncError } from '../core/errors.js';
import { runGit } from './run-git.js';

export type RepoStateReason =
  | 'not-a-repo'
  | 'merge'
  | 'rebase'
  | 'cherry-pick'
  | 'revert'
  | 'bisect'
  | 'detached'
  | 'no-commits';

export interface RepoState {
  ok: boolean;
  reason?: RepoStateReason;
  message?: string;
}

/** Marker files of an operation a person is in the middle of; checked in this order (a rebase also detaches HEAD). */
const IN_PROGRESS: Array<{ path: string; reason: RepoStateReason; message: string }> = [
  { path: 'rebase-merge', reason: 'rebase', message: 'a rebase is in progress' },
  { path: 'rebase-apply', reason: 'rebase', message: 'a rebase (or git am) is in progress' },
  { path: 'MERGE_HEAD', reason: 'merge', message: 'a merge is in progress' },
  { path: 'CHERRY_PICK_HEAD', reason: 'cherry-pick', message: 'a cherry-pick is in progress' },
  { path: 'REVERT_HEAD', reason: 'revert', message: 'a revert is in progress' },
  { path: 'BISECT_LOG', reason: 'bisect', message: 'a bisect is in progress' },
];

/**
 * Whether the repository is in a state where butter-sync may commit or merge: not mid-merge/rebase/
 * cherry-pick/revert/bisect, on a branch, with at least one commit. Anything else is left for a person.
 */
export async function checkRepoState(repoDir: string): Promise<RepoState> {
  const args = ['rev-parse', '--show-toplevel'];
  for (const marker of IN_PROGRESS) args.push('--git-path', marker.path);
  const probe = await runGit(repoDir, args, { allowFailure: true });
  if (probe.code !== 0) {
    return { ok: false, reason: 'not-a-repo', message: `${repoDir} is not inside a git work tree` };
  }
  const [top, ...markerPaths] = probe.stdout.split('\n');
  for (const [index, marker] of IN_PROGRESS.entries()) {
    const relative = markerPaths[index];
    // --git-path answers relative to the directory git ran in.
    if (relative && (await exists(resolve(repoDir, relative)))) {
      return { ok: false, reason: marker.reason, message: `${marker.message} in ${top}` };
    }
  }
  const head = await runGit(repoDir, ['rev-parse', '--verify', '-q', 'HEAD'], { allowFailure: true });
  if (head.code !== 0) return { ok: false, reason: 'no-commits', message: `${top} has no commits yet` };
  if ((await currentBranch(repoDir)) === null) {
    return { ok: false, reason: 'detached', message: `HEAD is detached in ${top}; check out a branch` };
  }
  return { ok: true };
}

/** The checked-out branch's short name (also on an unborn branch), or null on a detached HEAD. */
export async function currentBranch(repoDir: string): Promise<string | null> {
  const result = await runGit(repoDir, ['symbolic-ref', '--short', '-q', 'HEAD'], { allowFailure: true });
  const name = result.stdout.trim();
  return result.code === 0 && name !== '' ? name : null;
}

/** The absolute hooks directory git actually uses (honours `core.hooksPath`, worktrees and GIT_COMMON_DIR). */
export async function hooksDir(repoDir: string): Promise<string> {
  const top = await repoRoot(repoDir);
  const result = await runGit(top, ['rev-parse', '--git-path', 'hooks']);
  return resolve(top, result.stdout.trim());
}

/** Absolute path of the work tree's top level. */
export async function repoRoot(repoDir: string): Promise<string> {
  const result = await runGit(repoDir, ['rev-parse', '--show-toplevel']);
  return result.stdout.trim();
}

/** The commit id `rev` names, or null when it names none (e.g. HEAD of an unborn branch). */
export async function resolveCommit(repoDir: string, rev: string): Promise<string | null> {
  const result = await runGit(
    repoDir,
    ['rev-parse', '--verify', '-q', '--end-of-options', `${rev}^{commit}`],
    {
      allowFailure: true,
    },
  );
  return result.code === 0 ? result.stdout.trim() : null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuse to touch the repository while `.git/index.lock` exists: git holds it while it writes the index, and a
 * git process that crashed leaves it behind; committing past it would move HEAD without the index (the next
 * ordinary `git commit` would then revert the pull). A live git command releases it in moments, so this waits
 * up to `waitMs` first.
 */
export async function assertIndexUnlocked(repoDir: string, waitMs = 1_000): Promise<void> {
  const probe = await runGit(repoDir, ['rev-parse', '--git-path', 'index.lock'], { allowFailure: true });
  if (probe.code !== 0) return; // not a repository: nothing to lock
  const lock = resolve(repoDir, probe.stdout.trim());
  const until = Date.now() + waitMs;
  while (await exists(lock)) {
    if (Date.now() >= until) {
      throw new SyncError(
        'GIT',
        `${lock} exists: another git process is writing the index, or one crashed and left it`,
        {
          file: lock,
          hint: `Nothing was written. If no git command is running in this repository, delete the stale lock (rm '${lock}') and run again.`,
        },
      );
    }
    await sleep(100);
  }
}
