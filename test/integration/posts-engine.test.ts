import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createButterClient } from '../../src/cms/butter/index.js';
import { parseWebhook } from '../../src/cms/butter/webhook.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { TEST_READ_TOKEN } from '../helpers/emulator.js';
import { type Fixture, makeFixture, writesIn } from '../helpers/sync-fixture.js';

/**
 * Blog posts through the engine (issue 11 part 2), over HTTP against the emulator: a real Jekyll post is
 * pushed (create), a dashboard edit of its title and body is pulled into just those lines, a removed post file
 * is deleted only within maxDeletePercent, an unknown author is refused naming the file, and the plan's cost
 * equals the emulator's request log.
 */

const JEKYLL = 'jekyll-docs/docs/_posts/2013-05-06-jekyll-1-0-0-released.markdown';
const JEKYLL_TEXT = readFileSync(
  fileURLToPath(new URL(`../../../shared/corpus/markdown/${JEKYLL}`, import.meta.url)),
  'utf8',
);
const CONTENT = 'content';
const POST = `${CONTENT}/posts/jekyll-1-0-0-released.markdown`;
const SLUG = 'jekyll-1-0-0-released';

const config = (extra: Partial<ConfigInput> = {}): Partial<ConfigInput> => ({
  contentDir: CONTENT,
  locales: { default: 'en', all: ['en'] },
  pageTypes: {},
  singlePages: {},
  collections: {},
  posts: { keys: { published: 'date' }, gitOnly: ['version', 'category'] },
  ...extra,
});

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

async function site(files: Record<string, string>, extra: Partial<ConfigInput> = {}): Promise<Fixture> {
  fx = await makeFixture({ withContent: false, config: config(extra) });
  fx.emulator.seedAuthor({ slug: 'parkr', first_name: 'Parker', email: 'parkr@example.com' });
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(fx.repoDir, rel)), { recursive: true });
    await fx.write(rel, text);
  }
  if (Object.keys(files).length > 0) await fx.commitAll('posts');
  return fx;
}

/** What the CMS holds, read by a client of its own (an open engine holds the manifest lock). */
async function remotePost(f: Fixture, slug = SLUG, locale?: string) {
  const client = createButterClient({
    baseUrl: f.emulator.url,
    readToken: TEST_READ_TOKEN,
    requestsPerSecond: 500,
    concurrency: 2,
    timeoutMs: 5_000,
    maxRetries: 1,
  });
  const post = await client.getPost(slug, { preview: true, ...(locale ? { locale } : {}) });
  await client.close();
  return post;
}

