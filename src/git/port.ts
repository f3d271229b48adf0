import type { GitIdentity } from './commit-files.js';

export type { GitIdentity };

import type { ChangedFile } from './history.js';
import type { MergeOptions, MergeResult, PushResult, UpstreamChanges } from './remote-sync.js';
import type { RepoState } from './repo-state.js';

/**
 * The content repository as the sync sees it (STYLE.md principle 2: git is a port). `sync/` and `state/` get
 * one of these and run no git command themselves; `SimpleGitRepo` (content-repo.ts) is the implementation,
 * on simple-git. Paths are relative to `dir`, the directory the sync runs in (it may sit below the top level).
 * Every call ignores what a post-commit hook inherits from the commit that ran it (run-git.ts).
 */
export interface ContentRepo {
  readonly dir: string;

  // Repository state: what butter-sync may do now.
  /** Whether a commit or merge may happen: not mid-merge/rebase/…, on a branch, with a commit. */
  state(): Promise<RepoState>;
  /** The checked-out branch (also unborn), or null on a detached HEAD. */
  currentBranch(): Promise<string | null>;
  /** HEAD's commit id, or null outside a repository or before the first commit. */
  headCommit(): Promise<string | null>;
  /** Throws GIT naming the lock while `index.lock` stays (a crashed git left it); waits briefly first. */
  assertIndexUnlocked(): Promise<void>;
  /** Restage what a crash between HEAD and the index left staging the old content; returns the paths. */
  repairPullCommitIndex(): Promise<string[]>;

  // Reading history.
  /** Which of `paths` differ from HEAD in the index or the work tree (`untracked`: count new files too). */
  dirtyAmong(paths: readonly string[], options: { untracked: boolean }): Promise<Set<string>>;
  /** Which of `commits` are HEAD or its ancestors. */
  inHistory(commits: readonly string[]): Promise<Set<string>>;
  /** The text of `path` at `commit` (e.g. `HEAD`), or null when it did not exist there. */
  fileAt(commit: string, path: string): Promise<string | null>;
  /** The commits that changed `path`, newest first, at most `depth`; none outside a repository. */
  commitsTouching(path: string, depth: number): Promise<string[]>;
  /** The files commit `rev` changed against its first parent, renames detected (top-level-relative paths). */
  filesChangedBy(rev: string): Promise<ChangedFile[]>;

  // Writing history.
  /** Commit exactly `files` with the pull trailer, index before HEAD; null when they match HEAD already. */
  commit(files: readonly string[], message: string, author: GitIdentity): Promise<string | null>;

  // Branches on a remote (watch mode, pull.push).
  fetchAndMerge(remote: string, branch: string, options?: MergeOptions): Promise<MergeResult>;
  pushBranch(remote: string, branch: string): Promise<PushResult>;
  /** Fetch `branch` and list the files its commits that HEAD lacks changed (a clone behind the remote). */
  upstreamChanges(remote: string, branch: string): Promise<UpstreamChanges>;

  // Refs outside every branch (the shared state ref, state/state-ref.ts).
  /** The commit `ref` names, or null. */
  readRef(ref: string): Promise<string | null>;
  /** Point `ref` at `commit` (local only). */
  setRef(ref: string, commit: string): Promise<void>;
  /** The text of `file` in the tree of `commit`, or null when that tree has no such file. */
  readTreeFile(commit: string, file: string): Promise<string | null>;
  /** A commit whose tree holds one file, outside every branch (nothing in the work tree or index moves). */
  commitOneFile(
    file: string,
    text: string,
    parent: string | null,
    message: string,
    author: GitIdentity,
  ): Promise<string>;
  /** Fetch `remote`'s `ref` into the local `into` (forced: it is a mirror, not a branch). */
  fetchRef(remote: string, ref: string, into: string): Promise<RefFetch>;
  /** Push `commit` to `remote`'s `ref` only while it still names `expected` (compare-and-swap). */
  pushRef(remote: string, commit: string, ref: string, expected: string | null): Promise<RefPush>;
  /** Whether this repository has a remote called `remote`. */
  hasRemote(remote: string): Promise<boolean>;
}

/** A ref fetch: done, the remote has no such ref (nothing published yet), or it could not be reached. */
export type RefFetch =
  | { outcome: 'fetched' }
  | { outcome: 'missing' }
  | { outcome: 'failed'; reason: string };

/** A compare-and-swap push: taken, lost to another writer, or the remote could not be reached. */
export type RefPush = { outcome: 'pushed' } | { outcome: 'raced' } | { outcome: 'failed'; reason: string };
