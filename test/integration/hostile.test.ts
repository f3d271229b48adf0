import { randomBytes } from 'node:crypto';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli-process.js';
import { type Fixture, git, makeFixture, writesIn } from '../helpers/sync-fixture.js';

// Issue "Prove it" §4: bad local files and hostile remote data each get one clear error; nothing is
// written outside contentDir; everything else syncs.
const C = 'content-example';
const FAQ = `${C}/pages/faq`;
const ARTICLE = `${C}/pages/article`;
const TAGS = `${C}/collections/tags`;
const TEAM = `${C}/collections/team_members`;
const SINGLE = `${C}/pages/_single`;
const MEMBER = `${TEAM}/ada-lovelace.json`;

const md = (front: string, body = 'Body.\n') => `---\n${front}\n---\n${body}`;
const toml = (front: string, body = 'Body.\n') => `+++\n${front}\n+++\n${body}`;
const member = (extra: Record<string, unknown>) =>
  JSON.stringify({
    slug: 'm',
    name: 'M',
    role: 'r',
    photo: '',
    years: 1,
    active: true,
    tags: [],
    ...extra,
  });

/** Every file here is bad in its own way; the path is the key the error must name. */
function badFiles(): Record<string, string | Buffer> {
  const huge = 'x'.repeat(6 * 1024 * 1024);
  return {
    // Malformed YAML frontmatter
    [`${FAQ}/yaml-unclosed-flow.md`]: md('title: [unclosed'),
    [`${FAQ}/yaml-bad-indent.md`]: md('title: T\n  headline: x\n bad: y'),
    [`${FAQ}/yaml-tab-indent.md`]: md('title: T\nquestions:\n\t- question: q'),
    [`${FAQ}/yaml-duplicate-key.md`]: md('title: T\nheadline: a\nheadline: b'),
    [`${FAQ}/yaml-not-a-mapping.md`]: md('- just\n- a list'),
    [`${FAQ}/yaml-unterminated-quote.md`]: md('title: "never closed\nheadline: x'),
    [`${FAQ}/yaml-alias-bomb.md`]: md(
      `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nheadline: [*d,*d,*d,*d,*d,*d,*d,*d,*d]`,
    ),
    [`${FAQ}/yaml-no-closing-fence.md`]: '---\ntitle: T\nheadline: x\n',
    // Unknown fields / wrong types in YAML
    [`${FAQ}/yaml-unknown-field.md`]: md('title: T\nsubtitle: nope'),
    [`${FAQ}/yaml-body-in-frontmatter.md`]: md('title: T\nbody: twice'),
    [`${FAQ}/yaml-headline-list.md`]: md('title: T\nheadline: [a, b]'),
    [`${FAQ}/yaml-questions-string.md`]: md('title: T\nquestions: "not rows"'),
    [`${FAQ}/yaml-question-row-unknown.md`]: md('title: T\nquestions:\n  - question: q\n    extra: 1'),
    [`${FAQ}/yaml-bad-status.md`]: md('title: T\nstatus: archived'),
    [`${FAQ}/yaml-related-number.md`]: md('title: T\nrelated: {slug: x}'),
    [`${FAQ}/yaml-title-mapping.md`]: md('title: {a: 1}'),
    [`${ARTICLE}/yaml-bad-date.md`]: md('title: T\npublished_on: next tuesday'),
    [`${ARTICLE}/yaml-author-list.md`]: md('title: T\nauthor: [a, b]'),
    // Malformed TOML frontmatter
    [`${FAQ}/toml-unclosed-string.md`]: toml('title = "x'),
    [`${FAQ}/toml-duplicate-key.md`]: toml('title = "a"\ntitle = "b"'),
    [`${FAQ}/toml-bare-value.md`]: toml('title = x y z'),
    [`${FAQ}/toml-unknown-field.md`]: toml('title = "T"\nsubtitle = "no"'),
    [`${FAQ}/toml-wrong-type.md`]: toml('title = "T"\nheadline = 12'),
    [`${FAQ}/toml-bad-table.md`]: toml('[questions\nquestion = "q"'),
    // Malformed JSON
    [`${TAGS}/json-truncated.json`]: '{ "slug": "json-truncated", ',
    [`${TAGS}/json-trailing-comma.json`]: '{ "slug": "json-trailing-comma", "name": "N", }',
    [`${TAGS}/json-duplicate-key.json`]: '{ "slug": "json-duplicate-key", "name": "a", "name": "b" }',
    [`${TAGS}/json-array.json`]: '[1, 2, 3]',
    [`${TAGS}/json-null.json`]: 'null',
    [`${TAGS}/json-empty.json`]: '',
    [`${TAGS}/json-comment.json`]: '{ // a comment\n "slug": "json-comment" }',
    [`${TAGS}/json-single-quotes.json`]: "{ 'slug': 'json-single-quotes' }",
    [`${TAGS}/json-unknown-field.json`]: '{ "slug": "json-unknown-field", "name": "N", "weight": 3 }',
    [`${TAGS}/json-key-mismatch.json`]: '{ "slug": "someone-else", "name": "N" }',
    [`${TAGS}/json-deep.json`]: `{ "slug": "json-deep", "name": ${'['.repeat(400)}${']'.repeat(400)} }`,
    [`${TEAM}/json-years-text.json`]: member({ slug: 'json-years-text', years: 'many' }),
    [`${TEAM}/json-years-huge.json`]: `{ "slug": "json-years-huge", "name": "N", "years": 1e999 }`,
    [`${TEAM}/json-active-string.json`]: member({ slug: 'json-active-string', active: 'yes' }),
    [`${TEAM}/json-tags-string.json`]: member({ slug: 'json-tags-string', tags: 'writing' }),
    [`${TEAM}/json-name-object.json`]: member({ slug: 'json-name-object', name: { first: 'A' } }),
    [`${SINGLE}/homepage-typo.json`]: '{ "headline": "x" }',
    // Huge and binary
    [`${TAGS}/huge-value.json`]: `{ "slug": "huge-value", "name": "${huge}" }`,
    [`${FAQ}/huge-body.md`]: md('title: T', huge),
    [`${TAGS}/binary.json`]: Buffer.concat([Buffer.from('{"slug":"binary"'), Buffer.from([0, 1, 2, 0xff])]),
    [`${FAQ}/binary.md`]: randomBytes(2048),
    [`${FAQ}/invalid-utf8.md`]: Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0xc3, 0x28, 0x0a, 0x2d, 0x2d, 0x2d]),
    // Paths outside the content model, names with ".."
    [`${C}/pages/no_such_type/x.md`]: md('title: X'),
    [`${C}/collections/no_such_collection/x.json`]: '{}',
    [`${C}/collections/tags/deeper/x.json`]: '{ "slug": "x" }',
    [`${C}/collections/tags/x.md`]: md('title: X'),
    [`${TAGS}/CON.json`]: '{ "slug": "CON" }',
    [`${FAQ}/a..b.md`]: md('title: T'),
    [`${TAGS}/.hidden.json`]: '{ "slug": ".hidden" }',
  };
}

