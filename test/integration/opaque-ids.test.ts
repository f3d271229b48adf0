import { rm, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manifestPath, readManifest, stateDir } from '../../src/state/manifest-file.js';
import { journalPath } from '../../src/state/manifest-journal.js';
import { type Fixture, makeFixture, writesIn } from '../helpers/sync-fixture.js';

const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const MEMBER_KEY = 'item:team_members:ada-lovelace';

/**
 * Issue 10: remote ids are opaque text (`RemoteId = string`), and ButterCMS's numeric `meta.id` is converted
 * by its backend. A state written before, with numbers, must still load and sync: the ids are what keeps an
 * item from being created twice.
 */
describe('opaque remote ids', () => {
  let fx: Fixture;

  beforeEach(async () => {
    fx = await makeFixture({ config: { pull: { commit: false } } });
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  /** The manifest as butter-sync wrote it before issue 10: every remote id a JSON number, no journal. */
  async function writeOldStyleManifest(): Promise<Record<string, number>> {
    const manifest = await readManifest(fx.repoDir, 'test');
    const old = JSON.parse(JSON.stringify(manifest)) as { entities: Record<string, { remoteId?: unknown }> };
    const ids: Record<string, number> = {};
    for (const [key, entity] of Object.entries(old.entities)) {
      if (typeof entity.remoteId !== 'string') continue;
      entity.remoteId = Number(entity.remoteId);
      ids[key] = entity.remoteId as number;
    }
    await rm(journalPath(stateDir(fx.repoDir)), { force: true });
    await writeFile(manifestPath(fx.repoDir), `${JSON.stringify(old, null, 2)}\n`);
    return ids;
  }

  it('a manifest written with numeric ids loads with them as text, and its items are updated, not created again', async () => {
    const first = await fx.open();
    const { report } = await first.engine.push({ verifyWaitMs: 5_000 });
    expect(report.pending).toBe(0);
    await first.done();
    const ids = await writeOldStyleManifest();
    expect(Object.keys(ids).length).toBeGreaterThan(0);
    const adaId = ids[MEMBER_KEY]!;
    expect(Number.isSafeInteger(adaId)).toBe(true);

    // On load every whole-number id becomes its text; nothing else about the entry changes.
    const loaded = await readManifest(fx.repoDir, 'test');
    for (const [key, id] of Object.entries(ids)) expect(loaded.entities[key]?.remoteId).toBe(String(id));

    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Head of Words"'));
    fx.emulator.clearLog();
    const s = await fx.open();
    const pushed = await s.engine.push({ paths: [MEMBER], verifyWaitMs: 5_000 });
    expect(pushed.report.errors).toEqual([]);
    expect(pushed.report.pending).toBe(0);
    expect(s.store.manifest.entities[MEMBER_KEY]?.remoteId).toBe(String(adaId));
    await s.done();
    const writes = writesIn(fx.emulator).map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(writes).toEqual([`PATCH /v2/content/team_members/${adaId}/`]);
    // Saved in the new form.
    expect((await readManifest(fx.repoDir, 'test')).entities[MEMBER_KEY]?.remoteId).toBe(String(adaId));
  });

  it('a remote id that is not a whole number is named as a damaged manifest entry, not guessed at', async () => {
    const first = await fx.open();
    await first.engine.push({ verifyWaitMs: 5_000 });
    await first.done();
    const manifest = await readManifest(fx.repoDir, 'test');
    const old = JSON.parse(JSON.stringify(manifest)) as { entities: Record<string, { remoteId?: unknown }> };
    old.entities[MEMBER_KEY]!.remoteId = 1.5;
    await rm(journalPath(stateDir(fx.repoDir)), { force: true });
    await writeFile(manifestPath(fx.repoDir), `${JSON.stringify(old, null, 2)}\n`);
    await expect(readManifest(fx.repoDir, 'test')).rejects.toMatchObject({
      code: 'MANIFEST_CORRUPT',
      message: expect.stringContaining(`entities.${MEMBER_KEY}.remoteId`),
    });
  });
});
