import { createRequire } from 'node:module';
import type { Element, ElementContent, RootContent as HastContent, Root as HastRoot } from 'hast';
import type { Content as MdContent, Nodes as MdNodes, Root as MdRoot } from 'mdast';
import type rehypeSanitize from 'rehype-sanitize';
import type { Options as StringifyOptions } from 'remark-stringify';

/**
 * Rich text: Markdown in the file, HTML in the CMS (ButterCMS WYSIWYG, butter-api.md §2.3; Webflow RichText,
 * webflow-api.md §3). One pure module both backends use: no I/O, no project imports. Conversion goes through
 * the unified ecosystem, never by hand; what is hand-written here is only the block bookkeeping that keeps a
 * pull from reprinting paragraphs nobody changed.
 */

/** How relative links resolve (`publicBaseUrl` in sync.config.json). */
export interface RichTextOptions {
  /** Absolute URL a path-relative link or image (`./img.png`, `img.png`, `../a.md`) resolves against. */
  publicBaseUrl?: string | undefined;
}

/** Markdown that HTML cannot carry, or cannot carry without breaking: found before any call is made. */
export interface RichTextProblem {
  /** 1-based line within the Markdown text given. */
  line: number;
  message: string;
  hint: string;
}

// ---- the libraries, loaded on first use -----------------------------------------------------------------

const require = createRequire(import.meta.url);

/**
 * The unified ecosystem is some 300 modules that take a fifth of a second to load, and most runs convert no
 * rich text (an unchanged push, `status`, a push of JSON items): they are loaded the first time a conversion
 * or check needs them, not when this module is imported. Synchronous on purpose, so every function here keeps
 * its signature: Node ≥ 20.19 (engines.node) loads these ES modules with require().
 */
function loadLibraries() {
  return {
    diffArrays: (require('diff') as typeof import('diff')).diffArrays,
    toHtml: (require('hast-util-to-html') as typeof import('hast-util-to-html')).toHtml,
    rehypeParse: (require('rehype-parse') as typeof import('rehype-parse')).default,
    rehypeRaw: (require('rehype-raw') as typeof import('rehype-raw')).default,
    rehypeRemark: (require('rehype-remark') as typeof import('rehype-remark')).default,
    rehypeSanitize: (require('rehype-sanitize') as typeof import('rehype-sanitize')).default,
    rehypeStringify: (require('rehype-stringify') as typeof import('rehype-stringify')).default,
    remarkGfm: (require('remark-gfm') as typeof import('remark-gfm')).default,
    remarkParse: (require('remark-parse') as typeof import('remark-parse')).default,
    remarkRehype: (require('remark-rehype') as typeof import('remark-rehype')).default,
    remarkStringify: (require('remark-stringify') as typeof import('remark-stringify')).default,
    unified: (require('unified') as typeof import('unified')).unified,
  };
}

let libraries: ReturnType<typeof loadLibraries> | undefined;

function lib(): ReturnType<typeof loadLibraries> {
  libraries ??= loadLibraries();
  return libraries;
}

/** A value built from the libraries once, when first asked for. */
function once<T extends object>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

// ---- sanitising as ButterCMS would (README "Rich text") ---------------------------------------------------

/**
 * What leaves for the CMS is sanitised only by what a WYSIWYG field itself strips. butter-api.md documents no
 * sanitiser (§2.3 says only that WYSIWYG holds HTML), so this is the safe minimum (unverified): `<script>`
 * elements, `on*` event-handler attributes and `javascript:`/`vbscript:`/`data:` URLs in links go; every
 * other tag, attribute, class, style and comment passes through, so nothing a writer meant is lost.
 * rehype-sanitize only takes allow-lists of tag and attribute names, so they are built from the tree itself
 * (every tag but `script`, every attribute but event handlers) just before it runs.
 */