describe('hostile input', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture({ config: { verify: { deadlineSeconds: 5 } } });
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('gives each of 50+ bad local files exactly one error naming it, and still pushes a good edit', async () => {
    const bad = badFiles();
    for (const [rel, content] of Object.entries(bad)) {
      await mkdir(path.dirname(path.join(fx.repoDir, rel)), { recursive: true });
      await writeFile(path.join(fx.repoDir, rel), content);
    }
    // A symlink to a file outside contentDir (and outside the repo): never read, never followed.
    const outside = path.join(path.dirname(fx.repoDir), `${path.basename(fx.repoDir)}-outside.json`);
    await writeFile(outside, '{ "slug": "secret", "name": "outside" }');
    const link = `${TAGS}/linked.json`;
    await symlink(outside, path.join(fx.repoDir, link));
    const dotdot = `${TAGS}/..json`;
    await writeFile(path.join(fx.repoDir, dotdot), '{}');
    bad[link] = '';
    bad[dotdot] = '';

    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Still lands"'));
    fx.emulator.clearLog();
    try {
      const s = await fx.open();
      const { report } = await s.engine.reconcile({ verifyWaitMs: 5_000 });
      await s.done();

      const problems: string[] = [];
      for (const rel of Object.keys(bad)) {
        const errors = report.errors.filter((e) => e.file === rel);
        if (errors.length !== 1) problems.push(`${rel}: ${errors.length} errors`);
        for (const e of errors) {
          if (!e.message || e.message.length > 400) problems.push(`${rel}: unclear message`);
        }
      }
      expect(problems).toEqual([]);
      expect(Object.keys(bad).length).toBeGreaterThanOrEqual(50);
      // No error without a file, and nothing about the good files.
      expect(report.errors.filter((e) => !e.file || !Object.hasOwn(bad, e.file))).toEqual([]);
      // The good edit landed, and only it was sent: no bad file became a write.
      expect(writesIn(fx.emulator).map((w) => `${w.method} ${w.path.split('/')[3]}`)).toEqual([
        'PATCH team_members',
      ]);
      expect(report.failures).toEqual([]);
      expect(report.pending).toBe(0);
      expect(await readdir(path.join(fx.repoDir, TAGS))).not.toContain('secret.json');
    } finally {
      await import('node:fs/promises').then((fs) => fs.rm(outside, { force: true }));
    }
  });

  it('refuses hostile remote slugs and keys with one error each, writes nothing outside, pulls the rest', async () => {
    const tag = Date.now().toString(36);
    const hostileKeys = [
      `../../escape-${tag}`,
      `../escape-${tag}`,
      `a\u0000b-${tag}`,
      'x'.repeat(1000),
      'CON',
      'nul.txt',
      'aux',
      'com1',
      'lpt9.json',
      `sub/dir-${tag}`,
      `..\\win-${tag}`,
      `.hidden-${tag}`,
      'trailing-dot.',
      'quote"s',
      'tab\there',
      'ends.es',
    ];
    for (const key of hostileKeys) {
      fx.emulator.seedItem({ collection: 'tags', fields: { slug: key, name: 'hostile', color: '#000000' } });
    }
    const hostileSlugs = [`../../page-escape-${tag}`, `a\u0000b`, 'y'.repeat(1000), 'PRN', `..`];
    for (const slug of hostileSlugs) {
      fx.emulator.seedPage({
        pageType: 'faq',
        slug,
        title: 'Hostile',
        fields: { headline: 'h' },
        anySlug: true,
      });
    }
    fx.emulator.seedItem({
      collection: 'tags',
      fields: { slug: 'good-remote', name: 'Good', color: '#00ff00' },
    });
    fx.emulator.seedPage({
      pageType: 'faq',
      slug: 'good-page',
      title: 'Good page',
      fields: { headline: 'ok' },
    });

    const before = await listTree(path.dirname(fx.repoDir), 1);
    const s = await fx.open();
    const { report } = await s.engine.reconcile({ verifyWaitMs: 2_000 });
    await s.done();

    // The good ones arrive.
    expect(await fx.read(`${TAGS}/good-remote.json`)).toContain('"Good"');
    expect(await fx.read(`${FAQ}/good-page.md`)).toContain('ok');
    // One error (or notice) per hostile entity, naming it; no write to the CMS for them either.
    const mentions = (name: string) =>
      [
        ...report.errors.map((e) => `${e.message} ${e.file ?? ''}`),
        ...report.notices.map((n) => `${n.entity} ${n.message}`),
      ].filter((text) => text.includes(JSON.stringify(name).slice(1, -1)) || text.includes(name)).length;
    const unreported = [...hostileKeys, ...hostileSlugs].filter((name) => mentions(name) < 1);
    expect(unreported.map((n) => JSON.stringify(n.slice(0, 40)))).toEqual([]);
    expect(report.errors.length + report.notices.length).toBeLessThanOrEqual(
      hostileKeys.length + hostileSlugs.length,
    );
    expect(writesIn(fx.emulator).filter((w) => w.body?.includes('hostile'))).toEqual([]);

    // Nothing outside contentDir: the repo holds only content-example/, config and git's own files,
    // and the temp dir around the repo gained nothing.
    const repoTop = (await readdir(fx.repoDir)).sort();
    expect(repoTop).toEqual(['.butter-sync', '.git', '.gitignore', 'content-example', 'sync.config.json']);
    const tree = await listTree(path.join(fx.repoDir, C), 4);
    expect(
      tree.filter((p) => !/^(pages\/(faq|article|_single)|collections\/(tags|team_members))\/[^/]+$/.test(p)),
    ).toEqual([]);
    expect(tree.filter((p) => /escape|hidden|win-/.test(p))).toEqual([]);
    const after = await listTree(path.dirname(fx.repoDir), 1);
    expect(after.filter((p) => !before.includes(p) && p.includes(tag))).toEqual([]);
    expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');

    // A second run reports them again (the remote still holds them) and writes nothing new.
    const s2 = await fx.open();
    const again = await s2.engine.reconcile({ verifyWaitMs: 1_000 });
    await s2.done();
    expect(again.report.operations.filter((op) => op.status === 'written')).toEqual([]);
  });
});

