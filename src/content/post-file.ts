import {
  type FieldSpec,
  POST_FILE_KEYS,
  type PostFileKey,
  type PostsConfig,
  type SyncConfig,
} from '../config/schema.js';
import { SyncError } from '../core/errors.js';
import { POST_FIELDS } from '../core/model.js';
import type { Variant } from '../core/types.js';
import { applyMarkdownEdits } from './content-file.js';
import { formatDateLike } from './date-style.js';
import { checkEntityValues, type EntityShape, type ValueSource } from './field-check.js';
import { applyChanges, getIn, type KeyChange } from './key-path.js';
import {
  bodyValue,
  decodeContentBytes,
  lineAt,
  type MarkdownParts,
  splitMarkdown,
} from './markdown-split.js';
import { locatePostFile, type PostLocation } from './post-path.js';
import { parseTomlMatter } from './toml-frontmatter.js';
import { valuesEqual } from './value-equal.js';
import { parseYamlMatter, renderYamlMatter } from './yaml-frontmatter.js';

/**
 * The post file codec (issue 11 part 2): a Markdown file whose frontmatter holds the post's properties
 * (butter-api.md §2.5/§3.8 in file form) and whose body is the post body, ⇄ a `Variant` like a page's:
 * `meta.title`/`meta.status`, and `fields` keyed by post property (`body` holds the Markdown body).
 * Validation reuses the page checks (field-check.ts), so errors name file, line and key the same way.
 */

/** The post property that holds the Markdown body in a post's `fields`. */
export const POST_BODY = 'body';

/** The post properties that are fields (title and status are `meta`, as for pages). */
type PostFieldKey = Exclude<PostFileKey, 'title' | 'status'>;

/** Each property's type in the file, checked as a page field of that type would be (the post model, core/model.ts). */
const POST_FIELD_TYPES = Object.fromEntries(
  Object.entries(POST_FIELDS).filter(([property]) => property !== POST_BODY),
) as Record<PostFieldKey, FieldSpec>;

/** A post author: an author slug, or the author's e-mail address (§3.8: `{"slug"}` or `{"email"}`). */
const AUTHOR_SLUG = /^[A-Za-z0-9_-]+$/;
const AUTHOR_EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** One post file read: which post and locale, its values in file form, and the file's path. */
export interface PostFileRead {
  location: PostLocation;
  variant: Variant & { path: string };
  /** The file line the Markdown body starts on. */
  bodyLine: number;
}

/** The frontmatter key a post property is read from (`posts.keys` renames, e.g. published → date). */
export function postFileKey(posts: PostsConfig, property: PostFileKey): string {
  return posts.keys[property] ?? property;
}

function postsOf(relPath: string, config: SyncConfig): PostsConfig {
  if (!config.posts) {
    throw new SyncError('CONTENT_PATH', 'blog posts are off', {
      file: relPath,
      hint: 'Add "posts": {} to sync.config.json.',
    });
  }
  return config.posts;
}

function postShape(posts: PostsConfig): EntityShape {
  const fields = Object.fromEntries(
    Object.entries(POST_FIELD_TYPES).map(([property, spec]) => {
      const key = postFileKey(posts, property as PostFieldKey);
      return [property, key === property ? spec : { ...spec, path: key }];
    }),
  ) as Record<string, FieldSpec>;
  return {
    label: 'a blog post',
    fields,
    meta: { titleKey: postFileKey(posts, 'title'), statusKey: postFileKey(posts, 'status') },
    gitOnly: posts.gitOnly.map((key) => key.split('.')),
  };
}

/** The page checks, with a hint that fits posts: their keys are fixed, so an extra key is gitOnly or renamed. */
function checkPostValues(relPath: string, source: ValueSource, posts: PostsConfig) {
  try {
    return checkEntityValues(relPath, source, postShape(posts));
  } catch (error) {
    if (!(error instanceof SyncError) || error.code !== 'CONTENT_UNKNOWN_FIELD') throw error;
    throw new SyncError(error.code, error.message, {
      file: relPath,
      ...(error.line ? { line: error.line } : {}),
      hint: 'A post has only the keys ButterCMS stores for it. List the key in "posts.gitOnly" to keep it in the file, or map it to a post property with "posts.keys" (e.g. {"published": "date"}).',
    });
  }
}

function readMatter(relPath: string, parts: MarkdownParts): ValueSource {
  if (parts.kind === 'yaml') return parseYamlMatter(relPath, parts.matter, parts.matterLine);
  if (parts.kind === 'toml') return parseTomlMatter(relPath, parts.matter, parts.matterLine);
  return { data: {}, lineOf: () => undefined };
}

