import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, type Fixture, git, makeFixture, writesIn } from '../helpers/sync-fixture.js';
import { freePort, waitUntil } from '../helpers/wait.js';

// The container mode: writers push to a git remote; watch fetches, merges, pushes to ButterCMS, and pushes
// its own pull commits back to the remote.
const exec = promisify(execFile);
const SECRET = 'remote-test-secret';
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const FAQ = 'content-example/pages/faq/shipping.md';

describe('watch against a git remote (container mode)', () => {
  let fx: Fixture;
  let root: string;
  let bare: string;
  let writer: string;
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let output = '';

  beforeEach(async () => {
    fx = await makeFixture({
      config: {
        pull: { intervalSeconds: 0, commit: true, push: true, remote: 'origin', fetchIntervalSeconds: 1 },
      },
    });
    root = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-container-'));
    bare = path.join(root, 'origin.git');
    writer = path.join(root, 'writer');
    await exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    await git(fx.repoDir, 'remote', 'add', 'origin', bare);
    await git(fx.repoDir, 'push', '-q', 'origin', 'main');
    await git(fx.repoDir, 'branch', '-q', '--set-upstream-to=origin/main');
    await exec('git', ['clone', '-q', bare, writer]);
    await git(writer, 'config', 'user.name', 'Writer Two');
    await git(writer, 'config', 'user.email', 'writer2@example.com');
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
    fx.emulator.clearLog();
  });
  afterEach(async () => {
    if (child) {
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
    }
    child = undefined;
    await fx.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('a commit pushed by another clone reaches ButterCMS, and a dashboard edit comes back to the remote', async () => {
    // Another writer's machine: edit, commit, push to the shared remote.
    const file = path.join(writer, MEMBER);
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace('"Head of Content"', '"From Another Clone"'),
    );
    await git(writer, 'commit', '-q', '-am', 'role from another clone');
    await git(writer, 'push', '-q', 'origin', 'main');

    const port = await freePort();
    child = spawn(
      process.execPath,
      [CLI, 'watch', '--repo', fx.repoDir, '--port', String(port), '--host', '127.0.0.1'],
      { env: { ...fx.env(), BUTTER_WEBHOOK_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d) => {
      output += String(d);
    });
    child.stderr?.on('data', (d) => {
      output += String(d);
    });
    const proc = child;
    exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));

    const patch = await waitUntil(`the PATCH from the merged commit\n${output}`, () =>
      writesIn(fx.emulator).find((w) => w.method === 'PATCH'),
    );
    expect(JSON.parse(patch.body ?? '{}')).toEqual({ fields: { role: 'From Another Clone' } });
    expect(await fx.read(MEMBER)).toContain('"From Another Clone"');

    // A dashboard edit, delivered by webhook: pulled, committed, and pushed back to the remote (never forced).
    await waitUntil('start-up sync', () => output.includes('start-up sync done'));
    fx.emulator.setWebhooks([
      { url: `http://127.0.0.1:${port}/webhooks/butter`, headers: { 'X-Butter-Sync-Secret': SECRET } },
    ]);
    fx.emulator.editPage('faq', 'shipping', { headline: 'Edited in the dashboard' }, { status: 'published' });
    const pulled = await waitUntil('the pull commit on the remote', async () => {
      const log = (await exec('git', ['-C', bare, 'log', '-1', '--format=%H%n%B', 'main'])).stdout;
      return log.includes('Butter-Sync: pull') ? log.split('\n')[0] : undefined;
    });
    await git(writer, 'pull', '-q', '--ff-only', 'origin', 'main');
    expect(await git(writer, 'rev-parse', 'HEAD')).toBe(pulled);
    expect(await readFile(path.join(writer, FAQ), 'utf8')).toContain('headline: Edited in the dashboard\n');
    // The merge and the pull caused no write beyond the writer's one PATCH.
    expect(writesIn(fx.emulator).map((w) => w.method)).toEqual(['PATCH']);
    expect(output).not.toContain(SECRET);
  });
});
