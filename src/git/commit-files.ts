import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyncError } from '../core/errors.js';
import { isPullCommit, withPullTrailer } from './history.js';
import { assertIndexUnlocked, checkRepoState, repoRoot, resolveCommit } from './repo-state.js';
import { runGit, splitNul } from './run-git.js';

export interface GitIdentity {
  name: string;
  email: string;
}

/** Author and committer of butter-sync's own commits (a daemon's container often has no git identity). */
export function identityEnv(identity: GitIdentity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: identity.name,
    GIT_AUTHOR_EMAIL: identity.email,
    GIT_COMMITTER_NAME: identity.name,
    GIT_COMMITTER_EMAIL: identity.email,
  };
}

/**
 * Commit exactly `files` (added, modified or deleted in the work tree) with the pull trailer, and nothing
 * else: the commit is built in a temporary index from HEAD, so a person's other staged and unstaged work
 * stays where it was and out of the commit (`git commit --only` semantics). Returns null when the files
 * already match HEAD. Refuses (GIT) mid-merge/rebase or on a detached HEAD. No hooks run: a pull commit
 * must not trigger our own post-commit push.
 */
export async function commitFiles(
  repoDir: string,
  files: string[],
  message: string,
  author: GitIdentity,
): Promise<string | null> {
  const state = await checkRepoState(repoDir);
  // An unborn branch can take a first commit; every other not-ok state is left for a person.
  if (!state.ok && state.reason !== 'no-commits') {
    throw new SyncError('GIT', `not committing: ${state.message ?? state.reason}`, {
      details: { reason: state.reason },
    });
  }
  await assertIndexUnlocked(repoDir);
  const top = await repoRoot(repoDir);
  const prefix = (await runGit(repoDir, ['rev-parse', '--show-prefix'])).stdout.trim();
  const paths = [...new Set(files.map((file) => repoRelative(repoDir, prefix, file)))];
  if (paths.length === 0) return null;

  const head = await resolveCommit(top, 'HEAD');
  const gitPath = await runGit(top, [
    'rev-parse',
    '--git-path',
    `butter-sync-index-${randomBytes(6).toString('hex')}`,
  ]);
  const tempIndex = resolve(top, gitPath.stdout.trim());
  const temp = { env: { GIT_INDEX_FILE: tempIndex } };
  try {
    await runGit(top, head === null ? ['read-tree', '--empty'] : ['read-tree', head], temp);
    // update-index takes paths literally (no pathspec magic); --remove drops paths gone from the work tree.
    await runGit(top, ['update-index', '--add', '--remove', '-z', '--stdin'], {
      ...temp,
      input: nulJoin(paths),
    });
    const tree = (await runGit(top, ['write-tree'], temp)).stdout.trim();
    const baseTree =
      head === null
        ? await runGit(top, ['hash-object', '-t', 'tree', '--stdin'])
        : await runGit(top, ['rev-parse', `${head}^{tree}`]);
    if (tree === baseTree.stdout.trim()) return null;

    const fullMessage = withPullTrailer(message);
    const parents = head === null ? [] : ['-p', head];
    const commit = await runGit(top, ['commit-tree', tree, ...parents], {
      env: identityEnv(author),
      input: fullMessage,
    });
    const sha = commit.stdout.trim();
    const subject = fullMessage.split('\n')[0] ?? '';
    // The index first, then HEAD: a process killed in between leaves the pulled files staged (the pull journal
    // commits them on the next run), never HEAD ahead of an index that stages the old content, which the next
    // ordinary `git commit` would turn into a revert of every pulled edit.
    await stageCommitted(top, tempIndex, paths, sha);
    // Compare-and-swap on HEAD's branch: a commit a person made meanwhile is never overwritten.
    await runGit(top, ['update-ref', '-m', `commit (butter-sync): ${subject}`, 'HEAD', sha, head ?? '']);
    return sha;
  } finally {
    await rm(tempIndex, { force: true });
    await rm(`${tempIndex}.lock`, { force: true });
  }
}

