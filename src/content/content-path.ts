import picomatch from 'picomatch';
import type { SyncConfig } from '../config/schema.js';
import { SyncError } from '../core/errors.js';
import type { EntityRef } from '../core/types.js';

/** How a content file stores its values: Markdown with frontmatter, or a flat JSON object. */
export type FileFormat = 'markdown' | 'json';

/** Which entity and locale a content file holds. */
export interface FileLocation {
  ref: EntityRef;
  locale: string;
  format: FileFormat;
}

export const MARKDOWN_EXTENSIONS = ['.md', '.mdx', '.markdown'] as const;
const CONTENT_EXTENSIONS = [...MARKDOWN_EXTENSIONS, '.json'] as const;
/** Folder under `pages/` that holds Single Pages (API page type `*`, butter-api.md §2.1). */
export const SINGLE_PAGE_DIR = '_single';
const MAX_NAME_LENGTH = 200;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9]|conin\$|conout\$)$/i;

/** The contentDir as path segments (`./content/` → `['content']`, `.` → `[]`). */
export function contentDirSegments(config: SyncConfig): string[] {
  return config.contentDir.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

/** Segments of `relPath` below contentDir, or undefined when it is not under contentDir. */
function segmentsBelowContentDir(relPath: string, config: SyncConfig): string[] | undefined {
  const segments = relPath.split('/');
  const root = contentDirSegments(config);
  if (segments.length <= root.length) return undefined;
  for (let i = 0; i < root.length; i++) if (segments[i] !== root[i]) return undefined;
  return segments.slice(root.length);
}

const ignoreMatchers = new WeakMap<readonly string[], (path: string) => boolean>();

/**
 * True for a file the `ignore` globs skip (matched against its path below contentDir, so Hugo page
 * bundles' images can be left out): it is neither content nor an error.
 */
export function isIgnoredPath(relPath: string, config: SyncConfig): boolean {
  const globs = config.ignore;
  if (!globs || globs.length === 0) return false;
  const below = segmentsBelowContentDir(relPath, config);
  if (!below) return false;
  let matcher = ignoreMatchers.get(globs);
  if (!matcher) {
    matcher = picomatch([...globs], { dot: true });
    ignoreMatchers.set(globs, matcher);
  }
  return matcher(below.join('/'));
}

/** Cheap filter for watchers and diffs: under contentDir/pages or contentDir/collections with a content extension. */
export function isContentPath(relPath: string, config: SyncConfig): boolean {
  const below = segmentsBelowContentDir(relPath, config);
  if (!below || below.length < 2) return false;
  if (isIgnoredPath(relPath, config)) return false;
  if (below[0] !== 'pages' && below[0] !== 'collections') return false;
  const name = below[below.length - 1] ?? '';
  return (CONTENT_EXTENSIONS as readonly string[]).includes(extensionOf(name));
}

function pathError(relPath: string, message: string): SyncError {
  return new SyncError('CONTENT_PATH', message, { file: relPath });
}

/** Split `slug.es.md` into name and locale: a suffix is a locale only if it is a non-default configured locale. */
export function splitLocale(stem: string, config: SyncConfig): { name: string; locale: string } {
  const dot = stem.lastIndexOf('.');
  if (dot > 0) {
    const suffix = stem.slice(dot + 1);
    if (suffix !== config.locales.default && config.locales.all.includes(suffix)) {
      return { name: stem.slice(0, dot), locale: suffix };
    }
  }
  return { name: stem, locale: config.locales.default };
}

/** Map a repo-relative path to its entity; throws CONTENT_PATH for anything outside the content model. */
export function locateFile(relPath: string, config: SyncConfig): FileLocation {
  if (relPath.includes('\\') || relPath.includes('\0')) {
    throw pathError(relPath, 'paths must be POSIX-style and free of NUL bytes');
  }
  const all = relPath.split('/');
  if (all.some((s) => s === '..' || s === '.' || s === '')) {
    throw pathError(relPath, 'the path has an empty, "." or ".." segment');
  }
  const below = segmentsBelowContentDir(relPath, config);
  if (!below) throw pathError(relPath, `the file is not inside the content folder "${config.contentDir}"`);
  const [area, group, ...rest] = below;
  const file = rest.at(-1);
  if ((area !== 'pages' && area !== 'collections') || group === undefined || file === undefined) {
    throw pathError(
      relPath,
      'content files live in pages/<page_type>/<slug>.md or collections/<key>/<item>.json',
    );
  }
  // Folders inside a page type (Hugo's content/docs/guides/intro.md) are part of the page's name;
  // collections and single pages stay flat (an item's name is its key).
  const folders = rest.slice(0, -1);
  if (folders.length > 0 && (area === 'collections' || group === SINGLE_PAGE_DIR)) {
    throw pathError(relPath, 'the file is nested too deeply (only page types may hold folders)');
  }
  for (const folder of folders) {
    // A leading dot is fine on a folder (`.generated/`): the rule against it is for files we create.
    const unsafe = checkSafeName(folder.replace(/^\.+/, ''));
    if (unsafe) throw pathError(relPath, `the folder "${folder}" cannot be synced: ${unsafe}`);
  }
  const ext = extensionOf(file);
  const stem = file.slice(0, file.length - ext.length);
  const { name: fileName, locale } = splitLocale(stem, config);
  if (fileName === '' || hasControlChars(fileName))
    throw pathError(relPath, 'the file name is empty or unsafe');
  // The same rule as for remote names: a key that could never be pulled back into a file is not pushed either.
  const unsafe = checkSafeName(fileName);
  if (unsafe) throw pathError(relPath, `the file name cannot be synced: ${unsafe}`);
  /** The page's name below its type's folder: `guides/intro` for pages/docs/guides/intro.md. */
  const name = [...folders, fileName].join('/');
  const isMarkdown = (MARKDOWN_EXTENSIONS as readonly string[]).includes(ext);

  if (area === 'collections') {
    if (!config.collections[group]) throw pathError(relPath, `no collection "${group}" in the config`);
    if (ext !== '.json') throw pathError(relPath, 'collection items must be .json files');
    return { ref: { kind: 'item', collection: group, key: name }, locale, format: 'json' };
  }
  if (!isMarkdown && ext !== '.json') {
    throw pathError(relPath, 'pages must be .md, .mdx, .markdown or .json files');
  }
  const format: FileFormat = isMarkdown ? 'markdown' : 'json';
  if (group === SINGLE_PAGE_DIR) {
    if (!config.singlePages[name]) throw pathError(relPath, `no single page "${name}" in the config`);
    return { ref: { kind: 'page', pageType: '*', slug: name }, locale, format };
  }
  const pageType = config.pageTypes[group];
  if (!pageType) throw pathError(relPath, `no page type "${group}" in the config`);
  if (isPageSlug(name)) return { ref: { kind: 'page', pageType: group, slug: name }, locale, format };
  if (pageType.slugs === 'slugify') {
    // `guides/intro` → `guides-intro`: the manifest remembers the file, so a pull writes back to it.
    const slug = slugify(name);
    if (slug === '')
      throw pathError(relPath, `the file name "${name}" has no letter or digit to make a slug of`);
    return { ref: { kind: 'page', pageType: group, slug }, locale, format };
  }
  if (folders.length > 0) {
    throw new SyncError(
      'CONTENT_PATH',
      `the page "${name}" is in a folder, and a ButterCMS page slug cannot hold "/"`,
      {
        file: relPath,
        hint: `Set "slugs": "slugify" on page type "${group}" in sync.config.json: nested files then map to slugs (${name} → ${slugify(name) || 'my-page'}), or move the file to pages/${group}/.`,
      },
    );
  }
  // Caught here, before any call: ButterCMS refuses the create with 400 "Enter a valid slug" (butter-api.md §3.1).
  throw new SyncError(
    'CONTENT_PATH',
    `the file name "${name}" is not a valid ButterCMS page slug (only letters, digits, "-" and "_")`,
    {
      file: relPath,
      hint: `Rename the file (for example to "${slugify(name) || 'my-page'}${ext}"), or set "slugs": "slugify" on page type "${group}" in sync.config.json to map file names to slugs.`,
    },
  );
}

/** A ButterCMS page slug: letters, digits, "-" and "_" (butter-api.md §3.1, the Write API's slug check). */
export function isPageSlug(name: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(name);
}

/**
 * The slug a page type with `"slugs": "slugify"` gives a file name that is not one: accents dropped
 * (`ünïcode` → `unicode`), every run of other characters (dots, spaces, `@`) becomes one "-", case kept.
 * `Rust-1.22` → `Rust-1-22`, `roadmap@0` → `roadmap-0`. The manifest remembers each page's file, so a
 * pull writes back to the file the slug came from (the mapping is reversed through it, not guessed).
 * A few lines rather than a dependency: ButterCMS allows exactly [A-Za-z0-9_-].
 */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

function hasControlChars(name: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(name);
}

/** Why `name` cannot be a file name on every platform, or undefined when it can. */
export function checkSafeName(name: string): string | undefined {
  if (name === '') return 'the name is empty';
  if (name.length > MAX_NAME_LENGTH) return `the name is longer than ${MAX_NAME_LENGTH} characters`;
  if (hasControlChars(name)) return 'the name holds NUL or control characters';
  if (/[/\\]/.test(name)) return 'the name holds a path separator';
  if (name.includes('..')) return 'the name holds ".."';
  if (name.startsWith('.')) return 'the name starts with "." (a hidden file)';
  if (/[<>:"|?*]/.test(name)) return 'the name holds a character Windows forbids in file names (<>:"|?*)';
  if (/[. ]$/.test(name)) return 'the name ends with a dot or a space';
  const base = name.split('.')[0] ?? '';
  if (WINDOWS_RESERVED.test(base.trimEnd())) return `"${base}" is a reserved device name on Windows`;
  return undefined;
}

/**
 * The path a new entity's file gets; refuses remote names that are unsafe as file names (DESIGN.md §3 "bad
 * input"). `lowerCase` names an item file in lower case (`fra.json` for "FRA"), and `markdownExtension`
 * gives a page the extension (`.markdown`, `.mdx`) its type's other files have.
 */
export function pathForEntity(
  ref: EntityRef,
  locale: string,
  config: SyncConfig,
  options: { lowerCase?: boolean; markdownExtension?: string } = {},
): string {
  // Post files have their own layout (post-path.ts); entity-file.ts never sends one here.
  if (ref.kind === 'post') throw new SyncError('INTERNAL', `post "${ref.slug}" given a page or item path`);
  const name = ref.kind === 'page' ? ref.slug : options.lowerCase ? ref.key.toLowerCase() : ref.key;
  const label = ref.kind === 'page' ? `page slug "${name}"` : `item key "${name}"`;
  const unsafe = checkSafeName(name);
  if (unsafe) throw new SyncError('CONTENT_PATH', `Cannot store ${label} as a file: ${unsafe}`);
  if (!config.locales.all.includes(locale)) {
    throw new SyncError('CONTENT_PATH', `Locale "${locale}" is not in locales.all`);
  }
  // `foo.es` stored in the default locale would read back as page `foo` in locale `es`.
  if (splitLocale(name, config).name !== name) {
    throw new SyncError('CONTENT_PATH', `Cannot store ${label} as a file: it ends with a locale suffix`);
  }
  const suffix = locale === config.locales.default ? '' : `.${locale}`;
  const root = contentDirSegments(config);
  let segments: string[];
  if (ref.kind === 'item') {
    if (!config.collections[ref.collection]) {
      throw new SyncError('CONTENT_PATH', `No collection "${ref.collection}" in the config`);
    }
    segments = ['collections', ref.collection, `${name}${suffix}.json`];
  } else if (ref.pageType === '*') {
    if (!config.singlePages[name])
      throw new SyncError('CONTENT_PATH', `No single page "${name}" in the config`);
    segments = ['pages', SINGLE_PAGE_DIR, `${name}${suffix}.json`];
  } else {
    const model = config.pageTypes[ref.pageType];
    if (!model) throw new SyncError('CONTENT_PATH', `No page type "${ref.pageType}" in the config`);
    const markdown = options.markdownExtension ?? '.md';
    const ext =
      model.bodyField === undefined
        ? '.json'
        : (MARKDOWN_EXTENSIONS as readonly string[]).includes(markdown)
          ? markdown
          : '.md';
    segments = ['pages', ref.pageType, `${name}${suffix}${ext}`];
  }
  return [...root, ...segments].join('/');
}
