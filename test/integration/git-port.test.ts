import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ContentRepo, openContentRepo } from '../../src/git/index.js';

// The machine's own git config must not leak into the test repos.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

const BOT = { name: 'butter-sync', email: 'bot@example.test' };

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

async function initRepo(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  git(root, 'init', '-q', '-b', 'main', dir);
  git(dir, 'config', 'user.name', 'Writer');
  git(dir, 'config', 'user.email', 'writer@example.test');
  await writeFile(join(dir, 'a.md'), `${name}\n`);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'root');
  return dir;
}

/** Set environment variables for one test, as a post-commit hook or an operator's shell would. */
function withEnv(vars: Record<string, string>): () => void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

describe('the git port (ContentRepo on simple-git)', () => {
  let root: string;
  let dir: string;
  let other: string;
  let repo: ContentRepo;
  let restore: (() => void) | undefined;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bs-port-'));
    dir = await initRepo(root, 'content');
    other = await initRepo(root, 'other');
    repo = openContentRepo(dir);
  });
  afterEach(async () => {
    restore?.();
    restore = undefined;
    await rm(root, { recursive: true, force: true });
  });

  it('addresses the repository by its directory, whatever a post-commit hook inherited (GIT_DIR, GIT_INDEX_FILE, dates)', async () => {
    await writeFile(join(dir, 'a.md'), 'pulled\n');
    await writeFile(join(dir, 'new.md'), 'new\n');
    // What `git commit` exports to a hook it runs in another repository: every variable points there.
    restore = withEnv({
      GIT_DIR: join(other, '.git'),
      GIT_WORK_TREE: other,
      GIT_INDEX_FILE: join(other, '.git', 'index'),
      GIT_PREFIX: 'sub/',
      GIT_AUTHOR_DATE: '@1000000000 +0000',
      GIT_COMMITTER_DATE: '@1000000000 +0000',
    });

    expect(await repo.state()).toEqual({ ok: true });
    expect(await repo.fileAt('HEAD', 'a.md')).toBe('content\n');
    expect(await repo.dirtyAmong(['a.md', 'new.md'], { untracked: false })).toEqual(new Set(['a.md']));
    expect(await repo.dirtyAmong(['a.md', 'new.md'], { untracked: true })).toEqual(
      new Set(['a.md', 'new.md']),
    );
    const sha = await repo.commit(['a.md'], 'pull', BOT);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await repo.headCommit()).toBe(sha);
    expect(await repo.inHistory([sha ?? '', git(other, 'rev-parse', 'HEAD')])).toEqual(new Set([sha]));

    const state = await repo.commitOneFile('manifest.json', '{"v":1}\n', null, 'butter-sync state', BOT);
    await repo.setRef('refs/butter-sync/state', state);
    expect(await repo.readRef('refs/butter-sync/state')).toBe(state);
    expect(await repo.readTreeFile(state, 'manifest.json')).toBe('{"v":1}\n');
    restore();
    restore = undefined;

    // The commits landed here, dated now; the other repository was not touched.
    expect(git(dir, 'show', 'HEAD:a.md')).toBe('pulled');
    expect(Number(git(dir, 'log', '-1', '--format=%ct'))).toBeGreaterThan(1_000_000_000);
    expect(git(dir, 'status', '--porcelain')).toBe('?? new.md');
    expect(git(other, 'log', '--format=%s')).toBe('root');
    expect(git(other, 'status', '--porcelain')).toBe('');
    expect(() => git(other, 'rev-parse', '--verify', '-q', 'refs/butter-sync/state')).toThrow();
  });

  it("passes the operator's environment to git (GIT_SSH_COMMAND for a deploy key) but never our CMS tokens", async () => {
    const seen = join(root, 'ssh-env.txt');
    const ssh = join(root, 'fake-ssh.sh');
    // Stands in for ssh: records what git handed it and fails, so nothing leaves the machine.
    await writeFile(ssh, `#!/bin/sh\nenv > '${seen}'\nexit 1\n`);
    await chmod(ssh, 0o755);
    restore = withEnv({
      GIT_SSH_COMMAND: ssh,
      BUTTER_WRITE_TOKEN: 'write-secret-123',
      BUTTER_READ_TOKEN: 'read-secret-456',
      GIT_INDEX_FILE: join(other, '.git', 'index'),
    });

    const fetched = await repo.fetchRef(
      'ssh://127.0.0.1:1/state.git',
      'refs/butter-sync/state',
      'refs/butter-sync/fetched',
    );
    expect(fetched.outcome).toBe('failed');
    const env = await readFile(seen, 'utf8');
    expect(env).toContain(`GIT_SSH_COMMAND=${ssh}`);
    expect(env).toContain('GIT_CONFIG_GLOBAL=/dev/null');
    expect(env).toContain('GIT_TERMINAL_PROMPT=0');
    expect(env).not.toContain('secret-');
    expect(env).not.toContain('GIT_INDEX_FILE');
  });

  it("runs a person's git hooks as their own git would: an abbreviated option in a pre-push hook still works", async () => {
    const remote = join(root, 'remote.git');
    git(root, 'init', '-q', '--bare', '-b', 'main', remote);
    git(dir, 'remote', 'add', 'origin', remote);
    const hook = join(dir, '.git', 'hooks', 'pre-push');
    // `--porc` for `--porcelain`: git accepts the abbreviation unless told to refuse it.
    await writeFile(hook, '#!/bin/sh\ngit status --porc >/dev/null\n');
    await chmod(hook, 0o755);
    expect(await repo.pushBranch('origin', 'main')).toEqual({ pushed: true });
    expect(git(remote, 'rev-parse', 'main')).toBe(git(dir, 'rev-parse', 'HEAD'));
  });

  it('answers for a directory that is not a repository, or does not exist, instead of throwing', async () => {
    const plain = await mkdtemp(join(tmpdir(), 'bs-port-plain-'));
    try {
      expect((await openContentRepo(plain).state()).reason).toBe('not-a-repo');
      expect(await openContentRepo(plain).headCommit()).toBeNull();
      expect((await openContentRepo(join(plain, 'missing')).state()).reason).toBe('not-a-repo');
      expect(await openContentRepo(plain).commitsTouching('a.md', 5)).toEqual([]);
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });
});
