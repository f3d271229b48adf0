import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput, FieldSpecInput } from '../../src/config/schema.js';
import { readContentFile } from '../../src/content/index.js';
import { splitMarkdown } from '../../src/content/markdown-split.js';
import { parseTomlMatter } from '../../src/content/toml-frontmatter.js';
import { parseYamlMatter } from '../../src/content/yaml-frontmatter.js';
import { type Fixture, git, makeFixture } from '../helpers/sync-fixture.js';

// The whole Markdown corpus through the real engine and emulator: a pull that changes nothing leaves every
// file byte-identical, and a remote edit of one field rewrites that key's line and nothing else.
const CORPUS = fileURLToPath(new URL('../../../shared/corpus/markdown/', import.meta.url));
const CONTENT = 'content-example';

interface CorpusPage {
  source: string;
  corpusPath: string;
  pageType: string;
  slug: string;
  rel: string;
  bytes: Buffer;
  data: Record<string, unknown>;
}

/** A field spec the emulator can store and give back unchanged, or undefined when the model cannot say it. */
function inferSpec(value: unknown): FieldSpecInput | undefined {
  if (value === null || typeof value === 'string') return 'text';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v)))
      return undefined;
    const fields = inferFields(Object.assign({}, ...value) as Record<string, unknown>);
    return fields && { type: 'repeater', fields };
  }
  if (typeof value === 'object' && !(value instanceof Date)) {
    const fields = inferFields(value as Record<string, unknown>);
    return fields && Object.keys(fields).length > 0 ? { type: 'component', fields } : undefined;
  }
  return undefined;
}

function inferFields(data: Record<string, unknown>): Record<string, FieldSpecInput> | undefined {
  const fields: Record<string, FieldSpecInput> = {};
  for (const [key, value] of Object.entries(data)) {
    const spec = inferSpec(value);
    if (!spec) return undefined;
    fields[key] = spec;
  }
  return fields;
}

async function listCorpus(): Promise<Array<{ source: string; corpusPath: string }>> {
  const out: Array<{ source: string; corpusPath: string }> = [];
  for (const source of (await readdir(CORPUS)).sort()) {
    const entries = await readdir(path.join(CORPUS, source), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || !/\.(md|mdx|markdown)$/.test(entry.name)) continue;
      out.push({ source, corpusPath: path.relative(CORPUS, path.join(entry.parentPath, entry.name)) });
    }
  }
  return out.sort((a, b) => a.corpusPath.localeCompare(b.corpusPath));
}

/** Every corpus file whose frontmatter a page type can hold; one page type per source, fields = the union. */
async function buildModel(): Promise<{ pages: CorpusPage[]; pageTypes: ConfigInput['pageTypes'] }> {
  const pageTypes: Record<string, { bodyField: string; fields: Record<string, FieldSpecInput> }> = {};
  const pages: CorpusPage[] = [];
  const slugs = new Set<string>();
  for (const { source, corpusPath } of await listCorpus()) {
    const bytes = await readFile(path.join(CORPUS, corpusPath));
    const text = bytes.toString('utf8');
    let data: Record<string, unknown>;
    try {
      const parts = splitMarkdown(corpusPath, text);
      if (parts.kind === 'yaml') data = parseYamlMatter(corpusPath, parts.matter, parts.matterLine).data;
      else if (parts.kind === 'toml') data = parseTomlMatter(corpusPath, parts.matter, parts.matterLine).data;
      else data = {};
    } catch {
      continue;
    }
    if (Object.hasOwn(data, 'body')) continue;
    const { title, ...rest } = data;
    if (title !== undefined && typeof title !== 'string') continue;
    const fields = inferFields(rest);
    if (!fields) continue;
    const pageType = source.replace(/-/g, '_');
    const type = pageTypes[pageType] ?? { bodyField: 'body', fields: { body: 'richtext' } };
    pageTypes[pageType] = type;
    // A key typed differently by an earlier file of the same source: this file does not fit the model.
    if (
      Object.entries(fields).some(
        ([k, s]) => k in type.fields && JSON.stringify(type.fields[k]) !== JSON.stringify(s),
      )
    )
      continue;
    Object.assign(type.fields, fields);
    const stem = corpusPath
      .slice(source.length + 1)
      .replace(/\.(md|mdx|markdown)$/, '')
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '');
    let slug = stem.slice(-80) || 'index';
    while (slugs.has(`${pageType}/${slug}`)) slug = `${slug}-x`;
    slugs.add(`${pageType}/${slug}`);
    const ext = path.extname(corpusPath);
    pages.push({
      source,
      corpusPath,
      pageType,
      slug,
      rel: `${CONTENT}/pages/${pageType}/${slug}${ext}`,
      bytes,
      data,
    });
  }
  return { pages, pageTypes };
}

