import { parse, stringify, TomlDate, TomlError } from 'smol-toml';
import { SyncError } from '../core/errors.js';
import type { ValueSource } from './field-check.js';
import { applyChanges, getIn, type KeyChange, samePath } from './key-path.js';
import { lineAt } from './markdown-split.js';
import { isPlainObject, valuesEqual } from './value-equal.js';

/** One `key = value` statement (possibly spanning lines), by offsets into the TOML text. */
interface TomlStatement {
  /** The full key path: the enclosing `[table]` header's keys, then the statement's own (dotted) keys. */
  keys: string[];
  lineStart: number;
  valueStart: number;
  valueEnd: number;
  /** After the statement's final line break. */
  end: number;
  /** Index of the enclosing table header in `tables`, or -1 for the top level. */
  table: number;
  /** Inside an `[[array]]` element: its key path names no single value, so it is never edited in place. */
  inArray: boolean;
}

interface TomlTable {
  keys: string[];
  start: number;
  /** After the header line. */
  headerEnd: number;
  array: boolean;
}

interface TomlLayout {
  statements: TomlStatement[];
  tables: TomlTable[];
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

/** Statements and table headers of a TOML text that smol-toml has already accepted. */
function scanTomlLayout(text: string): TomlLayout {
  const statements: TomlStatement[] = [];
  const tables: TomlTable[] = [];
  let pos = 0;
  let inArray = false;
  while (pos < text.length) {
    const lineStart = pos;
    pos = skipBlanks(text, pos);
    const c = text[pos];
    if (c === '\n' || c === '\r' || c === '#' || c === undefined) {
      pos = lineEnd(text, pos);
      continue;
    }
    if (c === '[') {
      const array = text[pos + 1] === '[';
      const { keys } = scanKey(text, array ? pos + 2 : pos + 1);
      pos = lineEnd(text, pos);
      tables.push({ keys, start: lineStart, headerEnd: pos, array });
      // `[a.b]` after `[[a]]` belongs to the last element of `a`: just as unaddressable.
      inArray =
        array ||
        tables.some(
          (t) => t.array && t.keys.length < keys.length && samePath(t.keys, keys.slice(0, t.keys.length)),
        );
      continue;
    }
    const { keys, end: keyEnd } = scanKey(text, pos);
    const valueStart = skipBlanks(text, keyEnd + 1);
    const valueEnd = scanValue(text, valueStart);
    const end = lineEnd(text, valueEnd);
    const table = tables.length - 1;
    statements.push({
      keys: [...(tables[table]?.keys ?? []), ...keys],
      lineStart,
      valueStart,
      valueEnd,
      end,
      table,
      inArray,
    });
    pos = end;
  }
  return { statements, tables };
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
        layout.statements.find((s) => s.table === -1 && s.keys[0] === key)?.lineStart ??
        layout.tables.find((t) => t.keys[0] === key)?.start;
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
  if (oldIsBareDate && TOML_DATE.test(value)) {
    // smol-toml reads `07:32:00-08:00` as `07:32:00.000-08:00`: keep the file's own precision.
    return /\.\d/.test(oldRaw) ? value : value.replace(/\.0+(?=[Zz+-]|$)/, '');
  }
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
 * Format-preserving edit of TOML frontmatter: a changed key (top-level, in a `[table]` or a dotted key)
 * gets only its value text replaced, removed keys lose their lines, new keys go after the last key of
 * their table (a missing table is appended). Anything else re-prints the frontmatter with smol-toml.
 */
export function editTomlMatter(
  relPath: string,
  matter: string,
  matterLine: number,
  changes: readonly KeyChange[],
  eol: string,
): string {
  const raw = parseToml(relPath, matter, matterLine);
  const current = toFileForm(raw) as Record<string, unknown>;
  const layout = scanTomlLayout(matter);
  const addressable = layout.statements.filter((st) => !st.inArray);
  const edits: { start: number; end: number; text: string }[] = [];
  const applied: KeyChange[] = [];
  /** What `applied` reads back as: a bare TOML date comes back in smol-toml's ISO spelling. */
  const readBack: KeyChange[] = [];
  const appendedAt = new Map<number, string>();
  let trailing = '';
  let needsReprint = false;
  for (const change of changes) {
    const { path, value } = change;
    const old = getIn(current, path);
    if (value === null ? old === undefined : old !== undefined && valuesEqual(old, value)) continue;
    applied.push(change);
    readBack.push(change);
    const statement = addressable.find((st) => samePath(st.keys, path));
    const holder = addressable.find(
      (st) => st.keys.length < path.length && samePath(st.keys, path.slice(0, st.keys.length)),
    );
    if (statement) {
      if (value === null) {
        edits.push({ start: statement.lineStart, end: statement.end, text: '' });
        continue;
      }
      const oldRaw = matter.slice(statement.valueStart, statement.valueEnd);
      const text = printTomlValue(relPath, path.join('.'), value, oldRaw, eol);
      if (typeof value === 'string' && text === value) {
        readBack[readBack.length - 1] = { path, value: new TomlDate(value).toISOString() };
      }
      edits.push({ start: statement.valueStart, end: statement.valueEnd, text });
    } else if (holder && isPlainObject(getIn(current, holder.keys))) {
      // The key sits in an inline table (`extra = { team = "x" }`): re-print that one value.
      const whole = applyChanges(current, [change]);
      const text = printTomlValue(relPath, holder.keys.join('.'), getIn(whole, holder.keys), '', eol);
      edits.push({ start: holder.valueStart, end: holder.valueEnd, text });
    } else if (value === null || old !== undefined) {
      needsReprint = true; // a whole [table] or an array element: no single statement to replace
    } else {
      const key = printKey(path[path.length - 1]!);
      const line = `${key} = ${printTomlValue(relPath, path.join('.'), value, '', eol)}${eol}`;
      const parent = path.slice(0, -1);
      const tableIndex = layout.tables.findIndex((t) => !t.array && samePath(t.keys, parent));
      if (parent.length === 0 || tableIndex !== -1) {
        const table = tableIndex === -1 ? undefined : layout.tables[tableIndex];
        const inTable = layout.statements.filter((st) => st.table === tableIndex);
        const at = inTable[inTable.length - 1]?.end ?? table?.headerEnd ?? 0;
        appendedAt.set(at, (appendedAt.get(at) ?? '') + line);
      } else if (getIn(current, parent) === undefined) {
        trailing += `[${parent.map(printKey).join('.')}]${eol}${line}`;
      } else {
        needsReprint = true;
      }
    }
  }
  if (applied.length === 0) return matter;
  const want = applyChanges(current, readBack);

  if (!needsReprint) {
    let out = matter;
    for (const [at, text] of appendedAt) {
      const glue = at > 0 && !out.slice(0, at).endsWith('\n') ? eol : '';
      edits.push({ start: at, end: at, text: glue + text });
    }
    for (const edit of edits.sort((a, b) => b.start - a.start || b.end - a.end)) {
      out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
    }
    if (trailing !== '') {
      out += (out === '' ? '' : out.endsWith('\n') ? eol : eol + eol) + trailing;
    }
    if (readsAs(out, want)) return out;
  }
  // A whole table changed (or an exotic layout): re-print the frontmatter with smol-toml.
  const reprinted = stringify(applyChanges(raw, applied)).replace(/\r?\n/g, eol);
  if (readsAs(reprinted, want)) return reprinted;
  throw new SyncError('INTERNAL', `could not update the TOML frontmatter without changing other keys`, {
    file: relPath,
  });
}

function readsAs(text: string, want: Record<string, unknown>): boolean {
  try {
    return valuesEqual(toFileForm(parse(text)), want);
  } catch {
    return false;
  }
}
