import { SyncError } from '../core/errors.js';

/** Largest content file read; bigger files are skipped with CONTENT_TOO_LARGE. */
export const MAX_CONTENT_BYTES = 5 * 1024 * 1024;

const BOM = '\uFEFF';

/**
 * A Markdown file cut into byte-exact pieces: `bom + open + matter + close + separator + body === text`.
 * `separator` is the one blank line conventionally left after the closing delimiter.
 */
export interface MarkdownParts {
  bom: string;
  kind: 'yaml' | 'toml' | 'none';
  open: string;
  matter: string;
  close: string;
  separator: string;
  body: string;
  /** 1-based line of the first frontmatter line in the file. */
  matterLine: number;
  /** The line ending of the opening delimiter (the style new lines get). */
  eol: string;
}

/** Text from bytes: refuses oversized, NUL-holding or invalid UTF-8 files with the line where it breaks. */
export function decodeContentBytes(relPath: string, bytes: Uint8Array): string {
  if (bytes.byteLength > MAX_CONTENT_BYTES) {
    throw new SyncError(
      'CONTENT_TOO_LARGE',
      `the file is ${bytes.byteLength} bytes; the limit is ${MAX_CONTENT_BYTES} bytes`,
      { file: relPath },
    );
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new SyncError('CONTENT_BINARY', 'the file holds a NUL byte: it looks like a binary file', {
      file: relPath,
      line: lineOfByte(bytes, nul),
    });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    throw new SyncError('CONTENT_BINARY', 'the file is not valid UTF-8 text', {
      file: relPath,
      line: lineOfByte(bytes, bad),
    });
  }
}

function lineOfByte(bytes: Uint8Array, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.byteLength;
  // Binary search for the shortest prefix holding a definitely invalid byte; streaming mode lets a
  // prefix that merely ends inside a multi-byte character pass, which keeps the predicate monotonic.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

/** 1-based line number of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The line ending used by `text` ("\r\n" only when its first line break is CRLF). */
function detectEol(text: string): string {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}

/** End of the line starting at `from`, including its line break. */
function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl === -1 ? text.length : nl + 1;
}

function isDelimiterLine(line: string, delimiter: string): boolean {
  return line.replace(/[ \t]*\r?\n?$/, '') === delimiter;
}

/** Split frontmatter (`---` YAML or `+++` TOML) from the body, keeping every byte. */
export function splitMarkdown(relPath: string, text: string): MarkdownParts {
  const bom = text.startsWith(BOM) ? BOM : '';
  const start = bom.length;
  const firstEnd = lineEnd(text, start);
  const first = text.slice(start, firstEnd);
  const delimiter = isDelimiterLine(first, '---') ? '---' : isDelimiterLine(first, '+++') ? '+++' : '';
  if (delimiter === '' || !first.endsWith('\n')) {
    return {
      bom,
      kind: 'none',
      open: '',
      matter: '',
      close: '',
      separator: '',
      body: text.slice(start),
      matterLine: 1,
      eol: detectEol(text),
    };
  }
  let pos = firstEnd;
  while (pos < text.length) {
    const end = lineEnd(text, pos);
    if (isDelimiterLine(text.slice(pos, end), delimiter)) {
      const rest = text.slice(end);
      const blank = /^\r?\n/.exec(rest)?.[0] ?? '';
      return {
        bom,
        kind: delimiter === '---' ? 'yaml' : 'toml',
        open: first,
        matter: text.slice(firstEnd, pos),
        close: text.slice(pos, end),
        separator: blank,
        body: rest.slice(blank.length),
        matterLine: 2,
        eol: first.endsWith('\r\n') ? '\r\n' : '\n',
      };
    }
    pos = end;
  }
  throw new SyncError('CONTENT_PARSE', `the frontmatter opened with ${delimiter} is never closed`, {
    file: relPath,
    line: 1,
    hint: `Add a line with only ${delimiter} after the frontmatter.`,
  });
}

/** The body as a field value: the file's final line break is formatting, not content. */
export function bodyValue(parts: MarkdownParts): string {
  return parts.body.replace(/\r?\n$/, '');
}

/** Reassemble parts with a new body; keeps the file's blank-line separator and final-newline habits. */
export function replaceBody(parts: MarkdownParts, body: string): string {
  const head = parts.bom + parts.open + parts.matter + parts.close;
  if (body === '') return head;
  if (parts.kind === 'none') return head + body + finalNewlineOf(parts);
  const closed = parts.close.endsWith('\n') ? head : head + parts.eol;
  // A body starting with a line break needs the separator, or reading would swallow its first blank line.
  const separator =
    parts.separator !== '' ? parts.separator : parts.body === '' || /^\r?\n/.test(body) ? parts.eol : '';
  return closed + separator + body + finalNewlineOf(parts);
}

function finalNewlineOf(parts: MarkdownParts): string {
  if (parts.body === '') return parts.eol;
  return /\r?\n$/.exec(parts.body)?.[0] ?? '';
}
