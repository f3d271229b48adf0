import { SyncError } from '../core/errors.js';
import { findRichTextProblems, type RichTextOptions } from './rich-text.js';

/**
 * Plan-time refusal of a richtext value HTML cannot carry (MDX, relative links without publicBaseUrl):
 * one error naming the file, the line and `text` as the alternative, before any call (issue 11).
 * `firstLine` is the file line the value starts on (the body's first line, or its frontmatter key).
 */
export function refuseRichTextProblems(
  relPath: string,
  markdown: string,
  firstLine: number,
  options: RichTextOptions | undefined,
  field: string,
): void {
  // Parsing is slow on big pages (micromark: seconds for 100 KB of tables), so only a value holding a candidate
  // is parsed: an import/export line, a capitalised tag, or (without publicBaseUrl) a path-relative URL.
  const mdx = /^[ \t]*(?:import|export)\s|<[A-Z]|<>/m.test(markdown);
  const relative =
    options?.publicBaseUrl === undefined &&
    /\]\(\s*<?(?![a-z][a-z0-9+.-]*:|[#/?)]|\{\{)|^[ \t]*\[[^\]]+\]:[ \t]*<?(?![a-z][a-z0-9+.-]*:|[#/?]|\{\{)\S|(?:src|href)[ \t]*=[ \t]*["']?(?![a-z][a-z0-9+.-]*:|[#/?"']|\{\{)/im.test(
      markdown,
    );
  if (!mdx && !relative) return;
  const [problem] = findRichTextProblems(markdown, options ?? {});
  if (!problem) return;
  throw new SyncError('CONTENT_WRONG_TYPE', `richtext field "${field}": ${problem.message}`, {
    file: relPath,
    line: firstLine + problem.line - 1,
    hint: problem.hint,
  });
}
