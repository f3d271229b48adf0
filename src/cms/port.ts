import type { IncomingHttpHeaders } from 'node:http';
import type { SyncError } from '../core/errors.js';
import type { EntityKey, EntityRef, Manifest, ReadStep, RemoteEntity, RemoteId } from '../core/types.js';

/** An entity's id in the CMS: opaque text; only its backend knows its form. */
export type { RemoteId } from '../core/types.js';

/**
 * The narrow port every CMS backend implements (Litestream's ReplicaClient idea). `sync/` and `server/` talk
 * to `CmsBackend`; ButterCMS lives in `cms/butter/`, a second backend would be a sibling folder.
 * `CmsBackend` speaks file form (what the content files hold); `CmsClient` below is ButterCMS's REST surface,
 * still used by the write side until it moves behind `CmsBackend.write` (issue 10).
 */

/** One entity to read, in the locales the run writes or verifies (a locale not written is not read). */
export interface ReadTarget {
  entity: EntityKey;
  locales: string[];
}

/** A configured page type or collection the account does not have (yet): that one fails, not the run. */
export interface UnavailableList {
  kind: 'page type' | 'collection';
  name: string;
  error: SyncError;
}

/** What planned reads found, in file form, and exactly which entity × locale they looked at. */
export interface RemoteRead {
  remote: Map<EntityKey, RemoteEntity>;
  /** The locales read per target entity, found or not: the remote is known there, nowhere else. */
  read: Map<EntityKey, Set<string>>;
  unavailable: UnavailableList[];
  /** collection → remote id → key, for the ids the reads saw. */
  itemKeys: Map<string, Map<RemoteId, string>>;
  calls: number;
}

/** What the CMS holds in a scope, in file form, plus the id ↔ key map the translation needs. */
export interface RemoteSnapshot {
  remote: Map<EntityKey, RemoteEntity>;
  /** collection → id → key (from the default locale, where the keyField lives). */
  itemKeys: Map<string, Map<RemoteId, string>>;
  /** Entities a scope named one by one (webhooks), whether the CMS still has them or not. */
  covered: Set<EntityKey>;
  /** Lists the CMS answered 404 for: their entities are left out of the run, the rest syncs (trial F14). */
  unavailable: UnavailableList[];
  /** Keys two or more items share (an editor made a second `engineering` tag): key → their ids, ascending. */
  duplicateKeys: Map<EntityKey, RemoteId[]>;
  calls: number;
}

/** What to read; a list left undefined means all of its kind. */
export interface SnapshotScope {
  pageTypes?: string[];
  singlePages?: string[];
  collections?: string[];
  /** Pages a webhook named: one GET per locale instead of listing the whole type. */
  pages?: Array<{ pageType: string; slug: string }>;
  /** Items a webhook named by their remote id: one GET per locale. */
  items?: Array<{ collection: string; id: RemoteId }>;
}

/** What reads need from the sync state: ids, counts and the media map (the manifest), and the rich-text map. */
export interface ReadState {
  manifest: Manifest;
  /** A rich-text field's HTML → its file form (issue 11); without it the HTML is kept as read. */
  readRichText?: ((html: string) => unknown) | undefined;
}

/** What a webhook asks the engine to pull: one page (per locale) or one collection item. */
export type PullTarget =
  | { kind: 'page'; pageType: string; slug: string; locale: string | null; event: string }
  | {
      kind: 'item';
      collection: string;
      id: RemoteId;
      locale: string | null;
      event: string;
      deleted: boolean;
    };

/** A delivery's body, decoded: something to pull, something we do not sync, or not a delivery of this CMS. */
export type DecodedWebhook =
  | {
      kind: 'pull';
      target: PullTarget;
      /** Set when identical bodies are true duplicates (the receiver drops a repeat within seconds). */
      dedupe?: boolean;
    }
  | { kind: 'ignored' }
  | { kind: 'invalid'; reason: string };

/** How one CMS authenticates and words its webhook deliveries; the daemon server does the HTTP. */
export interface WebhookDecoder {
  /** Checked before the body is read, so strangers cannot make the receiver buffer anything. */
  admits(headers: IncomingHttpHeaders): boolean;
  /** Checked on the raw body (a signature over it); a CMS that signs nothing answers true. */
  verify(headers: IncomingHttpHeaders, body: Buffer): boolean;
  decode(body: Buffer): DecodedWebhook;
}

/** How a backend hosts media: the URL read back for a media value may be the CMS's copy, not the URL written. */
export interface MediaHosting {
  /** Is this URL one the CMS hosts (its copy of something written)? */
  isHosted(url: string): boolean;
}

/**
 * The CMS-neutral port (review-architecture.md §1): file form in and out, the CMS's wire inside. This is the
 * read half; `rules`, `write` and `estimate` join it with the write side.
 */
export interface CmsBackend {
  /**
   * The reads for these targets at the call floor, each with its cost in calls: pure, so a dry run predicts
   * exactly the reads the run makes. `verify`: a read-back of writes just sent (their entities count as present).
   */
  planReads(targets: ReadTarget[], state: ReadState, purpose?: 'before' | 'verify'): ReadStep[];
  /** Run planned reads and translate what they found into file form. */
  read(steps: ReadStep[], state: ReadState): Promise<RemoteRead>;
  /** Read every configured list (or those a scope names) in every locale, in file form. */
  readScope(scope: SnapshotScope, state: ReadState): Promise<RemoteSnapshot>;
  /** The remote id of an entity that may exist without the manifest knowing its id (before/after a create). */
  locate(ref: EntityRef, state: ReadState): Promise<RemoteId | undefined>;
  readonly media: MediaHosting;
  /** Absent when the receiver cannot be run (no webhook secret, or a CMS without webhooks). */
  readonly webhook?: WebhookDecoder | undefined;
  /** Calls made since the backend was made (for budgets, reports and metrics). */
  stats(): CallStats;
  /** Requests waiting in or running through the pipeline. */
  queueDepth(): number;
  /** Wait for in-flight requests (bounded by `deadlineMs`), then free the connection pool. */
  close(deadlineMs?: number): Promise<void>;
}

/* ButterCMS's REST surface (the client in cms/butter/); values as the API reads/writes them. */

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

export type PageStatus = 'draft' | 'published';

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

export interface CallStats {
  /** Calls by `METHOD STATUS`, e.g. `GET 200`, `PATCH 202`, `POST network`. */
  byMethodStatus: Record<string, number>;
  total: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface CmsClient {
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
