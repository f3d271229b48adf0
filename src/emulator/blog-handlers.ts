import { badRequest, detailError } from './api-error.js';
import {
  type AuthorRecord,
  type PostRecord,
  type PostVersion,
  stampVersion,
  type TermKind,
} from './blog-store.js';
import type { ContentStore, Status } from './content-store.js';
import { isPlainObject, makeCdnUrl, normalizeDate } from './field-values.js';
import { paginate, parsePagination } from './read-render.js';
import type { AcceptedWrite } from './write-handlers.js';
import type { WebhookEvent } from './write-jobs.js';

/**
 * The blog engine's routes (butter-api.md §2.5 reads, §3.8 writes, §4 post webhooks). Writes validate what
 * can be checked before the 202 and return the job that applies the change later, like pages and items.
 */

type Body = Record<string, unknown>;

const TEXT_KEYS = [
  'title',
  'body',
  'summary',
  'seo_title',
  'meta_description',
  'featured_image_alt',
] as const;
const KNOWN_KEYS = new Set<string>([
  ...TEXT_KEYS,
  'slug',
  'status',
  'author',
  'tags',
  'categories',
  'featured_image',
  'published',
  'scheduled',
  'upload_images_to_media_library',
]);
const CDN_HOST = 'cdn.buttercms.com';
const RECENT_POSTS = 10;

/** What a post write may change, after validation; `undefined` means "not sent". */
interface PostChanges {
  text: Partial<Record<(typeof TEXT_KEYS)[number], string>>;
  status: Status | undefined;
  author: AuthorRecord | undefined;
  tags: string[] | undefined;
  categories: string[] | undefined;
  featuredImage: string | null | undefined;
  published: string | null | undefined;
  uploadImages: boolean;
  warnings: string[];
}

function isOn(value: string | null): boolean {
  return value !== null && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function writeLocale(store: ContentStore, query: URLSearchParams): string {
  const locale = query.get('locale') || store.defaultLocale;
  if (!store.locales.includes(locale)) throw detailError(400, 'Invalid locale parameter');
  return locale;
}

function readNames(body: Body, key: 'tags' | 'categories', problems: Record<string, string[]>) {
  const value = body[key];
  if (value === undefined) return undefined;
  if (value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.trim() !== '')) {
    problems[key] = [`Expected a list of ${key === 'tags' ? 'tag' : 'category'} names.`];
    return undefined;
  }
  return value.map((v) => v.trim());
}

/** `author` is `{"slug": ...}` or `{"email": ...}` and must exist (§3.8); checked before the 202 (unverified when). */
function readAuthor(store: ContentStore, body: Body, problems: Record<string, string[]>) {
  const value = body.author;
  if (value === undefined || value === null) return undefined;
  const slug = isPlainObject(value) && typeof value.slug === 'string' ? value.slug : undefined;
  const email = isPlainObject(value) && typeof value.email === 'string' ? value.email : undefined;
  if (slug === undefined && email === undefined) {
    problems.author = ['Expected {"slug": ...} or {"email": ...}.'];
    return undefined;
  }
  const author = store.blog.findAuthor({ ...(slug ? { slug } : {}), ...(email ? { email } : {}) });
  if (!author) problems.author = [`Author ${slug ?? email} does not exist.`];
  return author;
}

function readStatus(body: Body, warnings: string[], problems: Record<string, string[]>): Status | undefined {
  const status = body.status;
  if (status === undefined || status === null) return undefined;
  if (status === 'draft' || status === 'published') return status;
  // Scheduling is not possible through the Write API; scheduled params are ignored (§3.0).
  if (status === 'scheduled') {
    warnings.push('scheduled fields are ignored');
    return 'draft';
  }
  problems.status = [`"${String(status)}" is not a valid choice.`];
  return undefined;
}

