import { runGit } from './run-git.js';

/** The commits that changed `relPath` (relative to `repoDir`), newest first, at most `depth`; none outside a repo. */
export async function commitsTouching(repoDir: string, relPath: string, depth: number): Promise<string[]> {
  const log = await runGit(repoDir, ['log', `-n${depth}`, '--format=%H', '--', relPath], {
    allowFailure: true,
  });
  return log.code === 0 ? log.stdout.split('\n').filter(Boolean) : [];
}

/** The text of `relPath` as of `commit`, or null when the file did not exist there. */
export async function fileAtCommit(repoDir: string, commit: string, relPath: string): Promise<string | null> {
  // `./` makes the path relative to repoDir, which may sit below the repository's top level.
  const shown = await runGit(repoDir, ['show', `${commit}:./${relPath}`], { allowFailure: true });
  return shown.code === 0 ? shown.stdout : null;
}