const sanitizeSchema = {
  tagNames: [] as string[],
  strip: ['script'],
  attributes: { '*': [] as string[] },
  ancestors: {},
  required: {},
  clobber: [],
  clobberPrefix: '',
  allowComments: true,
  allowDoctypes: false,
  protocols: {
    href: ['http', 'https', 'mailto', 'tel', 'ftp', 'sms'],
    src: ['http', 'https'],
    cite: ['http', 'https'],
  },
} as unknown as NonNullable<Parameters<typeof rehypeSanitize>[0]>;

function allowPresentAttributes() {
  return (tree: HastRoot) => {
    const names = new Set<string>();
    const tags = new Set<string>();
    const walk = (node: HastRoot | HastContent | ElementContent): void => {
      if (node.type === 'element') {
        if (node.tagName !== 'script') tags.add(node.tagName);
        for (const key of Object.keys(node.properties)) if (!/^on/i.test(key)) names.add(key);
      }
      if ('children' in node) for (const child of node.children) walk(child);
    };
    walk(tree);
    const schema = sanitizeSchema as { attributes: Record<string, string[]>; tagNames: string[] };
    schema.attributes['*'] = [...names];
    schema.tagNames = [...tags];
  };
}

// ---- relative URLs ---------------------------------------------------------------------------------------

/** `./img.png`, `img.png`, `../x`: relative to a file path, which means nothing on a CMS-rendered page. */
export function isPathRelativeUrl(url: string): boolean {
  if (url === '' || url.startsWith('#') || url.startsWith('?') || url.startsWith('/')) return false;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return false; // https:, mailto:, data:, …
  return !url.startsWith('{{'); // a template placeholder is the site's business
}

const URL_PROPERTIES = ['href', 'src', 'poster', 'cite'] as const;

function baseFolder(options: RichTextOptions): string | undefined {
  const base = options.publicBaseUrl;
  return base === undefined || base.endsWith('/') ? base : `${base}/`;
}

function resolveRelativeUrls(options: RichTextOptions) {
  return (tree: HastRoot) => {
    const folder = baseFolder(options);
    if (folder === undefined) return; // planSync refused these already (findRichTextProblems)
    const walk = (node: HastRoot | HastContent | ElementContent): void => {
      if (node.type === 'element') {
        for (const key of URL_PROPERTIES) {
          const value = node.properties[key];
          if (typeof value === 'string' && isPathRelativeUrl(value))
            node.properties[key] = new URL(value, folder).href;
        }
      }
      if ('children' in node) for (const child of node.children) walk(child);
    };
    walk(tree);
  };
}

/** The file's own path-relative links and images, keyed by the absolute URL each resolved to. */
function relativeUrlsOf(tree: MdRoot, options: RichTextOptions): Map<string, string> {
  const urls = new Map<string, string>();
  const folder = baseFolder(options);
  if (folder === undefined) return urls;
  const walk = (node: MdNodes): void => {
    if ('url' in node && typeof node.url === 'string' && isPathRelativeUrl(node.url))
      urls.set(new URL(node.url, folder).href, node.url);
    if ('children' in node) for (const child of node.children) walk(child);
  };
  walk(tree);
  return urls;
}

/**
 * A pulled block holds the absolute URLs the file's relative links were sent as: print them as the file
 * wrote them (`./announcing-vite4.md`, not `https://vite.dev/blog/announcing-vite4.md`). A URL the file
 * never had stays as the CMS says.
 */
function restoreRelativeUrls(nodes: Array<HastContent | ElementContent>, urls: Map<string, string>): void {
  if (urls.size === 0) return;
  for (const node of nodes) {
    if (node.type !== 'element') continue;
    for (const key of URL_PROPERTIES) {
      const value = node.properties[key];
      const relative = typeof value === 'string' ? urls.get(value) : undefined;
      if (relative !== undefined) node.properties[key] = relative;
    }
    restoreRelativeUrls(node.children, urls);
  }
}

// ---- processors (built once; unified processors are reusable once frozen) -----------------------------------

const markdownParser = once(() => lib().unified().use(lib().remarkParse).use(lib().remarkGfm).freeze());

type HastProcessor = ReturnType<typeof buildHastProcessor>;

