import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSyncError } from '../../src/core/errors.js';
import {
  checkRepoState,
  commitFiles,
  currentBranch,
  filesChangedBy,
  hooksDir,
  isPullCommit,
  PULL_TRAILER,
} from '../../src/git/index.js';

// The machine's own git config (signing, hooks, default branch) must not leak into the test repos.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

const BOT = { name: 'butter-sync', email: 'bot@example.test' };

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function gitFails(dir: string, ...args: string[]): void {
  expect(() => git(dir, ...args)).toThrow();
}

async function put(dir: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), text);
}

async function initRepo(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bs-git-'));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Writer');
  git(dir, 'config', 'user.email', 'writer@example.test');
  return dir;
}

async function commitAll(dir: string, message: string): Promise<string> {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

describe('git adapter', () => {
  let repo: string;
  beforeEach(async () => {
    repo = await initRepo();
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('lists the files a root commit added, and adds, edits, deletes and renames of a later one', async () => {
    await put(repo, 'pages/faq/a.md', 'a\n');
    await put(repo, 'pages/faq/b.md', 'b\n');
    await put(
      repo,
      'collections/tags/old.json',
      '{"slug":"old","name":"A long enough body for rename detection"}\n',
    );
    await commitAll(repo, 'root');
    expect((await filesChangedBy(repo, 'HEAD')).sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'collections/tags/old.json', status: 'A' },
      { path: 'pages/faq/a.md', status: 'A' },
      { path: 'pages/faq/b.md', status: 'A' },
    ]);

    await put(repo, 'pages/faq/a.md', 'a changed\n');
    await unlink(join(repo, 'pages/faq/b.md'));
    await put(repo, 'pages/faq/c é.md', 'c\n');
    git(repo, 'mv', 'collections/tags/old.json', 'collections/tags/new.json');
    const sha = await commitAll(repo, 'second');
    expect((await filesChangedBy(repo, sha)).sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'collections/tags/new.json', status: 'R', from: 'collections/tags/old.json' },
      { path: 'pages/faq/a.md', status: 'M' },
      { path: 'pages/faq/b.md', status: 'D' },
      { path: 'pages/faq/c é.md', status: 'A' },
    ]);
    await expect(filesChangedBy(repo, 'no-such-rev')).rejects.toMatchObject({ code: 'GIT' });
  });

  it('lists what a merge commit brought into the branch', async () => {
    await put(repo, 'a.md', 'a\n');
    await commitAll(repo, 'root');
    git(repo, 'checkout', '-q', '-b', 'side');
    await put(repo, 'side.md', 'side\n');
    await commitAll(repo, 'side');
    git(repo, 'checkout', '-q', 'main');
    await put(repo, 'main.md', 'main\n');
    await commitAll(repo, 'main');
    git(repo, 'merge', '-q', '--no-edit', 'side');
    expect(await filesChangedBy(repo, 'HEAD')).toEqual([{ path: 'side.md', status: 'A' }]);
  });

  it("commits only the given files; a person's staged and unstaged work stays as it was", async () => {
    await put(repo, 'pages/faq/a.md', 'a\n');
    await put(repo, 'pages/faq/b.md', 'b\n');
    await put(repo, 'pages/faq/c.md', 'c\n');
    await put(repo, 'pages/faq/old.md', 'old\n');
    const before = await commitAll(repo, 'root');

    // The person's work in progress:
    await put(repo, 'pages/faq/b.md', 'b staged\n');
    git(repo, 'add', 'pages/faq/b.md');
    await put(repo, 'pages/faq/c.md', 'c unstaged\n');
    await put(repo, 'notes.txt', 'untracked\n');
    // What a pull wrote:
    await put(repo, 'pages/faq/a.md', 'a from cms\n');
    await put(repo, 'pages/faq/new.md', 'new from cms\n');
    await unlink(join(repo, 'pages/faq/old.md'));

    const files = [join(repo, 'pages/faq/a.md'), 'pages/faq/new.md', 'pages/faq/old.md'];
    const sha = await commitFiles(repo, files, 'Pull from ButterCMS', BOT);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(sha);
    expect(git(repo, 'rev-parse', 'HEAD^')).toBe(before);
    expect(git(repo, 'show', '--format=', '--name-status', 'HEAD').split('\n').sort()).toEqual([
      'A\tpages/faq/new.md',
      'D\tpages/faq/old.md',
      'M\tpages/faq/a.md',
    ]);
    expect(git(repo, 'show', 'HEAD:pages/faq/b.md')).toBe('b');
    expect(git(repo, 'log', '-1', '--format=%an <%ae>|%cn')).toBe(
      'butter-sync <bot@example.test>|butter-sync',
    );
    expect(git(repo, 'log', '-1', '--format=%(trailers:key=Butter-Sync,valueonly)')).toBe('pull');
    expect(await isPullCommit(repo, 'HEAD')).toBe(true);

    expect(git(repo, 'diff', '--cached', '--name-only')).toBe('pages/faq/b.md');
    expect(git(repo, 'diff', '--name-only')).toBe('pages/faq/c.md');
    expect(git(repo, 'status', '--porcelain')).toBe('M  pages/faq/b.md\n M pages/faq/c.md\n?? notes.txt');
    expect(await readFile(join(repo, 'pages/faq/c.md'), 'utf8')).toBe('c unstaged\n');

    expect(await commitFiles(repo, files, 'again', BOT)).toBeNull();
    await expect(commitFiles(repo, ['../outside.md'], 'x', BOT)).rejects.toMatchObject({ code: 'GIT' });
  });

  it('makes the first commit of an empty repository, and nothing when there is nothing to commit', async () => {
    expect(await commitFiles(repo, ['missing.md'], 'nothing', BOT)).toBeNull();
    await put(repo, 'a.md', 'a\n');
    const sha = await commitFiles(repo, ['a.md'], 'first\n\nSigned-off-by: Bot <bot@example.test>', BOT);
    expect(git(repo, 'rev-parse', 'main')).toBe(sha);
    expect(git(repo, 'log', '-1', '--format=%B')).toBe(
      `first\n\nSigned-off-by: Bot <bot@example.test>\n${PULL_TRAILER}`,
    );
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('ignores the index and author date a post-commit hook inherits from the commit that ran it', async () => {
    await put(repo, 'a.md', 'a\n');
    await commitAll(repo, 'root');
    await put(repo, 'a.md', 'pulled\n');
    const inherited = { GIT_INDEX_FILE: '.git/not-the-index', GIT_AUTHOR_DATE: '@1000000000 +0000' };
    Object.assign(process.env, inherited);
    try {
      expect(await commitFiles(repo, ['a.md'], 'pull', BOT)).not.toBeNull();
    } finally {
      for (const name of Object.keys(inherited)) delete process.env[name];
    }
    expect(git(repo, 'show', 'HEAD:a.md')).toBe('pulled');
    expect(Number(git(repo, 'log', '-1', '--format=%at'))).toBeGreaterThan(1_000_000_000);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('tells pull commits from a person’s commits', async () => {
    await put(repo, 'a.md', 'a\n');
    await commitAll(repo, 'mentions Butter-Sync: pull in the subject only');
    expect(await isPullCommit(repo, 'HEAD')).toBe(false);
    await put(repo, 'a.md', 'b\n');
    git(repo, 'commit', '-qam', 'by hand', '-m', 'Butter-Sync: pull');
    expect(await isPullCommit(repo, 'HEAD')).toBe(true);
    expect(await isPullCommit(repo, 'nonexistent')).toBe(false);
  });

  it('reports a repository that is not ready: no repo, no commits, merge, rebase, cherry-pick, detached', async () => {
    const plain = await mkdtemp(join(tmpdir(), 'bs-plain-'));
    try {
      expect((await checkRepoState(plain)).reason).toBe('not-a-repo');
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
    expect((await checkRepoState(repo)).reason).toBe('no-commits');
    expect(await currentBranch(repo)).toBe('main');

    await put(repo, 'f.md', 'base\n');
    await commitAll(repo, 'base');
    expect(await checkRepoState(repo)).toEqual({ ok: true });
    git(repo, 'checkout', '-q', '-b', 'other');
    await put(repo, 'f.md', 'other\n');
    await commitAll(repo, 'other');
    git(repo, 'checkout', '-q', 'main');
    await put(repo, 'f.md', 'main\n');
    await commitAll(repo, 'main');

    gitFails(repo, 'merge', 'other');
    expect(await checkRepoState(repo)).toMatchObject({ ok: false, reason: 'merge' });
    await put(repo, 'pulled.md', 'x\n');
    const refused = await commitFiles(repo, ['pulled.md'], 'pull', BOT).catch((error: unknown) => error);
    expect(isSyncError(refused) && refused.code).toBe('GIT');
    git(repo, 'merge', '--abort');

    gitFails(repo, 'cherry-pick', 'other');
    expect((await checkRepoState(repo)).reason).toBe('cherry-pick');
    git(repo, 'cherry-pick', '--abort');

    gitFails(repo, 'rebase', 'other');
    expect((await checkRepoState(repo)).reason).toBe('rebase');
    git(repo, 'rebase', '--abort');
    expect(await checkRepoState(repo)).toEqual({ ok: true });

    git(repo, 'checkout', '-q', '--detach', 'HEAD');
    expect((await checkRepoState(repo)).reason).toBe('detached');
    expect(await currentBranch(repo)).toBeNull();
  });

  it('finds the hooks folder, also when core.hooksPath moves it', async () => {
    expect(await hooksDir(repo)).toBe(join(repo, '.git', 'hooks'));
    await mkdir(join(repo, 'sub'));
    git(repo, 'config', 'core.hooksPath', '.githooks');
    expect(await hooksDir(join(repo, 'sub'))).toBe(join(repo, '.githooks'));
  });
});
