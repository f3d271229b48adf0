import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { type Fixture, git, makeFixture } from '../helpers/sync-fixture.js';

// What a pull does to git: one commit with only the pulled files, never a person's work, never mid-operation.
const exec = promisify(execFile);
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const GRACE = 'content-example/collections/team_members/grace-hopper.json';
const TAG = 'content-example/collections/tags/engineering.json';
const FAQ = 'content-example/pages/faq/shipping.md';

describe('pull and git', () => {
  let fx: Fixture;
  let ids: Record<string, number>;

  beforeEach(async () => {
    fx = await makeFixture({
      config: { pull: { commit: true, author: { name: 'Sync Bot', email: 'bot@example.com' } } },
    });
    const s = await fx.open();
    const { report } = await s.engine.push({ verifyWaitMs: 5_000 });
    expect(report.pending).toBe(0);
    ids = Object.fromEntries(
      Object.entries(s.store.manifest.entities).flatMap(([k, e]) =>
        e.remoteId ? [[k, Number(e.remoteId)]] : [],
      ),
    );
    await s.done();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  async function pull(config?: Partial<ConfigInput>) {
    const s = await fx.open(config ? { config } : {});
    const result = await s.engine.pull({});
    await s.done();
    return result;
  }

  function editRemoteMember(role: string): void {
    fx.emulator.editItem('team_members', ids['item:team_members:ada-lovelace']!, { role });
  }

  it('commits only the pulled files, with the trailer and the configured author; a person’s work stays put', async () => {
    // A person's staged and unstaged work on other files, mid-edit.
    await fx.write(TAG, (await fx.read(TAG)).replace('"Engineering"', '"Staged by a person"'));
    await git(fx.repoDir, 'add', TAG);
    await fx.write(GRACE, (await fx.read(GRACE)).replace('"Grace Hopper"', '"Unstaged by a person"'));
    editRemoteMember('Pulled Role');
    fx.emulator.editPage('faq', 'shipping', { headline: 'Pulled headline' }, { status: 'published' });
    const head = await git(fx.repoDir, 'rev-parse', 'HEAD');

    const { report } = await pull();
    expect(report.commit).toEqual(expect.any(String));
    expect(await git(fx.repoDir, 'rev-parse', 'HEAD~1')).toBe(head);
    const files = await git(fx.repoDir, 'show', '--name-only', '--format=', 'HEAD');
    expect(files.split('\n').sort()).toEqual([MEMBER, FAQ].sort());
    expect(await git(fx.repoDir, 'log', '-1', '--format=%an <%ae>%n%B')).toMatch(
      /^Sync Bot <bot@example\.com>\n[\s\S]*Butter-Sync: pull/,
    );
    // Only the changed key in each committed file.
    const diff = await git(fx.repoDir, 'diff', '--unified=0', 'HEAD~1', 'HEAD');
    expect(diff.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toEqual([
      '-  "role": "Head of Content",',
      '+  "role": "Pulled Role",',
      '-headline: Everything about shipping',
      '+headline: Pulled headline',
    ]);
    // The person's work: still staged, still unstaged, not committed.
    const status = await git(fx.repoDir, 'status', '--porcelain');
    expect(status.split('\n').sort()).toEqual([` M ${GRACE}`, `M  ${TAG}`].sort());
  });

  it('writes a pulled change into a file with uncommitted edits, but leaves that file out of the commit', async () => {
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Ada Lovelace"', '"Ada, edited locally"'));
    editRemoteMember('Pulled Into Dirty');
    const head = await git(fx.repoDir, 'rev-parse', 'HEAD');
    const { report } = await pull();
    const text = await fx.read(MEMBER);
    expect(text).toContain('"Ada, edited locally"');
    expect(text).toContain('"Pulled Into Dirty"');
    expect(await git(fx.repoDir, 'rev-parse', 'HEAD')).toBe(head);
    expect(report.gitNote).toContain(MEMBER);
  });

  it('writes nothing while a rebase is in progress or HEAD is detached, and says why; pulls once it is over', async () => {
    // A real rebase stopped on a conflict in a file that has nothing to do with the content.
    await fx.write('notes.txt', 'base\n');
    await fx.commitAll('notes');
    await git(fx.repoDir, 'checkout', '-q', '-b', 'side');
    await fx.write('notes.txt', 'side\n');
    await fx.commitAll('side notes');
    await git(fx.repoDir, 'checkout', '-q', 'main');
    await fx.write('notes.txt', 'main\n');
    await fx.commitAll('main notes');
    await git(fx.repoDir, 'checkout', '-q', 'side');
    await expect(git(fx.repoDir, 'rebase', 'main')).rejects.toThrow();
    const before = await fx.read(MEMBER);
    const head = await git(fx.repoDir, 'rev-parse', 'HEAD');
    editRemoteMember('Held Back');

    const during = await pull();
    expect(during.report.gitNote).toMatch(/rebase/);
    expect(during.report.commit).toBeUndefined();
    expect(await fx.read(MEMBER)).toBe(before);
    expect(await git(fx.repoDir, 'rev-parse', 'HEAD')).toBe(head);

    await git(fx.repoDir, 'rebase', '--abort');
    await git(fx.repoDir, 'checkout', '-q', '--detach', 'HEAD');
    const detached = await pull();
    expect(detached.report.gitNote).toMatch(/detached/);
    expect(await fx.read(MEMBER)).toBe(before);

    await git(fx.repoDir, 'checkout', '-q', 'side');
    const after = await pull();
    expect(after.report.commit).toEqual(expect.any(String));
    expect(JSON.parse(await fx.read(MEMBER)).role).toBe('Held Back');
  });

  it('pushes the pull commit to the remote when pull.push is set, never forced', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-remote-'));
    try {
      const bare = path.join(root, 'origin.git');
      await exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
      await git(fx.repoDir, 'remote', 'add', 'origin', bare);
      await git(fx.repoDir, 'push', '-q', 'origin', 'main');
      editRemoteMember('Pushed Along');
      const { report } = await pull({ pull: { commit: true, push: true, remote: 'origin', branch: 'main' } });
      expect(report.commit).toEqual(expect.any(String));
      expect(report.gitNote).toBeUndefined();
      expect((await exec('git', ['-C', bare, 'rev-parse', 'main'])).stdout.trim()).toBe(report.commit);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
