import { SyncError } from '../core/errors.js';
import { getIn, type KeyChange, nestValue } from './key-path.js';
import { lineAt } from './markdown-split.js';
import { isPlainObject, valuesEqual } from './value-equal.js';

/** A parsed JSON value with the source offsets of every node, so edits can splice single members. */
export type JsonNode =
  | { kind: 'object'; start: number; end: number; members: JsonMember[] }
  | { kind: 'array'; start: number; end: number; items: JsonNode[] }
  | { kind: 'scalar'; start: number; end: number; value: unknown };

export interface JsonMember {
  key: string;
  keyStart: number;
  keyEnd: number;
  value: JsonNode;
}

const MAX_DEPTH = 256;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Strict JSON parser that keeps offsets and refuses duplicate keys (which `JSON.parse` silently accepts). */
export function parseJsonSource(relPath: string, text: string): JsonNode {
  let pos = text.startsWith('\uFEFF') ? 1 : 0;

  const fail = (message: string, at: number): never => {
    throw new SyncError('CONTENT_PARSE', `invalid JSON: ${message}`, {
      file: relPath,
      line: lineAt(text, at),
    });
  };
  const skipSpace = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else break;
    }
  };
  const readString = (): string => {
    const start = pos;
    pos++;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        try {
          return JSON.parse(text.slice(start, pos)) as string;
        } catch {
          return fail('bad escape in string', start);
        }
      }
      if (c === 0x5c) pos += 2;
      else if (c < 0x20) return fail('control character in string', pos);
      else pos++;
    }
    return fail('unterminated string', start);
  };
  const readValue = (depth: number): JsonNode => {
    if (depth > MAX_DEPTH) fail('nested too deeply', pos);
    skipSpace();
    const start = pos;
    const c = text[pos];
    if (c === '{') {
      pos++;
      const members: JsonMember[] = [];
      const seen = new Set<string>();
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return { kind: 'object', start, end: pos, members };
      }
      for (;;) {
        skipSpace();
        if (text[pos] !== '"') fail('expected a "key"', pos);
        const keyStart = pos;
        const key = readString();
        if (seen.has(key)) fail(`duplicate key "${key}"`, keyStart);
        seen.add(key);
        const keyEnd = pos;
        skipSpace();
        if (text[pos] !== ':') fail('expected ":"', pos);
        pos++;
        members.push({ key, keyStart, keyEnd, value: readValue(depth + 1) });
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return { kind: 'object', start, end: pos, members };
        }
        fail('expected "," or "}"', pos);
      }
    }
    if (c === '[') {
      pos++;
      const items: JsonNode[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return { kind: 'array', start, end: pos, items };
      }
      for (;;) {
        items.push(readValue(depth + 1));
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return { kind: 'array', start, end: pos, items };
        }
        fail('expected "," or "]"', pos);
      }
    }
    if (c === '"') return { kind: 'scalar', start, value: readString(), end: pos };
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return { kind: 'scalar', start, end: pos, value };
      }
    }
    NUMBER.lastIndex = pos;
    const number = NUMBER.exec(text);
    if (number) {
      pos += number[0].length;
      return { kind: 'scalar', start, end: pos, value: Number(number[0]) };
    }
    return fail(
      c === undefined ? 'unexpected end of file' : `unexpected character ${JSON.stringify(c)}`,
      pos,
    );
  };

  const root = readValue(0);
  skipSpace();
  if (pos < text.length) fail('unexpected text after the value', pos);
  return root;
}

