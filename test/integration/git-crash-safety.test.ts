import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeForReport } from '../../src/sync/report.js';
import { type Fixture, git, makeFixture } from '../helpers/sync-fixture.js';

// Issue 15 items 2 and 8: the repository is checked before anything is written; HEAD and the index are never
// left apart, and a mismatch an older crash left is repaired; a pull held back by the repository's state exits 4.
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';

describe('git state around a pull', () => {
  let fx: Fixture;
  let memberId: number;

  beforeEach(async () => {
    fx = await makeFixture({ config: { pull: { commit: true } } });
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    memberId = Number(s.store.manifest.entities['item:team_members:ada-lovelace']!.remoteId);
    await s.done();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  async function pull() {
    const s = await fx.open();
    try {
      return await s.engine.pull({});
    } finally {
      await s.done();
    }
  }

  it('a stale .git/index.lock stops the pull with an error naming it, before anything is written', async () => {
    const lock = path.join(fx.repoDir, '.git', 'index.lock');
    await writeFile(lock, '');
    fx.emulator.editItem('team_members', memberId, { role: 'Behind A Stale Lock' });
    const before = await fx.read(MEMBER);
    const head = await git(fx.repoDir, 'rev-parse', 'HEAD');

    const error = await pull().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GIT', file: lock });
    expect((error as Error).message).toContain('index.lock');
    expect(await fx.read(MEMBER)).toBe(before);
    expect(await git(fx.repoDir, 'rev-parse', 'HEAD')).toBe(head);

    const { rm } = await import('node:fs/promises');
    await rm(lock);
    const { report } = await pull();
    expect(report.commit).toEqual(expect.any(String));
    expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');
  });

  it('repairs an index left staging the old content under a pull commit (an older crash)', async () => {
    fx.emulator.editItem('team_members', memberId, { role: 'Pulled Then Crashed' });
    const { report: first } = await pull();
    expect(first.commit).toEqual(expect.any(String));
    // What a kill between moving HEAD and updating the index left: HEAD and work tree new, index old.
    await git(fx.repoDir, 'reset', '-q', 'HEAD~1', '--', MEMBER);
    expect(await git(fx.repoDir, 'status', '--porcelain')).toBe(`MM ${MEMBER}`);

    const { report } = await pull();
    expect(report.gitNote).toMatch(/repaired the index/);
    expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');
    // The writer's next ordinary commit no longer reverts the pull.
    await fx.write('notes.txt', 'x\n');
    await fx.commitAll('writer commit');
    expect(JSON.parse(await git(fx.repoDir, 'show', `HEAD:${MEMBER}`)).role).toBe('Pulled Then Crashed');
  });

  it('a pull held back by a detached HEAD exits 4, not 0', async () => {
    await git(fx.repoDir, 'checkout', '-q', '--detach', 'HEAD');
    fx.emulator.editItem('team_members', memberId, { role: 'Held Back' });
    const { report } = await pull();
    expect(report.gitNote).toMatch(/detached/);
    expect(exitCodeForReport(report)).toBe(4);
  });
});
