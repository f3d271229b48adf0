/** The git adapter: everything the sync engine, the hook and the daemon need from the content repository. */
export { commitFiles, type GitIdentity, repairPullCommitIndex } from './commit-files.js';
export { commitsTouching, fileAtCommit } from './file-history.js';
export { type ChangedFile, filesChangedBy, isPullCommit, PULL_TRAILER, withPullTrailer } from './history.js';
export { CHAINED_HOOK_NAME, HOOK_MARKER, installHook, uninstallHook } from './hook-install.js';
export {
  fetchAndMerge,
  type MergeOptions,
  type MergeResult,
  type PushResult,
  pushBranch,
} from './remote-sync.js';
export {
  assertIndexUnlocked,
  checkRepoState,
  currentBranch,
  hooksDir,
  type RepoState,
  type RepoStateReason,
  repoRoot,
} from './repo-state.js';