/** Lines with their own line endings, so CRLF and a missing final newline count as differences. */
function linesOf(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/** The lines of `before` and `after` that differ, once the common head and tail are taken off. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = linesOf(before);
  const b = linesOf(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  // A block scalar (`key: >-`) keeps its header line: the key's entry starts one line up.
  if (head > 0 && BLOCK_HEADER.test(a[head - 1] ?? '')) head--;
  return { removed: a.slice(head, a.length - tail), added: b.slice(head, b.length - tail) };
}

const BLOCK_HEADER = /^\S[^:]*:[ \t]*[>|][-+0-9]*[ \t]*\r?\n?$/;

/** A top-level key whose string value sits on the key's own line (so the edit is one line). */
function oneLineKey(page: CorpusPage): string | undefined {
  const text = page.bytes.toString('utf8');
  for (const [key, value] of Object.entries(page.data)) {
    if (key === 'title' || typeof value !== 'string' || value === '' || /[\n\r]/.test(value)) continue;
    if (!/^[A-Za-z0-9_]+$/.test(key)) continue;
    const line = new RegExp(`^${key}\\s*[:=][ \\t]*\\S`, 'm');
    if (line.test(text)) return key;
  }
  return undefined;
}

describe('pull over the real corpus', () => {
  let fx: Fixture;
  let pages: CorpusPage[] = [];

  beforeAll(async () => {
    const model = await buildModel();
    pages = model.pages;
    fx = await makeFixture({
      withContent: false,
      config: {
        locales: { default: 'en', all: ['en'] },
        pageMeta: { titleKey: 'title', statusKey: 'butter_status' },
        pageTypes: model.pageTypes,
        singlePages: {},
        collections: {},
        initialSource: 'git',
        rate: { requestsPerSecond: 1000, concurrency: 8, timeoutMs: 10_000, maxRetries: 2 },
      },
    });
    for (const page of pages) {
      await mkdir(path.dirname(path.join(fx.repoDir, page.rel)), { recursive: true });
      await writeFile(path.join(fx.repoDir, page.rel), page.bytes);
      // The CMS holds what the file says, as an editor would have typed it in the dashboard.
      const { variant } = readContentFile(page.rel, page.bytes, fx.config);
      fx.emulator.seedPage({
        pageType: page.pageType,
        slug: page.slug,
        title: variant.meta.title ?? page.slug,
        fields: variant.fields,
      });
    }
    await fx.commitAll('corpus');
  }, 60_000);
  afterAll(async () => {
    await fx?.cleanup();
  });

  it('fits most of the corpus into the model', () => {
    // Files whose frontmatter holds plain lists or dates have no ButterCMS field type; the rest must fit.
    expect(pages.length).toBeGreaterThan(250);
    expect(new Set(pages.map((p) => p.source)).size).toBe(7);
  });

  it('a reconcile and a pull with no remote change leave every file byte-identical and write nothing', async () => {
    const s = await fx.open();
    const first = await s.engine.reconcile({ verifyWaitMs: 10_000 });
    expect(first.report.errors).toEqual([]);
    expect(first.report.conflicts).toEqual([]);
    const pulled = await s.engine.pull({});
    await s.done();
    expect(pulled.report.errors).toEqual([]);
    expect(pulled.plan.operations.filter((op) => op.kind === 'write-file')).toEqual([]);
    for (const report of [first.report, pulled.report]) {
      expect(report.operations.filter((op) => op.status === 'written' || op.status === 'deleted')).toEqual(
        [],
      );
    }
    for (const page of pages) {
      const now = await readFile(path.join(fx.repoDir, page.rel));
      expect(now.equals(page.bytes), page.corpusPath).toBe(true);
    }
    expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');
  }, 60_000);

  it('a remote edit of one field changes only that key’s line, in every file that has one', async () => {
    const edited = new Map<CorpusPage, { key: string; value: string }>();
    for (const page of pages) {
      const key = oneLineKey(page);
      if (!key) continue;
      const value = `${String(page.data[key])} — édité`;
      fx.emulator.editPage(page.pageType, page.slug, { [key]: value }, { status: 'published' });
      edited.set(page, { key, value });
    }
    expect(edited.size).toBeGreaterThan(200);
    const headBefore = await git(fx.repoDir, 'rev-parse', 'HEAD');

    const s = await fx.open();
    const { report } = await s.engine.pull({});
    await s.done();
    expect(report.errors).toEqual([]);
    expect(report.conflicts).toEqual([]);

    const problems: string[] = [];
    for (const page of pages) {
      const now = await readFile(path.join(fx.repoDir, page.rel), 'utf8');
      const edit = edited.get(page);
      if (!edit) {
        if (now !== page.bytes.toString('utf8')) problems.push(`${page.corpusPath}: changed without an edit`);
        continue;
      }
      const { removed, added } = changedLines(page.bytes.toString('utf8'), now);
      // The key's entry may span lines (a folded block scalar): its first line names the key, the rest are indented.
      const keyLine = new RegExp(`^["']?${edit.key}["']?\\s*[:=]`);
      const isEntry = (lines: string[]) =>
        lines.length > 0 && keyLine.test(lines[0]!) && lines.slice(1).every((l) => /^[ \t]/.test(l));
      if (!isEntry(removed) || !isEntry(added)) {
        problems.push(`${page.corpusPath}: -${JSON.stringify(removed)} +${JSON.stringify(added)}`);
        continue;
      }
      // Same line ending as before, and the new value reads back.
      expect(added[0]!.endsWith('\r\n')).toBe(removed[0]!.endsWith('\r\n'));
      const { variant } = readContentFile(page.rel, Buffer.from(now, 'utf8'), fx.config);
      if (variant.fields[edit.key] !== edit.value)
        problems.push(`${page.corpusPath}: value reads back wrong`);
    }
    expect(problems).toEqual([]);

    // One pull commit holding exactly the edited files, with the trailer.
    const head = await git(fx.repoDir, 'rev-parse', 'HEAD');
    expect(await git(fx.repoDir, 'rev-parse', 'HEAD~1')).toBe(headBefore);
    const committed = (await git(fx.repoDir, 'diff-tree', '--no-commit-id', '--name-only', '-r', head))
      .split('\n')
      .sort();
    expect(committed).toEqual([...edited.keys()].map((p) => p.rel).sort());
    expect(await git(fx.repoDir, 'log', '-1', '--format=%B')).toContain('Butter-Sync: pull');
    expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');

    // And the pull is not echoed back: a push now sends nothing.
    const again = await fx.open();
    const pushed = await again.engine.push({});
    await again.done();
    expect(pushed.plan.totalCalls).toBe(0);
  }, 60_000);
});
