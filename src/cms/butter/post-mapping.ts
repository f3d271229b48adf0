/**
 * A post in file form (content/post-file.ts: a Variant with `meta.title/status` and fields keyed by post
 * property) ⇄ the blog engine's wire form (post-wire.ts). Pure, so the engine can plan with it once it takes
 * posts; the body conversion is passed in (rich text is Markdown in the file and HTML in ButterCMS, issue 11).
 */

import type { PostsConfig } from '../../config/schema.js';
import { normalizeDate } from '../../core/normalize.js';
import type { Variant } from '../../core/types.js';
import type { CreatePostBody, PostWriteBody, RemoteAuthor, RemotePost } from './post-wire.js';

/** Markdown ⇄ HTML for the post body; the engine passes the project's rich-text conversion. */
export interface PostBodyCodec {
  toHtml(markdown: string): string;
  toMarkdown(html: string): string;
}

const TEXT_PROPERTIES = ['summary', 'seo_title', 'meta_description', 'featured_image_alt'] as const;

/** `ann@example.com` names an author by e-mail, anything else by slug (§3.8: `{"email"}` or `{"slug"}`). */
export function authorRef(author: string): { email: string } | { slug: string } {
  return author.includes('@') ? { email: author } : { slug: author };
}

/** True when the file's `author` (slug or e-mail) names this remote author. */
export function namesAuthor(fileAuthor: unknown, remote: RemoteAuthor | null): boolean {
  if (typeof fileAuthor !== 'string' || !remote) return false;
  return fileAuthor.includes('@')
    ? fileAuthor.toLowerCase() === remote.email.toLowerCase()
    : fileAuthor === remote.slug;
}

/**
 * The body of a create (`properties` undefined: everything the file has) or of a PATCH (only those
 * properties). `status` is always sent: the emulator (like page updates, §3.2) drafts a post whose PATCH
 * leaves it out, and whether ButterCMS does is unverified.
 */
export function postWriteBody(
  variant: Variant,
  options: {
    posts: PostsConfig;
    codec: PostBodyCodec;
    defaultStatus: 'draft' | 'published';
    properties?: readonly string[];
  },
): PostWriteBody {
  const wanted = (property: string) => !options.properties || options.properties.includes(property);
  const { fields } = variant;
  const body: PostWriteBody = { status: variant.meta.status ?? options.defaultStatus };
  if (wanted('title') && variant.meta.title !== undefined) body.title = variant.meta.title;
  if (wanted('body') && typeof fields.body === 'string') body.body = options.codec.toHtml(fields.body);
  for (const property of TEXT_PROPERTIES) {
    const value = fields[property];
    if (wanted(property) && (typeof value === 'string' || (options.properties && value === undefined))) {
      body[property] = typeof value === 'string' ? value : '';
    }
  }
  if (wanted('featured_image')) {
    const image = fields.featured_image;
    if (typeof image === 'string' && image !== '') body.featured_image = image;
    else if (options.properties) body.featured_image = null;
  }
  if (wanted('author') && typeof fields.author === 'string') body.author = authorRef(fields.author);
  for (const property of ['tags', 'categories'] as const) {
    const names = fields[property];
    if (wanted(property) && (Array.isArray(names) || options.properties)) {
      body[property] = Array.isArray(names) ? names.map(String) : [];
    }
  }
  if (wanted('published') && typeof fields.published === 'string') {
    const instant = normalizeDate(fields.published);
    if (typeof instant === 'string' && instant !== '') body.published = `${instant}Z`;
  }
  if (options.posts.uploadImagesToMediaLibrary && body.body !== undefined)
    body.upload_images_to_media_library = true;
  return body;
}

/** A create needs title and slug (§3.8); the file reader already refused a post without a title. */
export function createPostBody(
  slug: string,
  variant: Variant,
  options: { posts: PostsConfig; codec: PostBodyCodec; defaultStatus: 'draft' | 'published' },
): CreatePostBody {
  return { ...postWriteBody(variant, options), title: variant.meta.title ?? '', slug };
}

/**
 * A post read from ButterCMS in file form. The author is written as the file already names it (slug or
 * e-mail) when it is the same author, else by slug; dates become core's UTC instant (the file edit writes
 * them in the file's own style); empty values are left out, as for pages.
 */
export function postVariant(remote: RemotePost, codec: PostBodyCodec, fileAuthor?: unknown): Variant {
  const fields: Record<string, unknown> = {};
  for (const property of TEXT_PROPERTIES) if (remote[property] !== '') fields[property] = remote[property];
  if (remote.featured_image) fields.featured_image = remote.featured_image;
  if (remote.published) {
    const instant = normalizeDate(remote.published);
    if (typeof instant === 'string' && instant !== '') fields.published = instant;
  }
  if (remote.author) {
    fields.author = namesAuthor(fileAuthor, remote.author) ? fileAuthor : remote.author.slug;
  }
  if (remote.tags.length > 0) fields.tags = remote.tags.map((t) => t.name);
  if (remote.categories.length > 0) fields.categories = remote.categories.map((c) => c.name);
  if (remote.body !== undefined) fields.body = codec.toMarkdown(remote.body);
  // A scheduled post has no file form (the Write API cannot schedule, §3.0): its status is left unsaid rather
  // than written as "draft", which a push would then send and so unschedule it.
  const status = remote.status === 'published' || remote.status === 'draft' ? remote.status : undefined;
  return { meta: { title: remote.title, ...(status ? { status } : {}) }, fields };
}
