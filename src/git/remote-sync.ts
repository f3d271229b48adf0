import { SyncError } from '../core/errors.js';
import { type GitIdentity, identityEnv } from './commit-files.js';
import { checkRepoState, currentBranch, repoRoot, resolveCommit } from './repo-state.js';
import { describeGitFailure, runGit, splitNul } from './run-git.js';

export interface MergeResult {
  /** HEAD moved (fast-forward or merge commit). */
  updated: boolean;
  /** Repo-relative paths whose content changed in the work tree (both sides of a rename). */
  changedFiles: string[];
  /** Why nothing was merged; the repository is left as it was, for a person. */
  blocked?: string;
}

export interface MergeOptions {
  /** Identity for a merge commit when the repository has none configured (a daemon's container). */
  identity?: GitIdentity;
}

const DEFAULT_IDENTITY: GitIdentity = { name: 'butter-sync', email: 'butter-sync@localhost' };

/**
 * Bring writers' commits into the daemon's clone (DESIGN.md §1, watch mode): fetch `branch` from `remote`,
 * then fast-forward, or make a merge commit when the histories diverged without conflicts. Conflicts,
 * uncommitted changes the merge would touch, or a repository mid-operation return `blocked` and leave
 * the repository as it was: no merge in progress, no work lost.
 */
export async function fetchAndMerge(
  repoDir: string,
  remote: string,
  branch: string,
  options: MergeOptions = {},
): Promise<MergeResult> {
  const blocked = (reason: string): MergeResult => ({ updated: false, changedFiles: [], blocked: reason });
  const state = await checkRepoState(repoDir);
  if (!state.ok && state.reason !== 'no-commits') return blocked(state.message ?? String(state.reason));
  const onBranch = await currentBranch(repoDir);
  if (onBranch !== branch) return blocked(`the work tree is on branch ${onBranch}, not ${branch}`);
  const top = await repoRoot(repoDir);

  const fetch = await runGit(top, ['fetch', '--no-tags', '--quiet', '--', remote, `refs/heads/${branch}`], {
    allowFailure: true,
  });
  if (fetch.code !== 0) {
    // A remote without the branch yet (nothing pushed so far) has nothing to merge.
    if (/couldn't find remote ref/i.test(fetch.stderr)) return { updated: false, changedFiles: [] };
    throw new SyncError('GIT', `git fetch ${remote} ${branch} failed: ${describeGitFailure(fetch)}`, {
      hint: 'Check the network and the remote URL and credentials (`git fetch` by hand shows the details).',
    });
  }
  const theirs = await resolveCommit(top, 'FETCH_HEAD');
  if (theirs === null) throw new SyncError('GIT', `git fetch ${remote} ${branch} fetched no commit`);
  const ours = await resolveCommit(top, 'HEAD');
  if (ours !== null && (await isAncestor(top, theirs, ours))) return { updated: false, changedFiles: [] };

  if (ours !== null) {
    const base = await runGit(top, ['merge-base', ours, theirs], { allowFailure: true });
    if (base.code !== 0) return blocked(`${remote}/${branch} shares no history with ${branch}`);
    const incoming = await namesChanged(top, base.stdout.trim(), theirs);
    const touched = (await dirtyPaths(top)).filter((path) => incoming.has(path));
    if (touched.length > 0) {
      return blocked(
        `uncommitted changes in ${listPaths(touched)} would be touched by merging ${remote}/${branch}`,
      );
    }
  }

  const env = (await hasIdentity(top)) ? {} : identityEnv(options.identity ?? DEFAULT_IDENTITY);
  const merge = await runGit(
    top,
    // autostash would fold a person's uncommitted work into the merge; --ff overrides a merge.ff=only/false config.
    ['-c', 'merge.autoStash=false', 'merge', '--ff', '--no-edit', '-m', `Merge ${remote}/${branch}`, theirs],
    { env, allowFailure: true },
  );
  if (merge.code !== 0) {
    const after = await checkRepoState(top);
    if (after.reason === 'merge') {
      const conflicted = splitNul(
        (await runGit(top, ['diff', '--name-only', '-z', '--diff-filter=U'])).stdout,
      );
      await runGit(top, ['merge', '--abort']);
      return blocked(`merging ${remote}/${branch} conflicts in ${listPaths(conflicted)}; merge it by hand`);
    }
    return blocked(`git merge ${remote}/${branch} refused: ${describeGitFailure(merge)}`);
  }

  const head = await resolveCommit(top, 'HEAD');
  const changed =
    ours === null ? await namesIn(top, head ?? theirs) : await namesChanged(top, ours, head ?? theirs);
  return { updated: head !== ours, changedFiles: [...changed].sort() };
}

export interface PushResult {
  pushed: boolean;
  /** Git's reason when the remote refused (e.g. `[rejected] (non-fast-forward)`); never retried with force. */
  rejected?: string;
}

/** Push `branch` to the same-named branch on `remote`, never forced: a refusal is reported, not overridden. */
export async function pushBranch(repoDir: string, remote: string, branch: string): Promise<PushResult> {
  const top = await repoRoot(repoDir);
  const ref = `refs/heads/${branch}`;
  const result = await runGit(top, ['push', '--porcelain', '--', remote, `${ref}:${ref}`], {
    allowFailure: true,
  });
  const line = result.stdout.split('\n').find((l) => l.split('\t')[1] === `${ref}:${ref}`);
  if (line !== undefined) {
    const flag = line[0];
    if (flag === '!') return { pushed: false, rejected: line.split('\t')[2]?.trim() ?? 'rejected' };
    if (flag === '=') return { pushed: false };
    if (result.code === 0) return { pushed: true };
  }
  throw new SyncError('GIT', `git push ${remote} ${branch} failed: ${describeGitFailure(result)}`, {
    hint: 'Check the remote URL and credentials (`git push` by hand shows the details).',
  });
}

async function isAncestor(top: string, ancestor: string, descendant: string): Promise<boolean> {
  const result = await runGit(top, ['merge-base', '--is-ancestor', ancestor, descendant], {
    allowFailure: true,
  });
  return result.code === 0;
}

async function namesChanged(top: string, from: string, to: string): Promise<Set<string>> {
  const result = await runGit(top, ['diff', '--name-only', '-z', '--no-renames', from, to]);
  return new Set(splitNul(result.stdout));
}

async function namesIn(top: string, commit: string): Promise<Set<string>> {
  const result = await runGit(top, ['ls-tree', '-r', '-z', '--name-only', commit]);
  return new Set(splitNul(result.stdout));
}

/** Paths with staged, unstaged or untracked changes (both names of a staged rename). */
async function dirtyPaths(top: string): Promise<string[]> {
  const result = await runGit(top, ['status', '--porcelain=v1', '-z', '--untracked-files=all']);
  const records = splitNul(result.stdout);
  const paths: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const record = records[i] ?? '';
    paths.push(record.slice(3));
    if (record[0] === 'R' || record[0] === 'C') paths.push(records[++i] ?? '');
  }
  return paths;
}

