import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT, JEKYLL_POST_TYPE, JEKYLL_POSTS, makeCorpusSite } from '../helpers/corpus-site.js';
import { type Fixture, git, writesIn } from '../helpers/sync-fixture.js';

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
});
