/**
 * ButterCMS's REST surface as the Butter client exposes it (butter-api.md §2, §3): one method per endpoint,
 * values as the API reads and writes them (numeric ids, CDN URLs). Only `cms/butter/` uses it; the engine
 * reads and writes through the neutral port (`cms/port.ts`), whose ids are opaque text.
 */

import type { CallStats, PageStatus } from '../port.js';
import type { ButterPostCalls } from './post-wire.js';

export interface ReadOptions {
  /** Read drafts too (`preview=1`). */
  preview?: boolean;
  /** Locale API slug; omitted means the account's default locale. */
  locale?: string;
  /** Reference expansion depth 1..5 (ButterCMS default 2). */
  levels?: number;
}

export interface ListOptions extends ReadOptions {
  /** Equality filters, sent as `fields.<name>=<value>`. */
  filters?: Record<string, string>;
  /** `field` or `-field`. */
  order?: string;
}

/** A page as the Read API returns it (butter-api.md §2.1). */
export interface RemotePage {
  slug: string;
  /** The page title (`name` in reads, `title` in writes). */
  name: string;
  /** `null` for Single Pages in read payloads. */
  pageType: string | null;
  status?: 'draft' | 'published' | 'scheduled' | undefined;
  updated?: string | undefined;
  published?: string | null | undefined;
  fields: Record<string, unknown>;
}

/** A collection item: flat fields plus `meta.id` (butter-api.md §2.2). */
export interface RemoteItem {
  id: number;
  fields: Record<string, unknown>;
}

/** `POST /v2/pages/` (butter-api.md §3.1). `fields` is either flat or keyed by locale. */
export interface CreatePageBody {
  title: string;
  slug: string;
  page_type: string;
  status: PageStatus;
  fields: Record<string, unknown>;
}

/** `PATCH /v2/pages/{type}/{slug}/` (butter-api.md §3.2). Always carries `status` (the API defaults to draft). */
export interface UpdatePageBody {
  status: PageStatus;
  fields: Record<string, unknown>;
}

/** `POST /v2/content/` (butter-api.md §3.3): `fields` is an ARRAY of one object. */
export interface CreateItemBody {
  key: string;
  status: PageStatus;
  fields: [Record<string, unknown>];
}

/** `PUT|PATCH /v2/content/{key}/{id}/` (butter-api.md §3.4): `fields` is an OBJECT. */
export interface UpdateItemBody {
  status?: PageStatus;
  fields?: Record<string, unknown>;
}

/** Every write answers `202 {"status":"pending"}`: accepted, not yet applied (butter-api.md §3.0). */
export interface WriteAccepted {
  status: 'pending';
  warnings?: string[];
}

/** ButterCMS's REST surface: pages, collection items and (ButterPostCalls, post-wire.ts) the blog engine. */
export interface CmsClient extends ButterPostCalls {
  /** One page; `pageType` may be `*`. `null` when the API answers 404. */
  getPage(pageType: string, slug: string, options?: ReadOptions): Promise<RemotePage | null>;
  /** Every page of a type (`*` = Single Pages), following pagination at page_size=100. */
  listPages(pageType: string, options?: ListOptions): Promise<RemotePage[]>;
  /** Every item of a collection, following pagination at page_size=100. */
  listItems(collection: string, options?: ListOptions): Promise<RemoteItem[]>;
  /** One item by id; `null` on 404. */
  getItem(collection: string, id: number, options?: ReadOptions): Promise<RemoteItem | null>;

  createPage(body: CreatePageBody, options?: { locale?: string }): Promise<WriteAccepted>;
  updatePage(
    pageType: string,
    slug: string,
    body: UpdatePageBody,
    options?: { locale?: string },
  ): Promise<WriteAccepted>;
  createItem(body: CreateItemBody): Promise<WriteAccepted>;
  /** PUT: full replacement; omitted fields are cleared. */
  replaceItem(collection: string, id: number, body: UpdateItemBody): Promise<WriteAccepted>;
  /** PATCH: only the sent fields change. */
  patchItem(collection: string, id: number, body: UpdateItemBody): Promise<WriteAccepted>;
  /** DELETE answers 204. */
  deleteItem(collection: string, id: number): Promise<void>;

  /** Counters since the client was made (for budgets, reports and metrics). */
  stats(): CallStats;
  /** Requests waiting in or running through the pipeline. */
  queueDepth(): number;
  /** Wait for in-flight requests (bounded by `deadlineMs`), then free the connection pool. */
  close(deadlineMs?: number): Promise<void>;
}