async function hasIdentity(top: string): Promise<boolean> {
  const name = await runGit(top, ['config', 'user.name'], { allowFailure: true });
  const email = await runGit(top, ['config', 'user.email'], { allowFailure: true });
  return name.code === 0 && email.code === 0;
}

function listPaths(paths: string[]): string {
  const shown = paths.slice(0, 5).join(', ');
  return paths.length > 5 ? `${shown} and ${paths.length - 5} more` : shown;
}

/** What the remote's copy of a branch has that this clone's HEAD does not (issue 14: a clone behind). */
export interface UpstreamChanges {
  /** Commits on `remote`/`branch` that HEAD does not contain (0: in step or ahead). */
  behind: number;
  /** Files (relative to the repo dir) those commits changed since HEAD and they parted. */
  files: string[];
}

/**
 * Fetch `branch` from `remote` into its remote-tracking ref (what `git fetch` does) and list what it changed that
 * HEAD does not have. Offline, or with no such branch on the remote, the tracking ref already here is used (or
 * nothing is behind): this check never fails a run.
 */
export async function upstreamChanges(
  repoDir: string,
  remote: string,
  branch: string,
): Promise<UpstreamChanges> {
  const none: UpstreamChanges = { behind: 0, files: [] };
  const tracking = `refs/remotes/${remote}/${branch}`;
  await runGit(
    repoDir,
    ['fetch', '--no-tags', '--quiet', '--', remote, `+refs/heads/${branch}:${tracking}`],
    {
      allowFailure: true,
    },
  );
  const theirs = await resolveCommit(repoDir, tracking);
  const ours = await resolveCommit(repoDir, 'HEAD');
  if (theirs === null || ours === null || (await isAncestor(repoDir, theirs, ours))) return none;
  const base = await runGit(repoDir, ['merge-base', ours, theirs], { allowFailure: true });
  if (base.code !== 0) return none;
  const count = await runGit(repoDir, ['rev-list', '--count', `${ours}..${theirs}`]);
  // --relative: paths as the scan names them when the sync runs below the top level (and only files there).
  const names = await runGit(repoDir, [
    'diff',
    '--name-only',
    '-z',
    '--no-renames',
    '--relative',
    base.stdout.trim(),
    theirs,
  ]);
  return { behind: Number(count.stdout.trim()) || 0, files: splitNul(names.stdout) };
}