function buildHastProcessor(options: RichTextOptions, raw: boolean) {
  const { unified, remarkRehype, rehypeRaw, rehypeSanitize } = lib();
  const base = unified().use(remarkRehype, { allowDangerousHtml: true });
  // rehype-raw re-parses the whole block with parse5: only worth it when the block holds raw HTML.
  const parsed = raw ? base.use(rehypeRaw) : base;
  return parsed
    .use(resolveRelativeUrls, options)
    .use(allowPresentAttributes)
    .use(rehypeSanitize, sanitizeSchema)
    .freeze();
}

const hastProcessors = new Map<string, HastProcessor>();

function toHastProcessor(options: RichTextOptions, raw: boolean): HastProcessor {
  const key = `${raw}\u0000${options.publicBaseUrl ?? ''}`;
  let processor = hastProcessors.get(key);
  if (!processor) {
    processor = buildHastProcessor(options, raw);
    hastProcessors.set(key, processor);
  }
  return processor;
}

function holdsRawHtml(node: MdRoot | MdContent): boolean {
  if (node.type === 'html') return true;
  return 'children' in node && (node.children as MdContent[]).some(holdsRawHtml);
}

const htmlParser = once(() => lib().unified().use(lib().rehypeParse, { fragment: true }).freeze());

/** Elements Markdown has no syntax for are kept as raw HTML rather than dropped (the CMS's `<div>`, `<iframe>`). */
const KEEP_AS_HTML = [
  'div',
  'span',
  'iframe',
  'video',
  'audio',
  'figure',
  'figcaption',
  'details',
  'summary',
  'sup',
  'sub',
  'u',
  'mark',
  'abbr',
  'kbd',
  'small',
] as const;

const keepAsHtmlHandlers = Object.fromEntries(
  KEEP_AS_HTML.map((name) => [
    name,
    (_state: unknown, node: Element) => ({ type: 'html', value: lib().toHtml(node) }),
  ]),
);

const markdownProcessors = new Map<string, ReturnType<typeof buildMarkdownProcessor>>();

function toMarkdownProcessor(style: MarkdownStyle) {
  const key = JSON.stringify(style);
  let processor = markdownProcessors.get(key);
  if (!processor) {
    processor = buildMarkdownProcessor(style);
    markdownProcessors.set(key, processor);
  }
  return processor;
}

function buildMarkdownProcessor(style: MarkdownStyle) {
  const { unified, rehypeRemark, remarkGfm, remarkStringify } = lib();
  return unified()
    .use(rehypeRemark, { handlers: keepAsHtmlHandlers as never })
    .use(remarkGfm)
    .use(remarkStringify, style as StringifyOptions)
    .freeze();
}

// ---- Markdown style: new Markdown follows the file's own ---------------------------------------------------

/** The remark-stringify options a file's existing Markdown shows (its bullets, emphasis, fences, rules). */
export interface MarkdownStyle {
  bullet: '*' | '-' | '+';
  emphasis: '*' | '_';
  strong: '*' | '_';
  fence: '`' | '~';
  rule: '*' | '-' | '_';
  setext: boolean;
  listItemIndent: 'one' | 'tab';
  fences: true;
}

/** remark-stringify's defaults, except `-` bullets and `_` emphasis, which most Markdown in the wild uses. */
export const DEFAULT_STYLE: MarkdownStyle = {
  bullet: '-',
  emphasis: '_',
  strong: '*',
  fence: '`',
  rule: '-',
  setext: false,
  listItemIndent: 'one',
  fences: true,
};

