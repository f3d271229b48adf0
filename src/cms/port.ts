import type { IncomingHttpHeaders } from 'node:http';
import type { IdLookup } from '../core/api-fields.js';
import type { SyncError } from '../core/errors.js';
import type { EntityKey, EntityRef, Manifest, ReadStep, RemoteEntity, RemoteId } from '../core/types.js';

/** An entity's id in the CMS: opaque text; only its backend knows its form. */
export type { RemoteId } from '../core/types.js';

/**
 * The narrow port every CMS backend implements (Litestream's ReplicaClient idea). `sync/` and `server/` talk
 * to `CmsBackend`; ButterCMS lives in `cms/butter/`, a second backend would be a sibling folder.
 * `CmsBackend` speaks file form (what the content files hold) both ways: the core plans reads as `ReadTarget`s
 * and writes as `WriteIntent`s; a backend owns the wire shapes, the value translation, the ids and the quirks,
 * and states its rules as data the pure planner can ask. ButterCMS's REST surface (`CmsClient`) is private to
 * `cms/butter/` (`wire-types.ts`).
 */

/** One entity to read, in the locales the run writes or verifies (a locale not written is not read). */
export interface ReadTarget {
  entity: EntityKey;
  locales: string[];
}

/** A configured page type or collection the account does not have (yet): that one fails, not the run. */
export interface UnavailableList {
  kind: 'page type' | 'collection' | 'posts';
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
  /** List every blog post (with `"posts"` on); undefined: yes, like the other lists. */
  postList?: boolean;
  /** Posts a webhook named by slug: one GET per locale instead of listing them all. */
  posts?: string[];
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
    }
  | { kind: 'post'; slug: string; locale: string | null; event: string; deleted: boolean };

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
 * The CMS-neutral port (review-architecture.md §1): file form in and out, the CMS's wire inside.
 */
export interface CmsBackend {
  /** What the backend can and cannot do, as data the pure planner asks. */
  readonly rules: BackendRules;
  /** Sends one intent (every request it takes, in order). Throws a SyncError on a refusal or a failed call. */
  write(intent: WriteIntent, ids: IdLookup): Promise<WriteReceipt>;
  /** The calls `write` makes for this intent: pure, so the planner's cost is the run's (plan = run). */
  estimate(intent: WriteIntent): number;
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

export type PageStatus = 'draft' | 'published';

/** One locale of a write, in file form: the changed fields (or every field, for create/replace) and page meta. */
export interface LocaleChange {
  /** Field name → file-form value (references as human keys, media as source URLs, Markdown rich text). */
  fields: Record<string, unknown>;
  /** The status the entity has in this locale once written; absent: the backend keeps what it has. */
  status?: PageStatus | undefined;
  /** The title to set (creates; updates only where `rules.titlesWritable`). */
  title?: string | undefined;
}

/**
 * One entity's write, as the planner decides it: no wire shape, no locale packing, no id form.
 * `create` makes the entity; `update` changes the given fields only; `replace` sets every field (those left
 * out are cleared: planned only where `rules.replaceClearsOmitted`); `delete` removes it (no locales).
 */
export interface WriteIntent {
  kind: 'create' | 'update' | 'replace' | 'delete';
  entity: EntityKey;
  ref: EntityRef;
  /** Per locale, explicitly; empty for a delete. */
  locales: Record<string, LocaleChange>;
  /**
   * The remote id to write to when it is not the one the ids give for `ref` (a renamed item is written under
   * its old id). Absent: the backend finds it through `ids` when it sends (a create's follow-up included).
   */
  remoteId?: RemoteId | undefined;
}

/** What a backend can and cannot do, as data: the planner asks these instead of hard-coding one CMS. */
export interface BackendRules {
  /** A page title can be changed by an update (ButterCMS: no, so a changed title is reported). */
  titlesWritable: boolean;
  /** Pages can be deleted through the API (ButterCMS: no, so a removed page file is reported). */
  pagesDeletable: boolean;
  /** A `replace` clears the fields it omits (ButterCMS PUT on items); without it a removed field is sent empty. */
  replaceClearsOmitted: boolean;
  /** A create answers with the new id (ButterCMS: no, it is found by a read-back, butter-api.md §9.1). */
  createReturnsId: boolean;
  /** An accepted write shows in reads only later (ButterCMS: 202 pending, butter-api.md §3.0). */
  writesApplyLater: boolean;
  /** Entities one write request can carry. */
  maxBatch: number;
  /**
   * Blog posts (issue 11): absent for a CMS without them. `deletable`: a removed post file deletes the post
   * (guarded like items); `titlesWritable`: an update can change a post's title; `cmsFills`: properties the
   * CMS sets itself when a file leaves them empty (ButterCMS: `published`, the date it publishes a post, and
   * `author`, the account owner), so
   * an empty one in a file means "no opinion", never "clear it".
   */
  posts?: { deletable: boolean; titlesWritable: boolean; cmsFills: readonly string[] } | undefined;
}

/** What a write came back with. `gone`: a delete found the entity already deleted (what it wanted). */
export interface WriteReceipt {
  state: 'applied' | 'pending' | 'gone';
  /** The new entity's id, where the backend's create returns one (`rules.createReturnsId`). */
  remoteId?: RemoteId | undefined;
}

/**
 * A write that failed after some of its requests were accepted (one intent can take several, e.g. one per
 * status group): what was accepted may land, so the write is kept pending, never dropped.
 */
export interface PartlySentError extends Error {
  partlySent: true;
}

export function isPartlySent(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { partlySent?: unknown }).partlySent === true
  );
}

export interface CallStats {
  /** Calls by `METHOD STATUS`, e.g. `GET 200`, `PATCH 202`, `POST network`. */
  byMethodStatus: Record<string, number>;
  total: number;
  bytesSent: number;
  bytesReceived: number;
}
