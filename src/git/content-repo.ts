import { commitFiles, type GitIdentity, repairPullCommitIndex } from './commit-files.js';
import { commitsTouching, fileAtCommit } from './file-history.js';
import { filesChangedBy } from './history.js';
import type { ContentRepo, RefFetch, RefPush } from './port.js';
import { commitOneFile, fetchRef, hasRemote, pushRef, readTreeFile, setRef } from './refs.js';
import { fetchAndMerge, type MergeOptions, pushBranch, upstreamChanges } from './remote-sync.js';
import { assertIndexUnlocked, checkRepoState, currentBranch, repoRoot, resolveCommit } from './repo-state.js';
import { runGit, splitNul } from './run-git.js';

/** The content repository at `dir`, on simple-git (run-git.ts). Opening does no I/O. */
export function openContentRepo(dir: string): ContentRepo {
  return new SimpleGitRepo(dir);
}

/** `ContentRepo` over the git/ functions; each call runs git afresh (nothing cached: a person works alongside). */
class SimpleGitRepo implements ContentRepo {
  constructor(readonly dir: string) {}

  state() {
    return checkRepoState(this.dir);
  }
  currentBranch() {
    return currentBranch(this.dir);
  }
  headCommit() {
    return resolveCommit(this.dir, 'HEAD');
  }
  assertIndexUnlocked() {
    return assertIndexUnlocked(this.dir);
  }
  repairPullCommitIndex() {
    return repairPullCommitIndex(this.dir);
  }

  async dirtyAmong(paths: readonly string[], options: { untracked: boolean }): Promise<Set<string>> {
    const dirty = new Set<string>();
    if (paths.length === 0) return dirty;
    const top = await repoRoot(this.dir);
    const prefix = (await runGit(this.dir, ['rev-parse', '--show-prefix'])).stdout.trim();
    // --no-renames: a staged rename is listed as its two paths, each a record of its own.
    const result = await runGit(top, [
      'status',
      '--porcelain=v1',
      '-z',
      '--no-renames',
      `--untracked-files=${options.untracked ? 'all' : 'no'}`,
      '--',
      ...paths.map((p) => `:(literal)${prefix}${p}`),
    ]);
    const wanted = new Set(paths);
    for (const record of splitNul(result.stdout)) {
      const path = record.slice(3);
      if (path.startsWith(prefix) && wanted.has(path.slice(prefix.length)))
        dirty.add(path.slice(prefix.length));
    }
    return dirty;
  }

  async inHistory(commits: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const commit of new Set(commits)) {
      const probe = await runGit(this.dir, ['merge-base', '--is-ancestor', commit, 'HEAD'], {
        allowFailure: true,
      });
      if (probe.code === 0) found.add(commit);
    }
    return found;
  }
  fileAt(commit: string, path: string) {
    return fileAtCommit(this.dir, commit, path);
  }
  commitsTouching(path: string, depth: number) {
    return commitsTouching(this.dir, path, depth);
  }
  filesChangedBy(rev: string) {
    return filesChangedBy(this.dir, rev);
  }

  commit(files: readonly string[], message: string, author: GitIdentity) {
    return commitFiles(this.dir, [...files], message, author);
  }
  fetchAndMerge(remote: string, branch: string, options?: MergeOptions) {
    return fetchAndMerge(this.dir, remote, branch, options);
  }
  pushBranch(remote: string, branch: string) {
    return pushBranch(this.dir, remote, branch);
  }
  upstreamChanges(remote: string, branch: string) {
    return upstreamChanges(this.dir, remote, branch);
  }

  readRef(ref: string) {
    return resolveCommit(this.dir, ref);
  }
  setRef(ref: string, commit: string) {
    return setRef(this.dir, ref, commit);
  }
  readTreeFile(commit: string, file: string) {
    return readTreeFile(this.dir, commit, file);
  }
  commitOneFile(file: string, text: string, parent: string | null, message: string, author: GitIdentity) {
    return commitOneFile(this.dir, file, text, parent, message, author);
  }
  fetchRef(remote: string, ref: string, into: string): Promise<RefFetch> {
    return fetchRef(this.dir, remote, ref, into);
  }
  pushRef(remote: string, commit: string, ref: string, expected: string | null): Promise<RefPush> {
    return pushRef(this.dir, remote, commit, ref, expected);
  }
  hasRemote(remote: string) {
    return hasRemote(this.dir, remote);
  }
}
