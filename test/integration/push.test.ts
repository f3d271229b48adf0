import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/types.js';
import { applyPlan } from '../../src/sync/apply-plan.js';
import { exitCodeForReport, newReport } from '../../src/sync/report.js';
import { type Fixture, makeFixture, writesIn } from '../helpers/sync-fixture.js';

const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const FAQ = 'content-example/pages/faq/shipping.md';
const FAQ_ES = 'content-example/pages/faq/shipping.es.md';

function wireBody(entry: { body?: string | undefined }): Record<string, unknown> {
  return JSON.parse(entry.body ?? '{}') as Record<string, unknown>;
}

describe('push against the emulator', () => {
  let fx: Fixture;

  beforeEach(async () => {
    fx = await makeFixture();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  async function initialPush() {
    const s = await fx.open();
    const { report } = await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
    return report;
  }

  /**
   * After the initial push, Ada's role edited to `role` and pushed while ButterCMS drops every write it
   * accepts: reported failed after a 0.5 s deadline. Faults are off again when it returns.
   */
  async function pushDroppedRoleEdit(role: string): Promise<Manifest> {
    await initialPush();
    fx.emulator.setFaults({ failAfterAcceptRate: 1 });
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', `"${role}"`));
    const s = await fx.open({ config: { verify: { deadlineSeconds: 0.5 } } });
    await s.engine.push({ paths: [MEMBER], verifyWaitMs: 2_000 });
    const manifest = s.store.manifest;
    await s.done();
    fx.emulator.setFaults({ failAfterAcceptRate: 0 });
    return manifest;
  }

  it('creates every entity once, finds the new item ids, and settles every pending write', async () => {
    const report = await initialPush();
    expect(report.errors).toEqual([]);
    expect(report.failures).toEqual([]);
    expect(report.pending).toBe(0);
    const posts = writesIn(fx.emulator).filter((r) => r.method === 'POST');
    // 3 faq/article pages + 1 single page + 2 tags + 2 team members
    expect(posts.filter((r) => r.path.startsWith('/v2/pages/'))).toHaveLength(4);
    expect(posts.filter((r) => r.path.startsWith('/v2/content/'))).toHaveLength(4);
    const s = await fx.open();
    expect(s.store.manifest.entities['item:team_members:ada-lovelace']?.remoteId).toMatch(/^[1-9][0-9]*$/);
    await s.done();
  });

  it('sends nothing at all for an unchanged tree', async () => {
    await initialPush();
    fx.emulator.clearLog();
    const s = await fx.open();
    const { report, plan } = await s.engine.push({});
    await s.done();
    expect(plan.totalCalls).toBe(0);
    // Not even a free adopt: the creates' read-backs left a complete base (titles included).
    expect(plan.operations).toEqual([]);
    expect(report.calls).toBe(0);
    expect(fx.emulator.requestLog()).toEqual([]);
  });

  it('turns one changed field into one PATCH carrying only that field', async () => {
    await initialPush();
    fx.emulator.clearLog();
    const text = await fx.read(MEMBER);
    await fx.write(MEMBER, text.replace('"Head of Content"', '"Editor in Chief"'));
    const s = await fx.open();
    const { report } = await s.engine.push({ paths: [MEMBER], verifyWaitMs: 5_000 });
    await s.done();
    expect(report.pending).toBe(0);
    const writes = writesIn(fx.emulator);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.method).toBe('PATCH');
    expect(writes[0]?.path).toMatch(/^\/v2\/content\/team_members\/\d+\/$/);
    const body = wireBody(writes[0]!);
    expect(body.fields).toEqual({ role: 'Editor in Chief' });
  });

  it('nests two changed locales of one page into one request with an explicit status', async () => {
    await initialPush();
    fx.emulator.clearLog();
    await fx.write(FAQ, (await fx.read(FAQ)).replace('Everything about shipping', 'All about shipping'));
    await fx.write(FAQ_ES, (await fx.read(FAQ_ES)).replace('Todo sobre envíos', 'Todo sobre los envíos'));
    const s = await fx.open();
    await s.engine.push({ paths: [FAQ, FAQ_ES], verifyWaitMs: 5_000 });
    await s.done();
    const writes = writesIn(fx.emulator);
    expect(writes).toHaveLength(1);
    expect(writes[0]?.method).toBe('PATCH');
    const body = wireBody(writes[0]!);
    expect(body.status).toBe('published');
    expect(body.fields).toEqual({
      en: { headline: 'All about shipping' },
      es: { headline: 'Todo sobre los envíos' },
    });
  });

  it('sends a PUT when an item file was regenerated without one of its fields', async () => {
    await initialPush();
    fx.emulator.clearLog();
    const data = JSON.parse(await fx.read(MEMBER)) as Record<string, unknown>;
    delete data.photo;
    await fx.write(MEMBER, `${JSON.stringify(data, null, 2)}\n`);
    const s = await fx.open();
    await s.engine.push({ paths: [MEMBER], verifyWaitMs: 5_000 });
    await s.done();
    const writes = writesIn(fx.emulator);
    expect(writes.map((w) => w.method)).toEqual(['PUT']);
  });

  it('deletes a removed item file, and refuses a mass delete beyond maxDeletePercent', async () => {
    await initialPush();
    fx.emulator.clearLog();
    await rm(path.join(fx.repoDir, MEMBER));
    // 1 of the 2 team members is 50% of the collection: allowed under a 60% guard.
    let s = await fx.open({ config: { maxDeletePercent: 60 } });
    let { report } = await s.engine.push({ paths: [MEMBER], verifyWaitMs: 5_000 });
    await s.done();
    expect(writesIn(fx.emulator).map((w) => w.method)).toEqual(['DELETE']);
    expect(report.pending).toBe(0);

    fx.emulator.clearLog();
    await rm(path.join(fx.repoDir, 'content-example/collections/tags'), { recursive: true });
    // Both tags (100%) exceed the same 60% guard: nothing is deleted, a notice says why.
    s = await fx.open({ config: { maxDeletePercent: 60 } });
    ({ report } = await s.engine.push({}));
    await s.done();
    expect(writesIn(fx.emulator)).toEqual([]);
    expect(report.notices.some((n) => n.reason === 'delete-guard')).toBe(true);
  });

  it('reports a write the CMS accepted but never applied as failed after its deadline', async () => {
    const manifest = await pushDroppedRoleEdit('Lost');
    expect(manifest.pending).toEqual([]);
    expect(manifest.failed).toHaveLength(1);
    expect(manifest.failed[0]?.entity).toBe('item:team_members:ada-lovelace');

    // The next run re-sends it; once it lands, the failure is over: status no longer reports it.
    const again = await fx.open();
    const retry = await again.engine.push({ paths: [MEMBER], verifyWaitMs: 5_000 });
    const after = again.store.manifest;
    await again.done();
    expect(retry.report.failures).toEqual([]);
    expect(JSON.parse(writesIn(fx.emulator).at(-1)?.body ?? '{}')).toEqual({ fields: { role: 'Lost' } });
    expect(after.failed).toEqual([]);
  });

  it('a failure that a later edit of the same fields supersedes ends once that edit lands', async () => {
    expect((await pushDroppedRoleEdit('Lost')).failed).toHaveLength(1);
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Lost"', '"Found"'));
    const again = await fx.open();
    await again.engine.push({ paths: [MEMBER], verifyWaitMs: 5_000 });
    const after = again.store.manifest;
    await again.done();
    expect(JSON.parse(writesIn(fx.emulator).at(-1)?.body ?? '{}')).toEqual({ fields: { role: 'Found' } });
    expect(after.pending).toEqual([]);
    expect(after.failed).toEqual([]);
  });

  it('a failure whose file was put back ends at the next reconcile that finds both sides in step', async () => {
    const original = await fx.read(MEMBER);
    expect((await pushDroppedRoleEdit('Never mind')).failed).toHaveLength(1);
    await fx.write(MEMBER, original);
    fx.emulator.clearLog();
    const again = await fx.open();
    const { report } = await again.engine.reconcile({ verifyWaitMs: 2_000 });
    const after = again.store.manifest;
    await again.done();
    expect(writesIn(fx.emulator)).toEqual([]);
    expect(exitCodeForReport(report)).toBe(0);
    expect(after.failed).toEqual([]);
  });

  it('a pull keeps a failure whose change is still unsent (it plans no push to prove otherwise)', async () => {
    await pushDroppedRoleEdit('Still unsent');
    const puller = await fx.open();
    await puller.engine.pull({ commit: false });
    const after = puller.store.manifest;
    await puller.done();
    expect(after.failed.map((f) => f.entity)).toEqual(['item:team_members:ada-lovelace']);
  });

  it('lands every write through a burst of 429s', async () => {
    fx.emulator.setFaults({ burst429: 5, retryAfterSeconds: 1 });
    const report = await initialPush();
    expect(report.failures).toEqual([]);
    expect(report.pending).toBe(0);
    expect(fx.emulator.requestLog().filter((r) => r.status === 429)).toHaveLength(5);
  });

  it('never re-sends a create whose id was not learned before a crash', async () => {
    // The state a SIGKILL between the POST's 202 and the id lookup leaves: a `sent` create in the
    // manifest, the item in the CMS, no id recorded.
    await initialPush();
    const file = 'content-example/collections/tags/design.json';
    await fx.write(file, '{\n  "slug": "design",\n  "name": "Design",\n  "color": "#ff00aa"\n}\n');
    const s1 = await fx.open();
    const { plan } = await s1.engine.push({ paths: [file], dryRun: true });
    const create = plan.operations.find((op) => op.kind === 'write' && op.intent.kind === 'create');
    expect(create).toBeDefined();
    s1.store.manifest.pending.push({
      id: 'crashed-create',
      entity: 'item:tags:design',
      kind: 'create',
      state: 'sent',
      expect: {},
      createdAt: new Date().toISOString(),
      sentAt: new Date().toISOString(),
      deadline: new Date(Date.now() + 60_000).toISOString(),
    });
    await s1.cms.createItem({
      key: 'tags',
      status: 'published',
      fields: [{ slug: 'design', name: 'Design', color: '#ff00aa' }],
    });
    await fx.emulator.settle();
    await s1.done();

    fx.emulator.clearLog();
    const s2 = await fx.open();
    await s2.engine.push({ paths: [file], verifyWaitMs: 5_000 });
    const entity = s2.store.manifest.entities['item:tags:design'];
    await s2.done();
    expect(writesIn(fx.emulator).filter((w) => w.method === 'POST')).toEqual([]);
    expect(entity?.remoteId).toMatch(/^[1-9][0-9]*$/);
    const items = await (await fx.open()).cms.listItems('tags', {
      preview: true,
      filters: { slug: 'design' },
    });
    expect(items).toHaveLength(1);
  });

  it('gives each bad file one error naming it and still pushes the rest of the batch', async () => {
    await initialPush();
    fx.emulator.clearLog();
    const bad: Record<string, string> = {
      'content-example/pages/faq/broken-yaml.md': '---\ntitle: [unclosed\n---\nbody\n',
      'content-example/pages/faq/broken-toml.md': '+++\ntitle = "x\n+++\nbody\n',
      'content-example/collections/tags/broken.json': '{ "slug": "broken", ',
      'content-example/collections/tags/unknown.json':
        '{ "slug": "unknown", "name": "U", "color": "#000", "weight": 3 }\n',
      'content-example/collections/team_members/wrong.json':
        '{ "slug": "wrong", "name": "W", "role": "r", "photo": "", "years": "many", "active": true, "tags": [] }\n',
      'content-example/pages/unknown_type/x.md': '---\ntitle: X\n---\n',
    };
    for (const [rel, text] of Object.entries(bad)) {
      await mkdir(path.dirname(path.join(fx.repoDir, rel)), { recursive: true });
      await fx.write(rel, text);
    }
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Still lands"'));
    const s = await fx.open();
    const { report } = await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
    for (const rel of Object.keys(bad)) {
      expect(
        report.errors.filter((e) => e.file === rel),
        rel,
      ).toHaveLength(1);
    }
    expect(report.errors.find((e) => e.file?.endsWith('unknown.json'))?.message).toContain('weight');
    expect(report.errors.find((e) => e.file?.endsWith('broken-yaml.md'))?.line).toEqual(expect.any(Number));
    const writes = writesIn(fx.emulator);
    expect(writes.map((w) => w.method)).toEqual(['PATCH']);
  });
  it('never mistakes an existing file that fails to parse for a deletion, nor overwrites it', async () => {
    await initialPush();
    const broken = '{ "slug": "ada-lovelace", "name": "Ada", ';
    await fx.write(MEMBER, broken);
    const reader = await fx.open();
    const [ada] = await reader.cms.listItems('team_members', { filters: { slug: 'ada-lovelace' } });
    await reader.done();
    fx.emulator.editItem('team_members', ada!.id, { role: 'Changed in the dashboard' });
    await fx.emulator.settle();
    fx.emulator.clearLog();
    for (const run of ['push', 'pull', 'reconcile'] as const) {
      const s = await fx.open({ config: { maxDeletePercent: 100 } });
      const { report } =
        run === 'push'
          ? await s.engine.push({})
          : run === 'pull'
            ? await s.engine.pull({})
            : await s.engine.reconcile({ verifyWaitMs: 1_000 });
      await s.done();
      expect(
        report.errors.map((e) => e.file),
        run,
      ).toContain(MEMBER);
      expect(writesIn(fx.emulator), run).toEqual([]);
      expect(await fx.read(MEMBER), run).toBe(broken);
    }
  });
  it('turns a push into a full reconcile once after the content model changed', async () => {
    await initialPush();
    const s = await fx.open({ configDigest: 'model-v2' });
    const { report } = await s.engine.push({ paths: [MEMBER] });
    expect(report.mode).toBe('reconcile');
    expect(s.store.manifest.configDigest).toBe('model-v2');
    const again = await s.engine.push({ paths: [MEMBER] });
    await s.done();
    expect(again.report.mode).toBe('push');
    expect(again.report.calls).toBe(0);
  });
  it('a PUT from a push keeps a field an editor changed meanwhile instead of reverting it', async () => {
    await initialPush();
    const reader = await fx.open();
    const [ada] = await reader.cms.listItems('team_members', { filters: { slug: 'ada-lovelace' } });
    await reader.done();
    fx.emulator.editItem('team_members', ada!.id, { name: 'Ada King, Countess of Lovelace' });
    const data = JSON.parse(await fx.read(MEMBER)) as Record<string, unknown>;
    delete data.photo;
    await fx.write(MEMBER, `${JSON.stringify(data, null, 2)}\n`);
    fx.emulator.clearLog();
    const s = await fx.open();
    const { report } = await s.engine.push({ paths: [MEMBER], verifyWaitMs: 5_000 });
    const [after] = await s.cms.listItems('team_members', {
      preview: true,
      filters: { slug: 'ada-lovelace' },
    });
    await s.done();
    expect(report.conflicts).toEqual([]);
    const put = writesIn(fx.emulator).find((w) => w.method === 'PUT');
    expect(wireBody(put!).fields).toMatchObject({ name: 'Ada King, Countess of Lovelace', photo: '' });
    expect(after?.fields.name).toBe('Ada King, Countess of Lovelace');
    expect(after?.fields.photo).toBe('');
  });
  it('a pull never writes over a save made after its plan was made', async () => {
    await initialPush();
    const s = await fx.open();
    const [ada] = await s.cms.listItems('team_members', { filters: { slug: 'ada-lovelace' } });
    fx.emulator.editItem('team_members', ada!.id, { role: 'From the dashboard' });
    const { plan } = await s.engine.pull({ dryRun: true });
    expect(plan.operations.some((op) => op.kind === 'write-file' && op.path === MEMBER)).toBe(true);
    // The writer saves between the scan and the write.
    const saved = (await fx.read(MEMBER)).replace('"Head of Content"', '"Saved by the writer"');
    await fx.write(MEMBER, saved);
    const report = newReport('pull', false, new Date());
    const { changedFiles } = await applyPlan(s.engine.ctx, { plan, local: new Map(), report });
    await s.done();
    expect(changedFiles).not.toContain(MEMBER);
    expect(await fx.read(MEMBER)).toBe(saved);
    expect(report.notices.map((n) => n.reason)).toContain('changed-meanwhile');
  });
  it('never writes through a symlinked folder that leads outside the content dir', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-outside-'));
    try {
      await rm(path.join(fx.repoDir, 'content-example/collections/tags'), { recursive: true });
      await symlink(outside, path.join(fx.repoDir, 'content-example/collections/tags'));
      fx.emulator.seedItem({
        collection: 'tags',
        status: 'published',
        fields: { slug: 'escape', name: 'E', color: '#000' },
      });
      const s = await fx.open({ config: { initialSource: 'cms' } });
      const { report } = await s.engine.pull({ commit: false });
      await s.done();
      expect(await readdir(outside)).toEqual([]);
      expect(report.errors.find((e) => e.file?.endsWith('tags/escape.json'))?.code).toBe('CONTENT_PATH');
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
  it('a push never overwrites a field an editor changed in the dashboard since the last sync: conflict', async () => {
    await initialPush();
    const reader = await fx.open();
    const [ada] = await reader.cms.listItems('team_members', { filters: { slug: 'ada-lovelace' } });
    await reader.done();
    fx.emulator.editItem('team_members', ada!.id, { role: 'Set in the dashboard' });
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Set in git"'));
    fx.emulator.clearLog();
    const s = await fx.open();
    const { report } = await s.engine.push({ paths: [MEMBER] });
    const conflicts = s.store.manifest.conflicts;
    await s.done();
    expect(writesIn(fx.emulator)).toEqual([]);
    expect(report.conflicts.map((c) => [c.field, c.git, c.cms])).toEqual([
      ['role', 'Set in git', 'Set in the dashboard'],
    ]);
    expect(conflicts).toHaveLength(1);
    expect(exitCodeForReport(report)).toBe(3);
  });
  it("a webhook's one-collection pull leaves pending writes elsewhere alone", async () => {
    await initialPush();
    const s = await fx.open();
    const past = new Date(Date.now() - 60_000).toISOString();
    // A delete of a tag still unconfirmed (and overdue): only a read of the tags can settle or fail it.
    s.store.manifest.pending.push({
      id: 'unconfirmed-delete',
      entity: 'item:tags:engineering',
      kind: 'delete',
      state: 'sent',
      expect: {},
      createdAt: past,
      sentAt: past,
      deadline: past,
    });
    await s.engine.pull({
      scope: { collections: ['team_members'], pageTypes: [], singlePages: [] },
      commit: false,
    });
    const manifest = s.store.manifest;
    await s.done();
    expect(manifest.pending.map((p) => p.id)).toContain('unconfirmed-delete');
    expect(manifest.failed).toEqual([]);
    expect(manifest.entities['item:tags:engineering']).toBeDefined();
  });
  it('does not take an old, unmapped CDN image for the re-hosted copy of a new one (the write stays pending)', async () => {
    await initialPush();
    const s1 = await fx.open();
    const [ada] = await s1.cms.listItems('team_members', { filters: { slug: 'ada-lovelace' } });
    await s1.done();
    // An editor sets a photo in the dashboard; ButterCMS hosts it on its CDN, and a pull brings the CDN URL in.
    fx.emulator.editItem('team_members', ada!.id, { photo: 'https://images.example.com/from-dashboard.jpg' });
    const s2 = await fx.open();
    await s2.engine.pull({ commit: false });
    await s2.done();
    const cdnUrl = (JSON.parse(await fx.read(MEMBER)) as { photo: string }).photo;
    expect(cdnUrl).toMatch(/^https:\/\/cdn\.buttercms\.com\//);
    // The writer picks a new image; ButterCMS accepts the PATCH but never applies it.
    const data = JSON.parse(await fx.read(MEMBER)) as Record<string, unknown>;
    data.photo = 'https://images.example.com/new-source.jpg';
    await fx.write(MEMBER, `${JSON.stringify(data, null, 2)}\n`);
    fx.emulator.setFaults({ failAfterAcceptRate: 1 });
    const s3 = await fx.open();
    await s3.engine.push({ paths: [MEMBER], verifyWaitMs: 1_000 });
    const manifest = s3.store.manifest;
    await s3.done();
    expect(manifest.media[cdnUrl]).toBeUndefined();
    expect(manifest.pending.map((p) => p.entity)).toEqual(['item:team_members:ada-lovelace']);
  });
  it('never sends a create twice when the id lookup right after its 202 fails', async () => {
    // Writes apply 1.5 s after their 202, so a second run right away cannot find the item by looking it up:
    // only the pending create in the manifest stands between it and a duplicate.
    const slow = await makeFixture({ emulator: { applyDelayMs: 1_500 } });
    try {
      const s0 = await slow.open();
      await s0.engine.push({ verifyWaitMs: 15_000 });
      await s0.done();
      const tag = 'content-example/collections/tags/design.json';
      const person = 'content-example/collections/team_members/new-person.json';
      await slow.write(tag, '{\n  "slug": "design",\n  "name": "Design",\n  "color": "#ff00aa"\n}\n');
      const member = {
        slug: 'new-person',
        name: 'New',
        role: 'r',
        photo: '',
        years: 1,
        active: true,
        tags: ['design'],
      };
      await slow.write(person, `${JSON.stringify(member, null, 2)}\n`);
      slow.emulator.clearLog();
      // The quota runs out right after the tag's POST is accepted: the id lookup is refused (429, retry in 2 min).
      slow.emulator.setFaults({ burst429AfterPost: 1, retryAfterSeconds: 120 });
      const s1 = await slow.open();
      const first = await s1.engine.push({ paths: [tag, person] });
      await s1.done();
      expect(first.report.rateLimited).toBe(true);
      slow.emulator.setFaults({ burst429AfterPost: 0, burst429: 0 });
      // Right away, then once the CMS has applied everything: the member goes out once the tag's id is known.
      for (const wait of [0, 10_000]) {
        const s = await slow.open();
        await s.engine.push({ paths: [tag, person], verifyWaitMs: wait });
        await s.done();
        await slow.emulator.settle();
      }
      const s3 = await slow.open();
      const last = await s3.engine.push({ paths: [tag, person], verifyWaitMs: 10_000 });
      await s3.done();
      expect(last.report.failures).toEqual([]);
      expect(last.report.pending).toBe(0);
      const posts = writesIn(slow.emulator)
        .filter((w) => w.method === 'POST')
        .map((w) => JSON.parse(w.body ?? '{}').key);
      expect(posts.filter((key) => key === 'tags')).toHaveLength(1);
      expect(posts.filter((key) => key === 'team_members')).toHaveLength(1);
      await slow.emulator.settle();
      const reader = await slow.open();
      const designs = await reader.cms.listItems('tags', { preview: true, filters: { slug: 'design' } });
      await reader.done();
      expect(designs).toHaveLength(1);
    } finally {
      await slow.cleanup();
    }
  });
  it("a write reported failed that lands late is recognised, not mistaken for an editor's change", async () => {
    const slow = await makeFixture({ emulator: { applyDelayMs: 1_500 } });
    try {
      const s0 = await slow.open();
      const first = await s0.engine.push({ verifyWaitMs: 15_000 });
      await s0.done();
      // Team members reference tags created in the same run: their ids are waited for, not reported missing.
      expect(first.report.failures).toEqual([]);
      expect(first.report.pending).toBe(0);
      await slow.write(MEMBER, (await slow.read(MEMBER)).replace('"Head of Content"', '"Late but landed"'));
      // Verification gives up after 0.3 s: the PATCH is reported failed, then applied 1.5 s after its 202.
      const s1 = await slow.open({ config: { verify: { deadlineSeconds: 0.3 } } });
      await s1.engine.push({ paths: [MEMBER], verifyWaitMs: 600 });
      expect(s1.store.manifest.failed.map((f) => f.entity)).toEqual(['item:team_members:ada-lovelace']);
      await s1.done();
      await slow.emulator.settle();
      await slow.write(MEMBER, (await slow.read(MEMBER)).replace('"Late but landed"', '"Edited again"'));
      const s2 = await slow.open();
      const { report } = await s2.engine.push({ paths: [MEMBER], verifyWaitMs: 5_000 });
      const manifest = s2.store.manifest;
      await s2.done();
      expect(report.conflicts).toEqual([]);
      expect(manifest.failed).toEqual([]);
      expect(JSON.parse(writesIn(slow.emulator).at(-1)?.body ?? '{}')).toEqual({
        fields: { role: 'Edited again' },
      });
    } finally {
      await slow.cleanup();
    }
  });
  it('a file referencing an entity not in ButterCMS yet is held back with a clear reason, then sent with it', async () => {
    const s0 = await fx.open();
    const first = await s0.engine.push({ paths: [FAQ, FAQ_ES, MEMBER], verifyWaitMs: 5_000 });
    const heldBack = s0.store.manifest.heldBack.map((h) => h.entity);
    await s0.done();
    // FAQ references page "returns", the member references tags "writing" and "engineering": none exists yet.
    // Nothing is sent, and nothing read either (a held-back write needs no read-before-write).
    expect(fx.emulator.requestLog()).toEqual([]);
    expect(first.report.calls).toBe(0);
    expect(exitCodeForReport(first.report)).toBe(4);
    expect(first.report.failures.map((f) => [f.entity, f.reason])).toEqual([
      [
        'item:team_members:ada-lovelace',
        expect.stringMatching(/tags item "writing", which is not in the CMS yet/),
      ],
      [
        'page:faq:shipping',
        expect.stringMatching(/page "returns", which is not in the CMS yet.*Push the referenced file too/),
      ],
    ]);
    // A report names the default-locale file of a page that has several.
    expect(first.report.failures.find((f) => f.entity === 'page:faq:shipping')?.path).toBe(FAQ);
    // Kept in the manifest (status shows them), so a later push of anything retries them.
    expect(heldBack.sort()).toEqual(['item:team_members:ada-lovelace', 'page:faq:shipping']);

    // Pushing just the referenced files sends the held-back ones too, in dependency order, in the same run.
    const targets = [
      'content-example/pages/faq/returns.md',
      'content-example/collections/tags/writing.json',
      'content-example/collections/tags/writing.es.json',
      'content-example/collections/tags/engineering.json',
    ];
    const s1 = await fx.open();
    const second = await s1.engine.push({ paths: targets, verifyWaitMs: 10_000 });
    const after = s1.store.manifest;
    await s1.done();
    expect(second.report.failures).toEqual([]);
    expect(second.report.pending).toBe(0);
    expect(after.failed).toEqual([]);
    const sent = second.report.operations.filter((op) => op.status === 'sent').map((op) => op.entity);
    expect(sent).toEqual(expect.arrayContaining(['page:faq:shipping', 'item:team_members:ada-lovelace']));
    expect(sent.indexOf('page:faq:returns')).toBeLessThan(sent.indexOf('page:faq:shipping'));
    await fx.emulator.settle();
    const s2 = await fx.open();
    const { report, plan } = await s2.engine.push({ paths: [FAQ, FAQ_ES, MEMBER, ...targets], dryRun: true });
    await s2.done();
    expect(report.conflicts).toEqual([]);
    expect(plan.totalCalls).toBe(0);
  });
  it('an item in a reference cycle that also references a missing item is held back, not just skipped', async () => {
    // As the countries' `borders` (trial2): a and b border each other, and a also borders an item no file
    // holds. a is held back for the missing item; b waits for a. a must be kept as held back (status shows
    // it, the run exits 4), not merely skipped because b is not created yet.
    const places = {
      keyField: 'slug',
      fields: { slug: 'text', borders: { type: 'reference', to: 'collection:places', many: true } },
    };
    const cycle = await makeFixture({
      config: { collections: { ...fx.configInput.collections, places } } as Partial<typeof fx.configInput>,
    });
    try {
      const dir = `${cycle.config.contentDir}/collections/places`;
      await mkdir(path.join(cycle.repoDir, dir), { recursive: true });
      await cycle.write(`${dir}/a.json`, `${JSON.stringify({ slug: 'a', borders: ['b', 'nowhere'] })}\n`);
      await cycle.write(`${dir}/b.json`, `${JSON.stringify({ slug: 'b', borders: ['a'] })}\n`);
      const s0 = await cycle.open();
      const { report } = await s0.engine.push({
        paths: [`${dir}/a.json`, `${dir}/b.json`],
        verifyWaitMs: 5_000,
      });
      const held = s0.store.manifest.heldBack.map((h) => h.entity);
      await s0.done();
      expect(held).toEqual(['item:places:a']);
      expect(report.failures.map((f) => [f.entity, f.reason])).toEqual([
        ['item:places:a', expect.stringMatching(/places item "nowhere", which exists neither/)],
      ]);
      expect(exitCodeForReport(report)).toBe(4);
    } finally {
      await cycle.cleanup();
    }
  });
  it('a held-back file removed before it was ever sent stops being reported at the next push', async () => {
    await initialPush();
    const gifts = 'content-example/pages/faq/gifts.md';
    await fx.write(gifts, (await fx.read(FAQ)).replace('related: returns', 'related: wrapping'));
    await fx.write(
      'content-example/pages/faq/wrapping.md',
      await fx.read('content-example/pages/faq/returns.md'),
    );
    const s0 = await fx.open();
    await s0.engine.push({ paths: [gifts] });
    expect(s0.store.manifest.heldBack.map((h) => h.entity)).toEqual(['page:faq:gifts']);
    expect(s0.store.manifest.failed).toEqual([]);
    await s0.done();
    await rm(path.join(fx.repoDir, gifts));
    const s1 = await fx.open();
    const { report } = await s1.engine.push({ paths: [FAQ] });
    const after = s1.store.manifest;
    await s1.done();
    expect(report.failures).toEqual([]);
    expect(after.failed).toEqual([]);
    expect(after.heldBack).toEqual([]);
  });
  it('a page with an image whose create lands late is recognised, its CDN URL learned: no conflict', async () => {
    const slow = await makeFixture({ emulator: { applyDelayMs: 1_500 } });
    try {
      const s0 = await slow.open({ config: { verify: { deadlineSeconds: 0.3 } } });
      await s0.engine.push({ verifyWaitMs: 600 });
      expect(s0.store.manifest.failed.map((f) => f.entity)).toContain('page:faq:shipping');
      await s0.done();
      await slow.emulator.settle();
      slow.emulator.clearLog();
      const s1 = await slow.open();
      const { report } = await s1.engine.reconcile({ verifyWaitMs: 5_000 });
      const manifest = s1.store.manifest;
      await s1.done();
      expect(report.conflicts).toEqual([]);
      expect(manifest.failed.filter((f) => f.entity === 'page:faq:shipping')).toEqual([]);
      expect(writesIn(slow.emulator).filter((w) => w.path.includes('/faq/shipping'))).toEqual([]);
    } finally {
      await slow.cleanup();
    }
  });
  it('an image an editor changes after our write was dropped is a conflict, not taken for our write', async () => {
    const s0 = await fx.open();
    await s0.engine.push({ verifyWaitMs: 10_000 });
    await s0.done();
    await fx.emulator.settle();
    const ours = 'https://images.example.com/ours.jpg';
    await fx.write(FAQ, (await fx.read(FAQ)).replace('https://images.example.com/shipping-hero.jpg', ours));
    fx.emulator.setFaults({ failAfterAcceptRate: 1 });
    const s1 = await fx.open({ config: { verify: { deadlineSeconds: 0.3 } } });
    await s1.engine.push({ paths: [FAQ], verifyWaitMs: 600 });
    expect(s1.store.manifest.failed.map((f) => f.entity)).toEqual(['page:faq:shipping']);
    await s1.done();
    fx.emulator.setFaults({ failAfterAcceptRate: 0 });
    fx.emulator.editPage('faq', 'shipping', { hero_image: 'https://images.example.com/editors-pick.jpg' });
    const s2 = await fx.open();
    const { report } = await s2.engine.reconcile({ verifyWaitMs: 5_000 });
    await s2.done();
    expect(report.conflicts.map((c) => [c.entity, c.locale, c.field, c.git])).toEqual([
      ['page:faq:shipping', 'en', 'hero_image', ours],
    ]);
  });
});
