import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { type Fixture, git, makeFixture, writesIn } from '../helpers/sync-fixture.js';

// Entities that appear or disappear on the CMS side: new files at safe paths, guarded deletions.
const TAGS = 'content-example/collections/tags';

describe('pull: new and removed remote entities', () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  async function pull(f: Fixture, config?: Partial<ConfigInput>) {
    const s = await f.open(config ? { config } : {});
    const result = await s.engine.pull({});
    await s.done();
    return result;
  }

  it('writes a new item in full, fields named title and status included, one file per locale', async () => {
    fx = await makeFixture({
      withContent: false,
      config: {
        pageTypes: {},
        singlePages: {},
        collections: {
          notes: {
            keyField: 'slug',
            fields: { slug: 'text', title: 'text', status: 'text', rank: 'number' },
          },
        },
      },
    });
    fx.emulator.seedItem({
      collection: 'notes',
      fields: {
        en: { slug: 'first', title: 'First note', status: 'open', rank: 2 },
        es: { slug: 'first', title: 'Primera nota', status: 'abierta', rank: 2 },
      },
    });
    const { report } = await pull(fx);
    expect(report.errors).toEqual([]);
    expect(JSON.parse(await fx.read('content-example/collections/notes/first.json'))).toEqual({
      slug: 'first',
      title: 'First note',
      status: 'open',
      rank: 2,
    });
    expect(JSON.parse(await fx.read('content-example/collections/notes/first.es.json'))).toMatchObject({
      title: 'Primera nota',
      status: 'abierta',
    });
    // The new files are the base: nothing to push, nothing to pull again.
    const s = await fx.open();
    const again = await s.engine.reconcile({ verifyWaitMs: 1_000 });
    await s.done();
    expect(again.plan.operations.filter((op) => op.kind !== 'adopt')).toEqual([]);
  });

  it('refuses a remote slug that would leave the content folder, and still pulls the rest', async () => {
    fx = await makeFixture();
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
    fx.emulator.seedItem({
      collection: 'tags',
      fields: { slug: '../../escape', name: 'Bad', color: '#000000' },
    });
    fx.emulator.seedItem({
      collection: 'tags',
      fields: { slug: 'design', name: 'Design', color: '#ff00aa' },
    });
    fx.emulator.seedPage({
      pageType: 'faq',
      slug: '..',
      title: 'Dots',
      fields: { headline: 'x' },
      anySlug: true,
    });
    const { report } = await pull(fx);
    expect(await fx.read(`${TAGS}/design.json`)).toContain('"Design"');
    const refused = report.notices.filter((n) => n.reason === 'unsupported').map((n) => n.entity);
    expect(refused.sort()).toEqual(['item:tags:../../escape', 'page:faq:..']);
    expect((await readdir(fx.repoDir)).sort()).toEqual([
      '.butter-sync',
      '.git',
      '.gitignore',
      'content-example',
      'sync.config.json',
    ]);
    expect((await readdir(path.join(fx.repoDir, TAGS))).sort()).toEqual([
      'design.json',
      'engineering.json',
      'writing.es.json',
      'writing.json',
    ]);
  });

  it('removes the file of an item deleted in ButterCMS, within maxDeletePercent, and commits the removal', async () => {
    fx = await makeFixture();
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    const engineeringId = Number(s.store.manifest.entities['item:tags:engineering']?.remoteId);
    const writingId = Number(s.store.manifest.entities['item:tags:writing']?.remoteId);
    await s.done();
    fx.emulator.clearLog();

    // 1 of 2 tags is 50%: refused under the default 20% guard, the file stays and a notice says why.
    fx.emulator.deleteItem('tags', engineeringId);
    const guarded = await pull(fx);
    expect(guarded.report.notices.map((n) => n.reason)).toContain('delete-guard');
    expect(await fx.read(`${TAGS}/engineering.json`)).toContain('Engineering');

    const allowed = await pull(fx, { maxDeletePercent: 60 });
    expect(allowed.report.operations.filter((op) => op.status === 'deleted').map((op) => op.path)).toEqual([
      `${TAGS}/engineering.json`,
    ]);
    await expect(fx.read(`${TAGS}/engineering.json`)).rejects.toThrow();
    expect(await git(fx.repoDir, 'show', '--name-status', '--format=', 'HEAD')).toBe(
      `D\t${TAGS}/engineering.json`,
    );
    expect(await fx.read(`${TAGS}/writing.json`)).toContain('riting');
    expect(Number.isSafeInteger(writingId) && writingId > 0).toBe(true);
    // Removing a file because the CMS removed the item sends nothing back.
    expect(writesIn(fx.emulator)).toEqual([]);
  });
  it('an item removed on both sides is a manifest clean-up, not a changed file (issue 13)', async () => {
    fx = await makeFixture();
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    const engineeringId = Number(s.store.manifest.entities['item:tags:engineering']?.remoteId);
    await s.done();
    await git(fx.repoDir, 'rm', '-q', `${TAGS}/engineering.json`);
    await fx.commitAll('remove a tag');
    fx.emulator.deleteItem('tags', engineeringId);
    fx.emulator.clearLog();
    const { report } = await pull(fx, { maxDeletePercent: 60 });
    const ops = report.operations.filter((op) => op.path === `${TAGS}/engineering.json`);
    expect(ops.map((op) => op.status)).toEqual(['skipped']);
    expect(writesIn(fx.emulator)).toEqual([]);
  });
  it('a stray copy of an item file is not told to rename itself over the original (issue 13)', async () => {
    fx = await makeFixture();
    await fx.write(`${TAGS}/engineering copy.json`, await fx.read(`${TAGS}/engineering.json`));
    await fx.write(
      `${TAGS}/Writing2.json`,
      (await fx.read(`${TAGS}/writing.json`)).replace('"writing"', '"writing-2"'),
    );
    const s = await fx.open();
    const { report } = await s.engine.push({ dryRun: true });
    await s.done();
    const hintFor = (file: string) => report.errors.find((e) => e.file === `${TAGS}/${file}`)?.hint ?? '';
    expect(hintFor('engineering copy.json')).toContain('engineering.json already exists');
    expect(hintFor('engineering copy.json')).not.toContain('Rename the file to');
    // A name nobody holds is still offered.
    expect(hintFor('Writing2.json')).toContain('Rename the file to "writing-2".json');
  });
});
