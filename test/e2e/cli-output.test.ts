import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/state/manifest-file.js';
import { type CliFixture, cliPushedTemplate, templatePerFile } from '../helpers/cli-fixture.js';
import { runCliOn } from '../helpers/cli-process.js';
import { CLI } from '../helpers/sync-fixture.js';

// Issue 13, "The CLI": output a person can read, on a TTY and off it, and one that a machine can parse.

const exec = promisify(execFile);
const TAGS = 'content-example/collections/tags';
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';

// The CLI on the test's repo, in the fixture's environment unless a test passes its own.
const cli = runCliOn;

/** Run the CLI on a pseudo-terminal (util-linux `script`), as a person would: stdout and stderr are the TTY. */
async function onTty(fx: CliFixture, args: string[]): Promise<{ code: number; text: string }> {
  const line = [process.execPath, CLI, ...args, '--repo', fx.repoDir].map((a) => `'${a}'`).join(' ');
  try {
    const { stdout } = await exec('script', ['-qefc', line, '/dev/null'], {
      env: fx.env(),
      maxBuffer: 1 << 24,
    });
    return { code: 0, text: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, text: e.stdout };
  }
}

/** What a terminal shows: a progress line redrawn with `\r` counts once it is cleared. */
function screenLines(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.slice(l.lastIndexOf('\r') + 1).replace(/\x1b\[K/g, ''))
    .filter((l, i, all) => l !== '' || i < all.length - 1);
}

