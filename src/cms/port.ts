/**
 * The CMS-neutral port (issue 10; Litestream's ReplicaClient idea): what the engine knows of a CMS. The core
 * plans `WriteIntent`s in file form; a backend (`cms/butter/`, later `cms/webflow/`) owns the wire shapes, the
 * value translation, the ids and the quirks, and states its rules as data the pure planner can ask.
 */

import type { IdLookup } from '../core/api-fields.js';
import type { EntityKey, EntityRef } from '../core/types.js';

/**
 * A remote entity id as the backend hands it out. A number while ButterCMS is the only backend; it becomes an
 * opaque string with the read side of the port (helper PR), which is why code should only pass it along.
 */
export type RemoteId = number;

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

/** The write side of a backend (the read side, `read`/`locate`/`webhook`, comes with helper PR's move). */
export interface CmsBackend {
  readonly rules: BackendRules;
  /** Sends one intent (every request it takes, in order). Throws a SyncError on a refusal or a failed call. */
  write(intent: WriteIntent, ids: IdLookup): Promise<WriteReceipt>;
  /** The calls `write` makes for this intent: pure, so the planner's cost is the run's (plan = run). */
  estimate(intent: WriteIntent): number;
}

export interface CallStats {
  /** Calls by `METHOD STATUS`, e.g. `GET 200`, `PATCH 202`, `POST network`. */
  byMethodStatus: Record<string, number>;
  total: number;
  bytesSent: number;
  bytesReceived: number;
}
