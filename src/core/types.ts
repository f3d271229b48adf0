/**
 * Shared vocabulary of the pure core: entities, snapshots of each side, the manifest's shape and the
 * SyncPlan. Field values in snapshots are always in *file form* (canonical): references as human keys
 * (page slug / item keyField value), media as the source URL, dates as `YYYY-MM-DDTHH:mm:ss` instants.
 */

import type { PageStatus, WriteIntent } from '../cms/port.js';

/**
 * `page:<pageType>:<slug>` (pageType `*` for Single Pages), `item:<collection>:<key>` or `post:<slug>` (a blog
 * post, issue 11).
 */
export type EntityKey = string;

export type EntityRef =
  | { kind: 'page'; pageType: string; slug: string }
  | { kind: 'item'; collection: string; key: string }
  | { kind: 'post'; slug: string };

export function entityKey(ref: EntityRef): EntityKey {
  if (ref.kind === 'post') return `post:${ref.slug}`;
  return ref.kind === 'page' ? `page:${ref.pageType}:${ref.slug}` : `item:${ref.collection}:${ref.key}`;
}

export function parseEntityKey(key: EntityKey): EntityRef {
  if (key.startsWith('post:') && key.length > 'post:'.length) return { kind: 'post', slug: key.slice(5) };
  const [kind, group, ...rest] = key.split(':');
  const name = rest.join(':');
  if (kind === 'page' && group !== undefined) return { kind: 'page', pageType: group, slug: name };
  if (kind === 'item' && group !== undefined) return { kind: 'item', collection: group, key: name };
  throw new Error(`not an entity key: ${key}`);
}

/** Page metadata that is not a field: title (immutable through the API) and status. */
export interface EntityMeta {
  title?: string | undefined;
  status?: PageStatus | undefined;
}

/** One locale of one entity, in canonical (file) form. */
export interface Variant {
  fields: Record<string, unknown>;
  meta: EntityMeta;
}

/** One locale of one entity as read from a file. */
export interface LocalVariant extends Variant {
  /** Path relative to the repo root, with `/` separators. */
  path: string;
}

export interface LocalEntity {
  key: EntityKey;
  ref: EntityRef;
  locales: Record<string, LocalVariant>;
}

/**
 * An entity's id in the CMS, opaque to everything but its backend (ButterCMS: the item's numeric `meta.id` as
 * text; Webflow: a hex id). Declared here, where the manifest needs it, and re-exported by cms/port.ts.
 */
export type RemoteId = string;

export interface RemoteEntity {
  key: EntityKey;
  ref: EntityRef;
  /** Collection item id in the CMS; pages have none. */
  remoteId?: RemoteId | undefined;
  locales: Record<string, Variant>;
}

/** Digest per field name; meta keys are stored as `$title` / `$status`. */
export type FieldDigests = Record<string, string>;

export interface ManifestLocale {
  /** What both sides last agreed on. */
  base: FieldDigests;
  /** The file this locale lives in. */
  path?: string | undefined;
  /** A pull wrote this file and Git may not hold it yet (DESIGN.md §3: a base moves once Git holds it). */
  pulled?: PulledChange | undefined;
}

/**
 * What a pull changed in one file, recorded before the file is written (write-ahead). The next run settles
 * it against the file and Git: the file still holds `next` and Git has it → done; the file went back to
 * `prior` (never written, `git checkout -- .`, a clean checkout with a cached state) → the base goes back
 * to `prior`, so the change is pulled again instead of the old value being pushed over the editor's work.
 */
export interface PulledChange {
  /** The base of each changed field before the pull; `''` = the field had no base. */
  prior: FieldDigests;
  /** The digest each changed field has once the file is written; `''` = the key is removed. */
  next: FieldDigests;
  /** The file was written (a person's later edit is then made on top of the pulled value). */
  written?: true | undefined;
  /** The pull commit holding the file, once made. */
  commit?: string | undefined;
}

export interface ManifestEntity {
  remoteId?: RemoteId | undefined;
  locales: Record<string, ManifestLocale>;
}

/**
 * What a write does, in any CMS (the intent's kind). States written before issue 10 hold ButterCMS endpoint
 * names ('create-page', 'patch-item', ...): `state/manifest-file.ts` maps them on load.
 */
export type PendingKind = WriteIntent['kind'];

