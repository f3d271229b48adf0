import { createRequire } from 'node:module';
import type { Document, LineCounter, Node, Pair, ToStringOptions, YAMLMap } from 'yaml';
import { SyncError } from '../core/errors.js';
import type { ValueSource } from './field-check.js';
import { applyChanges, getIn, type KeyChange, nestValue } from './key-path.js';
import { valuesEqual } from './value-equal.js';

const require = createRequire(import.meta.url);
let yamlLibrary: typeof import('yaml') | undefined;

/** `yaml`, loaded when a YAML frontmatter is first parsed or edited: a scan served by its cache parses none. */
function yaml(): typeof import('yaml') {
  yamlLibrary ??= require('yaml') as typeof import('yaml');
  return yamlLibrary;
}

// YAML 1.2 core schema: `2024-03-15` stays a string and `01234` is not octal (STYLE.md).
const PARSE_OPTIONS = { version: '1.2', uniqueKeys: true, merge: false } as const;
const MAX_ALIASES = 100;

type Path = readonly (string | number)[];

function yamlError(relPath: string, message: string, line: number | undefined): SyncError {
  return new SyncError('CONTENT_PARSE', `invalid YAML frontmatter: ${message}`, {
    file: relPath,
    ...(line ? { line } : {}),
  });
}

function keyString(key: unknown): string {
  if (yaml().isScalar(key)) return String(key.value);
  return String(key);
}

function findPair(map: YAMLMap, key: string): Pair<unknown, unknown> | undefined {
  return map.items.find((p) => keyString(p.key) === key);
}

function parseMatter(
  relPath: string,
  matter: string,
  matterLine: number,
): { doc: Document.Parsed; map: YAMLMap | undefined; lines: LineCounter } {
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(matter, { ...PARSE_OPTIONS, lineCounter: lines });
  const error = doc.errors[0];
  if (error) {
    const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const at = error.linePos?.[0]?.line;
    throw yamlError(relPath, message, at === undefined ? matterLine : matterLine + at - 1);
  }
  if (doc.contents === null) return { doc, map: undefined, lines };
  if (!yaml().isMap(doc.contents)) {
    throw yamlError(relPath, 'the frontmatter must be "key: value" lines', matterLine);
  }
  return { doc, map: doc.contents, lines };
}

