import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeForReport } from '../../src/sync/report.js';
import { type Fixture, makeFixture, writesIn } from '../helpers/sync-fixture.js';

// Issue 15 item 5: an editor creates a second `engineering` tag; the two items must not be merged into one file.
const TAG = 'content-example/collections/tags/engineering.json';
const KEY = 'item:tags:engineering';

describe('two ButterCMS items with one key', () => {
  let fx: Fixture;
  let knownId: number;

  beforeEach(async () => {
    fx = await makeFixture({ config: { pull: { commit: false } } });
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    knownId = Number(s.store.manifest.entities[KEY]!.remoteId);
    await s.done();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('reports the duplicate with both ids, writes nothing for that key, and keeps the known item', async () => {
    const second = fx.emulator.seedItem({
      collection: 'tags',
      fields: { slug: 'engineering', name: 'Engineering (the second one)', color: '#ff0000' },
    });
    const before = await fx.read(TAG);
    fx.emulator.clearLog();

    for (const kind of ['pull', 'reconcile'] as const) {
      const s = await fx.open();
      const { report } =
        kind === 'pull' ? await s.engine.pull({}) : await s.engine.reconcile({ verifyWaitMs: 500 });
      const remoteId = s.store.manifest.entities[KEY]?.remoteId;
      await s.done();
      const problem = report.errors.find((e) => e.code === 'CMS_DUPLICATE_KEY');
      expect(problem?.message, kind).toContain(
        `ids ${Math.min(knownId, second)}, ${Math.max(knownId, second)}`,
      );
      expect(problem?.file, kind).toBe(TAG);
      expect(exitCodeForReport(report), kind).toBe(4);
      expect(remoteId, kind).toBe(String(knownId));
    }
    expect(await fx.read(TAG)).toBe(before);
    expect(writesIn(fx.emulator)).toEqual([]);
  });
});