/** Reads the markers a document already uses; the first one seen of each kind wins. */
export function detectStyle(markdown: string, tree: MdRoot = parseMarkdown(markdown)): MarkdownStyle {
  const style: MarkdownStyle = { ...DEFAULT_STYLE };
  const seen = new Set<string>();
  const source = (node: MdNodes): string =>
    node.position?.start.offset !== undefined && node.position.end.offset !== undefined
      ? markdown.slice(node.position.start.offset, node.position.end.offset)
      : '';
  const visit = (node: MdNodes): void => {
    const text = source(node);
    if (node.type === 'listItem' && !seen.has('bullet')) {
      const marker = text.trimStart()[0];
      if (marker === '*' || marker === '-' || marker === '+') {
        style.bullet = marker;
        seen.add('bullet');
      }
    } else if (node.type === 'emphasis' && !seen.has('emphasis') && (text[0] === '*' || text[0] === '_')) {
      style.emphasis = text[0];
      seen.add('emphasis');
    } else if (node.type === 'strong' && !seen.has('strong') && (text[0] === '*' || text[0] === '_')) {
      style.strong = text[0];
      seen.add('strong');
    } else if (node.type === 'code' && !seen.has('fence')) {
      const first = text.trimStart()[0];
      if (first === '`' || first === '~') {
        style.fence = first;
        seen.add('fence');
      }
    } else if (node.type === 'thematicBreak' && !seen.has('rule')) {
      const first = text.trimStart()[0];
      if (first === '*' || first === '-' || first === '_') {
        style.rule = first;
        seen.add('rule');
      }
    } else if (node.type === 'heading' && !seen.has('setext') && node.depth <= 2) {
      style.setext = !text.trimStart().startsWith('#');
      seen.add('setext');
    }
    if ('children' in node) for (const child of node.children) visit(child as MdNodes);
  };
  visit(tree);
  // A file that shows only `**strong**` likely writes `*emphasis*` too. The other way round does not hold:
  // `_emphasis_` with `**strong**` is the common pairing (Prettier prints it), so a file showing only
  // `_emphasis_` keeps `**` for strong.
  if (seen.has('strong') && !seen.has('emphasis')) style.emphasis = style.strong;
  return style;
}

// ---- Markdown → HTML --------------------------------------------------------------------------------------

function parseMarkdown(markdown: string): MdRoot {
  return markdownParser().parse(markdown);
}

/** Whole documents converted, by text: a push converts a body, the next pull's merge compares against it. */
const documentCache = new Map<string, string>();
const DOCUMENT_CACHE_LIMIT = 2_000;

function cachedDocument(key: string, make: () => string): string {
  const hit = documentCache.get(key);
  if (hit !== undefined) return hit;
  const value = make();
  if (documentCache.size >= DOCUMENT_CACHE_LIMIT)
    documentCache.delete(documentCache.keys().next().value as string);
  documentCache.set(key, value);
  return value;
}

/** Empties the caches (benchmarks measure a cold process with it). */
export function clearRichTextCache(): void {
  documentCache.clear();
}

const htmlPrinter = once(() => lib().unified().use(lib().rehypeStringify).freeze());

function hastToHtml(tree: HastRoot): string {
  return htmlPrinter().stringify(tree);
}

interface MarkdownBlock {
  node: MdContent;
  start: number;
  end: number;
}

function blocksOf(tree: MdRoot): MarkdownBlock[] {
  return tree.children.map((node) => ({
    node,
    start: node.position?.start.offset ?? 0,
    end: node.position?.end.offset ?? 0,
  }));
}

/** Footnotes render into one trailing section, so their document cannot be converted block by block. */
function hasFootnotes(tree: MdRoot): boolean {
  return tree.children.some((node) => node.type === 'footnoteDefinition');
}

function convertTree(tree: MdRoot, options: RichTextOptions): string {
  const processor = toHastProcessor(options, holdsRawHtml(tree));
  return hastToHtml(processor.runSync(tree) as HastRoot);
}

/**
 * Markdown → the HTML sent to the CMS: GFM (tables, strikethrough, task lists, autolinks), raw HTML passed
 * through, path-relative URLs resolved against `publicBaseUrl`, sanitised as described above.
 */
export function markdownToHtml(markdown: string, options: RichTextOptions = {}): string {
  const text = markdown.replace(/\r\n?/g, '\n');
  if (text.trim() === '') return '';
  // One pass over the whole document (raw HTML may span blocks); a document seen before is not converted again.
  return cachedDocument(`${options.publicBaseUrl ?? ''}\u0002${text}`, () =>
    convertTree(parseMarkdown(text), options),
  );
}