function toData(relPath: string, doc: Document.Parsed, matterLine: number): Record<string, unknown> {
  try {
    return (doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw yamlError(relPath, (error as Error).message, matterLine);
  }
}

/** YAML frontmatter → top-level values, with lines for errors and the source text of plain scalars. */
export function parseYamlMatter(relPath: string, matter: string, matterLine: number): ValueSource {
  const { doc, map, lines } = parseMatter(relPath, matter, matterLine);
  const data = toData(relPath, doc, matterLine);
  const walk = (path: Path): { node: unknown; offset: number | undefined } => {
    let node: unknown = map;
    let offset: number | undefined;
    for (const step of path) {
      if (yaml().isMap(node)) {
        const pair = findPair(node, String(step));
        if (!pair) return { node: undefined, offset };
        offset = (pair.key as Node | undefined)?.range?.[0] ?? offset;
        node = pair.value;
      } else if (yaml().isSeq(node) && typeof step === 'number') {
        node = node.items[step];
        offset = (node as Node | undefined)?.range?.[0] ?? offset;
      } else {
        return { node: undefined, offset };
      }
    }
    return { node, offset };
  };
  return {
    data,
    lineOf(path) {
      const { offset } = walk(path);
      return offset === undefined ? matterLine : matterLine + lines.linePos(offset).line - 1;
    },
    plainScalar(path) {
      const { node } = walk(path);
      if (
        yaml().isScalar(node) &&
        node.type === 'PLAIN' &&
        node.value !== null &&
        typeof node.value !== 'string'
      ) {
        return node.source === undefined ? undefined : String(node.source);
      }
      return undefined;
    },
  };
}

interface YamlStyle {
  indent: number;
  indentSeq: boolean;
  flowCollectionPadding: boolean;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

/** Indentation habits of the file, learnt from its first block collections and flow collections. */
function detectYamlStyle(text: string, map: YAMLMap | undefined): YamlStyle {
  const style: Partial<YamlStyle> = {};
  for (const pair of map?.items ?? []) {
    const key = pair.key as Node | undefined;
    const value = pair.value as Node | undefined;
    if (!key?.range || !value?.range || !yaml().isCollection(value) || value.items.length === 0) continue;
    if (value.flow) {
      style.flowCollectionPadding ??= text[value.range[0] + 1] === ' ';
      continue;
    }
    const offset = columnOf(text, value.range[0]) - columnOf(text, key.range[0]);
    if (yaml().isSeq(value)) {
      style.indentSeq ??= offset > 0;
      if (offset > 0) style.indent ??= offset;
    } else if (offset > 0) {
      style.indent ??= offset;
    }
  }
  return {
    indent: style.indent ?? 2,
    indentSeq: style.indentSeq ?? true,
    flowCollectionPadding: style.flowCollectionPadding ?? false,
  };
}

/**
 * Give a freshly created node the old node's styles, all the way down (a repeater row's quoted title
 * stays quoted when another row changes): scalar quoting and block style, flow or block collections,
 * quoted keys. Map members are matched by key, sequence items by position.
 */
function copyStyle(node: unknown, old: unknown): void {
  if (yaml().isScalar(node) && yaml().isScalar(old)) {
    // Block scalars stay block scalars (a `>-` summary keeps its style even when the new text is one line);
    // the yaml printer falls back to a quoted form by itself when a value cannot be written in that style.
    if (typeof node.value === 'string' && old.type) node.type = old.type;
    return;
  }
  if (!yaml().isCollection(node) || !yaml().isCollection(old)) return;
  node.flow = old.flow ?? false;
  if (yaml().isSeq(node) && yaml().isSeq(old)) {
    for (const [i, item] of node.items.entries()) copyStyle(item, old.items[i]);
  } else if (yaml().isMap(node) && yaml().isMap(old)) {
    for (const pair of node.items) {
      const match = findPair(old, keyString(pair.key));
      if (!match) continue;
      if (yaml().isScalar(pair.key) && yaml().isScalar(match.key) && match.key.type)
        pair.key.type = match.key.type;
      copyStyle(pair.value, match.value);
    }
  }
}

/** A fresh `key: value` in the old pair's style (quoting, block scalar, flow collection), without final newline. */
function printPair(
  key: string,
  value: unknown,
  old: Pair<unknown, unknown> | undefined,
  style: YamlStyle,
): string {
  const doc = new (yaml().Document)(null, { version: '1.2' });
  const node = doc.createNode(value);
  copyStyle(node, old?.value);
  const keyNode = new (yaml().Scalar)(key);
  if (yaml().isScalar(old?.key) && old.key.type) keyNode.type = old.key.type;
  const map = new (yaml().YAMLMap)();
  map.items.push(new (yaml().Pair)(keyNode, node));
  doc.contents = map;
  const options: ToStringOptions = { lineWidth: 0, ...style };
  return doc.toString(options).replace(/\n$/, '');
}

function withEol(text: string, eol: string): string {
  return eol === '\n' ? text : text.replace(/\r?\n/g, eol);
}

function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEndAfter(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl + 1;
}

/** Where the pair's value text ends: block values own their trailing line breaks, which stay. */
function pairEnd(text: string, pair: Pair<unknown, unknown>): number {
  const key = pair.key as Node;
  const value = pair.value as Node | null;
  const keyEnd = key.range?.[1] ?? 0;
  const colon = text.indexOf(':', keyEnd) + 1;
  let end = Math.max(value?.range?.[1] ?? colon, colon);
  while (end > colon && /[\r\n \t]/.test(text[end - 1] ?? '')) end--;
  return end;
}

function isUnchanged(oldNode: unknown, oldValue: unknown, value: unknown): boolean {
  if (valuesEqual(oldValue, value)) return true;
  // `version: 3.0` read as the text "3.0" (field-check keeps plain scalars' source for text fields).
  return (
    yaml().isScalar(oldNode) &&
    oldNode.type === 'PLAIN' &&
    typeof value === 'string' &&
    oldValue !== null &&
    typeof oldValue !== 'string' &&
    oldNode.source === value
  );
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

/**
 * Where a change lands: the deepest block mapping on its key path, and the pair in it (when the key
 * exists). A flow mapping (`{a: 1}`) on the way is edited as a whole: `pair` is then its outer pair.
 */
function locate(
  map: YAMLMap | undefined,
  path: readonly string[],
): { parent: YAMLMap | undefined; depth: number; pair: Pair<unknown, unknown> | undefined } {
  let parent = map;
  let depth = 0;
  for (;;) {
    const pair = parent ? findPair(parent, path[depth]!) : undefined;
    if (!pair || depth === path.length - 1) return { parent, depth, pair };
    const value = pair.value;
    if (!yaml().isMap(value) || value.flow || value.items.length === 0) return { parent, depth, pair };
    parent = value;
    depth++;
  }
}

/**
 * Format-preserving edit of YAML frontmatter (STYLE.md): each changed pair's source range (top-level or
 * nested by key path) is replaced by a freshly printed pair; removed pairs lose their lines; new pairs go
 * after the last pair of their mapping (or at the end for top-level keys).
 */
export function editYamlMatter(
  relPath: string,
  matter: string,
  matterLine: number,
  changes: readonly KeyChange[],
  eol: string,
): string {
  const { doc, map } = parseMatter(relPath, matter, matterLine);
  const current = toData(relPath, doc, matterLine);
  const style = detectYamlStyle(matter, map);
  const edits: Splice[] = [];
  const applied: KeyChange[] = [];
  let appended = '';
  for (const change of changes) {
    const { path } = change;
    const old = getIn(current, path);
    if (change.value === null && old === undefined) continue;
    const { parent, depth, pair } = locate(map, path);
    if (
      change.value !== null &&
      pair &&
      depth === path.length - 1 &&
      isUnchanged(pair.value, old, change.value)
    )
      continue;
    applied.push(change);
    const keyStart = (pair?.key as Node | undefined)?.range?.[0];
    if (change.value === null) {
      if (!pair || keyStart === undefined) continue;
      if (depth === path.length - 1) {
        edits.push({
          start: lineStartOf(matter, keyStart),
          end: lineEndAfter(matter, pairEnd(matter, pair)),
          text: '',
        });
        continue;
      }
    }
    // The pair to print: the changed key itself, or (inside a flow mapping / under a scalar) its outer pair.
    const key = path[depth]!;
    const value =
      pair && depth < path.length - 1
        ? (applyChanges({ [key]: getIn(current, path.slice(0, depth + 1)) }, [
            { path: [key, ...path.slice(depth + 1)], value: change.value },
          ])[key] ?? null)
        : depth < path.length - 1
          ? nestValue(path.slice(depth + 1), change.value)
          : change.value;
    if (!pair || keyStart === undefined) {
      if (depth === 0) {
        appended += withEol(printPair(key, value, undefined, style), eol) + eol;
        continue;
      }
      // A new key in an existing nested mapping: after its last pair, at its indentation.
      const last = parent!.items[parent!.items.length - 1]!;
      const firstKey = parent!.items[0]!.key as Node;
      const indent = ' '.repeat(columnOf(matter, firstKey.range![0]));
      const at = lineEndAfter(matter, pairEnd(matter, last));
      const printed = printPair(key, value, undefined, style).replace(/\n/g, `\n${indent}`);
      const glue = at > 0 && !matter.slice(0, at).endsWith('\n') ? eol : '';
      edits.push({ start: at, end: at, text: glue + withEol(indent + printed, eol) + eol });
      continue;
    }
    const printed = printPair(key, value, pair, style);
    const end = pairEnd(matter, pair);
    const lineEnd = matter.indexOf('\n', end);
    const pairEol = lineEnd > 0 && matter[lineEnd - 1] === '\r' ? '\r\n' : lineEnd === -1 ? eol : '\n';
    const indent = ' '.repeat(columnOf(matter, keyStart));
    edits.push({ start: keyStart, end, text: withEol(printed.replace(/\n/g, `\n${indent}`), pairEol) });
  }
  if (applied.length === 0) return matter;
  const want = applyChanges(current, applied);

  let out = matter;
  for (const edit of edits.sort((a, b) => b.start - a.start)) {
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  }
  if (appended !== '') out += (out === '' || out.endsWith('\n') ? '' : eol) + appended;
  if (readsAs(out, want)) return out;

  // The splice did not read back as intended (an exotic layout): let the yaml Document API re-print it.
  for (const { path, value } of applied) {
    if (value === null) doc.deleteIn(path);
    else doc.setIn(path, doc.createNode(value));
  }
  let reprinted: string | undefined;
  try {
    reprinted = withEol(doc.toString({ lineWidth: 0, ...style }), eol);
  } catch {
    reprinted = undefined;
  }
  if (reprinted !== undefined && readsAs(reprinted, want)) return reprinted;
  throw new SyncError('INTERNAL', 'could not update the YAML frontmatter without changing other keys', {
    file: relPath,
    hint: 'The frontmatter likely uses YAML anchors/aliases on the changed key; replace the alias with its value.',
  });
}

function readsAs(text: string, want: Record<string, unknown>): boolean {
  const doc = yaml().parseDocument(text, PARSE_OPTIONS);
  if (doc.errors.length > 0 || (doc.contents !== null && !yaml().isMap(doc.contents))) return false;
  try {
    return valuesEqual((doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {}) as Record<string, unknown>, want);
  } catch {
    return false; // e.g. an alias whose anchor was on the replaced value
  }
}

/** New YAML frontmatter text (block style, no line folding), or "" for no keys. */
export function renderYamlMatter(data: Record<string, unknown>): string {
  if (Object.keys(data).length === 0) return '';
  return new (yaml().Document)(data, { version: '1.2' }).toString({
    lineWidth: 0,
    flowCollectionPadding: false,
  });
}