/** Plain JS value of a node; `__proto__` keys stay ordinary data. */
export function jsonNodeValue(node: JsonNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'array') return node.items.map(jsonNodeValue);
  const out: Record<string, unknown> = {};
  for (const m of node.members) {
    Object.defineProperty(out, m.key, {
      value: jsonNodeValue(m.value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The node at a key/index path, for error lines. */
function jsonNodeAt(node: JsonNode, path: readonly (string | number)[]): JsonNode | undefined {
  let current: JsonNode | undefined = node;
  for (const step of path) {
    if (!current) return undefined;
    if (current.kind === 'object') current = current.members.find((m) => m.key === String(step))?.value;
    else if (current.kind === 'array' && typeof step === 'number') current = current.items[step];
    else return undefined;
  }
  return current;
}

/** Line of the member key (or array item) at `path`. */
export function jsonLineOf(
  text: string,
  root: JsonNode,
  path: readonly (string | number)[],
): number | undefined {
  if (path.length === 0) return lineAt(text, root.start);
  const parent = jsonNodeAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (parent?.kind === 'object') {
    const member = parent.members.find((m) => m.key === String(last));
    return member ? lineAt(text, member.keyStart) : lineAt(text, parent.start);
  }
  if (parent?.kind === 'array' && typeof last === 'number') {
    const item = parent.items[last];
    return lineAt(text, item ? item.start : parent.start);
  }
  return undefined;
}

interface JsonStyle {
  /** One indentation step ("" for compact files). */
  unit: string;
  eol: string;
  /** Text between a key and its value, e.g. `": "`. */
  colon: string;
}

function detectJsonStyle(text: string, root: JsonNode): JsonStyle {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  // An empty object has no habits to learn: new members get renderJsonText's 2-space style.
  let unit = '  ';
  let colon = ': ';
  if (root.kind === 'object' && root.members.length > 0) {
    unit = '';
    const first = root.members[0]!;
    const between = text.slice(root.start + 1, first.keyStart);
    const nl = between.lastIndexOf('\n');
    if (nl !== -1) unit = between.slice(nl + 1);
    colon = text.slice(first.keyEnd, first.value.start);
  }
  return { unit, eol, colon };
}

function indentOfLine(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart, offset))?.[0] ?? '';
}

function printJson(value: unknown, style: JsonStyle, indent: string): string {
  if (style.unit === '') return JSON.stringify(value);
  return JSON.stringify(value, null, style.unit).replace(/\n/g, style.eol + indent);
}

/** One-line JSON with `, ` / `: ` spacing when `spaced` (an inline `[1, 2]` stays inline). */
function printInline(value: unknown, spaced: boolean): string {
  const comma = spaced ? ', ' : ',';
  const colon = spaced ? ': ' : ':';
  if (Array.isArray(value)) return `[${value.map((v) => printInline(v, spaced)).join(comma)}]`;
  if (isPlainObject(value)) {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => JSON.stringify(k) + colon + printInline(v, spaced)).join(comma)}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** New text for a replaced value: inline if the old one was written inline, else in the file's indentation. */
function printReplacement(oldText: string, value: unknown, style: JsonStyle, indent: string): string {
  const oldIsCollection = oldText.startsWith('[') || oldText.startsWith('{');
  if (oldIsCollection && oldText.length > 2 && !oldText.includes('\n')) {
    return printInline(value, /[,:] /.test(oldText));
  }
  return printJson(value, style, indent);
}

/** Changes below one member (a `path` into a nested object), kept apart from a whole new value. */
class NestedChanges {
  constructor(readonly changes: Map<string, unknown>) {}
}

/** KeyChanges as a tree of member changes (`undefined` = remove the member). */
function changeTree(changes: readonly KeyChange[]): Map<string, unknown> {
  const root = new Map<string, unknown>();
  for (const { path, value } of changes) {
    let map = root;
    for (const step of path.slice(0, -1)) {
      let next = map.get(step);
      if (!(next instanceof NestedChanges)) {
        next = new NestedChanges(new Map());
        map.set(step, next);
      }
      map = (next as NestedChanges).changes;
    }
    map.set(path[path.length - 1]!, value === null ? undefined : value);
  }
  return root;
}

/** The plain value nested changes give when the member they go under is missing (or not an object). */
function materialize(changes: NestedChanges): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, value] of changes.changes) {
    const v = value instanceof NestedChanges ? materialize(value) : value;
    if (v !== undefined) Object.assign(out, nestValue([key], v));
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * The object's new source text after `changes` (key → new value, `undefined` = remove the member):
 * unchanged members keep their bytes; changed objects are edited member by member, other values re-printed.
 */
function editJsonObject(
  text: string,
  node: Extract<JsonNode, { kind: 'object' }>,
  changes: Map<string, unknown>,
  style: JsonStyle,
): string {
  const memberIndent = (m: JsonMember): string => indentOfLine(text, m.keyStart);
  const baseIndent = indentOfLine(text, node.start);
  const newMemberIndent = node.members[0] ? memberIndent(node.members[0]) : baseIndent + style.unit;
  const valueText = (m: JsonMember, next: unknown): string => {
    if (next instanceof NestedChanges) {
      if (m.value.kind === 'object') return editJsonObject(text, m.value, next.changes, style);
      next = materialize(next) ?? {};
    }
    const old = jsonNodeValue(m.value);
    if (valuesEqual(old, next)) return text.slice(m.value.start, m.value.end);
    if (m.value.kind === 'object' && isPlainObject(next)) {
      const nested = new Map<string, unknown>();
      for (const member of m.value.members) nested.set(member.key, undefined);
      for (const [k, v] of Object.entries(next)) nested.set(k, v);
      return editJsonObject(text, m.value, nested, style);
    }
    return printReplacement(text.slice(m.value.start, m.value.end), next, style, memberIndent(m));
  };

  const pieces: { text: string; original: number | undefined }[] = [];
  let membershipChanged = false;
  node.members.forEach((m, i) => {
    if (!changes.has(m.key)) {
      pieces.push({ text: text.slice(m.keyStart, m.value.end), original: i });
      return;
    }
    const next = changes.get(m.key);
    if (next === undefined) {
      membershipChanged = true;
      return;
    }
    pieces.push({
      text: text.slice(m.keyStart, m.value.start) + valueText(m, next),
      original: i,
    });
  });
  const known = new Set(node.members.map((m) => m.key));
  for (const [key, change] of changes) {
    const next = change instanceof NestedChanges ? materialize(change) : change;
    if (known.has(key) || next === undefined) continue;
    membershipChanged = true;
    pieces.push({
      text: JSON.stringify(key) + style.colon + printJson(next, style, newMemberIndent),
      original: undefined,
    });
  }

  const first = node.members[0];
  const last = node.members[node.members.length - 1];
  if (!membershipChanged && first && last) {
    let out = text.slice(node.start, first.keyStart);
    pieces.forEach((p, i) => {
      out += p.text;
      const m = node.members[i]!;
      const nextMember = node.members[i + 1];
      out += text.slice(m.value.end, nextMember ? nextMember.keyStart : node.end);
    });
    return out;
  }
  if (pieces.length === 0) return '{}';
  const multiline = style.unit !== '';
  const lead = first
    ? text.slice(node.start + 1, first.keyStart)
    : multiline
      ? style.eol + newMemberIndent
      : '';
  const trail = last ? text.slice(last.value.end, node.end - 1) : multiline ? style.eol + baseIndent : '';
  const defaultSep = node.members[1]
    ? text.slice(node.members[0]!.value.end, node.members[1].keyStart)
    : lead.includes('\n') || style.unit === ''
      ? `,${lead}`
      : ', ';
  let out = `{${lead}`;
  pieces.forEach((p, i) => {
    if (i > 0) {
      const prev = pieces[i - 1]!;
      const adjacent = p.original !== undefined && prev.original === p.original - 1;
      out += adjacent
        ? text.slice(node.members[prev.original!]!.value.end, node.members[p.original!]!.keyStart)
        : defaultSep;
    }
    out += p.text;
  });
  return `${out}${trail}}`;
}

/** Format-preserving edit of a JSON file's members, top-level or nested by key path (`null` removes one). */
export function editJsonText(relPath: string, text: string, changes: readonly KeyChange[]): string {
  const root = parseJsonSource(relPath, text);
  if (root.kind !== 'object') {
    throw new SyncError('CONTENT_PARSE', 'the file must hold a JSON object', {
      file: relPath,
      line: lineAt(text, root.start),
    });
  }
  const current = jsonNodeValue(root) as Record<string, unknown>;
  const real = changes.filter(({ path, value }) => {
    const old = getIn(current, path);
    return value === null ? old !== undefined : old === undefined || !valuesEqual(old, value);
  });
  if (real.length === 0) return text;
  const style = detectJsonStyle(text, root);
  return (
    text.slice(0, root.start) + editJsonObject(text, root, changeTree(real), style) + text.slice(root.end)
  );
}

/** A brand-new JSON file: 2-space indentation and a final newline, keys in the given order. */
export function renderJsonText(data: Record<string, unknown>): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}
