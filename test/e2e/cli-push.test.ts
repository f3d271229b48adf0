import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManifestStore } from '../../src/state/manifest-store.js';
import { type CliFixture, cliPushedTemplate, templatePerFile } from '../helpers/cli-fixture.js';
import { runCliOn } from '../helpers/cli-process.js';
import { CLI, git, writesIn } from '../helpers/sync-fixture.js';
import { freePort, waitUntil } from '../helpers/wait.js';

const exec = promisify(execFile);
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const TAG = 'content-example/collections/tags/engineering.json';

// The CLI on the test's repo, in the fixture's environment unless a test passes its own.
const cli = runCliOn;

async function hookLog(fx: CliFixture): Promise<string> {
  try {
    return await readFile(path.join(fx.repoDir, '.butter-sync/hook.log'), 'utf8');
  } catch {
    return '';
  }
}

describe('the CLI on a real repository', () => {
  let fx: CliFixture;
  // The first push (by the CLI, as before each test) runs once; each test gets its own copy of the result
  // (repo and emulator content) and a new emulator whose request log holds only its own calls.
  const pushed = templatePerFile(() => cliPushedTemplate({}, { args: ['--log-level', 'warn'] }));
  beforeEach(async () => {
    fx = await pushed.fresh();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('post-commit hook pushes only the files the commit changed, and skips pull commits', async () => {
    const installed = await cli(fx, ['hook', 'install']);
    expect(installed.code).toBe(0);
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Committed change"'));
    await fx.write(TAG, (await fx.read(TAG)).replace('"Engineering"', '"Not committed"'));
    await git(fx.repoDir, 'add', MEMBER);
    // The writer's shell has the tokens exported; the hook inherits them from git.
    await exec('git', ['commit', '-q', '-m', 'edit ada'], { cwd: fx.repoDir, env: fx.env() });
    await waitUntil('the hook to finish its push', async () => (await hookLog(fx)).includes('writes sent'));
    const writes = writesIn(fx.emulator);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.path).toMatch(/^\/v2\/content\/team_members\/\d+\/$/);
    expect(JSON.parse(writes[0]?.body ?? '{}')).toEqual({ fields: { role: 'Committed change' } });

    // A commit carrying the pull trailer is the daemon's own: the hook sends nothing.
    fx.emulator.clearLog();
    await git(fx.repoDir, 'add', TAG);
    await exec('git', ['commit', '-q', '-m', 'butter-sync: pull\n\nButter-Sync: pull'], {
      cwd: fx.repoDir,
      env: fx.env(),
    });
    await waitUntil('the hook to skip the pull commit', async () =>
      (await hookLog(fx)).includes('made by a butter-sync pull'),
    );
    expect(writesIn(fx.emulator)).toEqual([]);
  });

  it('the hook finds node and the project when the commit runs: a moved repository keeps pushing', async () => {
    expect((await cli(fx, ['hook', 'install'])).code).toBe(0);
    const hook = await readFile(path.join(fx.repoDir, '.git/hooks/post-commit'), 'utf8');
    expect(hook).not.toContain(fx.repoDir);
    expect(hook).toContain('command -v node');
    const original = fx.repoDir;
    const moved = `${original}-moved`;
    await rename(original, moved);
    try {
      const rel = MEMBER;
      await writeFile(
        path.join(moved, rel),
        (await readFile(path.join(moved, rel), 'utf8')).replace('"Head of Content"', '"After the move"'),
      );
      await exec('git', ['commit', '-qam', 'edit after moving the repo'], { cwd: moved, env: fx.env() });
      const log = path.join(moved, '.butter-sync/hook.log');
      await waitUntil('the hook to push from the moved repo', async () =>
        (await readFile(log, 'utf8').catch(() => '')).includes('writes sent'),
      );
      expect(writesIn(fx.emulator).map((w) => JSON.parse(w.body ?? '{}'))).toEqual([
        { fields: { role: 'After the move' } },
      ]);
    } finally {
      await rename(moved, original);
    }
  });

  it('a commit succeeds even when ButterCMS cannot be reached', async () => {
    await cli(fx, ['hook', 'install']);
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Offline edit"'));
    await git(fx.repoDir, 'add', MEMBER);
    const env = { ...fx.env(), BUTTER_API_URL: `http://127.0.0.1:${await freePort()}/v2` };
    const commit = await exec('git', ['commit', '-q', '-m', 'offline'], { cwd: fx.repoDir, env });
    expect(commit.stderr).toBe('');
    expect(await git(fx.repoDir, 'log', '-1', '--format=%s')).toBe('offline');
  });

  it('watch pushes a saved file, then stops gracefully on SIGTERM with exit 143 and the lock released', async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(
      process.execPath,
      [
        CLI,
        'watch',
        '--repo',
        fx.repoDir,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--no-fetch',
        '--no-webhook',
      ],
      { env: fx.env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d) => {
      output += String(d);
    });
    child.stderr?.on('data', (d) => {
      output += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitUntil('healthz', async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok || undefined;
        } catch {
          return undefined;
        }
      });
      await waitUntil('watch to finish its start-up sync', () =>
        output.includes('start-up sync done') ? true : undefined,
      );
      fx.emulator.clearLog();
      await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Saved while watching"'));
      const patch = await waitUntil('the PATCH from the watcher', () =>
        writesIn(fx.emulator).find((w) => w.method === 'PATCH'),
      );
      expect(JSON.parse(patch.body ?? '{}')).toEqual({ fields: { role: 'Saved while watching' } });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      const metrics = await waitUntil('the PATCH to be counted in /metrics', async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /butter_sync_api_calls_total\{method="PATCH",status="202"\} 1/.test(text) ? text : undefined;
      });
      expect(metrics).toMatch(/butter_sync_api_calls_total\{method="GET",status="200"\} \d+/);
      expect(metrics).toContain('butter_sync_queue_depth');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(143);
    // The lock is free and the manifest is whole.
    const store = await ManifestStore.open(fx.repoDir, 'test', { waitMs: 0 });
    expect(Object.keys(store.manifest.entities).length).toBeGreaterThan(0);
    await store.close();
  });

  it('exits 2 with a plain message for a bad config, and 2 when the write token is missing', async () => {
    await fx.write('sync.config.json', '{ "contentDir": 3 }\n');
    const bad = await cli(fx, ['push']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('contentDir');
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace

    await git(fx.repoDir, 'checkout', '--', 'sync.config.json');
    const env = { ...fx.env(), BUTTER_WRITE_TOKEN: '' };
    const noToken = await cli(fx, ['push'], env);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('BUTTER_WRITE_TOKEN');
  });

  it('plan prints the operations and their call cost and sends nothing', async () => {
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Planned"'));
    const plan = await cli(fx, ['push', '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('PATCH item');
    // Every call the push makes (issue 10): the read of the item, the PATCH, and its read-back.
    expect(plan.stdout).toContain('Total API calls: 3 (1 read, 1 write, 1 verification read)');
    expect(writesIn(fx.emulator)).toEqual([]);
    const json = await cli(fx, ['push', '--dry-run', '--json']);
    const parsed = JSON.parse(json.stdout) as {
      plan: { totalCalls: number; operations: unknown[] };
      dryRunCalls: number;
    };
    expect(parsed.plan.totalCalls).toBe(3);
    // The dry run itself made the read the push makes before planning, and nothing else.
    expect(parsed.dryRunCalls).toBe(1);
  });

  it('a page referencing a new page not pushed yet is held back (dry run, push, status), then sent with it', async () => {
    const gifts = 'content-example/pages/faq/gifts.md';
    const text = (await fx.read('content-example/pages/faq/returns.md')).replace(
      'related: ""',
      'related: wrapping',
    );
    await fx.write(gifts, text);
    // The referenced page is a new file too, not pushed yet.
    await fx.write('content-example/pages/faq/wrapping.md', text.replace('related: wrapping', 'related: ""'));
    const plan = await cli(fx, ['push', '--dry-run', gifts]);
    // A plan exits by the run's rules: a held-back write is a write that will fail (4).
    expect(plan.code).toBe(4);
    expect(plan.stdout).toMatch(
      /HELD BACK\s+page:faq:gifts\s+0\s+it references page "wrapping", which is not in the CMS yet$/m,
    );
    expect(plan.stdout).toContain('Total API calls: 0');
    const push = await cli(fx, ['push', gifts]);
    expect(push.code).toBe(4);
    expect(push.stdout + push.stderr).toContain(
      `FAILED ${gifts} (create-page): not sent: it references page "wrapping"`,
    );
    expect(writesIn(fx.emulator)).toEqual([]);

    const held = await cli(fx, ['status']);
    expect(held.code).toBe(4);
    expect(held.stdout).toContain(gifts);
    // The reason is the last column: shown whole, hint included.
    expect(held.stdout).toContain('or fix the reference; every later push retries this file.');
    // Pushing only the referenced file (as the commit hook would) sends the held-back page with it.
    const wrapping = await cli(fx, ['push', 'content-example/pages/faq/wrapping.md']);
    expect(wrapping.code, wrapping.stdout + wrapping.stderr).toBe(0);
    expect(writesIn(fx.emulator).map((w) => JSON.parse(w.body ?? '{}').slug)).toEqual(['wrapping', 'gifts']);
    expect((await cli(fx, ['status'])).code).toBe(0);
  });
});
