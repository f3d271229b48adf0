import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Operation, writeLabel } from '../../src/core/types.js';
import { filesChangedBy } from '../../src/git/index.js';
import { shownFailures } from '../../src/state/manifest-edits.js';
import {
  CONTENT,
  COUNTRY_COLLECTION,
  flatCountry,
  JEKYLL_POST_TYPE,
  JEKYLL_POSTS,
  makeCorpusSite,
  writeCountries,
} from '../helpers/corpus-site.js';
import { type Fixture, git, writesIn } from '../helpers/sync-fixture.js';
import { validConfig } from '../helpers/valid-config.js';

/** An operation's kind, a write named for what it does to what (`create-page`, `update-item`). */
const label = (op: Operation): string =>
  op.kind === 'write' ? writeLabel(op.intent.kind, op.entity) : op.kind;

// The engine's behaviours on real corpus files (issue 9), end to end: a temp git repo holding the files as
// the corpus has them, the real engine, and the emulator over HTTP.
const POSTS = `${CONTENT}/pages/post`;

describe('engine on real content', () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  async function run<T>(f: Fixture, action: (s: Awaited<ReturnType<Fixture['open']>>) => Promise<T>) {
    const s = await f.open();
    try {
      return await action(s);
    } finally {
      await s.done();
    }
  }

  it('pulls a dashboard status change into a page file that has no status key, with the other fields (F1)', async () => {
    const slug = '2016-05-19-jekyll-3-1-6-released';
    fx = await makeCorpusSite(
      { pageTypes: { post: JEKYLL_POST_TYPE } },
      { [`${JEKYLL_POSTS}/${slug}.markdown`]: `pages/post/${slug}.markdown` },
    );
    const file = `${POSTS}/${slug}.markdown`;
    const original = await fx.read(file);
    expect(original).not.toMatch(/^status:/m);
    const pushed = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
    expect(pushed.report.failures).toEqual([]);

    // An editor unpublishes the post and changes its author in the dashboard.
    fx.emulator.editPage('post', slug, { author: 'parkr-d' }, { status: 'draft' });
    const first = await run(fx, (s) => s.engine.pull({}));
    expect(first.report.notices).toEqual([]);
    const pulled = await fx.read(file);
    expect(pulled).toMatch(/^status: draft$/m);
    expect(pulled).toMatch(/^author: parkr-d$/m);
    // Only those two keys changed; the rest of the file is as the corpus has it.
    expect(pulled.replace(/^status: draft\n/m, '').replace('author: parkr-d', 'author: parkr')).toBe(
      original,
    );
    expect(await git(fx.repoDir, 'show', '--stat', '--format=%s', 'HEAD')).toContain(`${slug}.markdown`);

    // Said once: the next pull has nothing to do and nothing to say.
    fx.emulator.clearLog();
    const second = await run(fx, (s) => s.engine.pull({}));
    expect(second.report.notices).toEqual([]);
    expect(second.plan.operations.filter((op) => op.kind !== 'adopt')).toEqual([]);
    expect(writesIn(fx.emulator)).toEqual([]);
  });

  it('a key saved in the file while the pull ran holds back only itself; the other pulled keys land (F1)', async () => {
    const slug = '2016-08-02-jekyll-3-2-1-released';
    fx = await makeCorpusSite(
      { pageTypes: { post: JEKYLL_POST_TYPE } },
      { [`${JEKYLL_POSTS}/${slug}.markdown`]: `pages/post/${slug}.markdown` },
    );
    const file = `${POSTS}/${slug}.markdown`;
    await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
    fx.emulator.editPage(
      'post',
      slug,
      { author: 'dashboard-author', category: 'news' },
      { status: 'published' },
    );

    // A writer saves a new author after the scan, while ButterCMS is being read.
    const abs = path.join(fx.repoDir, file);
    const first = await run(fx, (s) => {
      s.engine.ctx.onProgress = (p) => {
        if (p.phase !== 'read-cms') return;
        writeFileSync(abs, readFileSync(abs, 'utf8').replace(/^author: .*$/m, 'author: writer-author'));
      };
      return s.engine.pull({ commit: false });
    });
    const text = await fx.read(file);
    expect(text).toMatch(/^category: news$/m);
    expect(text).toMatch(/^author: writer-author$/m);
    expect(first.report.notices.map((n) => [n.reason, n.message])).toEqual([
      [
        'changed-meanwhile',
        'field "author" changed in the file while the pull ran; the other pulled fields were written and the next run merges these',
      ],
    ]);
    // The next run sees both edits of author: one conflict, said once; category is settled.
    const second = await run(fx, (s) => s.engine.pull({ commit: false }));
    expect(second.report.notices).toEqual([]);
    expect(second.report.conflicts.map((c) => [c.field, c.git, c.cms])).toEqual([
      ['author', 'writer-author', 'dashboard-author'],
    ]);
  });

  it('a renamed page file is reported and sends nothing; --create-renamed makes the new page (F2)', async () => {
    const old = '2013-07-25-jekyll-1-0-4-released';
    const other = '2013-09-14-jekyll-1-2-1-released';
    fx = await makeCorpusSite(
      { pageTypes: { post: JEKYLL_POST_TYPE } },
      {
        [`${JEKYLL_POSTS}/${old}.markdown`]: `pages/post/${old}.markdown`,
        [`${JEKYLL_POSTS}/${other}.markdown`]: `pages/post/${other}.markdown`,
      },
    );
    await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
    const renamed = '2013-07-25-jekyll-104-released';
    await git(fx.repoDir, 'mv', `${POSTS}/${old}.markdown`, `${POSTS}/${renamed}.markdown`);
    await fx.commitAll('rename a post');
    fx.emulator.clearLog();

    // The hook's push: both names of the rename, as `push --commit` passes them; only the new name; everything.
    const paths = [`${POSTS}/${renamed}.markdown`, `${POSTS}/${old}.markdown`];
    for (const scoped of [paths, [`${POSTS}/${renamed}.markdown`], undefined]) {
      const { report, plan } = await run(fx, (s) => s.engine.push({ paths: scoped, verifyWaitMs: 0 }));
      expect(plan.operations.map((op) => [label(op), op.entity])).toEqual([
        ['report', `page:post:${renamed}`],
      ]);
      expect(report.notices.map((n) => [n.reason, n.path])).toEqual([
        ['page-renamed', `${POSTS}/${renamed}.markdown`],
      ]);
      expect(report.notices[0]?.message).toContain(`renamed from ${POSTS}/${old}.markdown`);
      expect(report.notices[0]?.message).toContain('--create-renamed');
    }
    expect(writesIn(fx.emulator)).toEqual([]);

    // The user opts in: the new page is created; the old one is reported as a removed page file.
    const optIn = await run(fx, (s) => s.engine.push({ paths, verifyWaitMs: 5_000, createRenamed: true }));
    expect(writesIn(fx.emulator).map((w) => `${w.method} ${w.path}`)).toEqual(['POST /v2/pages/']);
    expect(optIn.report.notices.map((n) => [n.reason, n.entity])).toEqual([
      ['page-removed', `page:post:${old}`],
    ]);
  });

  it('a rename git detects is recognised even when the file was edited too (F2)', async () => {
    const old = '2013-11-26-jekyll-1-3-1-released';
    fx = await makeCorpusSite(
      { pageTypes: { post: JEKYLL_POST_TYPE }, collections: { countries: COUNTRY_COLLECTION } },
      { [`${JEKYLL_POSTS}/${old}.markdown`]: `pages/post/${old}.markdown` },
    );
    await writeCountries(fx, [await flatCountry('AUT', [])]);
    await fx.commitAll('a country');
    await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
    const id = await run(fx, async (s) => s.store.manifest.entities['item:countries:AUT']?.remoteId);

    const renamed = '2013-11-26-jekyll-131-released';
    const dir = `${CONTENT}/collections/countries`;
    await git(fx.repoDir, 'mv', `${POSTS}/${old}.markdown`, `${POSTS}/${renamed}.markdown`);
    await git(fx.repoDir, 'mv', `${dir}/AUT.json`, `${dir}/OST.json`);
    const post = `${POSTS}/${renamed}.markdown`;
    await fx.write(post, (await fx.read(post)).replace(/^author: .*$/m, 'author: someone-else'));
    const aut = JSON.parse(await fx.read(`${dir}/OST.json`)) as Record<string, unknown>;
    await fx.write(
      `${dir}/OST.json`,
      `${JSON.stringify({ ...aut, cca3: 'OST', capital: 'Wien' }, null, 2)}\n`,
    );
    await fx.commitAll('rename and edit');
    fx.emulator.clearLog();

    // What the hook and `push --commit` pass: the commit's files, and git's renames.
    const changed = await filesChangedBy(fx.repoDir, 'HEAD');
    expect(changed.filter((c) => c.status === 'R')).toHaveLength(2);
    const paths = changed.flatMap((c) => (c.from ? [c.path, c.from] : [c.path]));
    const renamedPaths = new Map(changed.flatMap((c) => (c.from ? [[c.path, c.from] as const] : [])));
    const { report } = await run(fx, (s) => s.engine.push({ paths, renamedPaths, verifyWaitMs: 5_000 }));
    expect(report.notices.map((n) => [n.reason, n.entity])).toEqual([
      ['page-renamed', `page:post:${renamed}`],
    ]);
    const writes = writesIn(fx.emulator);
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual([`PATCH /v2/content/countries/${id}/`]);
    expect(JSON.parse(writes[0]?.body ?? '{}')).toEqual({ fields: { cca3: 'OST', capital: 'Wien' } });
    expect(await run(fx, async (s) => s.store.manifest.pending)).toEqual([]);
  });

  it('a renamed item file whose keyField changed keeps its id: one PATCH of the key, no DELETE + POST (F2)', async () => {
    fx = await makeCorpusSite({ collections: { countries: COUNTRY_COLLECTION } }, {});
    // Austria and Liechtenstein; LIE borders AUT, so the reference must follow the renamed item's id.
    await writeCountries(fx, [await flatCountry('AUT', []), await flatCountry('LIE', ['AUT'])]);
    await fx.commitAll('countries');
    await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
    const before = await run(fx, async (s) => s.store.manifest.entities['item:countries:AUT']?.remoteId);
    expect(before).toMatch(/^[1-9][0-9]*$/);

    const dir = `${CONTENT}/collections/countries`;
    const aut = JSON.parse(await fx.read(`${dir}/AUT.json`)) as Record<string, unknown>;
    await git(fx.repoDir, 'mv', `${dir}/AUT.json`, `${dir}/OST.json`);
    await fx.write(`${dir}/OST.json`, `${JSON.stringify({ ...aut, cca3: 'OST' }, null, 2)}\n`);
    await fx.commitAll('rename the Austria item');
    fx.emulator.clearLog();

    const { report } = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
    expect(report.errors).toEqual([]);
    expect(report.failures).toEqual([]);
    const writes = writesIn(fx.emulator);
    expect(writes.map((w) => `${w.method} ${w.path}`)).toEqual([`PATCH /v2/content/countries/${before}/`]);
    expect(JSON.parse(writes[0]?.body ?? '{}')).toEqual({ fields: { cca3: 'OST' } });
    const entities = await run(fx, async (s) => s.store.manifest.entities);
    expect(entities['item:countries:AUT']).toBeUndefined();
    expect(entities['item:countries:OST']?.remoteId).toBe(before);
    expect(await run(fx, async (s) => s.store.manifest.pending)).toEqual([]);

    // The reference held by id follows the item: a reconcile brings its new key into LIE.json, sends nothing.
    fx.emulator.clearLog();
    const again = await run(fx, (s) => s.engine.reconcile({ verifyWaitMs: 1_000 }));
    expect(again.plan.operations.map((op) => [label(op), op.entity])).toEqual([
      ['write-file', 'item:countries:LIE'],
    ]);
    expect(JSON.parse(await fx.read(`${dir}/LIE.json`)).borders).toEqual(['OST']);
    const settled = await run(fx, (s) => s.engine.reconcile({ verifyWaitMs: 1_000 }));
    expect(settled.plan.operations).toEqual([]);
    expect(writesIn(fx.emulator)).toEqual([]);
  });

  it('countries whose borders reference each other: created without the cycle, then PATCHed in; plan = push (F9)', async () => {
    fx = await makeCorpusSite({ collections: { countries: COUNTRY_COLLECTION } }, {});
    const keep = ['CAN', 'MEX', 'USA'];
    await writeCountries(fx, await Promise.all(keep.map((c) => flatCountry(c, keep))));
    await fx.commitAll('north american countries');

    const dry = await run(fx, (s) => s.engine.push({ dryRun: true }));
    const planned = dry.plan.operations.map((op) => [label(op), op.entity]);
    expect(planned).toEqual([
      ['create-item', 'item:countries:CAN'],
      ['create-item', 'item:countries:MEX'],
      ['create-item', 'item:countries:USA'],
      ['update-item', 'item:countries:CAN'],
      ['update-item', 'item:countries:MEX'],
      ['update-item', 'item:countries:USA'],
    ]);
    expect(dry.report.notices).toEqual([]);

    fx.emulator.clearLog();
    const { report, plan } = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
    expect(report.failures).toEqual([]);
    expect(report.notices).toEqual([]);
    expect(plan.operations.map((op) => [label(op), op.entity])).toEqual(planned);
    const writes = writesIn(fx.emulator).map((w) => w.method);
    expect(writes).toEqual(['POST', 'POST', 'POST', 'PATCH', 'PATCH', 'PATCH']);
    expect(report.operations.filter((op) => op.status === 'sent')).toHaveLength(6);
    expect(await run(fx, async (s) => s.store.manifest.pending)).toEqual([]);

    // ButterCMS holds every border, and both sides agree: the next reconcile sends and writes nothing.
    const ids = await run(fx, async (s) =>
      Object.fromEntries(keep.map((c) => [c, s.store.manifest.entities[`item:countries:${c}`]?.remoteId])),
    );
    const usa = await run(fx, (s) =>
      s.cms.getItem('countries', Number(ids.USA), { preview: true, levels: 1 }),
    );
    expect(usa?.fields.borders).toEqual([
      `/v2/content/?keys=countries[_id=${ids.CAN}]`,
      `/v2/content/?keys=countries[_id=${ids.MEX}]`,
    ]);
    fx.emulator.clearLog();
    const again = await run(fx, (s) => s.engine.reconcile({ verifyWaitMs: 1_000 }));
    expect(again.plan.operations).toEqual([]);
    expect(writesIn(fx.emulator)).toEqual([]);
  });

  it('pages referencing each other in a ring are created, then linked (F9)', async () => {
    const slugs = [
      '2013-05-06-jekyll-1-0-0-released',
      '2013-06-07-jekyll-1-0-3-released',
      '2013-07-25-jekyll-1-0-4-released',
    ];
    const type = {
      ...JEKYLL_POST_TYPE,
      fields: { ...JEKYLL_POST_TYPE.fields, next: { type: 'reference', to: 'page' } },
    } as const;
    fx = await makeCorpusSite(
      { pageTypes: { post: type } },
      Object.fromEntries(
        slugs.map((slug) => [`${JEKYLL_POSTS}/${slug}.markdown`, `pages/post/${slug}.markdown`]),
      ),
    );
    // Each post names the next one, the last names the first: a ring.
    for (const [i, slug] of slugs.entries()) {
      const file = `${POSTS}/${slug}.markdown`;
      const next = slugs[(i + 1) % slugs.length];
      await fx.write(file, (await fx.read(file)).replace(/^author: /m, `next: ${next}\nauthor: `));
    }
    await fx.commitAll('link the posts in a ring');

    const dry = await run(fx, (s) => s.engine.push({ dryRun: true }));
    const { report, plan } = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
    expect(plan.operations.map((op) => [label(op), op.entity])).toEqual(
      dry.plan.operations.map((op) => [label(op), op.entity]),
    );
    expect(plan.operations.map(label)).toEqual([
      'create-page',
      'create-page',
      'create-page',
      'update-page',
      'update-page',
      'update-page',
    ]);
    expect(report.failures).toEqual([]);
    expect(report.notices).toEqual([]);
    expect(await run(fx, async (s) => s.store.manifest.pending)).toEqual([]);
    const first = await run(fx, (s) => s.cms.getPage('post', slugs[0]!, { preview: true, levels: 1 }));
    expect(first?.fields.next).toBe(`/v2/pages/post/${slugs[1]}/`);
    fx.emulator.clearLog();
    const again = await run(fx, (s) => s.engine.reconcile({ verifyWaitMs: 1_000 }));
    expect(again.plan.operations).toEqual([]);
    expect(writesIn(fx.emulator)).toEqual([]);
  });

  describe('references to what ButterCMS does not hold (F10)', () => {
    const type = {
      ...JEKYLL_POST_TYPE,
      fields: { ...JEKYLL_POST_TYPE.fields, related: { type: 'reference', to: 'page' } },
    } as const;
    const a = '2014-03-27-jekyll-1-5-1-released';
    const b = '2014-07-29-jekyll-2-2-0-released';

    async function addRelated(f: Fixture, file: string, slug: string) {
      await f.write(file, (await f.read(file)).replace(/^author: /m, `related: ${slug}\nauthor: `));
    }

    it('a page reference to a slug found nowhere is reported at plan time with the key and never sent', async () => {
      fx = await makeCorpusSite(
        { pageTypes: { post: type } },
        {
          [`${JEKYLL_POSTS}/${a}.markdown`]: `pages/post/${a}.markdown`,
          [`${JEKYLL_POSTS}/${b}.markdown`]: `pages/post/${b}.markdown`,
        },
      );
      await addRelated(fx, `${POSTS}/${a}.markdown`, 'council-survey');
      await fx.commitAll('a reference to a page nobody has');

      const dry = await run(fx, (s) => s.engine.push({ dryRun: true }));
      const held = dry.plan.operations.find((op) => op.entity === `page:post:${a}`);
      expect(held).toMatchObject({ kind: 'write', intent: { kind: 'create' }, cost: 0 });
      expect(held && 'unresolved' in held ? held.unresolved : '').toContain(
        'references page "council-survey", which exists neither in the CMS nor in the files',
      );

      const { report } = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
      expect(writesIn(fx.emulator).map((w) => w.method)).toEqual(['POST']); // the other post only
      expect(report.failures.map((f) => [f.entity, f.heldBack])).toEqual([[`page:post:${a}`, true]]);
      // Listed by `status` until fixed; no pending write, so no "failed after acceptance", no false conflict.
      const manifest = await run(fx, async (s) => s.store.manifest);
      expect(manifest.pending).toEqual([]);
      expect(shownFailures(manifest).map((f) => f.entity)).toEqual([`page:post:${a}`]);
      expect(manifest.heldBack.map((h) => h.entity)).toEqual([`page:post:${a}`]);
      fx.emulator.clearLog();
      const again = await run(fx, (s) => s.engine.reconcile({ verifyWaitMs: 1_000 }));
      expect(again.report.conflicts).toEqual([]);
      expect(writesIn(fx.emulator)).toEqual([]);
    });

    it('a page reference whose target exists only in another locale sends what ButterCMS holds and verifies it', async () => {
      fx = await makeCorpusSite(
        { locales: { default: 'en', all: ['en', 'fr'] }, pageTypes: { post: type } },
        {
          [`${JEKYLL_POSTS}/${a}.markdown`]: `pages/post/${a}.markdown`,
          [`${JEKYLL_POSTS}/${b}.markdown`]: `pages/post/${b}.markdown`,
        },
      );
      // The first post also in fr (the same text: a partial translation, as real sites have); the second has none.
      await fx.write(`${POSTS}/${a}.fr.markdown`, await fx.read(`${POSTS}/${a}.markdown`));
      await addRelated(fx, `${POSTS}/${a}.markdown`, b);
      await addRelated(fx, `${POSTS}/${a}.fr.markdown`, b);
      await fx.commitAll('both locales of one post reference a post that has no fr');

      const { report } = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
      expect(report.failures).toEqual([]);
      const manifest = await run(fx, async (s) => s.store.manifest);
      expect(manifest.pending).toEqual([]);
      expect(manifest.failed).toEqual([]);
      // Read in en the reference is there; in fr it reads back empty, as the write expected.
      const en = await run(fx, (s) => s.cms.getPage('post', a, { preview: true, levels: 1 }));
      expect(en?.fields.related).toBe(`/v2/pages/post/${b}/`);

      // No loop: the next runs send nothing, pull nothing and raise no conflict.
      fx.emulator.clearLog();
      for (let i = 0; i < 2; i += 1) {
        const again = await run(fx, (s) => s.engine.reconcile({ verifyWaitMs: 1_000 }));
        expect(again.report.conflicts).toEqual([]);
        expect(again.plan.operations).toEqual([]);
      }
      expect(writesIn(fx.emulator)).toEqual([]);
    });
  });

  it('a pending write that cannot verify holds back only what it touches; an unchanged tree costs 0 calls (item 7)', async () => {
    const slug = '2015-11-17-jekyll-3-0-1-released';
    fx = await makeCorpusSite(
      { locales: { default: 'en', all: ['en', 'fr'] }, pageTypes: { post: JEKYLL_POST_TYPE } },
      { [`${JEKYLL_POSTS}/${slug}.markdown`]: `pages/post/${slug}.markdown` },
    );
    const file = `${POSTS}/${slug}.markdown`;
    const frFile = `${POSTS}/${slug}.fr.markdown`;
    await fx.write(frFile, await fx.read(file));
    await fx.commitAll('a post in en and fr');
    await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));

    // A writer changes the en author; ButterCMS accepts the PATCH (202) and then drops it.
    await fx.write(file, (await fx.read(file)).replace(/^author: .*$/m, 'author: writer'));
    await fx.commitAll('new author');
    fx.emulator.setFaults({ failAfterAcceptRate: 1 });
    await run(fx, (s) => s.engine.push({ verifyWaitMs: 0 }));
    await fx.emulator.settle();
    fx.emulator.setFaults({ failAfterAcceptRate: 0 });
    expect(
      await run(fx, async (s) => s.store.manifest.pending.map((p) => writeLabel(p.kind, p.entity))),
    ).toEqual(['update-page']);

    // Nothing changed in the tree: a push (the hook's, or watch's) makes no call at all.
    const calls = await run(fx, async (s) => {
      const before = s.cms.stats().total;
      await s.engine.push({ verifyWaitMs: 10_000 });
      return s.cms.stats().total - before;
    });
    expect(calls).toBe(0);

    // An editor changes another field in en and the fr version: both pull while the write is pending.
    fx.emulator.editPage('post', slug, { category: 'news' }, { status: 'published' });
    fx.emulator.editPage('post', slug, { version: '9.9.9' }, { locale: 'fr', status: 'published' });
    const { report } = await run(fx, (s) => s.engine.pull({}));
    expect(report.notices).toEqual([]);
    expect(await fx.read(file)).toMatch(/^category: news$/m);
    expect(await fx.read(file)).toMatch(/^author: writer$/m);
    expect(await fx.read(frFile)).toMatch(/^version: 9\.9\.9$/m);
    expect(
      await run(fx, async (s) => s.store.manifest.pending.map((p) => writeLabel(p.kind, p.entity))),
    ).toEqual(['update-page']);
  });

  describe('checks before any call (F7)', () => {
    const sass = '2022-12-21-jekyll-sass-converter-3.0-released';
    const good = '2016-01-28-jekyll-3-1-1-released';
    const badDate = '2023-01-29-jekyll-3-9-3-released';
    const dated = { ...JEKYLL_POST_TYPE, fields: { ...JEKYLL_POST_TYPE.fields, date: 'date' } } as const;

    it('plan reports file names that are not slugs and dates that do not parse, with file and line', async () => {
      fx = await makeCorpusSite(
        { pageTypes: { post: dated } },
        {
          [`${JEKYLL_POSTS}/${sass}.markdown`]: `pages/post/${sass}.markdown`,
          [`${JEKYLL_POSTS}/${good}.markdown`]: `pages/post/${good}.markdown`,
          [`${JEKYLL_POSTS}/${badDate}.markdown`]: `pages/post/${badDate}.markdown`,
        },
      );
      // A real post under names people give files: non-ASCII, a space.
      for (const name of ['2024-01-01-jekyll-ünïcode.md', '2024-01-02 my post.md'])
        await fx.write(`${POSTS}/${name}`, await fx.read(`${POSTS}/${good}.markdown`));
      // Its `categories: [release]` list needs the list field type; the date is what this test is about.
      const badFile = `${POSTS}/${badDate}.markdown`;
      await fx.write(badFile, (await fx.read(badFile)).replace(/^categories: .*\n/m, ''));
      await fx.commitAll('names and dates as real sites have them');

      const { report, plan } = await run(fx, async (s) => {
        const before = s.cms.stats().total;
        const result = await s.engine.push({ dryRun: true });
        // A dry run makes the reads the push makes before planning (issue 10), and no other call.
        expect(s.cms.stats().total - before).toBe(result.plan.breakdown?.reads);
        expect(result.plan.breakdown?.reads).toBe(result.report.calls);
        return result;
      });
      const problems = report.errors.map((e) => [e.file, e.line, e.message]).sort();
      expect(problems).toEqual([
        [
          `${POSTS}/2022-12-21-jekyll-sass-converter-3.0-released.markdown`,
          undefined,
          'the file name "2022-12-21-jekyll-sass-converter-3.0-released" is not a valid ButterCMS page slug (only letters, digits, "-" and "_")',
        ],
        [
          `${POSTS}/2023-01-29-jekyll-3-9-3-released.markdown`,
          3,
          'field "date" must be a date like 2024-03-15 or 2024-03-15T14:30:00, not the text "2023-01-29 18:30:22 2023 -0800"',
        ],
        [
          `${POSTS}/2024-01-01-jekyll-ünïcode.md`,
          undefined,
          'the file name "2024-01-01-jekyll-ünïcode" is not a valid ButterCMS page slug (only letters, digits, "-" and "_")',
        ],
        [
          `${POSTS}/2024-01-02 my post.md`,
          undefined,
          'the file name "2024-01-02 my post" is not a valid ButterCMS page slug (only letters, digits, "-" and "_")',
        ],
      ]);
      expect(report.errors.find((e) => e.file?.includes('sass'))?.hint).toContain('"slugs": "slugify"');
      expect(plan.operations.map((op) => [label(op), op.entity])).toEqual([
        ['create-page', `page:post:${good}`],
      ]);

      const pushed = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
      expect(pushed.report.failures).toEqual([]);
      expect(writesIn(fx.emulator).map((w) => `${w.method} ${w.path}`)).toEqual(['POST /v2/pages/']);
    });

    it('"slugs": "slugify" maps such names to slugs, and a pull writes back to the same file', async () => {
      fx = await makeCorpusSite(
        { pageTypes: { post: { ...JEKYLL_POST_TYPE, slugs: 'slugify' } } },
        { [`${JEKYLL_POSTS}/${sass}.markdown`]: `pages/post/${sass}.markdown` },
      );
      await fx.write(`${POSTS}/2024-01-01-jekyll-ünïcode.md`, await fx.read(`${POSTS}/${sass}.markdown`));
      await fx.commitAll('a non-ASCII name');
      const { report } = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
      expect(report.errors).toEqual([]);
      expect(report.failures).toEqual([]);
      const slug = '2022-12-21-jekyll-sass-converter-3-0-released';
      const pages = await run(fx, (s) => s.cms.listPages('post', { preview: true, levels: 1 }));
      expect(pages.map((p) => p.slug).sort()).toEqual([slug, '2024-01-01-jekyll-unicode']);

      fx.emulator.editPage('post', slug, { author: 'dashboard' }, { status: 'published' });
      await run(fx, (s) => s.engine.pull({}));
      expect(await fx.read(`${POSTS}/${sass}.markdown`)).toMatch(/^author: dashboard$/m);
      expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');
      expect(await git(fx.repoDir, 'ls-files', POSTS)).not.toContain(`${slug}.md`);
      const again = await run(fx, (s) => s.engine.reconcile({ verifyWaitMs: 1_000 }));
      expect(again.plan.operations).toEqual([]);
    });

    it('a page type holds the real nested tree: folders map to the slug and a pull writes back into the same nested file', async () => {
      const HUGO = 'markdown/hugo-docs/content/en';
      const hugoDocs = {
        bodyField: 'body',
        fields: { body: 'richtext' as const, description: 'text' as const },
        gitOnly: ['reference', 'categories', 'keywords', 'params'],
        slugs: 'slugify' as const,
      };
      fx = await makeCorpusSite(
        { pageTypes: { docs: hugoDocs } },
        {
          [`${HUGO}/quick-reference/emojis.md`]: 'pages/docs/quick-reference/emojis.md',
          [`${HUGO}/quick-reference/glossary/seed.md`]: 'pages/docs/quick-reference/glossary/seed.md',
        },
      );
      const emojis = `${CONTENT}/pages/docs/quick-reference/emojis.md`;
      const original = await fx.read(emojis);
      const { report } = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
      expect(report.errors).toEqual([]);
      expect(report.failures).toEqual([]);
      const pages = await run(fx, (s) => s.cms.listPages('docs', { preview: true, levels: 1 }));
      expect(pages.map((p) => p.slug).sort()).toEqual([
        'quick-reference-emojis',
        'quick-reference-glossary-seed',
      ]);

      fx.emulator.editPage('docs', 'quick-reference-emojis', { description: 'From the dashboard.' });
      await run(fx, (s) => s.engine.pull({}));
      expect(await fx.read(emojis)).toBe(
        original.replace(/^description: .*$/m, 'description: From the dashboard.'),
      );
      expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');
      expect(await git(fx.repoDir, 'ls-files', `${CONTENT}/pages/docs`)).toBe(
        `${emojis}\n${CONTENT}/pages/docs/quick-reference/glossary/seed.md`,
      );

      // Two paths that map to one slug: an error naming both; the first file keeps syncing.
      const twin = `${CONTENT}/pages/docs/quick-reference-emojis.md`;
      await fx.write(twin, original);
      const clash = await run(fx, (s) => s.engine.push({ dryRun: true }));
      expect(clash.report.errors.map((e) => [e.file, e.message])).toEqual([
        [emojis, `two files hold the same entity and locale: ${twin} and ${emojis}`],
      ]);
    });

    it('a write ButterCMS refuses (400) stays listed in status until a write of it is accepted', async () => {
      // The dashboard's model says "version" is a number; the config (wrongly) says text.
      const dashboard = { ...JEKYLL_POST_TYPE, fields: { ...JEKYLL_POST_TYPE.fields, version: 'number' } };
      const emulatorConfig = validConfig({
        locales: { default: 'en', all: ['en'] },
        pageTypes: { post: dashboard },
      });
      fx = await makeCorpusSite(
        { pageTypes: { post: JEKYLL_POST_TYPE } },
        { [`${JEKYLL_POSTS}/${good}.markdown`]: `pages/post/${good}.markdown` },
        { config: emulatorConfig },
      );
      for (let i = 0; i < 2; i += 1) {
        fx.emulator.clearLog();
        const { report } = await run(fx, (s) => s.engine.push({ verifyWaitMs: 1_000 }));
        // The same refused body is not sent again: the second push makes no write call.
        expect(writesIn(fx.emulator)).toHaveLength(i === 0 ? 1 : 0);
        expect(report.failures.map((f) => f.entity)).toEqual([`page:post:${good}`]);
        const failed = await run(fx, async (s) => s.store.manifest.failed);
        expect(failed.map((f) => [f.entity, writeLabel(f.kind, f.entity), f.refused])).toEqual([
          [`page:post:${good}`, 'create-page', true],
        ]);
        expect(failed[0]?.reason).toContain('(400)');
      }
      const file = `${POSTS}/${good}.markdown`;
      // `resolve --take git` sends the same body once more (the dashboard's model may have been fixed).
      fx.emulator.clearLog();
      const resolved = await run(fx, (s) => s.engine.resolve(file, 'git'));
      expect(resolved.resolved).toBe(1);
      expect(writesIn(fx.emulator)).toHaveLength(1);
      expect(resolved.report.failures.map((f) => f.entity)).toEqual([`page:post:${good}`]);
      await fx.write(file, (await fx.read(file)).replace(/^version: .*$/m, 'version: 3'));
      const fixed = await run(fx, (s) => s.engine.push({ verifyWaitMs: 5_000 }));
      expect(fixed.report.failures).toEqual([]);
      expect(await run(fx, async (s) => s.store.manifest.failed)).toEqual([]);
    });
  });
});
