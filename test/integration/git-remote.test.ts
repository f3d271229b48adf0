import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkRepoState, fetchAndMerge, pushBranch } from '../../src/git/index.js';

// The machine's own git config must not leak into the test repos.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A bare remote plus two clones: `daemon` (what butter-sync runs on) and `writer` (a person's clone). */
describe('fetchAndMerge and pushBranch', () => {
  let root: string;
  let remote: string;
  let daemon: string;
  let writer: string;

  async function clone(name: string): Promise<string> {
    const dir = join(root, name);
    git(root, 'clone', '-q', remote, name);
    git(dir, 'config', 'user.name', name);
    git(dir, 'config', 'user.email', `${name}@example.test`);
    return dir;
  }

  async function commit(dir: string, file: string, text: string): Promise<string> {
    await writeFile(join(dir, file), text);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', `edit ${file}`);
    return git(dir, 'rev-parse', 'HEAD');
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bs-remote-'));
    remote = join(root, 'remote.git');
    git(root, 'init', '-q', '--bare', '-b', 'main', remote);
    const seed = join(root, 'seed');
    git(root, 'init', '-q', '-b', 'main', seed);
    git(seed, 'config', 'user.name', 'seed');
    git(seed, 'config', 'user.email', 'seed@example.test');
    await commit(seed, 'faq.md', 'line 1\nline 2\nline 3\n');
    git(seed, 'push', '-q', remote, 'main');
    daemon = await clone('daemon');
    writer = await clone('writer');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('fast-forwards to a writer’s pushed commit, and then has nothing to do', async () => {
    const theirs = await commit(writer, 'team.json', '{}\n');
    git(writer, 'push', '-q', 'origin', 'main');

    expect(await fetchAndMerge(daemon, 'origin', 'main')).toEqual({
      updated: true,
      changedFiles: ['team.json'],
    });
    expect(git(daemon, 'rev-parse', 'HEAD')).toBe(theirs);
    expect(await fetchAndMerge(daemon, 'origin', 'main')).toEqual({ updated: false, changedFiles: [] });
  });

  it('makes a merge commit when the histories diverged without conflicts', async () => {
    const ours = await commit(daemon, 'pulled.json', '{"from":"cms"}\n');
    const theirs = await commit(writer, 'team.json', '{}\n');
    git(writer, 'push', '-q', 'origin', 'main');

    const result = await fetchAndMerge(daemon, 'origin', 'main');
    expect(result).toEqual({ updated: true, changedFiles: ['team.json'] });
    expect(git(daemon, 'rev-list', '--parents', '-n', '1', 'HEAD').split(' ').slice(1)).toEqual([
      ours,
      theirs,
    ]);
    expect(git(daemon, 'status', '--porcelain')).toBe('');
  });

  it('leaves a conflicting merge for a person, with no merge in progress', async () => {
    const ours = await commit(daemon, 'faq.md', 'line 1\nfrom cms\nline 3\n');
    await commit(writer, 'faq.md', 'line 1\nfrom writer\nline 3\n');
    git(writer, 'push', '-q', 'origin', 'main');

    const result = await fetchAndMerge(daemon, 'origin', 'main');
    expect(result.updated).toBe(false);
    expect(result.blocked).toContain('faq.md');
    expect(await checkRepoState(daemon)).toEqual({ ok: true });
    expect(git(daemon, 'rev-parse', 'HEAD')).toBe(ours);
    expect(git(daemon, 'status', '--porcelain')).toBe('');
    expect(await readFile(join(daemon, 'faq.md'), 'utf8')).toBe('line 1\nfrom cms\nline 3\n');
  });

  it('never merges over uncommitted work the merge would touch; unrelated work is carried along', async () => {
    await writeFile(join(daemon, 'faq.md'), 'uncommitted edit\n');
    await commit(writer, 'faq.md', 'line 1\nfrom writer\nline 3\n');
    git(writer, 'push', '-q', 'origin', 'main');
    const head = git(daemon, 'rev-parse', 'HEAD');

    const result = await fetchAndMerge(daemon, 'origin', 'main');
    expect(result.blocked).toMatch(/uncommitted changes in faq\.md/);
    expect(git(daemon, 'rev-parse', 'HEAD')).toBe(head);
    expect(await readFile(join(daemon, 'faq.md'), 'utf8')).toBe('uncommitted edit\n');

    git(daemon, 'checkout', '--', 'faq.md');
    await writeFile(join(daemon, 'notes.txt'), 'untracked\n');
    expect(await fetchAndMerge(daemon, 'origin', 'main')).toEqual({
      updated: true,
      changedFiles: ['faq.md'],
    });
    expect(await readFile(join(daemon, 'notes.txt'), 'utf8')).toBe('untracked\n');
  });

  it('reports a branch the remote does not have yet, and refuses to merge into another branch', async () => {
    git(daemon, 'checkout', '-q', '-b', 'drafts');
    expect(await fetchAndMerge(daemon, 'origin', 'drafts')).toEqual({ updated: false, changedFiles: [] });
    expect((await fetchAndMerge(daemon, 'origin', 'main')).blocked).toMatch(/on branch drafts/);
  });

  it('pushes, reports an up-to-date push, and reports (never forces) a rejected one', async () => {
    const ours = await commit(daemon, 'pulled.json', '{}\n');
    expect(await pushBranch(daemon, 'origin', 'main')).toEqual({ pushed: true });
    expect(git(remote, 'rev-parse', 'main')).toBe(ours);
    expect(await pushBranch(daemon, 'origin', 'main')).toEqual({ pushed: false });

    git(writer, 'pull', '-q', '--ff-only');
    const theirs = await commit(writer, 'team.json', '{}\n');
    git(writer, 'push', '-q', 'origin', 'main');
    await commit(daemon, 'other.json', '{}\n');
    const result = await pushBranch(daemon, 'origin', 'main');
    expect(result.pushed).toBe(false);
    expect(result.rejected).toMatch(/non-fast-forward|fetch first/);
    expect(git(remote, 'rev-parse', 'main')).toBe(theirs);

    await expect(pushBranch(daemon, 'no-such-remote', 'main')).rejects.toMatchObject({ code: 'GIT' });
  });
});
