import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openContentRepo } from '../../src/git/index.js';
import { readState, type SyncContext } from '../../src/sync/context.js';
import { settleLandedFailures } from '../../src/sync/verify-pending.js';
import { type Fixture, makeFixture, quietLogger } from '../helpers/sync-fixture.js';

// A run reads each locale with its own list request, so a write that lands between two of them shows in one
// locale and not yet in the other (a "torn" read). Seen in the faults suite under load: the page create had
// failed at its deadline, its Spanish locale showed first, and was merged as if nobody had written it, so its
// re-hosted image became a conflict with the file's source URL.
const PAGE = 'page:faq:shipping';
const SOURCE = 'https://images.example.com/shipping-hero.jpg';

describe('a failed write that shows in one locale before the other', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture({
      config: { verify: { deadlineSeconds: 0.3 } },
      emulator: { applyDelayMs: 1_200 },
    });
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('settles the locale that shows (its image mapped) and keeps waiting for the other', async () => {
    let s = await fx.open();
    const first = await s.engine.push({ verifyWaitMs: 500 });
    await s.done();
    expect(first.report.failures.map((f) => f.entity)).toContain(PAGE);

    await fx.emulator.settle();
    s = await fx.open();
    try {
      const manifest = s.store.manifest;
      const snapshot = await s.backend.readScope({}, readState(manifest));
      const page = snapshot.remote.get(PAGE);
      expect(Object.keys(page?.locales ?? {}).sort()).toEqual(['en', 'es']);
      const cdn = String(page?.locales.es?.fields.hero_image);
      expect(cdn).not.toBe(SOURCE); // re-hosted: the URL read back never equals the URL written
      delete page?.locales.en; // torn: the English list was read before the create was applied

      const ctx: SyncContext = {
        repoDir: fx.repoDir,
        repo: openContentRepo(fx.repoDir),
        config: fx.config,
        backend: s.backend,
        store: s.store,
        logger: quietLogger(),
      };
      settleLandedFailures(ctx, snapshot.remote);

      expect(manifest.media[cdn]).toBe(SOURCE);
      expect(manifest.entities[PAGE]?.locales.es?.base.hero_image).toBeDefined();
      expect(manifest.entities[PAGE]?.locales.en?.base.headline).toBeUndefined();
      const left = manifest.failed.filter((f) => f.entity === PAGE);
      expect(left).toHaveLength(1);
      expect(Object.keys(left[0]?.expect ?? {})).toEqual(['en']);
    } finally {
      await s.done();
    }

    // The next run reads both locales: the rest lands, nothing is a conflict (the team members, held back
    // until their tags existed, are created in this run and land after it).
    s = await fx.open();
    const next = await s.engine.reconcile({ verifyWaitMs: 2_000 });
    await s.done();
    expect(next.report.conflicts).toEqual([]);
    expect(next.report.failures.map((f) => f.entity)).not.toContain(PAGE);
    expect(s.store.manifest.failed.filter((f) => f.entity === PAGE)).toEqual([]);
  });
});