// ---- canonical HTML ----------------------------------------------------------------------------------------

/** Containers whose whitespace-only text children are formatting, not content. */
const BLOCK_CONTAINERS = new Set([
  'ul',
  'ol',
  'li',
  'blockquote',
  'table',
  'thead',
  'tbody',
  'tfoot',
  'tr',
  'div',
  'section',
  'figure',
  'details',
  'dl',
]);

function dropFormattingWhitespace(node: HastRoot | Element): void {
  const isContainer = node.type === 'root' || BLOCK_CONTAINERS.has(node.tagName);
  node.children = node.children.filter(
    (child) => !(isContainer && child.type === 'text' && child.value.trim() === ''),
  ) as typeof node.children;
  for (const child of node.children) {
    if (child.type === 'element' && child.tagName !== 'pre') dropFormattingWhitespace(child);
  }
}

function parseHtml(html: string): HastRoot {
  const tree = htmlParser().parse(html.replace(/\r\n?/g, '\n'));
  dropFormattingWhitespace(tree);
  return tree;
}

/** One string per top-level HTML node, printed canonically (attribute quoting, entities, no layout whitespace). */
function htmlNodes(html: string): { nodes: HastContent[]; keys: string[] } {
  const tree = parseHtml(html);
  const nodes = tree.children;
  return { nodes, keys: nodes.map((node) => lib().toHtml(node)) };
}

/**
 * The canonical form of rich-text HTML, for digests: the same content printed by two serialisers (ours, the
 * CMS's WYSIWYG, a connector that minifies, webflow-api.md §3) compares equal.
 */
export function normalizeHtml(html: string): string {
  if (html.trim() === '') return '';
  return htmlNodes(html).keys.join('\n');
}

// ---- HTML → Markdown --------------------------------------------------------------------------------------

function nodesToMarkdown(nodes: HastContent[], style: MarkdownStyle): string {
  const processor = toMarkdownProcessor(style);
  const mdast = processor.runSync({ type: 'root', children: nodes } as HastRoot) as MdRoot;
  return String(processor.stringify(mdast)).replace(/\n+$/, '');
}

/** HTML → Markdown in the given style (new content with nothing to follow). */
export function htmlToMarkdown(html: string, style: MarkdownStyle = DEFAULT_STYLE): string {
  if (html.trim() === '') return '';
  const out = nodesToMarkdown(parseHtml(html).children, style);
  return out === '' ? '' : `${out}\n`;
}

// ---- minimal pulls -----------------------------------------------------------------------------------------

/**
 * The file's Markdown updated to say what the CMS's HTML says, changing only the top-level blocks whose HTML
 * changed: every other paragraph, list, code block and the text between them (blank lines, CRLF) keeps its
 * exact source. New blocks are printed in the file's own style. When the HTML equals what the Markdown
 * converts to, the Markdown comes back unchanged, byte for byte.
 */
