import { lstat, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SyncError } from '../core/errors.js';
import { writeFileAtomic } from '../state/atomic-file.js';
import { hooksDir } from './repo-state.js';

/** Marks the post-commit hook as ours: install rewrites it, uninstall removes it, a foreign hook is chained. */
export const HOOK_MARKER = '# butter-sync-managed-hook';
/** Where a post-commit hook that was there before ours is kept; ours runs it first. */
export const CHAINED_HOOK_NAME = 'post-commit.butter-sync-chained';

/**
 * Install the post-commit hook (DESIGN.md §1, mode 2). It runs `command` (a shell line, e.g.
 * `npx --no-install butter-sync hook post-commit`) detached in the background with output appended to
 * `.butter-sync/hook.log`, and always exits 0, so it never fails or delays a commit. A foreign hook
 * already there is chained, not clobbered. Installing again only refreshes the command.
 */
export async function installHook(
  repoDir: string,
  command: string,
): Promise<{ path: string; chained: boolean }> {
  const dir = await hooksDir(repoDir);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'post-commit');
  const chainedPath = join(dir, CHAINED_HOOK_NAME);
  const existing = await readHook(path);
  if (existing !== undefined && !existing.includes(HOOK_MARKER)) {
    if (await exists(chainedPath)) {
      throw new SyncError('GIT', `both ${path} and ${chainedPath} exist and neither is butter-sync's hook`, {
        hint: `Merge ${CHAINED_HOOK_NAME} into post-commit (or delete one of them), then install again.`,
      });
    }
    await rename(path, chainedPath);
  }
  await writeFileAtomic(path, renderHook(command), { mode: 0o755 });
  return { path, chained: await exists(chainedPath) };
}

/** Remove our post-commit hook and put back the hook it chained, if any. A foreign hook is left alone. */
export async function uninstallHook(repoDir: string): Promise<{ removed: boolean }> {
  const dir = await hooksDir(repoDir);
  const path = join(dir, 'post-commit');
  const chainedPath = join(dir, CHAINED_HOOK_NAME);
  const existing = await readHook(path);
  if (existing !== undefined && !existing.includes(HOOK_MARKER)) return { removed: false };
  if (existing !== undefined) await rm(path);
  if (await exists(chainedPath)) await rename(chainedPath, path);
  return { removed: existing !== undefined };
}

/** The hook script: POSIX sh, every step guarded, `exit 0` whatever happens. */
export function renderHook(command: string): string {
  const quoted = `'${command.replaceAll("'", `'\\''`)}'`;
  return `#!/bin/sh
${HOOK_MARKER} (installed by \`butter-sync hook install\`; \`butter-sync hook uninstall\` removes it)
# Never fails or delays the commit: the sync runs detached, its output goes to .butter-sync/hook.log.
chained="$(dirname "$0")/${CHAINED_HOOK_NAME}"
if [ -x "$chained" ]; then
  "$chained" "$@" || true
fi
top=$(git rev-parse --show-toplevel 2>/dev/null) || top=$(pwd)
state="$top/.butter-sync"
log="$state/hook.log"
mkdir -p "$state" 2>/dev/null || exit 0
if [ -f "$log" ] && [ "$(wc -c <"$log")" -gt 1048576 ] 2>/dev/null; then
  mv -f "$log" "$log.1" 2>/dev/null || true
fi
# What git exports to hooks (the commit's index, its author and date) must not leak into the background run.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_COMMON_DIR GIT_EDITOR
unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE GIT_COMMITTER_DATE
launcher=
if command -v nohup >/dev/null 2>&1; then launcher=nohup; fi
(
  cd "$top" || exit 0
  $launcher sh -c ${quoted} >>"$log" 2>&1 </dev/null &
) >/dev/null 2>&1 </dev/null || true
exit 0
`;
}

async function readHook(path: string): Promise<string | undefined> {
  if (!(await exists(path))) return undefined;
  // A dangling symlink still counts as a hook that is not ours.
  return readFile(path, 'utf8').catch(() => '');
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
