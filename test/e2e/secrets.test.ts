import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli, startCli } from '../helpers/cli-process.js';
import { type Fixture, git, makeFixture } from '../helpers/sync-fixture.js';

// Issue "Prove it" §6: tokens and the webhook secret never reach logs, errors, reports, the manifest or the
// hook log; the read token never authenticates a write; `watch` refuses a webhook receiver without a secret.
const READ_TOKEN = 'rd-7f3a9c1e5b2d48a6-readonly';
const WRITE_TOKEN = 'wr-c41b8e2f9d6a7350-writeapi';
const WEBHOOK_SECRET = 'wh-5e8d2c7b1a9f4036-shared';
const WRONG_TOKEN = 'zz-0a1b2c3d4e5f6789-revoked';
const SECRETS = [READ_TOKEN, WRITE_TOKEN, WEBHOOK_SECRET, WRONG_TOKEN];
const exec = promisify(execFile);
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';

describe('secrets and tokens', () => {
  let fx: Fixture;
  const outputs: Array<{ label: string; text: string }> = [];
  const timings: string[] = [];

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    const base: NodeJS.ProcessEnv = { ...process.env };
    delete base.BUTTER_WEBHOOK_SECRET;
    return {
      ...base,
      BUTTER_API_URL: fx.emulator.url,
      BUTTER_READ_TOKEN: READ_TOKEN,
      BUTTER_WRITE_TOKEN: WRITE_TOKEN,
      ...extra,
    };
  };
  async function cli(label: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    const run = await runCli(['--repo', fx.repoDir, '--log-level', 'debug', ...args], env(extra));
    outputs.push(
      { label: `${label} stdout`, text: run.stdout },
      { label: `${label} stderr`, text: run.stderr },
    );
    timings.push(`${label} ${run.ms}ms`);
    return run;
  }

  beforeAll(async () => {
    fx = await makeFixture({
      config: { verify: { deadlineSeconds: 5 } },
      emulator: { readToken: READ_TOKEN, writeToken: WRITE_TOKEN },
    });
  });
  afterAll(async () => {
    process.stderr.write(`secrets test CLI runs: ${timings.join(', ')}\n`);
    await fx.cleanup();
  });

  it('push, pull, reconcile, plan, status, a refused push and the hook never print or store a secret', {
    timeout: 60_000,
  }, async () => {
    const push = await cli('push', ['--json', 'push', '--wait', '5']);
    expect(push.code, push.stderr.slice(-1_000)).toBe(0);

    const s = await fx.open();
    const id = s.store.manifest.entities['item:team_members:grace-hopper']?.remoteId;
    await s.done();
    fx.emulator.editItem('team_members', Number(id), { role: 'Edited in the dashboard' });
    const pull = await cli('pull', ['--json', 'pull']);
    expect(pull.code, pull.stderr.slice(-1_000)).toBe(0);
    const reconcile = await cli('reconcile', ['--json', 'reconcile', '--wait', '5']);
    expect(reconcile.code, reconcile.stderr.slice(-1_000)).toBe(0);
    await cli('plan', ['--json', 'plan']);
    await cli('status', ['--json', 'status']);
    await cli('status text', ['status']);

    // The git hook: install, commit, and wait for the background run to write its log.
    const install = await cli('hook install', ['hook', 'install']);
    expect(install.code, install.stderr).toBe(0);
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Editor via hook"'));
    // The hook inherits the committer's environment, where the tokens live.
    await git(fx.repoDir, 'add', '-A');
    await exec('git', ['commit', '-q', '-m', 'edit through the hook'], { cwd: fx.repoDir, env: env() });
    const hookLog = path.join(fx.repoDir, '.butter-sync', 'hook.log');
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const size = await stat(hookLog).then(
        (st) => st.size,
        () => 0,
      );
      if (size > 0 && fx.emulator.requestLog().some((r) => r.body?.includes('Editor via hook'))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(
      fx.emulator.requestLog().some((r) => r.body?.includes('Editor via hook')),
      await readFile(hookLog, 'utf8').catch(() => 'no hook.log'),
    ).toBe(true);

    // Refused credentials last: a write refused with 401 is left as a pending intent (see the report), which
    // would turn the runs above into exit 4.
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Editor via hook"', '"Refused"'));
    const refused = await cli('push with a revoked write token', ['--json', 'push', MEMBER, '--wait', '0'], {
      BUTTER_WRITE_TOKEN: WRONG_TOKEN,
    });
    expect(refused.code).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/401|token|auth/i);
    const badRead = await cli('pull with a revoked read token', ['--json', 'pull'], {
      BUTTER_READ_TOKEN: WRONG_TOKEN,
    });
    expect(badRead.code).not.toBe(0);

    // Everything a person or a log shipper could see.
    const stateDir = path.join(fx.repoDir, '.butter-sync');
    for (const name of await readdir(stateDir, { recursive: true })) {
      const file = path.join(stateDir, name);
      if ((await stat(file)).isFile())
        outputs.push({ label: `.butter-sync/${name}`, text: await readFile(file, 'utf8') });
    }
    outputs.push({ label: 'git log', text: await git(fx.repoDir, 'log', '-p', '--all') });
    outputs.push({
      label: 'hook',
      text: await readFile(path.join(fx.repoDir, '.git/hooks/post-commit'), 'utf8'),
    });
    expect(outputs.some((o) => o.label === '.butter-sync/hook.log' && o.text.length > 0)).toBe(true);
    expect(outputs.some((o) => o.label === '.butter-sync/manifest.json')).toBe(true);

    const leaks = outputs.flatMap((o) =>
      SECRETS.filter((secret) => o.text.includes(secret)).map(
        (secret) => `${o.label}: ${secret.slice(0, 2)}…`,
      ),
    );
    expect(leaks).toEqual([]);

    // The emulator saw the read token only on reads; every write carried the write token (or the revoked one).
    const log = fx.emulator.requestLog();
    const writes = log.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
    expect(writes.length).toBeGreaterThan(5);
    expect(writes.filter((r) => r.auth === 'read' || r.auth === 'none')).toEqual([]);
    expect(new Set(writes.map((r) => r.auth))).toEqual(new Set(['write', 'invalid']));
    expect(log.filter((r) => SECRETS.some((secret) => r.path.includes(secret)))).toEqual([]);
  });

  it('watch refuses to start the webhook receiver without a secret (exit 2), starts with one, and logs neither', {
    timeout: 40_000,
  }, async () => {
    const refused = await cli('watch without secret', [
      'watch',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--no-fetch',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('BUTTER_WEBHOOK_SECRET');

    const watch = startCli(
      [
        '--repo',
        fx.repoDir,
        '--log-level',
        'debug',
        'watch',
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--no-fetch',
      ],
      env({ BUTTER_WEBHOOK_SECRET: WEBHOOK_SECRET }),
    );
    let stderr = '';
    watch.child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    try {
      const until = Date.now() + 15_000;
      let port: string | undefined;
      while (!port && Date.now() < until) {
        // Human log lines put the fields after the message; JSON lines put them first.
        const line = /^.*endpoints listening.*$/m.exec(stderr)?.[0];
        port = line ? /"port":(\d+)/.exec(line)?.[1] : undefined;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(port, stderr.slice(-1_000)).toBeDefined();
      const url = `http://127.0.0.1:${port}${fx.config.webhook.path}`;
      const body = JSON.stringify({
        data: { id: 'grace-hopper', itemid: '/v2/content/?keys=team_members', label: 'x' },
        webhook: { event: 'collectionitem.update', target: url },
      });
      const wrong = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [fx.config.webhook.header]: WRONG_TOKEN },
        body,
      });
      expect(wrong.status).toBe(401);
      const right = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [fx.config.webhook.header]: WEBHOOK_SECRET },
        body,
      });
      expect(right.status).toBeLessThan(300);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      watch.child.kill('SIGTERM');
    }
    const end = await watch.done;
    outputs.push(
      { label: 'watch stderr', text: `${stderr}${end.stderr}` },
      { label: 'watch stdout', text: end.stdout },
    );
    const leaks = outputs.flatMap((o) =>
      SECRETS.filter((secret) => o.text.includes(secret)).map(
        (secret) => `${o.label}: ${secret.slice(0, 2)}…`,
      ),
    );
    expect(leaks).toEqual([]);
  });
});
