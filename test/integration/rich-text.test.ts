import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { type Fixture, makeFixture, writesIn } from '../helpers/sync-fixture.js';

// Issue 11 against the emulator over HTTP: `richtext` is HTML in the CMS and Markdown in the file.
const CONTENT = 'content-example';
const POST = `${CONTENT}/pages/post/launch.md`;

const config = (extra: Partial<ConfigInput> = {}): Partial<ConfigInput> => ({
  locales: { default: 'en', all: ['en'] },
  pageTypes: {
    post: { bodyField: 'body', fields: { body: 'richtext', summary: 'richtext', note: 'text' } },
  },
  singlePages: {},
  collections: {},
  ...extra,
});

const FILE = [
  '---',
  'title: Launch',
  'status: published',
  'summary: A *short* summary',
  'note: "**kept** as typed"',
  '---',
  'With **butter-sync** both sides keep working.',
  '',
  '* first point',
  '* second point',
  '',
  '~~~js',
  'const answer = 42;',
  '~~~',
  '',
  "A closing   paragraph with  odd spacing, fish & chips and <abbr title='x'>raw</abbr> HTML.",
  '',
].join('\n');

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

async function site(text: string, extra: Partial<ConfigInput> = {}): Promise<Fixture> {
  fx = await makeFixture({ withContent: false, config: config(extra) });
  await mkdir(path.dirname(path.join(fx.repoDir, POST)), { recursive: true });
  await fx.write(POST, text);
  await fx.commitAll('a post');
  return fx;
}

async function remoteFields(f: Fixture): Promise<Record<string, unknown>> {
  const s = await f.open();
  const page = await s.cms.getPage('post', 'launch', { preview: true, locale: 'en', levels: 1 });
  await s.done();
  return page?.fields ?? {};
}

async function run<T>(f: Fixture, step: (s: Awaited<ReturnType<Fixture['open']>>) => Promise<T>): Promise<T> {
  const s = await f.open();
  try {
    return await step(s);
  } finally {
    await s.done();
  }
}

describe('rich text: Markdown in Git, HTML in the CMS (issue 11)', () => {
  it('sends a bold word as <strong>, frontmatter rich text as HTML, and text verbatim', async () => {
    const f = await site(FILE);
    await run(f, (s) => s.engine.reconcile({ verifyWaitMs: 10_000 }));
    const fields = await remoteFields(f);
    expect(fields.body).toContain('<p>With <strong>butter-sync</strong> both sides keep working.</p>');
    expect(fields.body).toContain('<li>second point</li>');
    expect(fields.body).toContain('<code class="language-js">const answer = 42;');
    expect(fields.summary).toBe('<p>A <em>short</em> summary</p>');
    expect(fields.note).toBe('**kept** as typed');
    // The WYSIWYG field holds the HTML as its editor re-serialises it (emulator), not the bytes sent.
    expect(fields.body).toContain('fish &#x26; chips and <abbr title="x">raw</abbr> HTML.');
  });

  it('no drift: a pull and a reconcile after the push write no file and send nothing', async () => {
    const f = await site(FILE);
    await run(f, (s) => s.engine.reconcile({ verifyWaitMs: 10_000 }));
    f.emulator.clearLog();
    const pulled = await run(f, (s) => s.engine.pull({}));
    expect(pulled.plan.operations.filter((op) => op.kind === 'write-file')).toEqual([]);
    const again = await run(f, (s) => s.engine.reconcile({ verifyWaitMs: 10_000 }));
    expect(again.report.conflicts).toEqual([]);
    expect(writesIn(f.emulator)).toEqual([]);
    expect(await f.read(POST)).toBe(FILE);
  });

  it('an editor’s change to one paragraph rewrites only that paragraph, keeping CRLF and the file’s style', async () => {
    const crlf = FILE.replace(/\n/g, '\r\n');
    const f = await site(crlf);
    await run(f, (s) => s.engine.reconcile({ verifyWaitMs: 10_000 }));
    const html = String((await remoteFields(f)).body);
    // The dashboard: one more bullet, and a bold word in the first paragraph.
    const edited = html
      .replace('<li>second point</li>', '<li>second point</li>\n<li>a <em>third</em> point</li>')
      .replace('both sides keep working', 'both sides keep <strong>working</strong>');
    f.emulator.editPage('post', 'launch', { body: edited }, { status: 'published' });
    const pulled = await run(f, (s) => s.engine.pull({}));
    expect(pulled.report.conflicts).toEqual([]);
    const expected = crlf
      .replace('both sides keep working.', 'both sides keep **working**.')
      .replace('* second point\r\n', '* second point\r\n* a *third* point\r\n');
    expect(await f.read(POST)).toBe(expected);
    // …and it is not pushed back, nor pulled again.
    f.emulator.clearLog();
    const after = await run(f, (s) => s.engine.reconcile({ verifyWaitMs: 10_000 }));
    expect(after.plan.operations.filter((op) => op.kind === 'write-file')).toEqual([]);
    expect(writesIn(f.emulator)).toEqual([]);
  });

  it('a file edited after its push is pushed again, not taken for a conflict with the HTML it sent', async () => {
    const f = await site(FILE);
    await run(f, (s) => s.engine.reconcile({ verifyWaitMs: 10_000 }));
    await f.write(POST, FILE.replace('first point', 'first **bold** point'));
    await f.commitAll('edit');
    const next = await run(f, (s) => s.engine.reconcile({ verifyWaitMs: 10_000 }));
    expect(next.report.conflicts).toEqual([]);
    expect(String((await remoteFields(f)).body)).toContain('<li>first <strong>bold</strong> point</li>');
  });

  it('refuses an MDX body before any call, naming the file, the line and "text"', async () => {
    const mdx = FILE.replace(
      'With **butter-sync**',
      'import Card from \'./Card.astro\';\n\n<Card title="x">hi</Card>\n\nWith **butter-sync**',
    );
    const f = await site(mdx);
    const { report } = await run(f, (s) => s.engine.push({}));
    expect(report.errors).toEqual([
      expect.objectContaining({
        file: POST,
        line: 7,
        message: expect.stringContaining('import Card'),
        hint: expect.stringContaining('"text"'),
      }),
    ]);
    expect(writesIn(f.emulator)).toEqual([]);
  });

  it('a relative image is refused without publicBaseUrl and sent absolute with it', async () => {
    const withImage = FILE.replace('A closing', '![diagram](./img/diagram.png)\n\nA closing');
    const f = await site(withImage);
    const refused = await run(f, (s) => s.engine.push({}));
    expect(refused.report.errors).toEqual([
      expect.objectContaining({
        file: POST,
        line: 16,
        message: expect.stringContaining('./img/diagram.png'),
      }),
    ]);
    expect(writesIn(f.emulator)).toEqual([]);
    const s = await f.open({ config: { publicBaseUrl: 'https://example.com/blog/' } });
    await s.engine.reconcile({ verifyWaitMs: 10_000 });
    await s.done();
    expect(String((await remoteFields(f)).body)).toContain(
      '<img src="https://example.com/blog/img/diagram.png" alt="diagram">',
    );
  });
});