function readChanges(store: ContentStore, body: Body): PostChanges {
  const problems: Record<string, string[]> = {};
  const warnings: string[] = [];
  const unknown = Object.keys(body).filter((k) => !KNOWN_KEYS.has(k));
  // DRF ignores unknown keys; the emulator refuses them so a client's misspelt key is seen (stricter than Butter, unverified).
  for (const key of unknown) problems[key] = ['Unknown field for a blog post.'];
  const text: PostChanges['text'] = {};
  for (const key of TEXT_KEYS) {
    const value = body[key];
    if (value === undefined) continue;
    if (value === null) text[key] = '';
    else if (typeof value === 'string') text[key] = value;
    else problems[key] = ['Not a valid string.'];
  }
  if ('scheduled' in body) warnings.push('scheduled fields are ignored');
  const status = readStatus(body, warnings, problems);
  const author = readAuthor(store, body, problems);
  const tags = readNames(body, 'tags', problems);
  const categories = readNames(body, 'categories', problems);
  let featuredImage: string | null | undefined;
  const image = body.featured_image;
  if (image === null || image === '') featuredImage = null;
  else if (typeof image === 'string') featuredImage = image;
  else if (image !== undefined) problems.featured_image = ['Expected a URL.'];
  // `published` is not in the documented write body (§3.8, unverified): accepted as an ISO date so a
  // back-dated post can round trip; a wrong shape is refused rather than silently dropped.
  let published: string | null | undefined;
  if (body.published === null) published = null;
  else if (typeof body.published === 'string') {
    const date = normalizeDate(body.published);
    if (date === null) problems.published = ['Expected an ISO 8601 date.'];
    else published = `${date}Z`;
  } else if (body.published !== undefined) problems.published = ['Expected an ISO 8601 date.'];
  const upload = body.upload_images_to_media_library;
  if (upload !== undefined && typeof upload !== 'boolean') {
    problems.upload_images_to_media_library = ['Must be a valid boolean.'];
  }
  if (Object.keys(problems).length > 0) throw badRequest(problems);
  return {
    text,
    status,
    author,
    tags,
    categories,
    featuredImage,
    published,
    uploadImages: upload === true,
    warnings,
  };
}

/** Re-host a URL not on Butter's CDN yet (§3.7): the featured image always is. */
function rehost(url: string): string {
  try {
    return new URL(url).host === CDN_HOST ? url : makeCdnUrl();
  } catch {
    return makeCdnUrl();
  }
}

