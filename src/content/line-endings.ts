import { createRequire } from 'node:module';

// Loaded when a file's line endings are restored (a pull into a CRLF file), not by every run that imports content/.
const require = createRequire(import.meta.url);
let diffArrays: typeof import('diff').diffArrays | undefined;

/**
 * The CMS holds text with LF line breaks (core normalises CRLF away before a push), so a pulled body
 * would turn every CRLF line of a mixed file into LF. Lines the edit did not touch get their old line
 * ending back; new lines get the ending most of the old lines use. `next` has LF breaks only.
 */
export function restoreLineEndings(old: string, next: string): string {
  if (!old.includes('\r') || next.includes('\r')) return next;
  const oldLines = old.split('\n');
  // Each old line's content and its ending ("\r\n" or "\n"; the last line has none).
  const content = oldLines.map((line, i) =>
    i < oldLines.length - 1 && line.endsWith('\r') ? line.slice(0, -1) : line,
  );
  const endings = oldLines.map((line, i) =>
    i === oldLines.length - 1 ? '' : line.endsWith('\r') ? '\r\n' : '\n',
  );
  const crlf = endings.filter((e) => e === '\r\n').length;
  const usual = crlf * 2 > endings.length - 1 ? '\r\n' : '\n';
  const nextLines = next.split('\n');
  const out: string[] = [];
  let oldIndex = 0;
  let newIndex = 0;
  diffArrays ??= (require('diff') as typeof import('diff')).diffArrays;
  for (const part of diffArrays(content, nextLines)) {
    const count = part.count ?? part.value.length;
    if (part.removed) {
      oldIndex += count;
      continue;
    }
    for (let i = 0; i < count; i++) {
      const last = newIndex === nextLines.length - 1;
      const ending = last ? '' : part.added ? usual : endings[oldIndex + i] || usual;
      out.push(nextLines[newIndex]! + ending);
      newIndex++;
    }
    if (!part.added) oldIndex += count;
  }
  return out.join('');
}
