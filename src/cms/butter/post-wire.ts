/**
 * The blog engine's wire shapes (butter-api.md §2.5 reads, §3.8 writes) and the reader of a post object.
 * ButterCMS-only: the client's post calls (butter-client.ts) build and read these.
 */

import { SyncError } from '../../core/errors.js';
import type { WriteAccepted } from './wire-types.js';

/** A tag or category as the Read API shows it: the name a write sent, and the slug Butter made of it. */
export interface RemoteTerm {
  name: string;
  slug: string;
}

/** The author of a post, as much of it as the sync needs (the object has more, §2.5). */
export interface RemoteAuthor {
  slug: string;
  email: string;
  first_name: string;
  last_name: string;
}

/** One post in one locale, as read (§2.5). `body` is absent when listed with `exclude_body`. */
export interface RemotePost {
  slug: string;
  title: string;
  status: 'draft' | 'published' | 'scheduled' | undefined;
  created: string | undefined;
  updated: string | undefined;
  published: string | null | undefined;
  body: string | undefined;
  summary: string;
  seo_title: string;
  meta_description: string;
  featured_image: string | null;
  featured_image_alt: string;
  author: RemoteAuthor | null;
  tags: RemoteTerm[];
  categories: RemoteTerm[];
}

/** A post write body (§3.8): every key optional on PATCH; `author` by slug or e-mail; terms by name. */
export interface PostWriteBody {
  title?: string;
  slug?: string;
  status?: 'draft' | 'published';
  body?: string;
  summary?: string;
  seo_title?: string;
  meta_description?: string;
  featured_image?: string | null;
  featured_image_alt?: string;
  author?: { slug: string } | { email: string };
  tags?: string[];
  categories?: string[];
  upload_images_to_media_library?: boolean;
  /** Not in the documented write body (§3.8, unverified); sent only when a file sets it. */
  published?: string;
}

/** A create needs title and slug (§3.8). */
export type CreatePostBody = PostWriteBody & { title: string; slug: string };

/** `GET /v2/posts/` parameters (§2.5). */
export interface PostListOptions {
  preview?: boolean;
  locale?: string;
  excludeBody?: boolean;
  authorSlug?: string;
  categorySlug?: string;
  tagSlug?: string;
}

/** The blog calls of the ButterCMS client (part of CmsClient; the backend's posts use them, post-backend.ts). */
export interface ButterPostCalls {
  /** Every post (drafts too with `preview`), following pagination at page_size=100. */
  listPosts(options?: PostListOptions): Promise<RemotePost[]>;
  /** One post; `null` on 404. */
  getPost(slug: string, options?: { preview?: boolean; locale?: string }): Promise<RemotePost | null>;
  createPost(body: CreatePostBody, options?: { locale?: string }): Promise<WriteAccepted>;
  /** PATCH: partial; `locale` updates or creates that locale's version (§3.8). */
  updatePost(slug: string, body: PostWriteBody, options?: { locale?: string }): Promise<WriteAccepted>;
  /** DELETE answers 204 (§0.1 Allow). */
  deletePost(slug: string): Promise<void>;
  /** Every author: a post may only name one that exists (§3.8), and authors are made in the dashboard. */
  listAuthors(): Promise<RemoteAuthor[]>;
}

const POST_STATUSES = new Set(['draft', 'published', 'scheduled']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shapeError(path: string, problem: string): SyncError {
  return new SyncError('CMS_BAD_RESPONSE', `GET ${path}: unexpected answer, ${problem}`);
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function readTerms(raw: unknown, path: string, slug: string, key: string): RemoteTerm[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw shapeError(path, `post ${slug} has "${key}" that is not a list`);
  return raw.map((term) => {
    if (!isObject(term) || typeof term.slug !== 'string') {
      throw shapeError(path, `post ${slug} has a ${key} entry without a slug`);
    }
    return { name: text(term.name), slug: term.slug };
  });
}

/** An author object (§2.5); `null` for a post whose author is missing from the answer. */
export function readAuthor(raw: unknown, path: string): RemoteAuthor | null {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw) || typeof raw.slug !== 'string') throw shapeError(path, 'an author without a slug');
  return {
    slug: raw.slug,
    email: text(raw.email),
    first_name: text(raw.first_name),
    last_name: text(raw.last_name),
  };
}

/** A post object (§2.5). Unknown keys are ignored; a post without a slug is a bad answer. */
export function readPost(raw: unknown, path: string): RemotePost {
  if (!isObject(raw) || typeof raw.slug !== 'string') throw shapeError(path, 'a post without a slug');
  const slug = raw.slug;
  const status = typeof raw.status === 'string' && POST_STATUSES.has(raw.status) ? raw.status : undefined;
  const image = raw.featured_image;
  return {
    slug,
    title: text(raw.title),
    status: status as RemotePost['status'],
    created: typeof raw.created === 'string' ? raw.created : undefined,
    updated: typeof raw.updated === 'string' ? raw.updated : undefined,
    published: typeof raw.published === 'string' || raw.published === null ? raw.published : undefined,
    body: typeof raw.body === 'string' ? raw.body : undefined,
    summary: text(raw.summary),
    seo_title: text(raw.seo_title),
    meta_description: text(raw.meta_description),
    featured_image: typeof image === 'string' && image !== '' ? image : null,
    featured_image_alt: text(raw.featured_image_alt),
    author: readAuthor(raw.author, path),
    tags: readTerms(raw.tags, path, slug, 'tags'),
    categories: readTerms(raw.categories, path, slug, 'categories'),
  };
}

/** The query of a post list (§2.5). */
export function postListQuery(options: PostListOptions): Record<string, string> {
  const query: Record<string, string> = {};
  if (options.preview) query.preview = '1';
  if (options.locale) query.locale = options.locale;
  if (options.excludeBody) query.exclude_body = 'true';
  if (options.authorSlug) query.author_slug = options.authorSlug;
  if (options.categorySlug) query.category_slug = options.categorySlug;
  if (options.tagSlug) query.tag_slug = options.tagSlug;
  return query;
}