/** With `upload_images_to_media_library`, images inside the body are re-hosted too (§3.7). */
function rehostBodyImages(html: string): string {
  return html.replace(/(<img\b[^>]*?\bsrc\s*=\s*)(["'])([^"']*)\2/gi, (_m, head, quote, url) => {
    return `${head}${quote}${/^https?:\/\//i.test(url) ? rehost(url) : url}${quote}`;
  });
}

function nextVersion(
  store: ContentStore,
  previous: PostVersion | undefined,
  changes: PostChanges,
  // PATCH without `status`: a draft, as page updates are (§3.2); unverified for posts, and the
  // pessimistic choice makes a client that forgets `status` unpublish here, in tests, not on a live blog.
  defaultStatus: Status,
): PostVersion {
  const text = changes.text;
  const body = text.body ?? previous?.body ?? '';
  const image = changes.featuredImage === undefined ? previous?.featured_image : changes.featuredImage;
  return stampVersion(previous, {
    title: text.title ?? previous?.title ?? '',
    body: changes.uploadImages && text.body !== undefined ? rehostBodyImages(body) : body,
    summary: text.summary ?? previous?.summary ?? '',
    seo_title: text.seo_title ?? previous?.seo_title ?? '',
    meta_description: text.meta_description ?? previous?.meta_description ?? '',
    featured_image: image ? rehost(image) : null,
    featured_image_alt: text.featured_image_alt ?? previous?.featured_image_alt ?? '',
    status: changes.status ?? defaultStatus,
    author: changes.author?.slug ?? previous?.author ?? store.blog.authors()[0]?.slug ?? '',
    tags: changes.tags ? store.blog.ensureTerms('tags', changes.tags) : (previous?.tags ?? []),
    categories: changes.categories
      ? store.blog.ensureTerms('categories', changes.categories)
      : (previous?.categories ?? []),
    published: changes.published,
  });
}

/**
 * Post events carry only the slug and the id (§4). `post.delete` is also what an unpublish sends (§4);
 * which event a given write fires is unverified, so: live → draft is `post.delete`, else the new status.
 */
function postEvent(post: PostRecord, event: 'published' | 'draft' | 'delete'): WebhookEvent {
  return { event: `post.${event}`, data: { id: post.slug, _id: post.id } };
}

function eventFor(previous: PostVersion | undefined, next: PostVersion): 'published' | 'draft' | 'delete' {
  if (next.status === 'published') return 'published';
  return previous?.status === 'published' ? 'delete' : 'draft';
}

/** `POST /v2/posts/` (§3.8): title and slug required, slug unique, author must exist, terms made on first use. */
export function acceptCreatePost(store: ContentStore, body: Body, query: URLSearchParams): AcceptedWrite {
  const problems: Record<string, string[]> = {};
  const { title, slug } = body;
  if (typeof title !== 'string' || title.trim() === '') problems.title = ['This field is required.'];
  if (typeof slug !== 'string' || slug.trim() === '') problems.slug = ['This field is required.'];
  // The page slug rule (§3.1); the post rule is unverified, and a narrower one keeps file names safe.
  else if (!/^[A-Za-z0-9_-]+$/.test(slug)) problems.slug = ['Enter a valid slug.'];
  else if (store.blog.findPost(slug)) problems.slug = ['Post with this slug already exists.'];
  if (Object.keys(problems).length > 0) throw badRequest(problems);
  const locale = writeLocale(store, query);
  const changes = readChanges(store, body);
  const postSlug = slug as string;
  return {
    status: 202,
    body: {
      status: 'pending',
      ...(changes.warnings.length ? { warnings: [...new Set(changes.warnings)] } : {}),
    },
    apply: () => {
      // Two creates of one slug both got a 202: the second fails after the 202, as on Butter (§9.2).
      if (store.blog.findPost(postSlug)) return [];
      const version = nextVersion(store, undefined, changes, 'draft');
      const post = store.blog.createPost(postSlug, locale, version);
      return [postEvent(post, eventFor(undefined, version))];
    },
  };
}

export function findPostForWrite(store: ContentStore, slug: string): PostRecord {
  const post = store.blog.findPost(slug);
  if (!post) throw detailError(404, 'Not found.');
  return post;
}

/** `PATCH|PUT /v2/posts/{slug}/` (§3.8): partial; `?locale=` updates or creates that locale's version. */
export function acceptUpdatePost(
  store: ContentStore,
  post: PostRecord,
  body: Body,
  query: URLSearchParams,
): AcceptedWrite {
  // Renaming a post through the API is undocumented: refused, so a client never believes it renamed one.
  if (body.slug !== undefined && body.slug !== post.slug) {
    throw badRequest({ slug: ['The slug of a post cannot be changed through the Write API.'] });
  }
  const locale = writeLocale(store, query);
  const changes = readChanges(store, body);
  // A new locale version copies nothing from the others (as pages and items, §2.6), so it needs a title.
  if (!post.locales[locale] && (changes.text.title ?? '').trim() === '') {
    throw badRequest({ title: ['This field is required.'] });
  }
  // A post keeps a title (required on create, §3.8); DRF's message for a blank one.
  if (changes.text.title !== undefined && changes.text.title.trim() === '') {
    throw badRequest({ title: ['This field may not be blank.'] });
  }
  return {
    status: 202,
    body: {
      status: 'pending',
      ...(changes.warnings.length ? { warnings: [...new Set(changes.warnings)] } : {}),
    },
    apply: () => {
      if (post.deleted) return [];
      const previous = post.locales[locale];
      const version = nextVersion(store, previous, changes, 'draft');
      store.blog.putVersion(post, locale, version);
      return [postEvent(post, eventFor(previous, version))];
    },
  };
}

/** `DELETE /v2/posts/{slug}/` (§0.1 Allow): 204 now, soft delete and `post.delete` later, like items (§3.5). */
export function acceptDeletePost(store: ContentStore, post: PostRecord): AcceptedWrite {
  return {
    status: 204,
    apply: () => {
      if (post.deleted) return [];
      store.blog.deletePost(post);
      return [postEvent(post, 'delete')];
    },
  };
}

// ---- reads ----

interface PostReadContext {
  store: ContentStore;
  locale: string;
  preview: boolean;
}

/** `locale` on post reads is not in §2.6's list (unverified); honoured, since writes take `?locale=` (§3.8). */
function postContext(store: ContentStore, query: URLSearchParams): PostReadContext {
  const locale = query.get('locale') || store.defaultLocale;
  if (!store.locales.includes(locale)) throw detailError(400, 'Invalid locale parameter');
  return { store, locale, preview: isOn(query.get('preview')) || isOn(query.get('test')) };
}

function visibleVersion(post: PostRecord, ctx: PostReadContext): PostVersion | undefined {
  const version = post.locales[ctx.locale];
  if (!version) return undefined;
  return ctx.preview || version.status === 'published' ? version : undefined;
}

function renderAuthor(author: AuthorRecord | undefined, slug: string): Record<string, unknown> {
  return author ? { ...author } : { first_name: '', last_name: '', email: '', slug };
}

function renderTerms(
  store: ContentStore,
  kind: TermKind,
  slugs: string[],
): Array<{ name: string; slug: string }> {
  return slugs.flatMap((slug) => {
    const term = store.blog.findTerm(kind, slug);
    return term ? [{ name: term.name, slug: term.slug }] : [];
  });
}

/** Key order as §2.5 lists it. */
function renderPost(
  store: ContentStore,
  post: PostRecord,
  version: PostVersion,
  withBody = true,
): Record<string, unknown> {
  return {
    status: version.status,
    created: version.created,
    updated: version.updated,
    published: version.published,
    scheduled: null,
    title: version.title,
    slug: post.slug,
    ...(withBody ? { body: version.body } : {}),
    summary: version.summary,
    seo_title: version.seo_title,
    meta_description: version.meta_description,
    featured_image: version.featured_image,
    featured_image_alt: version.featured_image_alt,
    // The post URL is its slug in recorded payloads (unverified beyond that).
    url: post.slug,
    author: renderAuthor(store.blog.findAuthor({ slug: version.author }), version.author),
    tags: renderTerms(store, 'tags', version.tags),
    categories: renderTerms(store, 'categories', version.categories),
    deleted: null,
  };
}

/** Newest first by `published`, drafts (no date) by `created` after them; Butter's exact order is unverified. */
function visiblePosts(ctx: PostReadContext): Array<{ post: PostRecord; version: PostVersion }> {
  const rows = ctx.store.blog.livePosts().flatMap((post) => {
    const version = visibleVersion(post, ctx);
    return version ? [{ post, version }] : [];
  });
  const key = (r: { version: PostVersion }) => r.version.published ?? r.version.created;
  return rows.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : b.post.id - a.post.id));
}

