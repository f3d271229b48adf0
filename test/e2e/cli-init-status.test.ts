import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/sync-fixture.js';

const exec = promisify(execFile);

async function run(dir: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args, '--repo', dir]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('init and status', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-init-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('init ignores node_modules/ too, once', async () => {
    const first = await run(dir, 'init');
    expect(first.code).toBe(0);
    const gitignore = await readFile(path.join(dir, '.gitignore'), 'utf8');
    expect(gitignore.split('\n')).toContain('node_modules/');
    expect(gitignore.split('\n')).toContain('.butter-sync/');
    await run(dir, 'init');
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe(gitignore);
  });

  it('init writes a valid starter config and ignores .butter-sync/, and never overwrites', async () => {
    await writeFile(path.join(dir, '.gitignore'), 'node_modules/');
    const first = await run(dir, 'init');
    expect(first.code).toBe(0);
    const gitignore = await readFile(path.join(dir, '.gitignore'), 'utf8');
    expect(gitignore.startsWith('node_modules/\n')).toBe(true);
    expect(gitignore).toContain('.butter-sync/');
    const status = await run(dir, 'status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('No pending writes, failures or conflicts.');

    await writeFile(path.join(dir, 'sync.config.json'), '{"contentDir":"mine"}\n');
    const again = await run(dir, 'init');
    expect(again.stdout).toContain('already exists');
    expect(await readFile(path.join(dir, 'sync.config.json'), 'utf8')).toBe('{"contentDir":"mine"}\n');
    expect((await readFile(path.join(dir, '.gitignore'), 'utf8')).match(/\.butter-sync\//g)).toHaveLength(1);
  });

  it('status without a config says how to get one (exit 2)', async () => {
    const result = await run(dir, 'status');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('butter-sync init');
  });

  it('--help explains commands, environment and exit codes', async () => {
    const help = await run(dir, '--help');
    expect(help.code).toBe(0);
    for (const word of ['watch', 'reconcile', 'resolve', 'BUTTER_WRITE_TOKEN', 'Exit codes']) {
      expect(help.stdout).toContain(word);
    }
    const unknown = await run(dir, 'frobnicate');
    expect(unknown.code).toBe(2);
  });
});
