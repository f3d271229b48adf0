import type { SyncConfig } from '../config/schema.js';
import { richTextMarkdown } from '../core/rich-text-read.js';
import type { EntityRef, LocalVariant, Variant } from '../core/types.js';
import * as pagesAndItems from './content-file.js';
import type { FileLocation } from './content-path.js';
import * as paths from './content-path.js';
import { editPostFile, readPostFile, renderPostFile } from './post-file.js';
import { isPostPath, locatePostFile, pathForPost } from './post-path.js';

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
    const { variant } = readPostFile(relPath, bytes, config);
    return { location: locateFile(relPath, config), variant };
  }
  return pagesAndItems.readContentFile(relPath, bytes, config);
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