/** Point the real index's entries for `paths` at what was committed, leaving every other entry alone. */
async function stageCommitted(top: string, tempIndex: string, paths: string[], sha: string): Promise<void> {
  const wanted = new Set(paths);
  const listed = await runGit(top, ['ls-files', '-s', '-z'], { env: { GIT_INDEX_FILE: tempIndex } });
  const present: string[] = [];
  const seen = new Set<string>();
  for (const record of splitNul(listed.stdout)) {
    const path = record.slice(record.indexOf('\t') + 1);
    if (!wanted.has(path)) continue;
    present.push(record);
    seen.add(path);
  }
  const removed = paths.filter((path) => !seen.has(path));

  for (let attempt = 1; ; attempt++) {
    try {
      if (present.length > 0) {
        await runGit(top, ['update-index', '-z', '--index-info'], { input: nulJoin(present) });
      }
      if (removed.length > 0) {
        await runGit(top, ['update-index', '--force-remove', '-z', '--stdin'], { input: nulJoin(removed) });
      }
      break;
    } catch (error) {
      // Another git command holding index.lock is the usual cause; it is over in moments.
      if (attempt >= 5) {
        throw new SyncError(
          'GIT',
          `could not stage the pulled files for commit ${sha}: ${(error as Error).message}`,
          {
            hint: `HEAD did not move. Run \`git status\` in ${top}; the next run commits the pulled files.`,
            details: { sha },
            cause: error,
          },
        );
      }
      await sleep(100 * attempt);
    }
  }
  // --index-info entries carry no stat data; refresh so `git status` stays cheap and clean.
  await runGit(top, ['update-index', '-q', '--refresh'], { allowFailure: true });
}

/** `file` (absolute, or relative to repoDir) as a path from the top level; `prefix` is repoDir's own. */
function repoRelative(repoDir: string, prefix: string, file: string): string {
  const rel = relative(resolve(repoDir), resolve(repoDir, file));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new SyncError('GIT', `${file} is not a file inside the repository ${repoDir}`);
  }
  return prefix + rel.split(sep).join('/');
}

function nulJoin(records: string[]): string {
  return `${records.join('\0')}\0`;
}

/**
 * Repair what an older butter-sync could leave when killed between moving HEAD to a pull commit and updating the
 * index: HEAD at the pull commit, the work tree holding its files, the index still staging the parent's version.
 * A person's next `git commit` would revert every pulled edit, so each such path is staged as HEAD has it
 * (`git reset -- path`; the work tree is untouched). Returns the repaired paths (repo-relative to the top level).
 */
export async function repairPullCommitIndex(repoDir: string): Promise<string[]> {
  const head = await resolveCommit(repoDir, 'HEAD');
  if (head === null || !(await isPullCommit(repoDir, head))) return [];
  const top = await repoRoot(repoDir);
  const parent = await resolveCommit(top, `${head}^`);
  if (parent === null) return [];
  const changed = splitNul(
    (await runGit(top, ['diff-tree', '-r', '-z', '--name-only', '--no-commit-id', parent, head])).stdout,
  );
  if (changed.length === 0) return [];
  const blobs = async (args: string[], env?: Record<string, string>) => {
    const map = new Map<string, string>();
    const out = await runGit(
      top,
      [...args, '--', ...changed.map((p) => `:(literal)${p}`)],
      env ? { env } : {},
    );
    for (const record of splitNul(out.stdout)) {
      const tab = record.indexOf('\t');
      const fields = record.slice(0, tab).split(' ');
      // ls-files -s: mode blob stage; ls-tree: mode type blob.
      map.set(record.slice(tab + 1), fields[args[0] === 'ls-files' ? 1 : 2] ?? '');
    }
    return map;
  };
  const [index, inHead, inParent] = await Promise.all([
    blobs(['ls-files', '-s', '-z']),
    blobs(['ls-tree', '-r', '-z', head]),
    blobs(['ls-tree', '-r', '-z', parent]),
  ]);
  const stale = changed.filter((p) => index.get(p) !== inHead.get(p) && index.get(p) === inParent.get(p));
  if (stale.length === 0) return [];
  // Only where the work tree holds HEAD's version: anything else is a person's work, left alone.
  const present = stale.filter((p) => inHead.has(p));
  const hashed = present.length
    ? splitNul(
        (
          await runGit(top, ['hash-object', '--stdin-paths'], {
            input: `${present.join('\n')}\n`,
            allowFailure: true,
          })
        ).stdout.replaceAll('\n', '\0'),
      )
    : [];
  const repair = stale.filter((p) => {
    const at = present.indexOf(p);
    return at < 0 ? !existsSync(resolve(top, p)) : hashed[at] === inHead.get(p);
  });
  if (repair.length === 0) return [];
  await assertIndexUnlocked(top);
  await runGit(top, ['reset', '-q', head, '--', ...repair.map((p) => `:(literal)${p}`)]);
  return repair;
}
