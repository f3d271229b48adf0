/** The git port (port.ts) and its simple-git implementation; `cli/` wires it, `sync/` and `state/` use the port. */
export { commitFiles, type GitIdentity, repairPullCommitIndex } from './commit-files.js';
export { openContentRepo } from './content-repo.js';
export { commitsTouching, fileAtCommit } from './file-history.js';
export { type ChangedFile, filesChangedBy, isPullCommit, PULL_TRAILER, withPullTrailer } from './history.js';
export { CHAINED_HOOK_NAME, HOOK_MARKER, installHook, uninstallHook } from './hook-install.js';
export type { ContentRepo, RefFetch, RefPush } from './port.js';
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
