/**
 * Rich-text benchmark (issue 11; not part of `npm test`): conversion time per MB of Markdown, both ways, over
 * every corpus Markdown body a user would model `richtext` (the sources without MDX or template code).
 * "naive" is one unified pipeline over the whole document (the approach an earlier attempt measured at
 * ~8–11 s/MB); butter-sync converts block by block with a cache, so a push or pull of a long page converts
 * only the blocks it has not seen. Writes test/bench/results/rich-text.json.
 * Run: npx vitest run --config test/bench.config.ts test/bench/rich-text.bench.test.ts
 */

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import rehypeRaw from 'rehype-raw';
import rehypeSanitize from 'rehype-sanitize';
import rehypeStringify from 'rehype-stringify';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import remarkRehype from 'remark-rehype';
import { unified } from 'unified';
import { expect, it } from 'vitest';
import {
  clearRichTextCache,
  htmlToMarkdown,
  markdownToHtml,
  mergeRichText,
} from '../../src/content/rich-text.js';
import { writeResult } from './bench-results.js';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/markdown/', import.meta.url));
const SOURCES = ['hugo-docs', 'hugo-basic-example', 'rust-blog', 'jekyll-docs', 'svelte-dev'];
const OPTIONS = { publicBaseUrl: 'https://site.test/' };

async function bodies(): Promise<string[]> {
  const out: string[] = [];
  for (const source of SOURCES) {
    const entries = await readdir(path.join(CORPUS, source), { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile() || !/\.(md|markdown)$/.test(entry.name)) continue;
      const text = await readFile(path.join(entry.parentPath, entry.name), 'utf8');
      out.push(text.replace(/^(---|\+\+\+)\r?\n[\s\S]*?\r?\n\1[ \t]*(\r?\n|$)/, ''));
    }
  }
  return out;
}

function secondsPerMb(ms: number, bytes: number): number {
  return Math.round((ms / 1000 / (bytes / 1e6)) * 100) / 100;
}

function timed(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

it('converts Markdown ⇄ HTML per MB, cold and warm, and merges unchanged documents byte for byte', async () => {
  const texts = await bodies();
  const bytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0);
  const naive = unified()
    .use(remarkParse)
    .use(remarkGfm)
    .use(remarkRehype, { allowDangerousHtml: true })
    .use(rehypeRaw)
    .use(rehypeSanitize)
    .use(rehypeStringify)
    .freeze();
  const naiveMs = timed(() => {
    for (const t of texts) naive.processSync(t);
  });
  clearRichTextCache();
  let htmls: string[] = [];
  const coldMs = timed(() => {
    htmls = texts.map((t) => markdownToHtml(t, OPTIONS));
  });
  const warmMs = timed(() => {
    for (const t of texts) markdownToHtml(t, OPTIONS);
  });
  const toMarkdownMs = timed(() => {
    for (const h of htmls) htmlToMarkdown(h);
  });
  let identical = 0;
  const mergeMs = timed(() => {
    texts.forEach((t, i) => {
      if (mergeRichText(t, htmls[i]!, OPTIONS) === t) identical++;
    });
  });
  // One paragraph edited per document: the pull's real work.
  const edited = htmls.map((h) => h.replace('</p>', ' (edited)</p>'));
  let oneBlock = 0;
  const editMs = timed(() => {
    texts.forEach((t, i) => {
      const merged = mergeRichText(t, edited[i]!, OPTIONS);
      if (merged !== t && merged.includes('(edited)')) oneBlock++;
    });
  });
  const result = {
    documents: texts.length,
    markdownMb: Math.round((bytes / 1e6) * 100) / 100,
    naiveWholeDocumentSecondsPerMb: secondsPerMb(naiveMs, bytes),
    markdownToHtmlColdSecondsPerMb: secondsPerMb(coldMs, bytes),
    markdownToHtmlWarmSecondsPerMb: secondsPerMb(warmMs, bytes),
    htmlToMarkdownSecondsPerMb: secondsPerMb(toMarkdownMs, bytes),
    mergeUnchangedSecondsPerMb: secondsPerMb(mergeMs, bytes),
    mergeOneParagraphEditedSecondsPerMb: secondsPerMb(editMs, bytes),
    unchangedMergesByteIdentical: identical,
    editedMergesChanged: oneBlock,
  };
  await writeResult('rich-text', result);
  expect(identical).toBe(texts.length);
});