/** `GET /v2/posts/` (§2.5): page/page_size (or limit/offset), exclude_body, author/category/tag filters. */
export function listPosts(store: ContentStore, query: URLSearchParams): unknown {
  const ctx = postContext(store, query);
  const pagination = parsePagination(query);
  const author = query.get('author_slug');
  const category = query.get('category_slug');
  const tag = query.get('tag_slug');
  const rows = visiblePosts(ctx).filter(
    ({ version }) =>
      (!author || version.author === author) &&
      (!category || version.categories.includes(category)) &&
      (!tag || version.tags.includes(tag)),
  );
  const withBody = !isOn(query.get('exclude_body'));
  const { meta, slice } = paginate(rows, pagination);
  return { meta, data: slice.map((r) => renderPost(store, r.post, r.version, withBody)) };
}

function neighbour(row: { post: PostRecord; version: PostVersion } | undefined) {
  if (!row) return null;
  return { slug: row.post.slug, title: row.version.title, featured_image: row.version.featured_image };
}

/** `GET /v2/posts/{slug}/`: `meta` names the neighbours in list order (shape of `next_post` unverified, §2.4). */
export function readPost(store: ContentStore, slug: string, query: URLSearchParams): unknown {
  const ctx = postContext(store, query);
  const rows = visiblePosts(ctx);
  const at = rows.findIndex((r) => r.post.slug === slug);
  const row = rows[at];
  if (!row) throw detailError(404, 'Not found.');
  return {
    meta: { next_post: neighbour(rows[at + 1]), previous_post: neighbour(rows[at - 1]) },
    data: renderPost(store, row.post, row.version),
  };
}

