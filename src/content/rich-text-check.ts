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
  // Cheap pre-check: most values hold no construct that can be a problem, so they are never parsed here.
  if (!/import|export|<|\]\(|\]:/.test(markdown)) return;
  const [problem] = findRichTextProblems(markdown, options ?? {});
  if (!problem) return;
  throw new SyncError('CONTENT_WRONG_TYPE', `richtext field "${field}": ${problem.message}`, {
    file: relPath,
    line: firstLine + problem.line - 1,
    hint: problem.hint,
  });
}
