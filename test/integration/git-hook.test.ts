import { execFileSync } from 'node:child_process';
import { access, chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHAINED_HOOK_NAME, HOOK_MARKER, installHook, uninstallHook } from '../../src/git/index.js';

// The machine's own git config must not leak into the test repos.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Poll for a file a background process writes; a generous ceiling, not a timing assertion. */
async function waitForFile(path: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const text = await readFile(path, 'utf8');
      if (text.endsWith('\n')) return text;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`${path} never appeared`);
    await sleep(25);
  }
}

async function isExecutable(path: string): Promise<boolean> {
  return ((await stat(path)).mode & 0o111) === 0o111;
}

describe('post-commit hook installer', () => {
  let repo: string;
  let out: string;

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'bs-hook-'));
    out = await mkdtemp(join(tmpdir(), 'bs-hook-out-'));
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.name', 'Writer');
    git(repo, 'config', 'user.email', 'writer@example.test');
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  });

  async function commitSomething(message = 'edit'): Promise<void> {
    await writeFile(join(repo, 'page.md'), `${message}\n`);
    git(repo, 'add', 'page.md');
    git(repo, 'commit', '-q', '-m', message);
  }

  it('installs into .git/hooks and runs the command in the background from the top level, without the commit’s index and date', async () => {
    const record = join(out, 'ran.txt');
    const { path, chained } = await installHook(
      repo,
      `echo "[$GIT_INDEX_FILE$GIT_AUTHOR_DATE] $(pwd)" > '${record}'`,
    );
    expect(path).toBe(join(repo, '.git', 'hooks', 'post-commit'));
    expect(chained).toBe(false);
    expect(await isExecutable(path)).toBe(true);
    expect(await readFile(path, 'utf8')).toContain(HOOK_MARKER);

    await commitSomething();
    expect(await waitForFile(record)).toBe(`[] ${repo}\n`);
    await access(join(repo, '.butter-sync', 'hook.log'));
  });

  it('installs into the core.hooksPath folder', async () => {
    git(repo, 'config', 'core.hooksPath', '.githooks');
    const record = join(out, 'ran.txt');
    const { path } = await installHook(repo, `echo ran > '${record}'`);
    expect(path).toBe(join(repo, '.githooks', 'post-commit'));
    await commitSomething();
    expect(await waitForFile(record)).toBe('ran\n');
  });

  it('chains an existing hook (both run), installs idempotently and uninstall restores the old hook', async () => {
    const hookPath = join(repo, '.git', 'hooks', 'post-commit');
    const theirs = `#!/bin/sh\necho theirs >> '${join(out, 'theirs.txt')}'\n`;
    await writeFile(hookPath, theirs);
    await chmod(hookPath, 0o755);

    const ours = join(out, 'ours.txt');
    expect((await installHook(repo, `echo ours >> '${ours}'`)).chained).toBe(true);
    const installed = await readFile(hookPath, 'utf8');
    expect((await installHook(repo, `echo ours >> '${ours}'`)).chained).toBe(true);
    expect(await readFile(hookPath, 'utf8')).toBe(installed);
    const chainedPath = join(repo, '.git', 'hooks', CHAINED_HOOK_NAME);
    expect(await readFile(chainedPath, 'utf8')).toBe(theirs);

    await commitSomething();
    expect(await waitForFile(join(out, 'theirs.txt'))).toBe('theirs\n');
    expect(await waitForFile(ours)).toBe('ours\n');

    expect(await uninstallHook(repo)).toEqual({ removed: true });
    expect(await readFile(hookPath, 'utf8')).toBe(theirs);
    expect(await isExecutable(hookPath)).toBe(true);
    await expect(access(chainedPath)).rejects.toThrow();
    expect(await uninstallHook(repo)).toEqual({ removed: false });
    expect(await readFile(hookPath, 'utf8')).toBe(theirs);
  });

  it('never fails the commit: a failing command, a failing chained hook, a quote in the command', async () => {
    const hookPath = join(repo, '.git', 'hooks', 'post-commit');
    await writeFile(hookPath, '#!/bin/sh\nexit 7\n');
    await chmod(hookPath, 0o755);
    await installHook(repo, "false; echo 'it''s broken' >&2; exit 3");

    await commitSomething('first');
    expect(git(repo, 'log', '--format=%s')).toBe('first');
    const log = join(repo, '.butter-sync', 'hook.log');
    expect(await waitForFile(log)).toContain('its broken');
  });

  it('does not wait for the command: the commit returns while it is still running', async () => {
    const go = join(out, 'go');
    const done = join(out, 'done.txt');
    // Blocks until the test creates `go`, which it only does after `git commit` has returned.
    await installHook(repo, `while [ ! -f '${go}' ]; do sleep 0.05; done; echo done > '${done}'`);
    await commitSomething();
    await expect(access(done)).rejects.toThrow();
    await writeFile(go, '');
    expect(await waitForFile(done)).toBe('done\n');
  });
});