export function mergeRichText(markdown: string, html: string, options: RichTextOptions = {}): string {
  const crlf = (markdown.match(/\r\n/g) ?? []).length;
  const lf = (markdown.match(/\n/g) ?? []).length - crlf;
  const eol = crlf > lf ? '\r\n' : '\n';
  const withEol = (out: string) => (eol === '\n' ? out : out.replace(/\n/g, eol));
  const blank = `${eol}${eol}`;
  // Parsed as it is (CRLF included), so every offset points into the file's own text.
  const incoming = htmlNodes(html);
  // The HTML says what the file says: nothing to merge, the file stays byte for byte.
  if (normalizeHtml(markdownToHtml(markdown, options)) === incoming.keys.join('\n')) return markdown;
  const tree = parseMarkdown(markdown);
  const style = detectStyle(markdown, tree);
  // Only the nodes printed as new Markdown change; `incoming.keys`, compared below, keep the resolved URLs.
  restoreRelativeUrls(incoming.nodes, relativeUrlsOf(tree, options));
  const rawBlocks = blocksOf(tree).filter((block) => block.node.type !== 'definition');
  if (rawBlocks.length === 0 || hasFootnotes(tree)) {
    const lead = /^(?:\r?\n)*/.exec(markdown)?.[0] ?? '';
    const out = nodesToMarkdown(incoming.nodes, style);
    return out === '' ? lead : `${lead}${withEol(out)}${eol}`;
  }

  // The old Markdown converted as one document (raw HTML may open in one block and close blocks later), each
  // top-level HTML node traced back to the Markdown blocks its source spans: blocks one node spans form one
  // unit, kept or rewritten together.
  const converted = toHastProcessor(options, holdsRawHtml(tree)).runSync(tree) as HastRoot;
  const oldNodes = converted.children.filter((node) => !(node.type === 'text' && node.value.trim() === ''));
  const groupOf = rawBlocks.map((_, i) => i);
  const spans = oldNodes.map((node) => {
    const start = node.position?.start.offset;
    const end = node.position?.end.offset;
    if (start === undefined || end === undefined) return undefined;
    const hit = rawBlocks.flatMap((b, i) => (b.start < Math.max(end, start + 1) && b.end > start ? [i] : []));
    if (hit.length === 0) return undefined;
    for (let i = hit[0]!; i <= hit[hit.length - 1]!; i++) groupOf[i] = groupOf[hit[0]!]!;
    return hit[0]!;
  });
  const blocks: Array<{ start: number; end: number }> = [];
  const blockOfRaw: number[] = [];
  rawBlocks.forEach((b, i) => {
    if (i > 0 && groupOf[i] === groupOf[i - 1]) blocks[blocks.length - 1]!.end = b.end;
    else blocks.push({ start: b.start, end: b.end });
    blockOfRaw.push(blocks.length - 1);
  });

  // Canonical HTML of each old node, flattened so one diff finds what stayed.
  const owner: number[] = [];
  const oldKeys: string[] = [];
  const nodeCount = blocks.map(() => 0);
  let lastOwner = 0;
  oldNodes.forEach((node, i) => {
    const raw = spans[i];
    const b = raw === undefined ? lastOwner : blockOfRaw[raw]!;
    lastOwner = b;
    const key = normalizeHtml(lib().toHtml(node));
    if (key === '') return;
    owner.push(b);
    oldKeys.push(key);
    nodeCount[b]! += 1;
  });
  const changes = lib().diffArrays(oldKeys, incoming.keys);
  const commonCount = blocks.map(() => 0);
  let o = 0;
  for (const change of changes) {
    if (change.added) continue;
    for (let i = 0; i < (change.count ?? 0); i++, o++) if (!change.removed) commonCount[owner[o]!]! += 1;
  }
  // A block stays when all of its nodes did; one that renders to nothing (an empty HTML block) stays too.
  const kept = blocks.map((_, b) => commonCount[b] === nodeCount[b]);

  // Walk the diff: kept blocks print their own source, everything else comes from the HTML.
  type Unit = { kind: 'old'; block: number } | { kind: 'new'; nodes: HastContent[] };
  const units: Unit[] = [];
  let pending: HastContent[] = [];
  let lastOld = -1;
  const flush = () => {
    if (pending.length > 0) units.push({ kind: 'new', nodes: pending });
    pending = [];
  };
  const emitOld = (b: number) => {
    for (let e = lastOld + 1; e < b; e++) if (nodeCount[e] === 0) units.push({ kind: 'old', block: e });
    flush();
    units.push({ kind: 'old', block: b });
    lastOld = b;
  };
  o = 0;
  let n = 0;
  for (const change of changes) {
    for (let i = 0; i < (change.count ?? 0); i++) {
      if (change.added) {
        pending.push(incoming.nodes[n++]!);
      } else if (change.removed) {
        o++;
      } else {
        const b = owner[o++]!;
        if (!kept[b]) pending.push(incoming.nodes[n]!);
        else if (b !== lastOld) emitOld(b);
        n++;
      }
    }
  }
  flush();
  for (let e = lastOld + 1; e < blocks.length; e++)
    if (nodeCount[e] === 0) units.push({ kind: 'old', block: e });

  // Reassemble with the file's own text between blocks wherever it can be had.
  const between = (b: number): string | undefined =>
    b >= 0 && b + 1 < blocks.length ? markdown.slice(blocks[b]!.end, blocks[b + 1]!.start) : undefined;
  const paragraphBreak = (sep: string | undefined) =>
    sep !== undefined && /\n[ \t]*\r?\n/.test(sep) ? sep : blank;
  let out = markdown.slice(0, blocks[0]!.start);
  let prev: Unit | undefined;
  for (const unit of units) {
    if (prev) {
      if (unit.kind === 'old' && prev.kind === 'old' && unit.block === prev.block + 1)
        out += between(prev.block);
      else if (unit.kind === 'old') out += paragraphBreak(between(unit.block - 1));
      else out += paragraphBreak(prev.kind === 'old' ? between(prev.block) : undefined);
    }
    out +=
      unit.kind === 'old'
        ? markdown.slice(blocks[unit.block]!.start, blocks[unit.block]!.end)
        : withEol(nodesToMarkdown(unit.nodes, style));
    prev = unit;
  }
  // Link definitions after the last block and the file's final newline stay as they were.
  return out + markdown.slice(blocks[blocks.length - 1]!.end);
}