/** `GET /v2/posts/search/?query=`: substring of title, summary or body (matching rules unverified). */
export function searchPosts(store: ContentStore, query: URLSearchParams): unknown {
  const ctx = postContext(store, query);
  const needle = (query.get('query') ?? '').toLowerCase();
  const rows = visiblePosts(ctx).filter(({ version }) =>
    needle === ''
      ? false
      : `${version.title} ${version.summary} ${version.body}`.toLowerCase().includes(needle),
  );
  const { meta, slice } = paginate(rows, parsePagination(query));
  return { meta, data: slice.map((r) => renderPost(store, r.post, r.version)) };
}

function recentPosts(store: ContentStore, query: URLSearchParams, match: (v: PostVersion) => boolean) {
  const ctx = postContext(
    store,
    new URLSearchParams(query.get('locale') ? { locale: query.get('locale')! } : {}),
  );
  return visiblePosts(ctx)
    .filter(({ version }) => match(version))
    .slice(0, RECENT_POSTS)
    .map((r) => renderPost(store, r.post, r.version));
}

const wantsRecent = (query: URLSearchParams) => query.get('include') === 'recent_posts';

/** `GET /v2/authors/` (§2.5): `{data: [author]}`, `?include=recent_posts` adds their latest posts. */
export function listAuthors(store: ContentStore, query: URLSearchParams): unknown {
  return { data: store.blog.authors().map((a) => renderAuthorEntry(store, a, query)) };
}

export function readAuthorEntry(store: ContentStore, slug: string, query: URLSearchParams): unknown {
  const author = store.blog.findAuthor({ slug });
  if (!author) throw detailError(404, 'Not found.');
  return { data: renderAuthorEntry(store, author, query) };
}

function renderAuthorEntry(store: ContentStore, author: AuthorRecord, query: URLSearchParams) {
  return {
    ...author,
    ...(wantsRecent(query)
      ? { recent_posts: recentPosts(store, query, (v) => v.author === author.slug) }
      : {}),
  };
}

/** `GET /v2/tags/`, `/v2/categories/` (§2.5): `{data: [{name, slug}]}`, with `?include=recent_posts`. */
export function listTerms(store: ContentStore, kind: TermKind, query: URLSearchParams): unknown {
  return { data: store.blog.terms(kind).map((t) => renderTermEntry(store, kind, t.slug, t.name, query)) };
}

export function readTerm(store: ContentStore, kind: TermKind, slug: string, query: URLSearchParams): unknown {
  const term = store.blog.findTerm(kind, slug);
  if (!term) throw detailError(404, 'Not found.');
  return { data: renderTermEntry(store, kind, term.slug, term.name, query) };
}

function renderTermEntry(
  store: ContentStore,
  kind: TermKind,
  slug: string,
  name: string,
  query: URLSearchParams,
) {
  return {
    name,
    slug,
    ...(wantsRecent(query) ? { recent_posts: recentPosts(store, query, (v) => v[kind].includes(slug)) } : {}),
  };
}
