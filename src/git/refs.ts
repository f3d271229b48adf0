import { type GitIdentity, identityEnv } from './commit-files.js';
import type { RefFetch, RefPush } from './port.js';
import { describeGitFailure, runGit } from './run-git.js';

/*
 * Refs outside every branch, for the team's shared state (state/state-ref.ts). Plumbing with stdin records
 * (hash-object, mktree), so run through `runGit` (simple-git's `raw()`), which simple-git's typed API has no
 * verbs for.
 */

/** The text of `file` in the tree of commit `oid`, or null when the tree has no such file. */
export async function readTreeFile(repoDir: string, oid: string, file: string): Promise<string | null> {
  const shown = await runGit(repoDir, ['cat-file', 'blob', `${oid}:${file}`], { allowFailure: true });
  return shown.code === 0 ? shown.stdout : null;
}

/** Point the local `ref` at `commit`. */
export async function setRef(repoDir: string, ref: string, commit: string): Promise<void> {
  await runGit(repoDir, ['update-ref', ref, commit]);
}

/** A commit whose tree holds only `file`: written to the object store, no branch, index or work tree moves. */
export async function commitOneFile(
  repoDir: string,
  file: string,
  text: string,
  parent: string | null,
  message: string,
  author: GitIdentity,
): Promise<string> {
  const blob = (await runGit(repoDir, ['hash-object', '-w', '--stdin'], { input: text })).stdout.trim();
  const tree = (await runGit(repoDir, ['mktree'], { input: `100644 blob ${blob}\t${file}\n` })).stdout.trim();
  const parents = parent ? ['-p', parent] : [];
  const made = await runGit(repoDir, ['commit-tree', tree, ...parents, '-m', message], {
    env: identityEnv(author),
  });
  return made.stdout.trim();
}

/** Fetch `remote`'s `ref` into `into`, forced (a mirror of the remote's ref, never FETCH_HEAD, which watch uses). */
export async function fetchRef(
  repoDir: string,
  remote: string,
  ref: string,
  into: string,
): Promise<RefFetch> {
  const fetched = await runGit(repoDir, ['fetch', '--no-tags', '--quiet', '--', remote, `+${ref}:${into}`], {
    allowFailure: true,
  });
  if (fetched.code === 0) return { outcome: 'fetched' };
  if (/couldn't find remote ref/i.test(fetched.stderr)) return { outcome: 'missing' };
  return { outcome: 'failed', reason: describeGitFailure(fetched) };
}

/** Compare-and-swap: the remote takes `commit` only if its `ref` still names `expected` (null: no such ref). */
export async function pushRef(
  repoDir: string,
  remote: string,
  commit: string,
  ref: string,
  expected: string | null,
): Promise<RefPush> {
  const lease = `--force-with-lease=${ref}:${expected ?? ''}`;
  const pushed = await runGit(
    repoDir,
    ['push', '--quiet', '--porcelain', lease, '--', remote, `${commit}:${ref}`],
    {
      allowFailure: true,
    },
  );
  if (pushed.code === 0) return { outcome: 'pushed' };
  if (/stale info|rejected|fetch first|non-fast-forward/i.test(`${pushed.stdout}\n${pushed.stderr}`)) {
    return { outcome: 'raced' };
  }
  return { outcome: 'failed', reason: describeGitFailure(pushed) };
}

/** Whether the repository has a remote named `remote`. */
export async function hasRemote(repoDir: string, remote: string): Promise<boolean> {
  return (await runGit(repoDir, ['remote', 'get-url', '--', remote], { allowFailure: true })).code === 0;
}
