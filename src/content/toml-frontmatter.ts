import { parse, stringify, TomlDate, TomlError } from 'smol-toml';
import { SyncError } from '../core/errors.js';
import type { ValueSource } from './field-check.js';
import { lineAt } from './markdown-split.js';
import { isPlainObject, matchDateStyle, valuesEqual } from './value-equal.js';

/** One top-level `key = value` statement (possibly spanning lines), by offsets into the TOML text. */
interface TomlStatement {
  keys: string[];
  lineStart: number;
  valueStart: number;
  valueEnd: number;
  /** After the statement's final line break. */
  end: number;
}

interface TomlLayout {
  statements: TomlStatement[];
  /** First key segment of each `[table]` / `[[array]]` header, with the header's offset. */
  headers: { key: string; start: number }[];
}

const TOML_DATE = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?)?$/;
const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function tomlError(relPath: string, error: unknown, matterLine: number): SyncError {
  const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
  const line = error instanceof TomlError ? matterLine + error.line - 1 : matterLine;
  return new SyncError(
    'CONTENT_PARSE',
    `invalid TOML frontmatter: ${message.replace(/^Invalid TOML document: /, '')}`,
    {
      file: relPath,
      line,
    },
  );
}

/** TOML dates become ISO strings (file form); tables become plain objects. */
function toFileForm(value: unknown): unknown {
  if (value instanceof TomlDate) return value.toISOString();
  if (Array.isArray(value)) return value.map(toFileForm);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: toFileForm(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

function parseToml(relPath: string, matter: string, matterLine: number): Record<string, unknown> {
  try {
    return parse(matter) as Record<string, unknown>;
  } catch (error) {
    throw tomlError(relPath, error, matterLine);
  }
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl === -1 ? text.length : nl + 1;
}

/** End offset of the TOML value starting at `pos` (strings, nested arrays and inline tables included). */
function scanValue(text: string, pos: number): number {
  if (text.startsWith('"""', pos) || text.startsWith("'''", pos)) {
    const quote = text[pos]!;
    let i = pos + 3;
    while (i < text.length) {
      if (quote === '"' && text[i] === '\\') {
        i += 2;
      } else if (text.startsWith(quote.repeat(3), i)) {
        let j = i;
        while (text[j] === quote) j++;
        return j;
      } else {
        i++;
      }
    }
    return text.length;
  }
  const c = text[pos];
  if (c === '"') {
    let i = pos + 1;
    while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
    return Math.min(i + 1, text.length);
  }
  if (c === "'") {
    const close = text.indexOf("'", pos + 1);
    return close === -1 ? text.length : close + 1;
  }
  if (c === '[' || c === '{') {
    let depth = 0;
    let i = pos;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"' || ch === "'") i = scanValue(text, i);
      else if (ch === '#') i = lineEnd(text, i);
      else if (ch === '[' || ch === '{') {
        depth++;
        i++;
      } else if (ch === ']' || ch === '}') {
        depth--;
        i++;
        if (depth === 0) return i;
      } else i++;
    }
    return text.length;
  }
  let i = pos;
  while (i < text.length && !/[\r\n#,\]}]/.test(text[i]!)) i++;
  while (i > pos && /[ \t]/.test(text[i - 1]!)) i--;
  return i;
}

function skipBlanks(text: string, pos: number): number {
  while (text[pos] === ' ' || text[pos] === '\t') pos++;
  return pos;
}

/** Reads a dotted key (`a."b c".d`); returns the segments and the offset after it. */
function scanKey(text: string, pos: number): { keys: string[]; end: number } {
  const keys: string[] = [];
  for (;;) {
    pos = skipBlanks(text, pos);
    const c = text[pos];
    if (c === '"' || c === "'") {
      const end = scanValue(text, pos);
      const raw = text.slice(pos + 1, end - 1);
      keys.push(c === "'" ? raw : decodeBasicKey(raw));
      pos = end;
    } else {
      const match = /^[A-Za-z0-9_-]*/.exec(text.slice(pos, pos + 256));
      keys.push(match?.[0] ?? '');
      pos += match?.[0].length ?? 0;
    }
    pos = skipBlanks(text, pos);
    if (text[pos] !== '.') return { keys, end: pos };
    pos++;
  }
}

function decodeBasicKey(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/** Top-level statements and table headers of a TOML text that smol-toml has already accepted. */
function scanTomlLayout(text: string): TomlLayout {
  const statements: TomlStatement[] = [];
  const headers: TomlLayout['headers'] = [];
  let pos = 0;
  while (pos < text.length) {
    const lineStart = pos;
    pos = skipBlanks(text, pos);
    const c = text[pos];
    if (c === '\n' || c === '\r' || c === '#' || c === undefined) {
      pos = lineEnd(text, pos);
      continue;
    }
    if (c === '[') {
      const { keys } = scanKey(text, text[pos + 1] === '[' ? pos + 2 : pos + 1);
      headers.push({ key: keys[0] ?? '', start: lineStart });
      pos = lineEnd(text, pos);
      continue;
    }
    const { keys, end: keyEnd } = scanKey(text, pos);
    const valueStart = skipBlanks(text, keyEnd + 1);
    const valueEnd = scanValue(text, valueStart);
    const end = lineEnd(text, valueEnd);
    if (headers.length === 0) statements.push({ keys, lineStart, valueStart, valueEnd, end });
    pos = end;
  }
  return { statements, headers };
}

/** TOML frontmatter → top-level values (dates as ISO strings), with lines for errors. */
export function parseTomlMatter(relPath: string, matter: string, matterLine: number): ValueSource {
  const data = toFileForm(parseToml(relPath, matter, matterLine)) as Record<string, unknown>;
  let layout: TomlLayout | undefined;
  return {
    data,
    lineOf(path) {
      layout ??= scanTomlLayout(matter);
      const key = String(path[0]);
      const at =
        layout.statements.find((s) => s.keys[0] === key)?.lineStart ??
        layout.headers.find((h) => h.key === key)?.start;
      return at === undefined ? matterLine : matterLine + lineAt(matter, at) - 1;
    },
  };
}

function printKey(key: string): string {
  return BARE_KEY.test(key) ? key : JSON.stringify(key);
}

function basicString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

function hasControlChars(value: string, allowNewlines: boolean): boolean {
  return allowNewlines
    ? /[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)
    : /[\u0000-\u001f\u007f]/.test(value);
}

function printString(value: string, oldRaw: string, eol: string): string {
  const oldIsBareDate = TOML_DATE.test(oldRaw);
  if (oldIsBareDate && TOML_DATE.test(value)) return value;
  const lead = /^("""|''')\r?\n/.test(oldRaw) || value.startsWith('\n') ? eol : '';
  if (
    oldRaw.startsWith("'''") &&
    !value.includes("'''") &&
    !value.endsWith("'") &&
    !hasControlChars(value, true)
  ) {
    return `'''${lead}${value}'''`;
  }
  if (oldRaw.startsWith('"""')) {
    const body = value
      .replace(/\\/g, '\\\\')
      .replace(/"(?="|$)/g, '\\"')
      .replace(
        /[\u0000-\u0008\u000b-\u001f\u007f]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
    return `"""${lead}${body}"""`;
  }
  if (
    oldRaw.startsWith("'") &&
    !oldRaw.startsWith("'''") &&
    !value.includes("'") &&
    !hasControlChars(value, false)
  ) {
    return `'${value}'`;
  }
  return basicString(value);
}

/** One TOML value in the old value's style where it has one (literal/multi-line strings, bare dates). */
function printTomlValue(relPath: string, key: string, value: unknown, oldRaw: string, eol: string): string {
  if (typeof value === 'string') return printString(value, oldRaw, eol);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value))
    return `[${value.map((v) => printTomlValue(relPath, key, v, '', eol)).join(', ')}]`;
  if (isPlainObject(value)) {
    const members = Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${printKey(k)} = ${printTomlValue(relPath, key, v, '', eol)}`);
    return members.length === 0 ? '{}' : `{ ${members.join(', ')} }`;
  }
  throw new SyncError(
    'CONTENT_WRONG_TYPE',
    `field "${key}" holds a value TOML cannot express (${String(value)})`,
    {
      file: relPath,
    },
  );
}

/**
 * Format-preserving edit of TOML frontmatter: a changed top-level key gets only its value text replaced,
 * removed keys lose their lines, new keys go after the last top-level key (before any `[table]`).
 */
export function editTomlMatter(
  relPath: string,
  matter: string,
  matterLine: number,
  set: Record<string, unknown>,
  eol: string,
): string {
  const raw = parseToml(relPath, matter, matterLine);
  const current = toFileForm(raw) as Record<string, unknown>;
  const layout = scanTomlLayout(matter);
  const edits: { start: number; end: number; text: string }[] = [];
  const expected = new Map<string, unknown>();
  let appended = '';
  let needsReprint = false;
  for (const [key, wanted] of Object.entries(set)) {
    if (wanted === undefined) continue;
    const statement = layout.statements.find((s) => s.keys.length === 1 && s.keys[0] === key);
    const exists = Object.hasOwn(current, key);
    if (wanted === null) {
      if (!exists) continue;
      expected.set(key, undefined);
      if (statement) edits.push({ start: statement.lineStart, end: statement.end, text: '' });
      else needsReprint = true;
      continue;
    }
    const value = matchDateStyle(current[key], wanted);
    if (exists && valuesEqual(current[key], value)) continue;
    expected.set(key, value);
    if (statement) {
      const oldRaw = matter.slice(statement.valueStart, statement.valueEnd);
      const text = printTomlValue(relPath, key, value, oldRaw, eol);
      // A bare TOML date reads back in smol-toml's ISO spelling (`…T00:00:00.000`), the same instant.
      if (typeof value === 'string' && text === value) expected.set(key, new TomlDate(value).toISOString());
      edits.push({ start: statement.valueStart, end: statement.valueEnd, text });
    } else if (exists) {
      needsReprint = true; // defined as a [table] or dotted keys: no single statement to replace
    } else {
      appended += `${printKey(key)} = ${printTomlValue(relPath, key, value, '', eol)}${eol}`;
    }
  }
  if (expected.size === 0) return matter;

  if (!needsReprint) {
    let out = matter;
    const last = layout.statements[layout.statements.length - 1];
    const insertAt = last ? last.end : 0;
    if (appended !== '') {
      const glue = insertAt > 0 && !out.slice(0, insertAt).endsWith('\n') ? eol : '';
      edits.push({ start: insertAt, end: insertAt, text: glue + appended });
    }
    for (const edit of edits.sort((a, b) => b.start - a.start || b.end - a.end)) {
      out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
    }
    if (sameData(out, current, expected)) return out;
  }
  // Keys defined as tables (or an exotic layout): re-print the whole frontmatter with smol-toml.
  for (const [key, value] of expected) {
    if (value === undefined) delete raw[key];
    else raw[key] = value;
  }
  const reprinted = stringify(raw).replace(/\r?\n/g, eol);
  if (sameData(reprinted, current, expected)) return reprinted;
  throw new SyncError('INTERNAL', `could not update the TOML frontmatter without changing other keys`, {
    file: relPath,
  });
}

function sameData(text: string, before: Record<string, unknown>, expected: Map<string, unknown>): boolean {
  let after: Record<string, unknown>;
  try {
    after = toFileForm(parse(text)) as Record<string, unknown>;
  } catch {
    return false;
  }
  const keys = new Set([...Object.keys(before), ...Object.keys(after), ...expected.keys()]);
  for (const key of keys) {
    const want = expected.has(key) ? expected.get(key) : before[key];
    if (want === undefined ? Object.hasOwn(after, key) : !valuesEqual(after[key], want)) return false;
  }
  return true;
}
