import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGit } from '../../src/git/run-git.js';
import { readManifest } from '../../src/state/manifest-file.js';
import { STATE_REF } from '../../src/state/state-ref.js';
import { runCli } from '../helpers/cli-process.js';
import { CLI, type Fixture, git, makeFixture } from '../helpers/sync-fixture.js';
import { freePort, waitUntil } from '../helpers/wait.js';

// Issue 14 "Proof": one bare remote and three clones that share the sync state on refs/butter-sync/state
// (the default once a repository has a remote: the config below does not set "state").
// - laptop: a writer's clone; after each commit it runs what the installed hook runs (`hook post-commit`);
// - container: a clone running `watch` (fetching the writers' commits every second), killed once mid-way;
// - CI: a fresh clone with no .butter-sync/ cache running `reconcile`.
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const TAG = 'content-example/collections/tags/engineering.json';
const RETURNS = 'content-example/pages/faq/returns.md';
const SHIPPING = 'content-example/pages/faq/shipping.md';

describe('three machines, one shared state', () => {
  let fx: Fixture;
  let root: string;
  let bare: string;
  let container: string;
  let watch: ChildProcess | undefined;
  let watchOutput = '';

  async function setup(emulator: { applyDelayMs?: number } = {}): Promise<void> {
    fx = await makeFixture({
      config: {
        pull: { intervalSeconds: 1, commit: true, push: true, remote: 'origin', fetchIntervalSeconds: 1 },
      },
      emulator,
    });
    root = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-machines-'));
    bare = path.join(root, 'origin.git');
    await git(root, 'init', '-q', '--bare', '-b', 'main', bare);
    await git(fx.repoDir, 'remote', 'add', 'origin', bare);
    await git(fx.repoDir, 'push', '-q', '-u', 'origin', 'main');
    container = await cloneAs('container');
  }
  afterEach(async () => {
    if (watch && watch.exitCode === null && watch.signalCode === null) {
      watch.kill('SIGKILL');
    }
    watch = undefined;
    await fx.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  async function cloneAs(name: string): Promise<string> {
    const dir = path.join(root, name);
    await git(root, 'clone', '-q', bare, dir);
    await git(dir, 'config', 'user.email', `${name}@example.com`);
    await git(dir, 'config', 'user.name', name);
    return dir;
  }

  async function cli(repo: string, ...args: string[]) {
    const run = await runCli([...args, '--repo', repo, '--log-level', 'warn'], fx.env());
    return run;
  }

  async function startWatch(): Promise<void> {
    watchOutput = '';
    const port = String(await freePort());
    const args = [CLI, 'watch', '--repo', container, '--port', port, '--host', '127.0.0.1', '--no-webhook'];
    const child = spawn(process.execPath, args, { env: fx.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d) => {
      watchOutput += String(d);
    });
    child.stderr?.on('data', (d) => {
      watchOutput += String(d);
    });
    watch = child;
  }

  async function sharedOid(): Promise<string | undefined> {
    const shown = await runGit(bare, ['rev-parse', '--verify', '--quiet', STATE_REF], { allowFailure: true });
    return shown.code === 0 ? shown.stdout.trim() : undefined;
  }

  async function commitAndHook(message: string): Promise<void> {
    await fx.commitAll(message);
    const hook = await cli(fx.repoDir, 'hook', 'post-commit');
    expect(hook.code, hook.stderr).toBe(0);
    await git(fx.repoDir, 'pull', '-q', '--rebase', 'origin', 'main');
    await git(fx.repoDir, 'push', '-q', 'origin', 'main');
  }

  /** What every clone must agree on: per entity, its id and per locale its base. */
  async function agreedState(repo: string) {
    const manifest = await readManifest(repo, 'x');
    const entities = Object.fromEntries(
      Object.entries(manifest.entities).map(([key, e]) => [
        key,
        {
          remoteId: e.remoteId,
          bases: Object.fromEntries(Object.entries(e.locales).map(([l, s]) => [l, s.base])),
        },
      ]),
    );
    return { entities, media: manifest.media, pending: manifest.pending, conflicts: manifest.conflicts };
  }

  it('laptop hook, container watch (killed once) and a cache-less CI reconcile end in one state', async () => {
    await setup();
    // The laptop's first push establishes ids, bases and the media map, and publishes them.
    const first = await cli(fx.repoDir, 'push');
    expect(first.code, first.stderr).toBe(0);
    const published = await sharedOid();
    expect(published).toBeDefined();
    expect((await git(bare, 'rev-list', '--count', 'main')).trim()).toBe('1');

    // The container starts from the shared state: nothing to write, nothing to pull.
    await startWatch();
    await waitUntil(
      `watch start-up\n${watchOutput}`,
      () => watchOutput.includes('start-up sync done'),
      30_000,
    );
    expect(watchOutput).toContain('files and ButterCMS in step');

    // The laptop deletes a page file (pages cannot be deleted through the API: reported, kept deleted) and
    // edits an item, each commit pushed by the hook.
    await rm(path.join(fx.repoDir, RETURNS));
    await commitAndHook('remove the returns page');
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"From the laptop"'));
    await commitAndHook('role from the laptop');
    const afterLaptop = await sharedOid();
    expect(afterLaptop).not.toBe(published);

    // The container fetches the commits; its job publishes the state while it keeps running.
    await waitUntil(
      `the container merged the laptop's commits\n${watchOutput}`,
      async () => (await readFile(path.join(container, MEMBER), 'utf8')).includes('From the laptop'),
      30_000,
    );
    // An editor changes a tag in the dashboard; the container's poll pulls it, commits and pushes the file, and
    // publishes the state after that job, while it keeps running (not only when it stops).
    const tagId = Number((await agreedState(fx.repoDir)).entities['item:tags:engineering']?.remoteId);
    fx.emulator.editItem('tags', tagId, { name: 'Edited in the dashboard' });
    await waitUntil(
      `the container's pull commit on the remote\n${watchOutput}`,
      async () => (await git(bare, 'log', '-1', '--format=%B', 'main')).includes('Butter-Sync: pull'),
      30_000,
    );
    await waitUntil(
      `the container published while running\n${watchOutput}`,
      async () => {
        const shown = await runGit(bare, ['cat-file', 'blob', `${STATE_REF}:manifest.json`]);
        const shared = JSON.parse(shown.stdout) as {
          entities: Record<string, { locales: Record<string, { base: Record<string, string> }> }>;
        };
        const mine = (await readManifest(container, 'x')).entities['item:tags:engineering']?.locales.en?.base;
        return (
          JSON.stringify(shared.entities['item:tags:engineering']?.locales.en?.base) ===
            JSON.stringify(mine) && (await sharedOid()) !== afterLaptop
        );
      },
      30_000,
    );
    // Killed: no stop, no final publish.
    watch?.kill('SIGKILL');
    await new Promise((resolve) => watch?.once('exit', resolve));

    // CI: a clone with no cache runs reconcile. It pulls the dashboard edit, keeps the returns page deleted,
    // sees no media field as a conflict, and creates nothing.
    const ci = await cloneAs('ci');
    const postsBefore = fx.emulator.requestLog().filter((r) => r.method === 'POST').length;
    const reconcile = await cli(ci, 'reconcile');
    expect(reconcile.code, `${reconcile.stdout}\n${reconcile.stderr}`).toBe(0);
    expect(fx.emulator.requestLog().filter((r) => r.method === 'POST').length).toBe(postsBefore);
    await expect(readFile(path.join(ci, RETURNS), 'utf8')).rejects.toThrow(/ENOENT/);
    expect(await readFile(path.join(ci, TAG), 'utf8')).toContain('Edited in the dashboard');
    expect((await readManifest(ci, 'x')).conflicts).toEqual([]);

    // The container comes back after its kill; the laptop pulls and runs its hook again.
    await startWatch();
    await waitUntil(
      `watch restart\n${watchOutput}`,
      () => watchOutput.includes('start-up sync done'),
      30_000,
    );
    await waitUntil(
      'the container has the CI pull commit',
      async () => (await readFile(path.join(container, TAG), 'utf8')).includes('Edited in the dashboard'),
      30_000,
    );
    watch?.kill('SIGTERM');
    await new Promise((resolve) => watch?.once('exit', resolve));
    await git(fx.repoDir, 'pull', '-q', '--rebase', 'origin', 'main');
    for (const repo of [fx.repoDir, ci, container]) {
      const again = await cli(repo, 'reconcile');
      expect(again.code, `${repo}\n${again.stdout}\n${again.stderr}`).toBe(0);
    }
    // One more round: each clone takes in whatever the others published after its own run.
    for (const repo of [fx.repoDir, ci, container]) expect((await cli(repo, 'reconcile')).code).toBe(0);

    // Every clone: the same state, no conflict, nothing pending, the deleted page still deleted.
    const states = await Promise.all([fx.repoDir, ci, container].map(agreedState));
    expect(states[1]).toEqual(states[0]);
    expect(states[2]).toEqual(states[0]);
    expect(states[0]?.conflicts).toEqual([]);
    expect(states[0]?.pending).toEqual([]);
    for (const repo of [fx.repoDir, ci, container]) {
      await expect(readFile(path.join(repo, RETURNS), 'utf8')).rejects.toThrow(/ENOENT/);
      expect(await readFile(path.join(repo, TAG), 'utf8')).toContain('Edited in the dashboard');
      expect(await readFile(path.join(repo, MEMBER), 'utf8')).toContain('From the laptop');
    }
    // No duplicate anywhere, and both sides hold every change.
    const tags = fx.emulator.requestLog().filter((r) => r.method === 'POST');
    expect(tags.length).toBe(postsBefore);
    const state = states[0]!;
    expect(Object.keys(state.entities)).not.toContain('page:faq:returns-2');
    expect(await readFile(path.join(fx.repoDir, SHIPPING), 'utf8')).toContain('hero_image');
  }, 240_000);

  it('says once that the shared state cannot be reached, and again only after it was reached', async () => {
    await setup();
    expect((await cli(fx.repoDir, 'push')).code).toBe(0);
    const unreachable = path.join(root, 'gone.git');
    const said = (run: { stderr: string }) =>
      run.stderr.split('\n').filter((l) => l.includes('shared state'));
    await git(fx.repoDir, 'remote', 'set-url', 'origin', unreachable);
    const offline = [await cli(fx.repoDir, 'push'), await cli(fx.repoDir, 'push')];
    for (const run of offline) expect(run.code, run.stderr).toBe(0);
    expect(said(offline[0]!)).toHaveLength(1);
    expect(said(offline[0]!)[0]).toContain('said once');
    expect(said(offline[1]!)).toEqual([]);
    // Reached again, then lost again: news again.
    await git(fx.repoDir, 'remote', 'set-url', 'origin', bare);
    expect(said(await cli(fx.repoDir, 'push'))).toEqual([]);
    await git(fx.repoDir, 'remote', 'set-url', 'origin', unreachable);
    expect(said(await cli(fx.repoDir, 'push'))).toHaveLength(1);
  }, 120_000);

  it('a pending write accepted on one machine is verified by the next machine that runs', async () => {
    // ButterCMS applies an accepted write a few seconds later (butter-api.md: 202 is not success).
    await setup({ applyDelayMs: 3_000 });
    const first = await cli(fx.repoDir, 'push', '--wait', '30');
    expect(first.code, first.stderr).toBe(0);
    // The laptop sends an edit and goes away before it can read it back.
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Sent from the laptop"'));
    await fx.commitAll('role');
    const sent = await cli(fx.repoDir, 'push', '--wait', '0');
    expect(sent.code, sent.stderr).not.toBe(1);
    const laptopState = await readManifest(fx.repoDir, 'x');
    expect(laptopState.pending.map((w) => w.entity)).toContain('item:team_members:ada-lovelace');
    await git(fx.repoDir, 'push', '-q', 'origin', 'main');

    // The write lands; a CI clone with no cache runs next and verifies it.
    await fx.emulator.settle();
    const ci = await cloneAs('ci');
    const run = await cli(ci, 'reconcile');
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const ciState = await readManifest(ci, 'x');
    expect(ciState.pending).toEqual([]);
    expect(ciState.failed).toEqual([]);
    // Verified, not re-sent: one PATCH in all.
    expect(fx.emulator.requestLog().filter((r) => r.method === 'PATCH')).toHaveLength(1);
    // The laptop learns it from the shared state on its next run, and sends nothing again.
    const laptopAgain = await cli(fx.repoDir, 'push');
    expect(laptopAgain.code, laptopAgain.stderr).toBe(0);
    expect((await readManifest(fx.repoDir, 'x')).pending).toEqual([]);
  }, 120_000);
});
