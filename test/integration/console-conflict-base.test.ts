import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConflictRecord, Manifest } from '../../src/core/types.js';
import { openContentRepo } from '../../src/git/index.js';
import { type BaseLookup, ConflictBaseFinder } from '../../src/server/conflict-base.js';
import { type Fixture, makeFixture } from '../helpers/sync-fixture.js';
import { waitUntil } from '../helpers/wait.js';

// The manifest keeps only a digest of a conflict's base: the console finds the value in the file's git history.
const SHIPPING = 'content-example/pages/faq/shipping.md';

describe('ConflictBaseFinder on a real repository', () => {
  let fx: Fixture;
  let manifest: Manifest;

  beforeAll(async () => {
    fx = await makeFixture();
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    manifest = structuredClone(s.store.plainManifest);
    await s.done();
    // Two later commits change the headline: the base is the version two commits back.
    await fx.write(SHIPPING, (await fx.read(SHIPPING)).replace('Everything about shipping', 'Second'));
    await fx.commitAll('second');
    await fx.write(SHIPPING, (await fx.read(SHIPPING)).replace('Second', 'Third'));
    await fx.commitAll('third');
  }, 60_000);
  afterAll(() => fx?.cleanup());

  const conflict = (field: string): ConflictRecord => ({
    entity: 'page:faq:shipping',
    locale: 'en',
    field,
    path: SHIPPING,
    git: 'Third',
    cms: 'From the dashboard',
    at: new Date().toISOString(),
  });

  async function settled(finder: ConflictBaseFinder, c: ConflictRecord, m: Manifest): Promise<BaseLookup> {
    return waitUntil('the base search', () => {
      const found = finder.lookup(c, m);
      return found.state === 'searching' ? undefined : found;
    });
  }

  it('finds the value whose digest is the base, in an older commit', async () => {
    const finder = new ConflictBaseFinder(openContentRepo(fx.repoDir), fx.config);
    const first = finder.lookup(conflict('headline'), manifest);
    expect(first.state).toBe('searching');
    const found = await settled(finder, conflict('headline'), manifest);
    expect(found).toMatchObject({ state: 'found', value: 'Everything about shipping' });
  });

  it('says when no version holds the base, and when there is no base at all', async () => {
    const finder = new ConflictBaseFinder(openContentRepo(fx.repoDir), fx.config);
    const forged = structuredClone(manifest);
    const slot = forged.entities['page:faq:shipping']!.locales.en!;
    slot.base.headline = 'sha256:not-a-digest-of-any-version';
    expect(await settled(finder, conflict('headline'), forged)).toEqual({ state: 'not-found' });
    delete slot.base.headline;
    expect(finder.lookup(conflict('headline'), forged)).toEqual({ state: 'none' });
  });
});