describe('the daemon under hostile input', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await makeFixture({ config: { verify: { deadlineSeconds: 5 } } });
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('keeps running and healthy while bad files arrive, and still pushes a good edit', {
    timeout: 40_000,
  }, async () => {
    const cli = startCli(
      // JSON log lines: the test reads the port and the stop from them.
      [
        'watch',
        '--repo',
        fx.repoDir,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--no-webhook',
        '--no-fetch',
        '--log-format',
        'json',
      ],
      fx.env(),
    );
    let stderr = '';
    cli.child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    try {
      const port = await waitFor(() => /"port":(\d+)[^\n]*endpoints listening/.exec(stderr)?.[1], 15_000);
      const health = () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status);
      expect(await health()).toBe(200);

      const bad = Object.entries(badFiles()).slice(0, 30);
      for (const [rel, content] of bad) {
        await mkdir(path.dirname(path.join(fx.repoDir, rel)), { recursive: true });
        await writeFile(path.join(fx.repoDir, rel), content);
      }
      // Let the watcher deliver and the daemon chew on the bad batch.
      await waitFor(() => (bad.some(([rel]) => stderr.includes(rel)) ? true : undefined), 15_000);
      expect(cli.child.exitCode).toBeNull();
      expect(await health()).toBe(200);

      fx.emulator.clearLog();
      await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Pushed by the daemon"'));
      const patch = await waitFor(
        () =>
          writesIn(fx.emulator).find((w) => w.method === 'PATCH' && w.body?.includes('Pushed by the daemon')),
        15_000,
      );
      expect(patch.path).toMatch(/^\/v2\/content\/team_members\/\d+\/$/);
      expect(cli.child.exitCode).toBeNull();
      expect(await health()).toBe(200);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const end = await cli.done;
    // A graceful stop on SIGTERM (DESIGN.md exit codes: 143 = stopped by signal), not a crash.
    expect(end.code, end.stderr.slice(-2_000)).toBe(143);
    expect(end.stderr).toContain('"msg":"stopped"');
  });
});

/** Poll until `probe` returns a value (or fail after `ms`). */
async function waitFor<T>(probe: () => T | undefined, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function listTree(root: string, depth: number, prefix = ''): Promise<string[]> {
  if (depth === 0) return [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(path.join(root, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory() && depth > 1) out.push(...(await listTree(root, depth - 1, rel)));
    else out.push(rel);
  }
  return out;
}