describe('blog posts through the engine', () => {
  it('push creates the post with an HTML body; plan cost = requests; a second push sends nothing', async () => {
    const f = await site({ [POST]: JEKYLL_TEXT });
    const s = await f.open();
    f.emulator.clearLog();
    const { report, plan } = await s.engine.push({ verifyWaitMs: 5_000 });
    expect(report.errors).toEqual([]);
    expect(report.failures).toEqual([]);
    expect(report.pending).toBe(0);
    // The plan predicted every request the run made: reads before, the write, the read-back.
    expect(plan.totalCalls).toBe(f.emulator.requestLog().length);
    expect(writesIn(f.emulator).map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v2/posts/']);
    await s.done();

    const post = await remotePost(f);
    expect(post).toMatchObject({
      title: 'Jekyll 1.0.0 Released',
      status: 'published',
      published: expect.stringMatching(/^2013-05-06T00:12:52/),
    });
    expect(post?.author?.slug).toBe('parkr');
    // Rich text: Markdown in the file, HTML in the CMS (reference links resolved, root-relative kept).
    expect(post?.body).toContain('<ul>');
    expect(post?.body).toContain('<a href="/docs/history/#v1-0-0">quite lengthy</a>');
    expect(post?.body).not.toContain('[quite lengthy]');

    const again = await f.open();
    f.emulator.clearLog();
    const second = await again.engine.push();
    expect(second.report.errors).toEqual([]);
    expect(writesIn(f.emulator)).toEqual([]);
    expect(second.plan.totalCalls).toBe(f.emulator.requestLog().length);
    // A pull with no remote change leaves the file byte-identical (no drift through HTML).
    const pull = await again.engine.pull();
    expect(pull.report.errors).toEqual([]);
    expect(await f.read(POST)).toBe(JEKYLL_TEXT);
    await again.done();
  });

  it('pull brings a dashboard edit of title and body into just those lines', async () => {
    const f = await site({ [POST]: JEKYLL_TEXT });
    const s = await f.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    const html = (await remotePost(f))?.body ?? '';
    const firstParagraph = html.slice(0, html.indexOf('</p>') + '</p>'.length);
    expect(firstParagraph).toMatch(/^<p>Hey!/);
    f.emulator.editPost(SLUG, {
      title: 'Jekyll 1.0.0 is out',
      body: html.replace(firstParagraph, '<p>Jekyll 1.0 is here, after <strong>many</strong> months.</p>'),
    });
    f.emulator.clearLog();
    const { report, plan } = await s.engine.pull();
    expect(report.errors).toEqual([]);
    expect(plan.totalCalls).toBe(f.emulator.requestLog().length);
    const pulled = await f.read(POST);
    const before = JEKYLL_TEXT.split('\n');
    const after = pulled.split('\n');
    // Line 2 is the title; the first paragraph (lines 9-13) became one line; nothing else moved.
    expect(after[1]).toBe('title: "Jekyll 1.0.0 is out"');
    const para = after.indexOf('Jekyll 1.0 is here, after **many** months.');
    expect(para).toBe(8);
    expect(after.slice(0, 8).filter((line, i) => line !== before[i])).toEqual([after[1]]);
    expect(after.slice(para + 1)).toEqual(before.slice(13));
    // The next push has nothing to send: the pulled values are the base.
    f.emulator.clearLog();
    const push = await s.engine.push();
    expect(writesIn(f.emulator)).toEqual([]);
    expect(push.plan.totalCalls).toBe(f.emulator.requestLog().length);
    await s.done();
  });

  it('a file edit of the title and summary is one PATCH of just those', async () => {
    const f = await site({ [POST]: JEKYLL_TEXT });
    const s = await f.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    const edited = JEKYLL_TEXT.replace(
      'title: "Jekyll 1.0.0 Released"',
      'title: "Jekyll 1.0 Released"',
    ).replace('author: parkr\n', 'author: parkr\nsummary: The first major release\n');
    await f.write(POST, edited);
    f.emulator.clearLog();
    const { report, plan } = await s.engine.push({ verifyWaitMs: 5_000 });
    expect(report.failures).toEqual([]);
    expect(report.pending).toBe(0);
    expect(plan.totalCalls).toBe(f.emulator.requestLog().length);
    const writes = writesIn(f.emulator);
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /v2/posts/${SLUG}/`]);
    expect(JSON.parse(String(writes[0]?.body))).toEqual({
      status: 'published',
      title: 'Jekyll 1.0 Released',
      summary: 'The first major release',
    });
    expect(await remotePost(f)).toMatchObject({
      title: 'Jekyll 1.0 Released',
      summary: 'The first major release',
    });
    await s.done();
  });

  it('a removed post file deletes the post only within maxDeletePercent', async () => {
    const other = `${CONTENT}/posts/second.md`;
    const f = await site({
      [POST]: JEKYLL_TEXT,
      [other]: '---\ntitle: Second\nauthor: parkr\n---\n\nBody.\n',
    });
    const s = await f.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
    await rm(path.join(f.repoDir, POST));
    // 1 of 2 posts is 50%, over the fixture's maxDeletePercent (20): refused, the post stays.
    const guarded = await f.open();
    f.emulator.clearLog();
    const refused = await guarded.engine.push();
    expect(writesIn(f.emulator)).toEqual([]);
    expect(refused.plan.operations).toContainEqual(
      expect.objectContaining({ kind: 'report', reason: 'delete-guard', entity: `post:${SLUG}` }),
    );
    expect(await remotePost(f)).not.toBeNull();
    await guarded.done();

    const allowed = await f.open({ config: { maxDeletePercent: 50 } });
    f.emulator.clearLog();
    const { report, plan } = await allowed.engine.push({ verifyWaitMs: 5_000 });
    expect(report.failures).toEqual([]);
    expect(writesIn(f.emulator).map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE /v2/posts/${SLUG}/`]);
    expect(plan.totalCalls).toBe(f.emulator.requestLog().length);
    expect(await remotePost(f)).toBeNull();
    expect(allowed.store.manifest.entities[`post:${SLUG}`]).toBeUndefined();
    await allowed.done();
  });

  it('a post file without a date settles: the date ButterCMS gives it is no change on either side', async () => {
    const file = `${CONTENT}/posts/undated.md`;
    const text = '---\ntitle: Undated\nauthor: parkr@example.com\n---\n\nBody.\n';
    const f = await site({ [file]: text });
    const s = await f.open();
    const { report } = await s.engine.push({ verifyWaitMs: 5_000 });
    expect(report.failures).toEqual([]);
    // Without the rule the read-back shows a `published` the create did not send, and it never verifies.
    expect(report.pending).toBe(0);
    expect((await remotePost(f, 'undated'))?.published).toBeTruthy();
    f.emulator.clearLog();
    const pull = await s.engine.reconcile();
    expect(pull.report.errors).toEqual([]);
    expect(writesIn(f.emulator)).toEqual([]);
    // The author named by e-mail stays an e-mail, the missing date stays missing.
    expect(await f.read(file)).toBe(text);
    await s.done();
  });

  it('an author that does not exist is refused with a message naming the file and the author', async () => {
    const file = `${CONTENT}/posts/guest.md`;
    const f = await site({ [file]: '---\ntitle: Guest post\nauthor: nobody\n---\n\nHello.\n' });
    const s = await f.open();
    const { report } = await s.engine.push({ verifyWaitMs: 2_000 });
    expect(report.failures).toHaveLength(1);
    const failure = report.failures[0]!;
    expect(failure.path).toBe(file);
    expect(failure.reason).toContain('no author "nobody"');
    expect(await remotePost(f, 'guest')).toBeNull();
    await s.done();
  });

  it('a post new in the CMS is pulled into a new file, and a second locale syncs as <slug>.<locale>.md', async () => {
    const f = await site({}, { locales: { default: 'en', all: ['en', 'de'] } });
    f.emulator.seedPost({
      slug: 'hello',
      title: 'Hello',
      body: '<p>With <em>butter</em> and <strong>Git</strong>.</p>',
      author: 'parkr',
      tags: ['news'],
      status: 'published',
    });
    f.emulator.seedPost({
      slug: 'hello',
      locale: 'de',
      title: 'Hallo',
      body: '<p>Mit Butter.</p>',
      status: 'draft',
    });
    const s = await f.open();
    f.emulator.clearLog();
    const { report, plan } = await s.engine.pull();
    expect(report.errors).toEqual([]);
    expect(plan.totalCalls).toBe(f.emulator.requestLog().length);
    const en = await f.read(`${CONTENT}/posts/hello.md`);
    expect(en).toContain('title: Hello');
    expect(en).toContain('author: parkr');
    expect(en).toContain('With _butter_ and **Git**.');
    const de = await f.read(`${CONTENT}/posts/hello.de.md`);
    expect(de).toContain('title: Hallo');
    expect(de).toContain('status: draft');
    expect(de).toContain('Mit Butter.');

    // An edit of the German file is a PATCH with ?locale=de, nothing else.
    await f.write(`${CONTENT}/posts/hello.de.md`, de.replace('Mit Butter.', 'Mit **Butter**.'));
    f.emulator.clearLog();
    const push = await s.engine.push({ verifyWaitMs: 5_000 });
    expect(push.report.failures).toEqual([]);
    const writes = writesIn(f.emulator);
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual(['PATCH /v2/posts/hello/?locale=de']);
    expect((await remotePost(f, 'hello', 'de'))?.body).toContain('<strong>Butter</strong>');
    expect((await remotePost(f, 'hello'))?.body).toContain('<em>butter</em>');
    await s.done();
  });
  it('a post webhook pulls just that post: one GET per locale, no list', async () => {
    const f = await site({}, { locales: { default: 'en', all: ['en', 'de'] } });
    f.emulator.seedPost({ slug: 'one', title: 'One', body: '<p>First.</p>', author: 'parkr' });
    f.emulator.seedPost({ slug: 'two', title: 'Two', body: '<p>Second.</p>', author: 'parkr' });
    const s = await f.open();
    await s.engine.pull();
    f.emulator.editPost('one', { title: 'One, edited' });
    f.emulator.editPost('two', { title: 'Two, edited' });
    const body = { data: { id: 'one', _id: 1 }, webhook: { event: 'post.published', target: 'x' } };
    // Posts off: the event is not ours. Posts on: a pull of that post.
    expect(parseWebhook(body)).toBeNull();
    const target = parseWebhook(body, { posts: true });
    expect(target).toEqual({
      kind: 'post',
      slug: 'one',
      locale: null,
      event: 'post.published',
      deleted: false,
    });
    f.emulator.clearLog();
    const { report } = await s.engine.pull({
      scope: { pageTypes: [], singlePages: [], collections: [], postList: false, posts: ['one'] },
    });
    expect(report.errors).toEqual([]);
    expect(f.emulator.requestLog().map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v2/posts/one/?preview=1&locale=en&auth_token=***',
      'GET /v2/posts/one/?preview=1&locale=de&auth_token=***',
    ]);
    expect(await f.read(`${CONTENT}/posts/one.md`)).toContain('title: One, edited\n');
    expect(await f.read(`${CONTENT}/posts/two.md`)).toContain('title: Two\n');
    await s.done();
  });
  it('a featured image goes through the media map: the CDN copy read back is the file URL', async () => {
    const file = `${CONTENT}/posts/cover.md`;
    const text =
      '---\ntitle: Cover\nauthor: parkr\nfeatured_image: https://images.example.com/cover.png\nfeatured_image_alt: A cover\n---\n\nBody.\n';
    const f = await site({ [file]: text });
    const s = await f.open();
    const { report } = await s.engine.push({ verifyWaitMs: 5_000 });
    expect(report.failures).toEqual([]);
    expect(report.pending).toBe(0);
    const remote = (await remotePost(f, 'cover'))?.featured_image ?? '';
    f.emulator.clearLog();
    const again = await s.engine.reconcile();
    expect(again.report.errors).toEqual([]);
    expect(writesIn(f.emulator)).toEqual([]);
    expect(await f.read(file)).toBe(text);
    // Whether or not the emulator re-hosts it, the file keeps the URL it was written with.
    expect(
      remote === 'https://images.example.com/cover.png' || s.store.manifest.media[remote] !== undefined,
    ).toBe(true);
    await s.done();
  });
  it('a file in the posts folder that is not a post is reported by name, the posts beside it sync', async () => {
    const f = await site({
      [POST]: JEKYLL_TEXT,
      [`${CONTENT}/posts/cover.png`]: 'not a post',
      [`${CONTENT}/posts/drafts/later.md`]: '---\ntitle: Later\n---\n',
    });
    const s = await f.open();
    const { report } = await s.engine.push({ verifyWaitMs: 5_000 });
    const said = Object.fromEntries(report.errors.map((e) => [e.file, e.message]));
    expect(Object.keys(said).sort()).toEqual([
      `${CONTENT}/posts/cover.png`,
      `${CONTENT}/posts/drafts/later.md`,
    ]);
    expect(said[`${CONTENT}/posts/cover.png`]).toContain('posts must be .md, .mdx or .markdown files');
    expect(said[`${CONTENT}/posts/drafts/later.md`]).toContain('nested too deeply');
    expect(report.failures).toEqual([]);
    expect(await remotePost(f)).not.toBeNull();
    await s.done();
  });
  it('an MDX post body is refused before any call, naming file and line', async () => {
    const file = `${CONTENT}/posts/mdx.mdx`;
    const f = await site({
      [file]: "---\ntitle: MDX\nauthor: parkr\n---\n\nimport Tabs from './tabs.astro';\n\n<Tabs />\n",
    });
    const s = await f.open();
    f.emulator.clearLog();
    const { report } = await s.engine.push();
    expect(writesIn(f.emulator)).toEqual([]);
    expect(report.errors).toEqual([
      expect.objectContaining({ file, line: 6, message: expect.stringContaining('the post body: MDX') }),
    ]);
    await s.done();
  });
});