/** A write sent (or about to be sent) whose effect has not been read back yet. */
export interface PendingWrite {
  id: string;
  entity: EntityKey;
  kind: PendingKind;
  /** `intent`: recorded before sending (write-ahead); `sent`: 202 received. */
  state: 'intent' | 'sent';
  /** Expected digests per locale once applied (absent for delete). */
  expect: Record<string, FieldDigests>;
  createdAt: string;
  sentAt?: string | undefined;
  /** Give up (→ failed) after this instant. */
  deadline: string;
  /** Media-bearing values sent, per locale and field, so the CDN URLs read back can be mapped to them. */
  media?: Record<string, Record<string, unknown>> | undefined;
  /** Path of the file the write came from (for reports). */
  path?: string | undefined;
  /** The request ended in a 5xx, a timeout or a dropped connection: ButterCMS may or may not have taken it. */
  uncertain?: true | undefined;
}

export interface FailedWrite {
  id: string;
  entity: EntityKey;
  kind: PendingKind;
  reason: string;
  at: string;
  path?: string | undefined;
  /** What the write expected to read back: if it lands late after all, the base moves then. */
  expect?: Record<string, FieldDigests> | undefined;
  /** The media values it sent, so a late landing's CDN URLs can still be mapped to them. */
  media?: Record<string, Record<string, unknown>> | undefined;
  /**
   * ButterCMS refused it (400, 401, 403): it changed nothing and is not pending. Kept so `status` lists it
   * until a later write of the entity is accepted, or a run finds nothing left to send for it.
   */
  refused?: true | undefined;
  /**
   * A create ButterCMS accepted (202) that was not visible by the deadline. It may still land, however late, so
   * it is never sent again on its own (zero duplicates): every run looks it up by its key and adopts it once it
   * shows; `resolve PATH --take git` sends it again after a last lookup finds nothing.
   */
  acceptedCreate?: true | undefined;
  /**
   * Digest of the write ButterCMS refused with a 400: the same write is not sent again (it would be refused
   * again) until the file changes or `resolve <file> --take git` asks for it.
   */
  refusedBody?: string | undefined;
}

/** A failure as `status`, the console and a run's report show it: held-back writes are listed among them. */
export type ShownFailure = FailedWrite & { heldBack?: true | undefined };

/** `status`'s and the report's name for a write: what it does and to what (`create-page`, `update-item`). */
export function writeLabel(kind: PendingKind, entity: EntityKey): string {
  const what = entity.startsWith('page:') ? 'page' : entity.startsWith('post:') ? 'post' : 'item';
  return `${kind}-${what}`;
}

/** A write the plan held back (its `unresolved` reason), kept so `status` lists it and every push retries it. */
export interface HeldBackWrite {
  id: string;
  entity: EntityKey;
  kind: PendingKind;
  reason: string;
  at: string;
  path?: string | undefined;
}

export interface ConflictRecord {
  entity: EntityKey;
  locale: string;
  field: string;
  path?: string | undefined;
  git: unknown;
  cms: unknown;
  at: string;
}

export interface Manifest {
  version: number;
  /** Digest of the content model; a change forces a full reconcile. */
  configDigest: string;
  entities: Record<EntityKey, ManifestEntity>;
  /** CDN URL → source URL written from a file (butter-api.md §3.7). */
  media: Record<string, string>;
  /**
   * Canonical HTML digest → digest of the Markdown it was converted from (issue 11): rich text read back as
   * sent is no change. Optional so states written before it still load.
   */
  richText?: Record<string, string> | undefined;
  pending: PendingWrite[];
  failed: FailedWrite[];
  /**
   * Writes never sent: each referenced something the CMS does not hold yet. Every push retries them (a scoped
   * push adds their files), so each goes out once its target exists, and ends when it is sent. States written
   * before this list kept them in `failed` with `heldBack: true`; they move here on load (manifest-file.ts).
   */
  heldBack: HeldBackWrite[];
  conflicts: ConflictRecord[];
  lastPush?: string | undefined;
  lastPull?: string | undefined;
  /** API calls counted per month `YYYY-MM`, for `monthlyCallBudget`. */
  calls: Record<string, number>;
  /** Entities deleted on one side on purpose, so a stale copy is not created again (src/state/tombstones.ts). */
  tombstones?: Record<EntityKey, Tombstone> | undefined;
}

