import type { SyncConfig } from '../config/schema.js';
import { SyncError } from '../core/errors.js';
import {
  checkSafeName,
  contentDirSegments,
  extensionOf,
  isIgnoredPath,
  isPageSlug,
  MARKDOWN_EXTENSIONS,
  slugify,
  splitLocale,
} from './content-path.js';

/**
 * Where blog posts live (issue 11 part 2): `<contentDir>/<posts.folder>/<slug>.md` and `<slug>.<locale>.md`,
 * flat (a post slug has no folders). Pure: path ⇄ (slug, locale), like content-path.ts for pages and items.
 */

/** Which post and locale a post file holds. */
export interface PostLocation {
  slug: string;
  locale: string;
}

function postsFolderSegments(config: SyncConfig): string[] | undefined {
  if (!config.posts) return undefined;
  return [...contentDirSegments(config), ...config.posts.folder.split('/')];
}

/** The catalogue's CONTENT_PATH hint speaks of pages and items, so post errors always carry their own. */
function pathError(relPath: string, message: string, hint?: string): SyncError {
  return new SyncError('CONTENT_PATH', message, {
    file: relPath,
    hint:
      hint ??
      'Post files go directly in the posts folder as <slug>.md, or <slug>.<locale>.md for another locale.',
  });
}

/** Cheap filter for watchers and scans: a Markdown file directly inside the posts folder, posts turned on. */
export function isPostPath(relPath: string, config: SyncConfig): boolean {
  const folder = postsFolderSegments(config);
  if (!folder) return false;
  const segments = relPath.split('/');
  if (segments.length !== folder.length + 1) return false;
  if (!folder.every((s, i) => segments[i] === s)) return false;
  if (isIgnoredPath(relPath, config)) return false;
  return (MARKDOWN_EXTENSIONS as readonly string[]).includes(extensionOf(segments.at(-1) ?? ''));
}

/** Any file below the posts folder (posts turned on), Markdown or not: a scan reports the ones it cannot sync. */
export function inPostsFolder(relPath: string, config: SyncConfig): boolean {
  const folder = postsFolderSegments(config);
  if (!folder) return false;
  const segments = relPath.split('/');
  return segments.length > folder.length && folder.every((s, i) => segments[i] === s);
}

/** Why a file in the posts folder that isPostPath refused is not a post file (for the scan's report). */
export function notAPostFile(relPath: string, config: SyncConfig): SyncError {
  try {
    locatePostFile(relPath, config);
  } catch (error) {
    if (error instanceof SyncError) return error;
  }
  return pathError(
    relPath,
    'not a post file',
    'Move it out of the posts folder, or skip it with an "ignore" glob in sync.config.json.',
  );
}

/** Map a post file's path to its slug and locale; CONTENT_PATH (naming the file) for anything else. */
export function locatePostFile(relPath: string, config: SyncConfig): PostLocation {
  const folder = postsFolderSegments(config);
  if (!folder) throw pathError(relPath, 'blog posts are off', 'Add "posts": {} to sync.config.json.');
  const segments = relPath.split('/');
  const file = segments.at(-1) ?? '';
  const inFolder = segments.length > folder.length && folder.every((s, i) => segments[i] === s);
  if (!inFolder) throw pathError(relPath, `the file is not inside the posts folder "${folder.join('/')}"`);
  if (segments.length !== folder.length + 1) {
    throw pathError(relPath, 'the file is nested too deeply: post files sit directly in the posts folder');
  }
  const ext = extensionOf(file);
  if (!(MARKDOWN_EXTENSIONS as readonly string[]).includes(ext)) {
    throw pathError(relPath, 'posts must be .md, .mdx or .markdown files');
  }
  const { name, locale } = splitLocale(file.slice(0, file.length - ext.length), config);
  const unsafe = checkSafeName(name);
  if (unsafe) throw pathError(relPath, `the file name cannot be synced: ${unsafe}`);
  // The page slug rule (butter-api.md §3.1); the post rule is unverified, and the narrower one is safe both ways.
  if (!isPageSlug(name)) {
    throw pathError(
      relPath,
      `the file name "${name}" is not a valid post slug (only letters, digits, "-" and "_")`,
      `Rename the file, for example to "${slugify(name) || 'my-post'}${ext}".`,
    );
  }
  return { slug: name, locale };
}

/**
 * The path a post new from ButterCMS gets; refuses slugs that are unsafe as file names. A valid slug holds no
 * dot, so `<slug>.md` never reads back as another locale's file.
 */
export function pathForPost(slug: string, locale: string, config: SyncConfig, extension = '.md'): string {
  const folder = postsFolderSegments(config);
  if (!folder) throw new SyncError('CONTENT_PATH', 'Blog posts are off ("posts" is not in the config)');
  const unsafe = checkSafeName(slug) ?? (isPageSlug(slug) ? undefined : 'it is not a valid post slug');
  if (unsafe) throw new SyncError('CONTENT_PATH', `Cannot store post slug "${slug}" as a file: ${unsafe}`);
  if (!config.locales.all.includes(locale)) {
    throw new SyncError('CONTENT_PATH', `Locale "${locale}" is not in locales.all`);
  }
  const ext = (MARKDOWN_EXTENSIONS as readonly string[]).includes(extension) ? extension : '.md';
  const suffix = locale === config.locales.default ? '' : `.${locale}`;
  return [...folder, `${slug}${suffix}${ext}`].join('/');
}
