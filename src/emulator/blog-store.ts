import { nowTimestamp, type Status } from './content-store.js';

/**
 * The emulator's blog engine (butter-api.md §2.5, §3.8): posts keyed by slug with one version per locale,
 * authors that must exist, and account-wide tags and categories created on first use. Held beside the
 * pages and items and persisted in the same data file (ContentStore owns the file).
 */

/** One locale's version of a post. Everything but slug and id is per locale (unverified, §3.8: the contract only
 * says `?locale=` "updates or creates a locale variant"; keeping author and terms per locale loses nothing). */
export interface PostVersion {
  title: string;
  /** WYSIWYG HTML, stored as sent (§2.5, issue 11). */
  body: string;
  summary: string;
  seo_title: string;
  meta_description: string;
  featured_image: string | null;
  featured_image_alt: string;
  status: Status;
  created: string;
  updated: string;
  published: string | null;
  /** Author slug. */
  author: string;
  /** Term slugs, in the order the write sent them. */
  tags: string[];
  categories: string[];
}

export interface PostRecord {
  id: number;
  slug: string;
  deleted: boolean;
  locales: Record<string, PostVersion>;
}

/** The author object of the Read API (§2.5), without `recent_posts`. */
export interface AuthorRecord {
  first_name: string;
  last_name: string;
  email: string;
  slug: string;
  bio: string;
  title: string;
  linkedin_url: string;
  facebook_url: string;
  instagram_url: string;
  pinterest_url: string;
  twitter_handle: string;
  profile_image: string;
}

export interface TermRecord {
  name: string;
  slug: string;
}

export interface BlogData {
  nextPostId: number;
  posts: PostRecord[];
  authors: AuthorRecord[];
  tags: TermRecord[];
  categories: TermRecord[];
}

export type TermKind = 'tags' | 'categories';

const FIRST_POST_ID = 5001;

/** The org owner, used when a create names no author (§3.8). Always present: a real account has an owner. */
export const ORG_OWNER: AuthorRecord = {
  first_name: 'Emulator',
  last_name: 'Owner',
  email: 'owner@emulator.invalid',
  slug: 'emulator-owner',
  bio: '',
  title: '',
  linkedin_url: '',
  facebook_url: '',
  instagram_url: '',
  pinterest_url: '',
  twitter_handle: '',
  profile_image: '',
};

function emptyBlog(nextPostId = FIRST_POST_ID): BlogData {
  return { nextPostId, posts: [], authors: [{ ...ORG_OWNER }], tags: [], categories: [] };
}

/**
 * The slug ButterCMS gives a tag or category created from its name. Django's `slugify` rule (lower case,
 * drop what is not a word character, space or hyphen, runs of spaces/hyphens become one "-"), since the API
 * is Django REST Framework (§0); the exact rule Butter uses is unverified.
 */
export function termSlug(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\w\s-]/g, '')
    .trim()
    .replace(/[-\s]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export class BlogStore {
  private data: BlogData = emptyBlog();

  constructor(private readonly changed: () => void) {}

  /** What the data file holds; a file written before posts existed has none. */
  toJSON(): BlogData {
    return this.data;
  }

  replace(data: BlogData | undefined): void {
    this.data = data ? structuredClone(data) : emptyBlog();
  }

  /** Empty blog (the owner stays); post ids keep counting so they are never reused (like items, §3.5). */
  clear(): void {
    this.data = emptyBlog(this.data.nextPostId);
    this.changed();
  }

  livePosts(): PostRecord[] {
    return this.data.posts.filter((p) => !p.deleted);
  }

  findPost(slug: string): PostRecord | undefined {
    return this.data.posts.find((p) => p.slug === slug && !p.deleted);
  }

  authors(): readonly AuthorRecord[] {
    return this.data.authors;
  }

  /** An author by `slug` or `email` (the two forms a write may name, §3.8). */
  findAuthor(by: { slug?: string; email?: string }): AuthorRecord | undefined {
    return this.data.authors.find(
      (a) =>
        (by.slug !== undefined && a.slug === by.slug) ||
        (by.email !== undefined && a.email.toLowerCase() === by.email.toLowerCase()),
    );
  }

  /** Add or replace (by slug) an author: authors are made in the dashboard only (the API lists them, §0.1). */
  putAuthor(author: AuthorRecord): void {
    const at = this.data.authors.findIndex((a) => a.slug === author.slug);
    if (at === -1) this.data.authors.push({ ...author });
    else this.data.authors[at] = { ...author };
    this.changed();
  }

  terms(kind: TermKind): readonly TermRecord[] {
    return this.data[kind];
  }

  findTerm(kind: TermKind, slug: string): TermRecord | undefined {
    return this.data[kind].find((t) => t.slug === slug);
  }

  /** The slugs of these names, creating the terms that do not exist yet (§3.8: "created automatically"). */
  ensureTerms(kind: TermKind, names: readonly string[]): string[] {
    const slugs: string[] = [];
    for (const name of names) {
      const slug = termSlug(name);
      if (!this.findTerm(kind, slug)) this.data[kind].push({ name, slug });
      if (!slugs.includes(slug)) slugs.push(slug);
    }
    this.changed();
    return slugs;
  }

  createPost(slug: string, locale: string, version: PostVersion): PostRecord {
    const post: PostRecord = {
      id: this.data.nextPostId++,
      slug,
      deleted: false,
      locales: { [locale]: version },
    };
    this.data.posts.push(post);
    this.changed();
    return post;
  }

  putVersion(post: PostRecord, locale: string, version: PostVersion): void {
    post.locales[locale] = version;
    this.changed();
  }

  /** Soft delete, like items (§3.5; for posts the kept data is assumed). */
  deletePost(post: PostRecord): void {
    post.deleted = true;
    this.changed();
  }
}

/** A new version's timestamps: `published` is set when it goes live, kept while it stays live. */
export function stampVersion(
  previous: PostVersion | undefined,
  next: Omit<PostVersion, 'created' | 'updated' | 'published'> & { published?: string | null | undefined },
): PostVersion {
  const updated = nowTimestamp();
  const wasPublished = previous?.status === 'published' ? previous.published : null;
  const published =
    next.status === 'published' ? (next.published ?? wasPublished ?? updated) : (next.published ?? null);
  return { ...next, created: previous?.created ?? updated, updated, published };
}