describe('CLI output', () => {
  let fx: CliFixture;
  // The first push (by the CLI, as before each test) runs once; each test gets its own copy of the result.
  const pushed = templatePerFile(() => cliPushedTemplate({}));
  beforeEach(async () => {
    fx = await pushed.fresh();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  async function addTags(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const slug = `tag-${String(i).padStart(2, '0')}`;
      await fx.write(
        `${TAGS}/${slug}.json`,
        `${JSON.stringify({ slug, name: `Tag ${i}`, color: '#123456' })}\n`,
      );
    }
  }

  it('a 66-write push on a TTY prints one line per change and a summary table: about 70 lines', async () => {
    await addTags(66);
    const run = await onTty(fx, ['push']);
    expect(run.code, run.text).toBe(0);
    const lines = screenLines(run.text);
    process.stdout.write(`66-write push on a TTY: ${lines.length} lines\n`);
    expect(lines.filter((l) => /^POST item tags\/tag-\d\d: slug, name, color$/.test(l))).toHaveLength(66);
    expect(lines.length).toBeLessThanOrEqual(72);
    expect(lines.join('\n')).toMatch(/^run\s+writes sent\s+files changed\s+API calls/m);
    expect(lines.join('\n')).not.toMatch(/api call|"level"|INFO|WARN/);
  });

  it('off a TTY: the same human lines on stdout, nothing on stderr when all went well; --json is JSON only', async () => {
    await addTags(3);
    const run = await cli(fx, ['push']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n').filter((l) => l.startsWith('POST item tags/'))).toHaveLength(3);
    expect(run.stdout).toMatch(/^push\s+3\s+0\s+\d+\s+0\s+0\s+0\s+0$/m);

    // Two locales in one write: the line names the fields, not the locales.
    for (const file of ['writing.json', 'writing.es.json']) {
      const rel = `${TAGS}/${file}`;
      const tag = JSON.parse(await fx.read(rel));
      await fx.write(rel, `${JSON.stringify({ ...tag, name: `${tag.name}!` }, null, 2)}\n`);
    }
    const locales = await cli(fx, ['push']);
    expect(locales.stdout).toMatch(/^PATCH item tags\/writing: name$/m);

    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"JSON run"'));
    const json = await cli(fx, ['push', '--json']);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: 'push', operations: [{ status: 'sent' }] });
  });

  it('request logs only at --log-level debug; pino JSON lines only with --log-format json', async () => {
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Logged"'));
    const debug = await cli(fx, ['push', '--dry-run', '--log-level', 'debug']);
    expect(debug.code, debug.stderr).toBe(0);
    // --dry-run reads nothing for a push: the request log comes from the real push below.
    const human = await cli(fx, ['push', '--log-level', 'debug']);
    const humanLines = human.stderr.split('\n').filter(Boolean);
    expect(humanLines.some((l) => /PATCH item:team_members#\d+ -> 202/.test(l))).toBe(true);
    expect(humanLines.every((l) => !l.startsWith('{'))).toBe(true);

    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Logged"', '"Logged as JSON"'));
    const json = await cli(fx, ['push', '--log-level', 'debug', '--log-format', 'json']);
    const jsonLines = json.stderr.split('\n').filter(Boolean);
    expect(jsonLines.length).toBeGreaterThan(0);
    for (const l of jsonLines) expect(() => JSON.parse(l)).not.toThrow();
    expect(json.stdout).toMatch(/^PATCH item team_members\/ada-lovelace: role$/m);

    const viaEnv = await cli(fx, ['status', '--log-level', 'debug'], {
      ...fx.env(),
      BUTTER_SYNC_LOG_FORMAT: 'json',
    });
    expect(viaEnv.code).toBe(0);
  });

  it('errors and notices go to stderr, each once; "in sync" is never said above them', async () => {
    await fx.write(`${TAGS}/engineering.json`, '{ "slug": "engineering",\n');
    await rm(path.join(fx.repoDir, 'content-example/pages/faq/returns.md'));
    const plan = await cli(fx, ['plan']);
    expect(plan.stdout).not.toContain('both sides are in sync');
    expect(plan.stderr).toMatch(/^ERROR content-example\/collections\/tags\/engineering\.json:\d+: /m);
    expect(plan.stderr).not.toContain('the other files were synced');

    const run = await cli(fx, ['reconcile']);
    expect(run.code).toBe(4);
    expect(run.stdout).not.toContain('ERROR');
    expect(run.stderr.match(/^ERROR /gm)).toHaveLength(1);
    const notices = run.stderr.split('\n').filter((l) => l.startsWith('NOTICE') && l.includes('returns'));
    expect(notices).toHaveLength(1);
  });

  it('a BUTTER_API_URL that is not the API address is a usage error showing the expected form', async () => {
    for (const url of ['127.0.0.1:8790/v2', 'htp://127.0.0.1:8790/v2', `${fx.emulator.origin}`]) {
      const run = await cli(fx, ['pull'], { ...fx.env(), BUTTER_API_URL: url });
      expect(run.code, `${url}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain('expected the form https://api.buttercms.com/v2');
      expect(run.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it('a resolve that pulls commits under a resolve title, not as a pull', async () => {
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Git side"'));
    await fx.commitAll('git side');
    const manifest = await readManifest(fx.repoDir, 'x');
    fx.emulator.editItem(
      'team_members',
      Number(manifest.entities['item:team_members:ada-lovelace']?.remoteId),
      {
        role: 'Dashboard side',
      },
    );
    expect((await cli(fx, ['reconcile'])).code).toBe(3);
    const resolve = await cli(fx, ['resolve', MEMBER, '--take', 'cms']);
    expect(resolve.code, resolve.stderr).toBe(0);
    expect(await fx.read(MEMBER)).toContain('"Dashboard side"');
    const { stdout } = await exec('git', ['log', '-1', '--format=%s%n%b'], { cwd: fx.repoDir });
    expect(stdout.split('\n')[0]).toBe(`butter-sync: resolve ${MEMBER}, taking the CMS's side`);
    expect(stdout).toContain('Butter-Sync: pull'); // still skipped by the hook
  });

  it('a standing notice is said once, kept in status and silenced by dismiss', async () => {
    await rm(path.join(fx.repoDir, 'content-example/pages/faq/returns.md'));
    const first = await cli(fx, ['reconcile']);
    const said = first.stderr.split('\n').filter((l) => l.startsWith('NOTICE'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('returns');

    const again = await cli(fx, ['reconcile']);
    expect(again.stderr).not.toMatch(/^NOTICE/m);
    expect(again.stderr).toContain('1 standing notice(s) not repeated');
    const status = await cli(fx, ['status']);
    const row = status.stdout.split('\n').find((l) => l.includes('content-example/pages/faq/returns.md'));
    const id = row?.split(/\s+/)[0] ?? '';
    expect(id).toMatch(/^[0-9a-f]{8}$/);

    expect((await cli(fx, ['dismiss', 'nope1234'])).code).toBe(2);
    const dismissed = await cli(fx, ['dismiss', id]);
    expect(dismissed.code, dismissed.stderr).toBe(0);
    expect((await cli(fx, ['status'])).stdout).not.toContain(id);
    const quiet = await cli(fx, ['reconcile']);
    expect(quiet.stderr).toBe('');
  });
});

describe('a reader that closes the pipe early', () => {
  it('`butter-sync --help | head` ends quietly, without an EPIPE stack trace', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Close our end before the CLI writes anything, as `head` does once it has its lines.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(stderr).not.toContain('Unhandled');
    expect(code).toBe(0);
  });
});
