import type { SyncConfig } from '../config/schema.js';
import { SyncError } from '../core/errors.js';
import { richTextMarkdown } from '../core/rich-text-read.js';
import type { EntityRef, LocalVariant, Variant } from '../core/types.js';
import * as pagesAndItems from './content-file.js';
import type { FileLocation } from './content-path.js';
import * as paths from './content-path.js';
import { editPostFile, POST_BODY, readPostFile, renderPostFile } from './post-file.js';
import { isPostPath, locatePostFile, pathForPost } from './post-path.js';
import { refuseRichTextProblems } from './rich-text-check.js';

/**
 * Every content file, whatever it holds: pages and collection items (content-file.ts, content-path.ts) and
 * blog posts (post-file.ts, post-path.ts, issue 11). The engine reaches files only through these, so a post
 * file is scanned, located, edited and created by the same calls as a page file.
 */

/** A file the engine syncs: a page, item or (with `"posts"` on) post file. */
export function isContentPath(relPath: string, config: SyncConfig): boolean {
  return isPostPath(relPath, config) || paths.isContentPath(relPath, config);
}

/** The entity and locale a content file holds; CONTENT_PATH (naming the file) for anything else. */
export function locateFile(relPath: string, config: SyncConfig): FileLocation {
  if (isPostPath(relPath, config)) {
    const { slug, locale } = locatePostFile(relPath, config);
    return { ref: { kind: 'post', slug }, locale, format: 'markdown' };
  }
  return paths.locateFile(relPath, config);
}

/** Where an entity's file for a locale goes (see content-path.ts's pathForEntity for the options). */
export function pathForEntity(
  ref: EntityRef,
  locale: string,
  config: SyncConfig,
  options: { lowerCase?: boolean; markdownExtension?: string } = {},
): string {
  if (ref.kind === 'post') return pathForPost(ref.slug, locale, config, options.markdownExtension);
  return paths.pathForEntity(ref, locale, config, options);
}

/** Parse and check one content file; every error names the file (and the line when there is one). */
export function readContentFile(
  relPath: string,
  bytes: Uint8Array,
  config: SyncConfig,
): { location: FileLocation; variant: LocalVariant } {
  if (isPostPath(relPath, config)) {
    const { variant, bodyLine } = readPostFile(relPath, bytes, config);
    refusePostBodyProblems(relPath, String(variant.fields[POST_BODY] ?? ''), bodyLine, config);
    return { location: locateFile(relPath, config), variant };
  }
  return pagesAndItems.readContentFile(relPath, bytes, config);
}

/**
 * A post body is rich text (HTML in ButterCMS): Markdown HTML cannot carry (MDX `import`/JSX, a relative link
 * without `publicBaseUrl`) is refused before any call, with file and line (issue 11). Unlike a page field it
 * cannot be made `text`, so the hint says what to change in the file.
 */
function refusePostBodyProblems(relPath: string, body: string, line: number, config: SyncConfig): void {
  try {
    refuseRichTextProblems(relPath, body, line, { publicBaseUrl: config.publicBaseUrl }, POST_BODY);
  } catch (error) {
    if (!(error instanceof SyncError)) throw error;
    throw new SyncError(error.code, error.message.replace('richtext field "body"', 'the post body'), {
      file: relPath,
      ...(error.line ? { line: error.line } : {}),
      hint: 'ButterCMS stores a post body as HTML: write it as plain Markdown (no import/export lines or components), make links absolute or set "publicBaseUrl", or keep the file out of the posts folder.',
    });
  }
}

/** The location of a file already read (scan cache). */
export function locateVariant(relPath: string, variant: Variant, config: SyncConfig): FileLocation {
  if (isPostPath(relPath, config)) return locateFile(relPath, config);
  return pagesAndItems.locateVariant(relPath, variant, config);
}

/**
 * The engine names a post's title and status by the page keys (`pageMeta`), as for pages; a post file names
 * them by its own (`posts.keys`, which post-file.ts applies to the property names).
 */
function postProperties(set: Record<string, unknown>, config: SyncConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(set)) {
    const property =
      key === config.pageMeta.titleKey ? 'title' : key === config.pageMeta.statusKey ? 'status' : key;
    out[property] = richTextMarkdown(value);
  }
  return out;
}

/** Format-preserving edit of a content file: only the keys in `set` change (see editContentFile). */
export function editContentFile(
  relPath: string,
  text: string,
  set: Record<string, unknown>,
  config: SyncConfig,
): string {
  if (isPostPath(relPath, config)) return editPostFile(relPath, text, postProperties(set, config), config);
  return pagesAndItems.editContentFile(relPath, text, set, config);
}

/** A brand-new file for an entity pulled from the CMS. */
export function renderContentFile(relPath: string, pulled: Variant, config: SyncConfig): string {
  if (isPostPath(relPath, config)) {
    const fields = Object.fromEntries(
      Object.entries(pulled.fields).map(([key, value]) => [key, richTextMarkdown(value)]),
    );
    return renderPostFile(relPath, { ...pulled, fields }, config);
  }
  return pagesAndItems.renderContentFile(relPath, pulled, config);
}
