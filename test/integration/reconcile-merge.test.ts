import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { exitCodeForReport } from '../../src/sync/report.js';
import { runCli } from '../helpers/cli-process.js';
import { type Fixture, git, makeFixture, writesIn } from '../helpers/sync-fixture.js';

// Three-way merge per field (DESIGN.md §3): both sides edited between two reconciles.
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const FAQ = 'content-example/pages/faq/shipping.md';

function wireBody(entry: { body?: string | undefined }): Record<string, unknown> {
  return JSON.parse(entry.body ?? '{}') as Record<string, unknown>;
}

describe('reconcile merges both sides field by field', () => {
  let fx: Fixture;
  let adaId: number;

  beforeEach(async () => {
    fx = await makeFixture();
    const s = await fx.open();
    const { report } = await s.engine.push({ verifyWaitMs: 5_000 });
    expect(report.pending).toBe(0);
    adaId = Number(s.store.manifest.entities['item:team_members:ada-lovelace']?.remoteId);
    await s.done();
    expect(Number.isSafeInteger(adaId) && adaId > 0).toBe(true);
    fx.emulator.clearLog();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  async function reconcile(config?: Partial<ConfigInput>) {
    const s = await fx.open(config ? { config } : {});
    const result = await s.engine.reconcile({ verifyWaitMs: 5_000 });
    const manifest = s.store.manifest;
    await s.done();
    return { ...result, manifest, exitCode: exitCodeForReport(result.report) };
  }

  async function remoteMember(): Promise<Record<string, unknown>> {
    const s = await fx.open();
    const item = await s.cms.getItem('team_members', adaId, { preview: true });
    await s.done();
    return item?.fields ?? {};
  }

  async function editBoth(local: string, remote: string): Promise<string> {
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', JSON.stringify(local)));
    fx.emulator.editItem('team_members', adaId, { role: remote });
    fx.emulator.clearLog();
    return fx.read(MEMBER);
  }

  it('keeps both when each side changed a different field, in the file and in the CMS', async () => {
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Editor in Chief"'));
    fx.emulator.editItem('team_members', adaId, { name: 'Augusta Ada King' });
    fx.emulator.editPage('faq', 'shipping', { headline: 'Shipping, answered' }, { status: 'published' });
    await fx.write(FAQ, (await fx.read(FAQ)).replace('Every parcel is tracked.', 'Every parcel is insured.'));
    fx.emulator.clearLog();

    const { report, exitCode } = await reconcile();
    expect(report.conflicts).toEqual([]);
    expect(exitCode).toBe(0);
    const member = JSON.parse(await fx.read(MEMBER)) as Record<string, unknown>;
    expect(member).toMatchObject({ name: 'Augusta Ada King', role: 'Editor in Chief' });
    expect(await remoteMember()).toMatchObject({ name: 'Augusta Ada King', role: 'Editor in Chief' });
    const faq = await fx.read(FAQ);
    expect(faq).toContain('headline: Shipping, answered\n');
    expect(faq).toContain('Every parcel is insured.');
    // Only the locally changed field goes out; the remote one is not echoed back.
    const writes = writesIn(fx.emulator);
    expect(writes.map((w) => w.method)).toEqual(['PATCH', 'PATCH']);
    expect(writes.map((w) => wireBody(w).fields)).toEqual(
      expect.arrayContaining([
        { role: 'Editor in Chief' },
        expect.objectContaining({ body: expect.any(String) }),
      ]),
    );
    expect(writes.some((w) => JSON.stringify(wireBody(w)).includes('Shipping, answered'))).toBe(false);

    // In step now: the next reconcile sends and writes nothing.
    fx.emulator.clearLog();
    const again = await reconcile();
    expect(again.plan.operations.filter((op) => op.kind !== 'adopt')).toEqual([]);
    expect(writesIn(fx.emulator)).toEqual([]);
  });

  it('adopts the same change made on both sides without sending or writing anything', async () => {
    const before = await editBoth('Same Change', 'Same Change');
    const { report, exitCode } = await reconcile();
    expect(exitCode).toBe(0);
    expect(report.conflicts).toEqual([]);
    expect(writesIn(fx.emulator)).toEqual([]);
    expect(await fx.read(MEMBER)).toBe(before);
  });

  it('records a conflict for different changes to one field, touches neither side, and resolve settles it', async () => {
    const before = await editBoth('From Git', 'From CMS');
    const { report, exitCode, manifest } = await reconcile();
    expect(exitCode).toBe(3);
    expect(report.conflicts).toEqual([
      expect.objectContaining({
        path: MEMBER,
        field: 'role',
        locale: 'en',
        git: 'From Git',
        cms: 'From CMS',
      }),
    ]);
    expect(manifest.conflicts).toHaveLength(1);
    expect(await fx.read(MEMBER)).toBe(before);
    expect(writesIn(fx.emulator)).toEqual([]);
    expect((await remoteMember()).role).toBe('From CMS');

    // Still a conflict on the next run, still nothing touched.
    expect((await reconcile()).exitCode).toBe(3);
    expect(writesIn(fx.emulator)).toEqual([]);

    // resolve --take cms: the file takes the CMS value, only that key changes, and it is committed.
    const s = await fx.open();
    const resolved = await s.engine.resolve(MEMBER, 'cms');
    await s.done();
    expect(resolved.resolved).toBe(1);
    expect(await fx.read(MEMBER)).toBe(before.replace('"From Git"', '"From CMS"'));
    expect(writesIn(fx.emulator)).toEqual([]);
    expect(await git(fx.repoDir, 'log', '-1', '--format=%B')).toContain('Butter-Sync: pull');
    const after = await reconcile();
    expect(after.exitCode).toBe(0);
    expect(after.manifest.conflicts).toEqual([]);
  });

  it('resolve --take git sends the file value and clears the conflict', async () => {
    const before = await editBoth('Git Keeps This', 'CMS Loses');
    expect((await reconcile()).exitCode).toBe(3);
    const s = await fx.open();
    await s.engine.resolve(MEMBER, 'git');
    const conflicts = s.store.manifest.conflicts;
    await s.done();
    expect(conflicts).toEqual([]);
    expect((await remoteMember()).role).toBe('Git Keeps This');
    expect(writesIn(fx.emulator).map((w) => [w.method, wireBody(w).fields])).toEqual([
      ['PATCH', { role: 'Git Keeps This' }],
    ]);
    expect(await fx.read(MEMBER)).toBe(before);
    expect((await reconcile()).exitCode).toBe(0);
  });

  it('git-wins sends the file value; cms-wins writes the CMS value into the file', async () => {
    const before = await editBoth('Git Value', 'CMS Value');
    const gitWins = await reconcile({ conflicts: 'git-wins' });
    expect(gitWins.exitCode).toBe(0);
    expect((await remoteMember()).role).toBe('Git Value');
    expect(await fx.read(MEMBER)).toBe(before);

    await editBoth('Git Again', 'CMS Again');
    const cmsWins = await reconcile({ conflicts: 'cms-wins' });
    expect(cmsWins.exitCode).toBe(0);
    expect(writesIn(fx.emulator)).toEqual([]);
    expect(JSON.parse(await fx.read(MEMBER)).role).toBe('CMS Again');
    expect((await remoteMember()).role).toBe('CMS Again');
  });

  it('with no manifest, every difference is a conflict and neither side changes (exit 3)', async () => {
    // A fresh clone: the same files, no .butter-sync/, and the CMS has moved on meanwhile.
    await rm(path.join(fx.repoDir, '.butter-sync'), { recursive: true, force: true });
    fx.emulator.editItem('team_members', adaId, { role: 'Changed in the dashboard' });
    fx.emulator.editPage('faq', 'shipping', { headline: 'Dashboard headline' }, { status: 'published' });
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Ada Lovelace"', '"Ada (local)"'));
    await fx.commitAll('local edit on a fresh clone');
    fx.emulator.clearLog();
    const files = [MEMBER, FAQ];
    const before = await Promise.all(files.map((f) => fx.read(f)));

    const { report, exitCode, plan } = await reconcile();
    expect(exitCode).toBe(3);
    const conflicts = report.conflicts.map((c) => `${c.path} ${c.field}`);
    expect(conflicts).toEqual(
      expect.arrayContaining([`${FAQ} headline`, `${MEMBER} name`, `${MEMBER} role`]),
    );
    // The source URL ↔ CDN URL map lives in the manifest, so a fresh clone cannot tell a re-hosted image
    // from a changed one: media fields are differences too, and nothing is guessed.
    expect(
      report.conflicts.filter((c) => !['headline', 'name', 'role', 'photo', 'hero_image'].includes(c.field)),
    ).toEqual([]);
    expect(plan.operations.filter((op) => op.kind === 'write-file' || op.cost > 0)).toEqual([]);
    expect(writesIn(fx.emulator)).toEqual([]);
    expect(await Promise.all(files.map((f) => fx.read(f)))).toEqual(before);
    expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');
  });

  it('the reconcile command on a fresh clone exits 3, reports the differences and changes neither side', async () => {
    fx.emulator.editItem('team_members', adaId, { role: 'Moved on in the dashboard' });
    fx.emulator.clearLog();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-clone-'));
    try {
      const clone = path.join(dir, 'clone');
      await git(dir, 'clone', '-q', fx.repoDir, clone);
      const before = await readFile(path.join(clone, MEMBER), 'utf8');
      const run = await runCli(['reconcile', '--json', '--repo', clone, '--log-level', 'warn'], fx.env());
      expect(run.code, run.stderr).toBe(3);
      const report = JSON.parse(run.stdout) as { conflicts: Array<{ path: string; field: string }> };
      expect(report.conflicts).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: MEMBER, field: 'role' })]),
      );
      expect(writesIn(fx.emulator)).toEqual([]);
      expect(await readFile(path.join(clone, MEMBER), 'utf8')).toBe(before);
      expect(await git(clone, 'status', '--porcelain')).toBe('');
      expect(await git(clone, 'rev-list', '--count', 'HEAD')).toBe(
        await git(fx.repoDir, 'rev-list', '--count', 'HEAD'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with no manifest, initialSource decides which side seeds the other', async () => {
    await rm(path.join(fx.repoDir, '.butter-sync'), { recursive: true, force: true });
    fx.emulator.editItem('team_members', adaId, { role: 'CMS Seed' });
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Ada Lovelace"', '"Git Seed"'));
    const cms = await reconcile({ initialSource: 'cms' });
    expect(cms.exitCode).toBe(0);
    expect(JSON.parse(await fx.read(MEMBER))).toMatchObject({ name: 'Ada Lovelace', role: 'CMS Seed' });

    await rm(path.join(fx.repoDir, '.butter-sync'), { recursive: true, force: true });
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"CMS Seed"', '"Git Seed"'));
    fx.emulator.clearLog();
    const gitSeed = await reconcile({ initialSource: 'git' });
    expect(gitSeed.exitCode).toBe(0);
    expect((await remoteMember()).role).toBe('Git Seed');
  });
});