/** Parse + validate one post file; every error names the file, and the line when there is one. */
export function readPostFile(relPath: string, bytes: Uint8Array, config: SyncConfig): PostFileRead {
  const posts = postsOf(relPath, config);
  const location = locatePostFile(relPath, config);
  const text = decodeContentBytes(relPath, bytes);
  const parts = splitMarkdown(relPath, text);
  const source = readMatter(relPath, parts);
  const { fields, meta } = checkPostValues(relPath, source, posts);
  const at = (property: PostFileKey) => {
    const line = source.lineOf([postFileKey(posts, property)]);
    return { file: relPath, ...(line ? { line } : {}) };
  };
  // A create needs a title (§3.8): caught here, before any call, rather than as a 400.
  if (meta.title === undefined || meta.title.trim() === '') {
    throw new SyncError('CONTENT_WRONG_TYPE', `a post needs a "${postFileKey(posts, 'title')}"`, {
      ...at('title'),
      hint: `Add a line like ${postFileKey(posts, 'title')}: "My post" to the frontmatter.`,
    });
  }
  const author = fields.author;
  if (typeof author === 'string' && !AUTHOR_SLUG.test(author) && !AUTHOR_EMAIL.test(author)) {
    throw new SyncError(
      'CONTENT_WRONG_TYPE',
      `"${postFileKey(posts, 'author')}" must be an author slug or e-mail address, not ${JSON.stringify(author)}`,
      {
        ...at('author'),
        hint: 'Use the slug or e-mail of an author that exists in the ButterCMS dashboard (authors cannot be created through the API), or list the key in "posts.gitOnly".',
      },
    );
  }
  for (const property of ['tags', 'categories'] as const) {
    const names = fields[property];
    if (Array.isArray(names) && names.some((name) => typeof name === 'string' && name.trim() === '')) {
      throw new SyncError(
        'CONTENT_WRONG_TYPE',
        `"${postFileKey(posts, property)}" holds an empty name`,
        at(property),
      );
    }
  }
  const body = bodyValue(parts);
  const bodyLine = lineAt(text, text.length - parts.body.length);
  return {
    location,
    variant: { path: relPath, meta, fields: { ...withoutNulls(fields), [POST_BODY]: body } },
    bodyLine,
  };
}

function withoutNulls(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== null && value !== undefined),
  );
}

/** Where each post property sits in the file: `title`, `status` and the fields, through `posts.keys`. */
function keyOf(posts: PostsConfig, property: string): string | undefined {
  return (POST_FILE_KEYS as readonly string[]).includes(property)
    ? postFileKey(posts, property as PostFileKey)
    : undefined;
}

function isBlank(value: unknown): boolean {
  return value === '' || (Array.isArray(value) && value.length === 0);
}

/**
 * Format-preserving edit of a post file (STYLE.md): only the properties in `set` change (`null` removes the
 * key; `body` replaces the Markdown body, keeping the file's line endings on untouched lines). A date keeps
 * the file's spelling and zone. Returns `text` itself when nothing changes, so callers can skip the write.
 */
export function editPostFile(
  relPath: string,
  text: string,
  set: Record<string, unknown>,
  config: SyncConfig,
): string {
  const posts = postsOf(relPath, config);
  locatePostFile(relPath, config);
  const parts = splitMarkdown(relPath, text);
  const current = readMatter(relPath, parts).data;
  const changes: KeyChange[] = [];
  let newBody: string | undefined;
  for (const [property, raw] of Object.entries(set)) {
    if (raw === undefined) continue;
    if (property === POST_BODY) {
      if (raw !== null && typeof raw !== 'string') {
        throw new SyncError('CONTENT_WRONG_TYPE', 'the post body must be text', { file: relPath });
      }
      newBody = raw ?? '';
      continue;
    }
    const key = keyOf(posts, property);
    if (!key) throw new SyncError('INTERNAL', `"${property}" is not a post property`, { file: relPath });
    const old = getIn(current, [key]);
    const value = property === 'published' ? formatDateLike(old, raw, config.timezone) : raw;
    // A key the file does not have, and an empty value for it, is not added (as for pages).
    if (old === undefined && (value === null || isBlank(value))) continue;
    if (valuesEqual(old, value)) continue;
    changes.push({ path: [key], value });
  }
  return applyMarkdownEdits(relPath, text, parts, changes, newBody);
}

/**
 * A new post file for a post pulled from ButterCMS: YAML frontmatter in the order §2.5 lists the
 * properties (empty ones left out), then the Markdown body. Dates are written as given (the engine
 * formats them in the configured `timezone`).
 */
export function renderPostFile(relPath: string, variant: Variant, config: SyncConfig): string {
  const posts = postsOf(relPath, config);
  locatePostFile(relPath, config);
  const values: Record<string, unknown> = { title: variant.meta.title, status: variant.meta.status };
  for (const property of POST_FILE_KEYS) {
    if (property !== 'title' && property !== 'status') values[property] = variant.fields[property];
  }
  const changes: KeyChange[] = [];
  for (const property of POST_FILE_KEYS) {
    const value =
      property === 'published'
        ? formatDateLike(undefined, values[property], config.timezone)
        : values[property];
    if (value === undefined || value === null || isBlank(value)) continue;
    changes.push({ path: [postFileKey(posts, property)], value });
  }
  const matter = renderYamlMatter(applyChanges({}, changes));
  const body = variant.fields[POST_BODY];
  const head = `---\n${matter}---\n`;
  return typeof body === 'string' && body !== '' ? `${head}\n${body}\n` : head;
}