// ---- what HTML cannot carry --------------------------------------------------------------------------------

const JSX_TAG = /<\/?[A-Z][\w.]*(?=[\s/>])|<>|<\/>/;
const ESM_LINE = /^(?:import|export)\s[^\n]*/;

/**
 * Markdown a `richtext` field cannot send without losing it: MDX (`import`/`export` lines, JSX components)
 * and path-relative links or images when no `publicBaseUrl` is configured (they would arrive broken).
 */
export function findRichTextProblems(markdown: string, options: RichTextOptions = {}): RichTextProblem[] {
  const text = markdown.replace(/\r\n?/g, '\n');
  const problems: RichTextProblem[] = [];
  const tree = parseMarkdown(text);
  const asText = {
    hint: 'Model this field as "text" in sync.config.json: it is then sent verbatim, for a site that renders its MDX or components itself.',
  };
  const lineOf = (node: MdNodes) => node.position?.start.line ?? 1;
  for (const node of tree.children) {
    if (node.type !== 'paragraph' && node.type !== 'html') continue;
    const source = text.slice(node.position?.start.offset ?? 0, node.position?.end.offset ?? 0);
    if (ESM_LINE.test(source)) {
      problems.push({
        line: lineOf(node),
        message: `MDX "${source.split('\n')[0]!.slice(0, 60)}" cannot be carried by rich text (HTML)`,
        ...asText,
      });
    }
  }
  const visit = (node: MdNodes): void => {
    if (node.type === 'html' && JSX_TAG.test(node.value)) {
      problems.push({
        line: lineOf(node),
        // Not only MDX: VitePress (Vue) and other Markdown dialects put components in plain `.md` files too.
        message: `component ${JSX_TAG.exec(node.value)![0]}…> (JSX, MDX or a Vue component) cannot be carried by rich text (HTML)`,
        ...asText,
      });
    }
    if (
      (node.type === 'link' || node.type === 'image' || node.type === 'definition') &&
      options.publicBaseUrl === undefined &&
      isPathRelativeUrl(node.url)
    ) {
      problems.push({
        line: lineOf(node),
        message: `relative ${node.type === 'image' ? 'image' : 'link'} "${node.url}" would reach the CMS broken`,
        hint: 'Set "publicBaseUrl" in sync.config.json (the public URL the relative paths resolve against), or write an absolute or root-relative URL.',
      });
    }
    if ('children' in node) for (const child of node.children) visit(child as MdNodes);
  };
  visit(tree);
  return problems.sort((a, b) => a.line - b.line);
}
