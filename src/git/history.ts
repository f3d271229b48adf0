import { SyncError } from '../core/errors.js';
import { resolveCommit } from './repo-state.js';
import { runGit, splitNul } from './run-git.js';

/** Trailer on every commit butter-sync makes from CMS content, so the post-commit hook never pushes it back. */
export const PULL_TRAILER = 'Butter-Sync: pull';

export interface ChangedFile {
  /** Repo-relative, `/`-separated. */
  path: string;
  status: 'A' | 'M' | 'D' | 'R';
  /** The old path of a rename. */
  from?: string;
}

/**
 * The files commit `rev` changed, relative to its first parent (for a merge: what the merge brought into
 * the branch); a root commit lists everything it added. Renames are detected, so the sync can report a
 * renamed page instead of creating a new one (DESIGN.md §3).
 */
export async function filesChangedBy(repoDir: string, rev: string): Promise<ChangedFile[]> {
  const sha = await resolveCommit(repoDir, rev);
  if (sha === null) throw new SyncError('GIT', `${rev} does not name a commit`);
  const parents = (await runGit(repoDir, ['rev-list', '--parents', '-n', '1', sha])).stdout.trim().split(' ');
  const firstParent = parents[1];
  const range = firstParent === undefined ? ['--root', sha] : [firstParent, sha];
  const result = await runGit(repoDir, [
    'diff-tree',
    '-r',
    '-z',
    '-M',
    '--name-status',
    '--no-commit-id',
    ...range,
  ]);
  return parseNameStatus(splitNul(result.stdout));
}

function parseNameStatus(fields: string[]): ChangedFile[] {
  const files: ChangedFile[] = [];
  for (let i = 0; i < fields.length; ) {
    const code = fields[i++] ?? '';
    const letter = code[0];
    if (letter === 'R' || letter === 'C') {
      const from = fields[i++] ?? '';
      const path = fields[i++] ?? '';
      // A copy leaves its source in place: for the sync it is just a new file.
      files.push(letter === 'R' ? { path, status: 'R', from } : { path, status: 'A' });
    } else {
      const path = fields[i++] ?? '';
      files.push({ path, status: letter === 'A' || letter === 'D' ? letter : 'M' });
    }
  }
  return files;
}

/** Whether `rev` is a commit butter-sync made from CMS content (its message carries PULL_TRAILER). */
export async function isPullCommit(repoDir: string, rev: string): Promise<boolean> {
  const sha = await resolveCommit(repoDir, rev);
  if (sha === null) return false;
  const message = (await runGit(repoDir, ['log', '-1', '--format=%B', sha])).stdout;
  return trailerLines(message).some((line) => isPullTrailer(line));
}

/** The message with PULL_TRAILER appended in the trailer block (once). */
export function withPullTrailer(message: string): string {
  const body = message.replace(/\s+$/, '') || 'Pull content from ButterCMS';
  if (trailerLines(body).some((line) => isPullTrailer(line))) return `${body}\n`;
  const separator = trailerLines(body).length > 0 ? '\n' : '\n\n';
  return `${body}${separator}${PULL_TRAILER}\n`;
}

/** Lines of the last paragraph after the subject when each looks like `Key: value` (git's trailer block). */
function trailerLines(message: string): string[] {
  const paragraphs = message.trim().split(/\n\s*\n/);
  if (paragraphs.length < 2) return [];
  const last = (paragraphs.at(-1) ?? '').split('\n').map((l) => l.trim());
  return last.every((line) => /^[A-Za-z0-9-]+:\s*\S/.test(line)) ? last : [];
}

function isPullTrailer(line: string): boolean {
  return /^butter-sync:\s*pull$/i.test(line.trim());
}
