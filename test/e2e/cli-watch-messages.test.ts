import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/state/manifest-file.js';
import { type CliFixture, cliPushedTemplate, templatePerFile } from '../helpers/cli-fixture.js';
import { type CliHandle, startCli } from '../helpers/cli-process.js';
import { CLI } from '../helpers/sync-fixture.js';
import { waitUntil } from '../helpers/wait.js';

// `watch` messages that never contradict the state (issue 13): no "secret is not set" when it is, no "in
// step" above conflicts, a git remote that is missing said once with the way out, not every interval.

const exec = promisify(execFile);
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';

describe('watch messages', () => {
  let fx: CliFixture;
  let watch: CliHandle | undefined;
  let stderr = '';
  // The first push (by the CLI) runs once; each test gets its own copy of the result.
  const pushed = templatePerFile(() =>
    cliPushedTemplate({
      config: { pull: { intervalSeconds: 0, commit: true, push: false, fetchIntervalSeconds: 1 } },
    }),
  );
  beforeEach(async () => {
    fx = await pushed.fresh();
    stderr = '';
  });
  afterEach(async () => {
    watch?.child.kill('SIGTERM');
    await watch?.done;
    watch = undefined;
    await fx.cleanup();
  });

  function start(args: string[], env: NodeJS.ProcessEnv): void {
    watch = startCli(['watch', '--repo', fx.repoDir, '--port', '0', '--host', '127.0.0.1', ...args], env);
    watch.child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
  }

  it('--no-webhook with the secret set says the receiver is off by choice; a missing remote is said once', async () => {
    start(['--no-webhook', '--log-level', 'debug'], {
      ...fx.env(),
      BUTTER_WEBHOOK_SECRET: 'a-secret-that-is-set',
    });
    await waitUntil('the start-up sync', () => stderr.includes('start-up sync done'));
    expect(stderr).not.toContain('BUTTER_WEBHOOK_SECRET is not set');
    expect(stderr).toContain('--no-webhook');
    expect(stderr).toContain('start-up sync done: files and ButterCMS in step');
    // The fixture repo has no remote: fetches fail every second; the error is said once, the repeats at debug.
    await waitUntil(
      'two repeated fetch failures',
      () => (stderr.match(/fetch failed: .*\(again\)/g)?.length ?? 0) >= 2,
    );
    const said = stderr.split('\n').filter((l) => l.includes('fetch failed') && !l.includes('(again)'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('--no-fetch');
  });

  it('start-up with a conflict standing does not say "in step"', async () => {
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Git side"'));
    const manifest = await readManifest(fx.repoDir, 'x');
    fx.emulator.editItem(
      'team_members',
      Number(manifest.entities['item:team_members:ada-lovelace']?.remoteId),
      {
        role: 'Dashboard side',
      },
    );
    const reconcile = await exec(process.execPath, [CLI, 'reconcile', '--repo', fx.repoDir], {
      env: fx.env(),
    }).catch((e: { code: number }) => e);
    expect((reconcile as { code?: number }).code).toBe(3);
    start(['--no-webhook', '--no-fetch'], fx.env());
    await waitUntil('the start-up sync', () => stderr.includes('start-up sync done'));
    expect(stderr).not.toContain('in step');
    expect(stderr).toMatch(/start-up sync done: 1 conflict\(s\) need a person/);
  });
});
