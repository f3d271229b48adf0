/**
 * Blog post benchmark (issue 11 part 2; not part of `npm test`): the push and pull time of N posts through the
 * engine against the emulator, and the calls each makes. Push: N new post files into an empty blog (create,
 * verification). Pull: every post edited in the dashboard (title and body), pulled into the files.
 * Writes test/bench/results/posts.json. Size: BENCH_POSTS=1000 (default 100, so a quick run stays quick).
 * Run: npx vitest run --config test/bench.config.ts test/bench/posts.bench.test.ts
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type Fixture, makeFixture } from '../helpers/sync-fixture.js';
import { measure, round, writeResult } from './bench-results.js';

const COUNT = Number(process.env.BENCH_POSTS ?? '100');
const CONTENT = 'content';

function postFile(n: number): [string, string] {
  const slug = `post-${String(n).padStart(4, '0')}`;
  const text = [
    '---',
    `title: "Post number ${n}"`,
    'author: parkr',
    `published: 2026-01-${String((n % 28) + 1).padStart(2, '0')} 09:00:00`,
    'tags: [release, news]',
    `summary: "Summary of post ${n}"`,
    '---',
    '',
    `Post ${n} says **hello** with a [link](https://example.com/${n}).`,
    '',
    '- one point',
    '- another point',
    '',
    'A closing paragraph that stays as it is.',
    '',
  ].join('\n');
  return [`${CONTENT}/posts/${slug}.md`, text];
}

let fx: Fixture | undefined;
afterAll(async () => {
  await fx?.cleanup();
});

it(`pushes and pulls ${COUNT} posts`, async () => {
  fx = await makeFixture({
    withContent: false,
    config: {
      contentDir: CONTENT,
      locales: { default: 'en', all: ['en'] },
      pageTypes: {},
      singlePages: {},
      collections: {},
      posts: {},
      verify: { deadlineSeconds: 120 },
    },
  });
  fx.emulator.seedAuthor({ slug: 'parkr', first_name: 'Parker', email: 'parkr@example.com' });
  await mkdir(path.join(fx.repoDir, CONTENT, 'posts'), { recursive: true });
  const files = Array.from({ length: COUNT }, (_, i) => postFile(i + 1));
  for (const [rel, text] of files) await writeFile(path.join(fx.repoDir, rel), text);
  await fx.commitAll(`${COUNT} posts`);

  const s = await fx.open();
  fx.emulator.clearLog();
  const push = await measure(() => s.engine.push({ verifyWaitMs: 60_000 }));
  await fx.emulator.settle();
  const pushCalls = fx.emulator.requestLog().length;
  expect(push.result.report.errors).toEqual([]);
  expect(push.result.report.failures).toEqual([]);
  expect(push.result.report.pending).toBe(0);
  expect(pushCalls).toBe(push.result.plan.totalCalls);

  for (let n = 1; n <= COUNT; n++) {
    const slug = `post-${String(n).padStart(4, '0')}`;
    fx.emulator.editPost(slug, {
      title: `Post number ${n}, edited`,
      body: `<p>Post ${n} says <strong>hello again</strong>.</p><ul><li>one point</li><li>another point</li></ul><p>A closing paragraph that stays as it is.</p>`,
    });
  }
  fx.emulator.clearLog();
  const pull = await measure(() => s.engine.pull());
  const pullCalls = fx.emulator.requestLog().length;
  expect(pull.result.report.errors).toEqual([]);
  expect(pullCalls).toBe(pull.result.plan.totalCalls);
  const [firstPath] = files[0]!;
  expect(await readFile(path.join(fx.repoDir, firstPath), 'utf8')).toContain('Post number 1, edited');
  await s.done();

  await writeResult('posts', {
    posts: COUNT,
    push: { ms: push.ms, calls: pushCalls, peakRssMb: push.peakRssMb, msPerPost: round(push.ms / COUNT) },
    pull: { ms: pull.ms, calls: pullCalls, peakRssMb: pull.peakRssMb, msPerPost: round(pull.ms / COUNT) },
  });
});