export interface Tombstone {
  /** Where it was deleted: a file removed in Git (the item was deleted), or an entity gone from the CMS. */
  side: 'git' | 'cms';
  at: string;
  /** The bases it had, per locale, when it was deleted. */
  locales: Record<string, FieldDigests>;
}

/**
 * A write of a SyncPlan: the neutral intent (file form; the backend shapes and sends it, `cms/port.ts`) and
 * what the engine needs around it.
 */
export interface WriteOperation {
  kind: 'write';
  entity: EntityKey;
  intent: WriteIntent;
  /** The calls the write makes (`backend.estimate`): plan = run. */
  cost: number;
  dependsOn: EntityKey[];
  /** Digests per locale the read-back must show once applied (becomes PendingWrite.expect; absent for delete). */
  expect?: Record<string, FieldDigests> | undefined;
  /** Why it cannot be sent yet: it references something that is not in the CMS (set by the planner). */
  unresolved?: string | undefined;
  /**
   * The second half of a create in a reference cycle: the references its create left out, sent after every
   * create of the cycle (plan-cycles.ts). A new item's id is read from the manifest when it is sent.
   */
  completesCycle?: true | undefined;
  /** A renamed item file: the entity this item was known as; its id and base move to `entity` once sent. */
  renamedFrom?: EntityKey | undefined;
}

/** Operations of a SyncPlan. Values are in canonical (file) form; the backend translates them when sending. */
export type Operation =
  | WriteOperation
  | {
      kind: 'write-file';
      entity: EntityKey;
      locale: string;
      path: string;
      /** Changed fields/meta (file form). `null` value = remove the key. */
      set: Record<string, unknown>;
      create: boolean;
      /** The locale's base once the file is written (old base + pulled and adopted digests). */
      base?: FieldDigests | undefined;
      cost: 0;
    }
  | { kind: 'delete-file'; entity: EntityKey; locale: string; path: string; cost: 0 }
  | {
      kind: 'adopt';
      entity: EntityKey;
      locale: string;
      /** The locale's full new base (old base + adopted digests). */
      base: FieldDigests;
      /** Item id to record when the entity is new to the manifest. */
      remoteId?: RemoteId | undefined;
      path?: string | undefined;
      cost: 0;
    }
  | {
      kind: 'conflict';
      entity: EntityKey;
      locale: string;
      field: string;
      path?: string | undefined;
      git: unknown;
      cms: unknown;
      cost: 0;
    }
  | {
      kind: 'report';
      entity: EntityKey;
      path?: string | undefined;
      reason:
        | 'page-removed'
        | 'page-renamed'
        | 'title-changed'
        | 'slug-changed'
        | 'delete-guard'
        | 'deleted-elsewhere'
        | 'unsupported';
      message: string;
      cost: 0;
    };

/**
 * One batch of reads a run makes, per collection or page type × locale: the cheaper of one GET per entity
 * and the list pages of the whole group (the call floor, issue 10).
 */
export interface ReadStep {
  /** `collection tags`, `page type faq`, `single pages`. */
  what: string;
  kind: 'collection' | 'page type' | 'posts';
  /** The collection or page type (`*` for single pages); `posts` for blog posts. */
  name: string;
  locale: string;
  how: 'list' | 'get';
  /** The entities this read is for. */
  entities: EntityKey[];
  calls: number;
}

/** The calls a run makes, by what they are for; `SyncPlan.totalCalls` is their sum. */
export interface CallBreakdown {
  /** Reads before planning: the entities a push writes, or the lists a pull or reconcile reads. */
  reads: number;
  /** Writes: one call per write operation. */
  writes: number;
  /** Read-backs of the writes (202 is not success, butter-api.md §3.0), assuming each shows on the first read. */
  verify: number;
}

export interface SyncPlan {
  operations: Operation[];
  /**
   * The API calls the run makes, everything: the reads before planning, the writes and the verification reads
   * (`breakdown`). A write that is slow to show costs one more verification read per retry.
   */
  totalCalls: number;
  breakdown?: CallBreakdown | undefined;
  /** The reads before planning (`breakdown.reads`) and the verification reads after the writes (`breakdown.verify`). */
  reads?: { before: ReadStep[]; verify: ReadStep[] } | undefined;
}
