import type { FieldSpec, SyncConfig } from '../../config/schema.js';
import type { RichTextOptions } from '../../content/rich-text.js';
import { isSyncError, SyncError } from '../../core/errors.js';
import type { EntityKey, EntityRef, Variant } from '../../core/types.js';
import {
  bindCollection,
  type CollectionBinding,
  fromFieldData,
  type IdMap,
  learnMedia,
  mapLocales,
  type PublishStatus,
  statusOf,
  toFieldData,
} from './field-values.js';
import {
  chunked,
  type ItemTarget,
  type ItemUpdate,
  WebflowClient,
  type WebflowItem,
} from './webflow-client.js';
import { WebflowPipeline, type WebflowPipelineOptions } from './webflow-pipeline.js';
import { decodeWebflowWebhook, type WebflowItemChange } from './webhook-event.js';
import { type SignatureCheck, verifyWebflowSignature } from './webhook-signature.js';

// ---- The port this backend implements --------------------------------------------------------------------
// Written here as local types, named as in review-architecture.md §1 "Redesign", so the lead can swap them for
// the real `CmsBackend` of cms/port.ts once the neutral port lands. Differences from the sketch, and why:
// - `writeAll(intents)` beside `write(intent)`: Webflow's floor is one bulk request per 100 items (§2.6), which a
//   one-intent-at-a-time write cannot reach; `estimate` takes a list for the same reason (a batch of 150 costs
//   2 PATCHes, not 150 × 1).
// - `WriteReceipt.state` adds 'exists' (the slug lookup before a create found the item: nothing was sent, the
//   engine adopts or merges it) and 'held-back' (a reference names an item with no id yet: nothing was sent).

/** Opaque remote id: Webflow's 24-hex item id. */
export type RemoteId = string;

/** What the planner asks instead of hard-coding one CMS's facts. */
export interface BackendRules {
  /** A title (Webflow's `name`) can be written. */
  titlesWritable: boolean;
  /** Which entity kinds exist: Webflow has collection items only. */
  pages: 'none' | 'pages';
  pagesDeletable: boolean;
  /** A 'replace' clears fields it omits (a PUT); false: the backend sends explicit clears (PATCH, §2.6). */
  replaceClearsOmitted: boolean;
  /** A create's answer carries the new id (§2.5), so no read-back is needed to learn it. */
  createReturnsId: boolean;
  /** Writes show in reads later than their answer (ButterCMS's 202); Webflow's staged writes apply at once. */
  writesApplyLater: boolean;
  /** Items per bulk request (§2.1). */
  maxBatch: number;
}

/** What to read: whole collections, or some entities. */
export interface ReadScope {
  collections?: string[];
  entities?: EntityRef[];
}

/** One locale of an intent: the changed fields in file form, plus status and title when they change. */
export interface LocaleIntent {
  fields: Record<string, unknown>;
  status?: PublishStatus | undefined;
  title?: string | undefined;
}

/** A write the planner wants, CMS-neutral (review-architecture.md §1). */
export interface WriteIntent {
  kind: 'create' | 'update' | 'replace' | 'delete';
  entity: EntityKey;
  ref: EntityRef;
  /** Known id (updates, deletes); a create has none. */
  remoteId?: RemoteId | undefined;
  locales: Record<string, LocaleIntent>;
  /** The file the intent came from, for error messages. */
  path?: string | undefined;
}

export interface WriteReceipt {
  entity: EntityKey;
  state: 'applied' | 'pending' | 'exists' | 'held-back' | 'failed';
  remoteId?: RemoteId | undefined;
  /** The slug Webflow gave a create when it differs from the one asked for (a taken slug is suffixed, §2.5). */
  keyAssigned?: string | undefined;
  /** Whether the item is live after the write (published in the same run). */
  live?: boolean | undefined;
  /** CDN URL → the URL the file holds, for the manifest's media map. */
  mediaLearned?: Record<string, string> | undefined;
  /** Entity keys of references with no id yet (held-back). */
  waitingFor?: string[] | undefined;
  /** What went wrong or needs a person: a failed publish (§2.8 `errors`), a suffixed slug, the error. */
  problems?: string[] | undefined;
  error?: SyncError | undefined;
}

/** A remote entity in file form. */
export interface RemoteEntityRead {
  key: EntityKey;
  ref: EntityRef;
  remoteId: RemoteId;
  locales: Record<string, Variant>;
}

export interface RemoteSnapshot {
  entities: Map<EntityKey, RemoteEntityRead>;
  /** Every id learned by the read, by entity key. */
  ids: Map<EntityKey, RemoteId>;
}

/** What a webhook delivery asks the daemon to pull. */
export interface PullTarget {
  change: WebflowItemChange;
  collection: string;
  remoteId: RemoteId;
  /** Known when the item was read or written before. */
  entity?: EntityKey | undefined;
  locale?: string | undefined;
  lastUpdated: string | null;
}

export interface WebhookDecoder {
  verify(headers: Record<string, string | string[] | undefined>, rawBody: Buffer | string): SignatureCheck;
  parse(
    rawBody: Buffer | string,
  ):
    | { kind: 'pull'; target: PullTarget }
    | { kind: 'ignored'; reason: string }
    | { kind: 'invalid'; reason: string };
}

export interface CallStats {
  total: number;
  /** `METHOD STATUS`, e.g. `PATCH 200`, `POST network`. */
  byMethodStatus: Record<string, number>;
}

export interface CmsBackend {
  readonly rules: BackendRules;
  read(scope: ReadScope, ids: IdMap): Promise<RemoteSnapshot>;
  write(intent: WriteIntent, ids: IdMap): Promise<WriteReceipt>;
  writeAll(intents: readonly WriteIntent[], ids: IdMap): Promise<WriteReceipt[]>;
  locate(ref: EntityRef): Promise<RemoteId | undefined>;
  /** The requests `writeAll(intents)` makes when nothing fails, the schema load included while not done yet. */
  estimate(intents: readonly WriteIntent[], ids: IdMap): number;
  webhook?: WebhookDecoder;
  stats(): CallStats;
  close(deadlineMs?: number): Promise<void>;
}

// ---- The Webflow backend -----------------------------------------------------------------------------------

export const WEBFLOW_RULES: BackendRules = {
  titlesWritable: true,
  pages: 'none',
  pagesDeletable: false,
  replaceClearsOmitted: false,
  createReturnsId: true,
  writesApplyLater: false,
  maxBatch: 100,
};

export interface WebflowBackendOptions {
  config: SyncConfig;
  /** From WEBFLOW_TOKEN only. */
  token: string;
  /** Default https://api.webflow.com/v2; WEBFLOW_API_URL for the emulator. */
  baseUrl?: string;
  /** Default `config.cms.siteId`. */
  siteId?: string;
  /** Pipeline settings (rate, window, concurrency, retries). */
  pipeline?: Omit<WebflowPipelineOptions, 'baseUrl' | 'token'>;
  /** The manifest's media map, CDN URL → file URL (read by reference; learned entries come back in receipts). */
  media?: Readonly<Record<string, string>>;
  /** HTML → file-form value with the manifest's rich-text map (sync/rich-text-map.ts richTextReader). */
  readRichText?: (html: string) => unknown;
  /** Remembers each HTML sent for the Markdown it came from, before the request leaves. */
  learnRichText?: (html: string, markdown: string) => void;
  /** The webhook's signing key (its `secretKey`, or the OAuth client secret), for `webhook.verify`. */
  webhookSecret?: string;
}

/** A locale variant key inside the backend: the cmsLocaleId, or '' on a site without localization. */
type LocaleKey = string;

interface KnownItem {
  collection: string;
  /** Per variant: its slug and whether it is live. */
  variants: Map<LocaleKey, { slug: string; live: boolean }>;
}

interface Schema {
  bindings: Map<string, CollectionBinding & { id: string }>;
  collectionKeyById: Map<string, string>;
  /** Config locale tag → cmsLocaleId (null without localization). */
  locales: Map<string, string | null>;
  primaryTag: string;
}

/** One staged PATCH entry in the making; created items get their id at run time. */
interface PatchWork {
  entity: EntityKey;
  remoteId?: RemoteId;
  tag: string;
  fieldData: Record<string, unknown>;
  isDraft?: boolean;
  /** Reference fields whose targets are created in the same batch: shaped once those have ids. */
  deferred?: Record<string, unknown>;
}

interface CreateWork {
  intent: WriteIntent;
  slug: string;
  tags: string[];
  isDraft: boolean;
  fieldData: Record<string, unknown>;
}

interface CollectionWork {
  key: string;
  creates: CreateWork[];
  patches: PatchWork[];
  /** Entity → locale tags to publish / unpublish after the PATCHes. */
  publish: Map<EntityKey, Set<string>>;
  unpublish: Map<EntityKey, Set<string>>;
  deletes: Array<{ intent: WriteIntent; remoteId: RemoteId; unpublish: boolean }>;
}

interface BatchPlan {
  collections: CollectionWork[];
  /** Receipts decided without a request (held back, pages, unknown ids). */
  settled: Map<EntityKey, WriteReceipt>;
}

const DEFAULT_BASE = 'https://api.webflow.com/v2';

/** Build the Webflow backend: the port's members on one rate-limited pipeline (webflow-api.md §5). */
export function makeWebflowBackend(options: WebflowBackendOptions): CmsBackend & {
  /** Load the site's locales and the configured collections' schemas (2 + one call per collection). */
  open(): Promise<void>;
  readonly client: WebflowClient;
} {
  const { config } = options;
  const siteId = options.siteId ?? config.cms?.siteId;
  if (!siteId) {
    throw new SyncError('CONFIG_INVALID', 'sync.config.json: cms.siteId is missing (the Webflow site id)', {
      hint: 'Set "cms": {"kind": "webflow", "siteId": "<24 hex>"}.',
    });
  }
  for (const [key, model] of Object.entries(config.collections)) {
    if (model.keyField !== 'slug') {
      throw new SyncError(
        'CONFIG_INVALID',
        `sync.config.json: collections.${key}.keyField is "${model.keyField}"; Webflow items are named by their slug`,
        { hint: 'Set "keyField": "slug" (init --from-cms webflow writes it).' },
      );
    }
  }
  const counts: Record<string, number> = {};
  let total = 0;
  const userOnCall = options.pipeline?.onCall;
  const pipeline = new WebflowPipeline({
    ...options.pipeline,
    baseUrl: options.baseUrl ?? DEFAULT_BASE,
    token: options.token,
    onCall(event) {
      total++;
      const k = `${event.method} ${event.status}`;
      counts[k] = (counts[k] ?? 0) + 1;
      userOnCall?.(event);
    },
  });
  const client = new WebflowClient(pipeline, siteId);
  const media = options.media ?? {};
  const richText: RichTextOptions = { publicBaseUrl: config.publicBaseUrl };
  const known = new Map<RemoteId, KnownItem>();
  let schema: Schema | undefined;
  let opening: Promise<Schema> | undefined;

  async function loadSchema(): Promise<Schema> {
    const site = await client.getSite();
    const listed = await client.listCollections();
    const bindings = new Map<string, CollectionBinding & { id: string }>();
    const collectionKeyById = new Map(listed.map((c) => [c.id, c.slug]));
    for (const [key, model] of Object.entries(config.collections)) {
      const found = listed.find((c) => c.slug === key);
      if (!found) {
        throw new SyncError(
          'CONFIG_INVALID',
          `sync.config.json: collections.${key}: the Webflow site has no collection "${key}"`,
          {
            hint: `Collections on the site: ${listed.map((c) => c.slug).join(', ') || 'none'}.`,
          },
        );
      }
      const detail = await client.getCollection(found.id);
      bindings.set(key, { ...bindCollection(key, detail, model.fields), id: found.id });
    }
    return {
      bindings,
      collectionKeyById,
      locales: mapLocales(site, config.locales.all, config.locales.default),
      primaryTag: config.locales.default,
    };
  }

  async function open(): Promise<void> {
    if (schema) return;
    opening ??= loadSchema();
    try {
      schema = await opening;
    } finally {
      opening = undefined;
    }
  }

  function need(): Schema {
    if (!schema) throw new Error('webflow backend: open() first');
    return schema;
  }

  const schemaCalls = () => (schema ? 0 : 2 + Object.keys(config.collections).length);
  const keyOf = (tags: Map<string, string | null>, tag: string): LocaleKey => tags.get(tag) ?? '';
  const tagOf = (s: Schema, key: LocaleKey): string | undefined => {
    for (const [tag, id] of s.locales) if ((id ?? '') === key) return tag;
    return undefined;
  };
  const binding = (s: Schema, collection: string) => {
    const b = s.bindings.get(collection);
    if (!b) {
      throw new SyncError('CONTENT_PATH', `collection "${collection}" is not configured in sync.config.json`);
    }
    return b;
  };

  function remember(collection: string, item: WebflowItem): void {
    const entry = known.get(item.id) ?? { collection, variants: new Map() };
    entry.variants.set(item.cmsLocaleId ?? '', {
      slug: String(item.fieldData.slug ?? ''),
      live: statusOf(item) === 'published',
    });
    known.set(item.id, entry);
  }

  /** Is this variant live? undefined when the backend never saw it. */
  function liveOf(id: RemoteId | undefined, locale: LocaleKey): boolean | undefined {
    return id === undefined ? undefined : known.get(id)?.variants.get(locale)?.live;
  }

  // ---- planning a batch (pure: estimate and writeAll share it) ----

  function planBatch(s: Schema, intents: readonly WriteIntent[], ids: IdMap, forRun: boolean): BatchPlan {
    const settled = new Map<EntityKey, WriteReceipt>();
    const byCollection = new Map<string, CollectionWork>();
    const work = (key: string): CollectionWork => {
      let w = byCollection.get(key);
      if (!w) {
        w = { key, creates: [], patches: [], publish: new Map(), unpublish: new Map(), deletes: [] };
        byCollection.set(key, w);
      }
      return w;
    };
    const creating = new Set(intents.filter((i) => i.kind === 'create').map((i) => i.entity));
    const planOne = (intent: WriteIntent): void => {
      if (intent.ref.kind !== 'item') {
        settled.set(intent.entity, {
          entity: intent.entity,
          state: 'failed',
          error: new SyncError(
            'CONTENT_PATH',
            `${intent.path ?? intent.entity}: Webflow has no pages, only collection items`,
          ),
        });
        return;
      }
      const b = binding(s, intent.ref.collection);
      const w = work(b.key);
      if (intent.kind === 'delete') {
        if (!intent.remoteId) {
          settled.set(intent.entity, { entity: intent.entity, state: 'applied' }); // never created: nothing to delete
          return;
        }
        const variants = known.get(intent.remoteId)?.variants;
        // §2.7 "gone everywhere": unpublish first, unless the item is known not to be live.
        const unpublish = variants === undefined || [...variants.values()].some((v) => v.live);
        w.deletes.push({ intent, remoteId: intent.remoteId, unpublish });
        return;
      }
      const where = intent.path ?? intent.entity;
      const shaped = new Map<
        string,
        { fieldData: Record<string, unknown>; deferred: Record<string, unknown> }
      >();
      const waiting: string[] = [];
      for (const [tag, loc] of Object.entries(intent.locales)) {
        if (!s.locales.has(tag)) {
          throw new SyncError(
            'CONTENT_PATH',
            `${where}: locale "${tag}" is not in locales.all of sync.config.json`,
          );
        }
        const fields = { ...loc.fields };
        if (intent.kind === 'replace') {
          // No PUT on Webflow (§2.6): a replace names every configured field, the omitted ones as cleared.
          // `name` and `slug` are required and never cleared.
          for (const name of Object.keys(b.fields)) {
            if (!(name in fields) && name !== 'name' && name !== 'slug') fields[name] = null;
          }
        }
        if (
          loc.title !== undefined &&
          !('name' in fields) &&
          b.schema.fields.some((f) => f.slug === 'name')
        ) {
          fields.name = loc.title;
        }
        if (intent.kind === 'create' && tag === s.primaryTag) fields.slug ??= intent.ref.key;
        const wire = toFieldData(b, fields, {
          ids,
          media,
          richText,
          learnRichText: forRun ? options.learnRichText : undefined,
          where,
        });
        const deferred: Record<string, unknown> = {};
        for (const [name, missing] of Object.entries(wire.unresolved)) {
          if (missing.every((m) => creating.has(m))) deferred[name] = fields[name];
          else waiting.push(...missing.filter((m) => !creating.has(m)));
        }
        shaped.set(tag, { fieldData: wire.fieldData, deferred });
      }
      if (waiting.length > 0) {
        settled.set(intent.entity, {
          entity: intent.entity,
          state: 'held-back',
          waitingFor: [...new Set(waiting)],
        });
        return;
      }
      const tags = Object.keys(intent.locales);
      if (intent.kind === 'create') {
        if (!tags.includes(s.primaryTag)) {
          settled.set(intent.entity, {
            entity: intent.entity,
            state: 'failed',
            error: new SyncError(
              'CONTENT_PATH',
              `${where}: a new Webflow item needs its ${s.primaryTag} file first (the primary locale holds the item, §7)`,
            ),
          });
          return;
        }
        const primary = shaped.get(s.primaryTag)!;
        const published = intent.locales[s.primaryTag]?.status === 'published';
        w.creates.push({
          intent,
          slug: intent.ref.key,
          tags,
          isDraft: !published,
          fieldData: primary.fieldData,
        });
        // The bulk create copies the primary fieldData into every locale; the others are PATCHed with their own.
        for (const tag of tags) {
          const { fieldData, deferred } = shaped.get(tag)!;
          const own = tag === s.primaryTag ? {} : fieldData;
          if (Object.keys(own).length > 0 || Object.keys(deferred).length > 0) {
            w.patches.push({ entity: intent.entity, tag, fieldData: own, deferred });
          }
          if (intent.locales[tag]?.status === 'published') addTo(w.publish, intent.entity, tag);
        }
        return;
      }
      if (!intent.remoteId) {
        settled.set(intent.entity, {
          entity: intent.entity,
          state: 'failed',
          error: new SyncError('INTERNAL', `${where}: an ${intent.kind} without the item's Webflow id`),
        });
        return;
      }
      for (const tag of tags) {
        const { fieldData, deferred } = shaped.get(tag)!;
        const status = intent.locales[tag]?.status;
        const live = liveOf(intent.remoteId, keyOf(s.locales, tag));
        const patch: PatchWork = {
          entity: intent.entity,
          remoteId: intent.remoteId,
          tag,
          fieldData,
          deferred,
        };
        if (status === 'draft') patch.isDraft = true;
        if (Object.keys(fieldData).length > 0 || Object.keys(deferred).length > 0 || status === 'draft') {
          w.patches.push(patch);
        }
        // A live item's staged edit goes live in the same run (issue 12); a draft goes off the live site.
        if (status === 'published' || (status === undefined && live === true))
          addTo(w.publish, intent.entity, tag);
        if (status === 'draft' && live !== false) addTo(w.unpublish, intent.entity, tag);
      }
    };
    for (const intent of intents) {
      try {
        planOne(intent);
      } catch (error) {
        // A value the site cannot take (an unknown option, a bad date) fails its own intent before any request.
        if (!isSyncError(error)) throw error;
        settled.set(intent.entity, {
          entity: intent.entity,
          state: 'failed',
          error,
          problems: [error.message],
        });
      }
    }
    return { collections: [...byCollection.values()], settled };
  }

  function countBatch(plan: BatchPlan): number {
    let calls = 0;
    for (const w of plan.collections) {
      calls += w.creates.length; // the slug lookup before each create
      for (const group of createGroups(w.creates).values()) calls += chunked(group).length;
      calls += chunked(w.patches).length;
      calls += chunked([...w.publish.keys()]).length;
      calls += chunked([...w.unpublish.keys()]).length;
      calls += chunked(w.deletes.filter((d) => d.unpublish)).length;
      calls += chunked(w.deletes).length;
    }
    return calls;
  }

  // ---- running a batch ----

  /**
   * Creates first (everything else may reference them), then the PATCHes, then publishes, unpublishes and
   * deletes. Within a phase every request is queued at once: the pipeline paces them, so the budget is spent
   * evenly instead of waiting for each answer in turn.
   */
  async function runBatch(s: Schema, plan: BatchPlan, ids: IdMap): Promise<Map<EntityKey, WriteReceipt>> {
    const receipts = new Map(plan.settled);
    const created = new Map<EntityKey, RemoteId>();
    const idsNow: IdMap = { get: (key) => created.get(key) ?? ids.get(key) };
    await Promise.all(plan.collections.map((w) => createAll(s, w, receipts, created)));
    await Promise.all(plan.collections.map((w) => patchAll(s, w, receipts, created, idsNow)));
    await Promise.all(
      plan.collections.map(async (w) => {
        await publishAll(s, w, receipts, created);
        await unpublishAll(s, w, receipts, created);
        await deleteAll(s, w, receipts);
      }),
    );
    return receipts;
  }

  async function patchAll(
    s: Schema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
    idsNow: IdMap,
  ): Promise<void> {
    const b = binding(s, w.key);
    const idOf = (p: { entity: EntityKey; remoteId?: RemoteId }) => p.remoteId ?? created.get(p.entity);
    // Entries of intents that failed before (a create that did not happen) are dropped.
    const patches = w.patches.filter((p) => idOf(p) !== undefined && receiptOk(receipts.get(p.entity)));
    await Promise.all(
      chunked(patches).map(async (chunk) => {
        const entries: ItemUpdate[] = chunk.map((p) => {
          const fieldData = { ...p.fieldData };
          if (p.deferred && Object.keys(p.deferred).length > 0) {
            const late = toFieldData(b, p.deferred, { ids: idsNow, media, richText, where: p.entity });
            Object.assign(fieldData, late.fieldData);
          }
          const locale = s.locales.get(p.tag) ?? null;
          return {
            id: idOf(p)!,
            ...(locale ? { cmsLocaleId: locale } : {}),
            ...(p.isDraft !== undefined ? { isDraft: p.isDraft } : {}),
            fieldData,
          };
        });
        await sendPatches(b, chunk, entries, receipts, idOf);
      }),
    );
  }

  /**
   * One bulk PATCH, all or none (§2.6). When Webflow refuses it, the good entries still go out: a 404 means an item
   * is gone (deleted in Webflow meanwhile), so the collection is listed and the rest sent again; a 400 names a
   * field but not the item, so the batch is halved until the refused entries stand alone. A refused request
   * changed nothing, so sending its entries again is safe. These extra calls are outside `estimate`, which counts
   * the run where nothing is refused.
   */
  async function sendPatches(
    b: CollectionBinding & { id: string },
    chunk: PatchWork[],
    entries: ItemUpdate[],
    receipts: Map<EntityKey, WriteReceipt>,
    idOf: (p: PatchWork) => RemoteId | undefined,
  ): Promise<void> {
    try {
      const answer = await client.updateItems(b.id, entries);
      const byVariant = new Map(answer.map((a) => [`${a.id}\0${a.cmsLocaleId ?? ''}`, a]));
      for (const item of answer) remember(b.key, item);
      chunk.forEach((p, i) => {
        const entry = entries[i]!;
        const back = byVariant.get(`${entry.id}\0${entry.cmsLocaleId ?? ''}`);
        const learned = back ? learnMedia(b, entry.fieldData ?? {}, back.fieldData) : {};
        settle(receipts, p.entity, { state: 'applied', remoteId: idOf(p), mediaLearned: learned });
      });
    } catch (error) {
      if (isSyncError(error) && error.code === 'CMS_NOT_FOUND' && chunk.length > 1) {
        const present = new Set((await client.listItems(b.id)).map((i) => i.id));
        const keep = chunk.flatMap((_p, i) => (present.has(entries[i]!.id) ? [i] : []));
        chunk.forEach((p, i) => {
          if (!present.has(entries[i]!.id)) fail(receipts, p.entity, error);
        });
        if (keep.length > 0 && keep.length < chunk.length) {
          await sendPatches(
            b,
            keep.map((i) => chunk[i]!),
            keep.map((i) => entries[i]!),
            receipts,
            idOf,
          );
        } else if (keep.length === chunk.length) for (const p of chunk) fail(receipts, p.entity, error);
        return;
      }
      if (isSyncError(error) && error.status === 400 && chunk.length > 1) {
        const half = Math.ceil(chunk.length / 2);
        await sendPatches(b, chunk.slice(0, half), entries.slice(0, half), receipts, idOf);
        await sendPatches(b, chunk.slice(half), entries.slice(half), receipts, idOf);
        return;
      }
      // Nothing changed: every entity of the request failed.
      for (const p of chunk) fail(receipts, p.entity, error);
    }
  }

  async function createAll(
    s: Schema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
  ): Promise<void> {
    const b = binding(s, w.key);
    const primary = s.locales.get(s.primaryTag) ?? null;
    // §2.5, §11.2: no idempotency key, a taken slug is silently suffixed: look the slug up before every create.
    const toSend: CreateWork[] = [];
    const lookups = await Promise.all(w.creates.map((c) => client.findBySlug(b.id, c.slug, primary)));
    for (const [i, c] of w.creates.entries()) {
      const found = lookups[i];
      if (found) {
        remember(b.key, found);
        receipts.set(c.intent.entity, {
          entity: c.intent.entity,
          state: 'exists',
          remoteId: found.id,
          live: statusOf(found) === 'published',
        });
      } else toSend.push(c);
    }
    const chunks = [...createGroups(toSend).values()].flatMap((group) => chunked(group));
    await Promise.all(
      chunks.map(async (chunk) => {
        const locales = chunk[0]!.tags
          .map((t) => s.locales.get(t))
          .filter((l): l is string => typeof l === 'string');
        const send = (list: CreateWork[]) =>
          client.createItems(b.id, {
            fieldData: list.map((c) => c.fieldData),
            cmsLocaleIds: locales,
            isDraft: list[0]!.isDraft,
          });
        let answered: Array<{ work: CreateWork; item: WebflowItem }>;
        try {
          answered = pairCreated(chunk, await send(chunk), primary);
        } catch (error) {
          if (!isUncertain(error)) {
            for (const c of chunk) fail(receipts, c.intent.entity, error);
            return;
          }
          // The answer was lost: Webflow may have made them. Look each slug up; send again only what is not there.
          answered = [];
          const missing: CreateWork[] = [];
          const again = await Promise.all(chunk.map((c) => client.findBySlug(b.id, c.slug, primary)));
          chunk.forEach((c, i) => {
            const found = again[i];
            if (found) answered.push({ work: c, item: found });
            else missing.push(c);
          });
          if (missing.length > 0) {
            try {
              answered.push(...pairCreated(missing, await send(missing), primary));
            } catch (again) {
              for (const c of missing) fail(receipts, c.intent.entity, again);
            }
          }
        }
        for (const { work, item } of answered) {
          remember(b.key, item);
          created.set(work.intent.entity, item.id);
          const slug = String(item.fieldData.slug ?? '');
          const renamed = slug !== work.slug;
          receipts.set(work.intent.entity, {
            entity: work.intent.entity,
            state: 'applied',
            remoteId: item.id,
            live: false,
            mediaLearned: learnMedia(b, work.fieldData, item.fieldData),
            ...(renamed
              ? {
                  keyAssigned: slug,
                  problems: [
                    `${work.intent.path ?? work.intent.entity}: Webflow already had the slug "${work.slug}" (an item deleted but still on the live site, or made at the same moment), so it named the new item "${slug}"`,
                  ],
                }
              : {}),
          });
        }
      }),
    );
  }

  async function publishAll(
    s: Schema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
  ): Promise<void> {
    const b = binding(s, w.key);
    const targets = targetsOf(s, w.publish, receipts, created);
    await Promise.all(
      chunked(targets).map(async (chunk) => {
        let result: Awaited<ReturnType<WebflowClient['publishItems']>>;
        try {
          // Publishing is idempotent, so unlike a create it may be sent again after a lost answer.
          result = await client
            .publishItems(
              b.id,
              chunk.map((t) => t.target),
            )
            .catch((error: unknown) => {
              if (!isUncertain(error)) throw error;
              return client.publishItems(
                b.id,
                chunk.map((t) => t.target),
              );
            });
        } catch (error) {
          for (const t of chunk) addProblem(receipts, t.entity, `not published: ${describe(error)}`, false);
          return;
        }
        for (const t of chunk) {
          const ok = result.publishedItemIds.includes(t.target.id);
          // §2.8: per-item failures come back with HTTP 202, as strings naming the id.
          const why = result.errors.filter((e) => e.includes(t.target.id));
          if (ok) markLive(t.target, true, s);
          const receipt = receipts.get(t.entity);
          if (receipt && ok) receipt.live = true;
          if (!ok)
            addProblem(
              receipts,
              t.entity,
              `not published: ${why.join('; ') || 'Webflow did not say why'}`,
              false,
            );
        }
      }),
    );
  }

  async function unpublishAll(
    s: Schema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
  ): Promise<void> {
    const b = binding(s, w.key);
    await Promise.all(
      chunked(targetsOf(s, w.unpublish, receipts, created)).map(async (chunk) => {
        try {
          await client.unpublishItems(
            b.id,
            chunk.map((t) => t.target),
          );
          for (const t of chunk) {
            markLive(t.target, false, s);
            const receipt = receipts.get(t.entity);
            if (receipt) receipt.live = false;
          }
        } catch (error) {
          for (const t of chunk) addProblem(receipts, t.entity, `not unpublished: ${describe(error)}`, true);
        }
      }),
    );
  }

  async function deleteAll(
    s: Schema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
  ): Promise<void> {
    const b = binding(s, w.key);
    const all = [...s.locales.values()].filter((l): l is string => typeof l === 'string');
    const target = (id: RemoteId): ItemTarget => (all.length > 0 ? { id, cmsLocaleIds: all } : { id });
    // A missing id is a 404 for the whole bulk request; item by item, a 404 means it is gone already (§2.7).
    const oneByOne = async (list: RemoteId[], call: (t: ItemTarget[]) => Promise<void>) => {
      const failed = new Map<RemoteId, unknown>();
      for (const id of list) {
        try {
          await call([target(id)]);
        } catch (error) {
          if (!(isSyncError(error) && error.code === 'CMS_NOT_FOUND')) failed.set(id, error);
        }
      }
      return failed;
    };
    const bulk = async (list: RemoteId[], call: (t: ItemTarget[]) => Promise<void>) => {
      const failed = new Map<RemoteId, unknown>();
      for (const chunk of chunked(list)) {
        try {
          await call(chunk.map(target));
        } catch (error) {
          if (isSyncError(error) && error.code === 'CMS_NOT_FOUND') {
            for (const [id, e] of await oneByOne(chunk, call)) failed.set(id, e);
          } else for (const id of chunk) failed.set(id, error);
        }
      }
      return failed;
    };
    const unpublishFailed = await bulk(
      w.deletes.filter((d) => d.unpublish).map((d) => d.remoteId),
      (t) => client.unpublishItems(b.id, t),
    );
    const deleteFailed = await bulk(
      w.deletes.filter((d) => !unpublishFailed.has(d.remoteId)).map((d) => d.remoteId),
      (t) => client.deleteItems(b.id, t),
    );
    for (const d of w.deletes) {
      const error = unpublishFailed.get(d.remoteId) ?? deleteFailed.get(d.remoteId);
      if (error !== undefined) fail(receipts, d.intent.entity, error);
      else {
        known.delete(d.remoteId);
        receipts.set(d.intent.entity, {
          entity: d.intent.entity,
          state: 'applied',
          remoteId: d.remoteId,
          live: false,
        });
      }
    }
  }

  function targetsOf(
    s: Schema,
    wanted: Map<EntityKey, Set<string>>,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
  ): Array<{ entity: EntityKey; target: ItemTarget }> {
    const out: Array<{ entity: EntityKey; target: ItemTarget }> = [];
    for (const [entity, tags] of wanted) {
      const receipt = receipts.get(entity);
      const id = receipt?.remoteId ?? created.get(entity);
      if (!id || !receiptOk(receipt) || receipt?.state === 'exists') continue;
      const localeIds = [...tags]
        .map((t) => s.locales.get(t))
        .filter((l): l is string => typeof l === 'string');
      out.push({ entity, target: localeIds.length > 0 ? { id, cmsLocaleIds: localeIds } : { id } });
    }
    return out;
  }

  function markLive(target: ItemTarget, live: boolean, s: Schema): void {
    const entry = known.get(target.id);
    if (!entry) return;
    const keys = target.cmsLocaleIds ?? [keyOf(s.locales, s.primaryTag)];
    for (const k of keys) {
      const v = entry.variants.get(k);
      if (v) v.live = live;
    }
  }

  // ---- reads ----

  async function read(scope: ReadScope, ids: IdMap): Promise<RemoteSnapshot> {
    await open();
    const s = need();
    const wanted = new Set(scope.collections ?? []);
    const entityScope = new Map<string, Set<string>>();
    for (const ref of scope.entities ?? []) {
      if (ref.kind !== 'item') continue;
      if (!entityScope.has(ref.collection)) entityScope.set(ref.collection, new Set());
      entityScope.get(ref.collection)!.add(ref.key);
    }
    const localeIds = [...s.locales.values()].filter((l): l is string => typeof l === 'string');
    const raw = new Map<string, WebflowItem[]>();
    const listAll = async (key: string) => {
      const items = await client.listItems(
        binding(s, key).id,
        localeIds.length > 0 ? { cmsLocaleIds: localeIds } : {},
      );
      for (const item of items) remember(key, item);
      raw.set(key, items);
    };
    for (const key of wanted) await listAll(key);
    for (const [key, slugs] of entityScope) {
      if (wanted.has(key)) continue;
      const b = binding(s, key);
      const items: WebflowItem[] = [];
      for (const slug of slugs) {
        const found = await client.findBySlug(b.id, slug, s.locales.get(s.primaryTag) ?? null);
        if (!found) continue;
        items.push(found);
        // Secondary variants may carry other slugs (§3): read each one by id.
        for (const l of localeIds) {
          if (l === found.cmsLocaleId) continue;
          const variant = await client.getItem(b.id, found.id, { cmsLocaleId: l });
          if (variant) items.push(variant);
        }
      }
      for (const item of items) remember(key, item);
      raw.set(key, items);
    }
    const idsOut = new Map<EntityKey, RemoteId>();
    const slugIndex = new Map<string, Map<RemoteId, string>>();
    const index = (key: string, id: RemoteId, slug: string) => {
      if (!slugIndex.has(key)) slugIndex.set(key, new Map());
      slugIndex.get(key)!.set(id, slug);
    };
    const primaryKey = keyOf(s.locales, s.primaryTag);
    for (const [id, k] of known) {
      const slug = k.variants.get(primaryKey)?.slug;
      if (slug) index(k.collection, id, slug);
    }
    const convert = () => {
      const unknown = new Set<string>();
      const entities = new Map<EntityKey, RemoteEntityRead>();
      for (const [key, items] of raw) {
        const b = binding(s, key);
        const byId = new Map<RemoteId, WebflowItem[]>();
        for (const item of items) byId.set(item.id, [...(byId.get(item.id) ?? []), item]);
        for (const [id, variants] of byId) {
          const primaryItem = variants.find((v) => (v.cmsLocaleId ?? '') === primaryKey);
          if (!primaryItem) continue; // an item always has its primary variant; a list without it is mid-change
          const slug = String(primaryItem.fieldData.slug ?? '');
          const entity = `item:${key}:${slug}`;
          idsOut.set(entity, id);
          const locales: Record<string, Variant> = {};
          for (const v of variants) {
            const tag = tagOf(s, v.cmsLocaleId ?? '');
            if (tag === undefined) continue;
            const file = fromFieldData(b, v.fieldData, {
              media,
              readRichText: options.readRichText,
              slugOf: (collection, refId) =>
                slugIndex.get(collection)?.get(refId) ?? lookupId(ids, collection, refId),
            });
            for (const [target, list] of Object.entries(file.unknownIds))
              for (const i of list) unknown.add(`${target}\0${i}`);
            locales[tag] = {
              fields: file.fields,
              meta: {
                title: typeof v.fieldData.name === 'string' ? v.fieldData.name : undefined,
                status: statusOf(v),
              },
            };
          }
          entities.set(entity, {
            key: entity,
            ref: { kind: 'item', collection: key, key: slug },
            remoteId: id,
            locales,
          });
        }
      }
      return { entities, unknown };
    };
    let result = convert();
    // References into collections this read did not cover: list those once, then name the references.
    const missingCollections = new Set(
      [...result.unknown].map((u) => u.split('\0')[0]!).filter((c) => s.bindings.has(c) && !raw.has(c)),
    );
    if (missingCollections.size > 0) {
      for (const key of missingCollections) {
        const items = await client.listItems(
          binding(s, key).id,
          primaryKey ? { cmsLocaleIds: [primaryKey] } : {},
        );
        for (const item of items) {
          remember(key, item);
          index(key, item.id, String(item.fieldData.slug ?? ''));
          idsOut.set(`item:${key}:${String(item.fieldData.slug ?? '')}`, item.id);
        }
      }
      result = convert();
    }
    return { entities: result.entities, ids: idsOut };
  }

  function lookupId(ids: IdMap, collection: string, id: RemoteId): string | undefined {
    // An IdMap can only be asked by key; a Map can be walked. Anything else knows no slugs by id.
    if (ids instanceof Map) {
      for (const [key, value] of ids as Map<string, string>) {
        if (value === id && key.startsWith(`item:${collection}:`))
          return key.slice(`item:${collection}:`.length);
      }
    }
    return undefined;
  }

  // ---- the port ----

  const backend = {
    rules: WEBFLOW_RULES,
    client,
    open,
    read,
    async writeAll(intents: readonly WriteIntent[], ids: IdMap): Promise<WriteReceipt[]> {
      await open();
      const s = need();
      const plan = planBatch(s, intents, ids, true);
      const receipts = await runBatch(s, plan, ids);
      return intents.map(
        (i) =>
          receipts.get(i.entity) ?? {
            entity: i.entity,
            state: 'applied' as const,
            ...(i.remoteId ? { remoteId: i.remoteId } : {}),
          },
      );
    },
    async write(intent: WriteIntent, ids: IdMap): Promise<WriteReceipt> {
      const [receipt] = await backend.writeAll([intent], ids);
      return receipt!;
    },
    async locate(ref: EntityRef): Promise<RemoteId | undefined> {
      if (ref.kind !== 'item') return undefined;
      await open();
      const s = need();
      const found = await client.findBySlug(
        binding(s, ref.collection).id,
        ref.key,
        s.locales.get(s.primaryTag) ?? null,
      );
      if (found) remember(ref.collection, found);
      return found?.id;
    },
    estimate(intents: readonly WriteIntent[], ids: IdMap): number {
      if (!schema) {
        // Before the schema is known only the count of requests can be told, not each field's shape: the
        // shape does not change the count, so the intents are planned against a schema-free stand-in.
        return schemaCalls() + countBatch(planBatch(looseSchema(), intents, ids, false));
      }
      return countBatch(planBatch(schema, intents, ids, false));
    },
    webhook: {
      verify(
        headers: Record<string, string | string[] | undefined>,
        rawBody: Buffer | string,
      ): SignatureCheck {
        // Without a signing key nothing verifies (dashboard-made webhooks are unsigned, §8): the daemon must then
        // refuse the delivery or authenticate it its own way, never take it on trust.
        if (!options.webhookSecret) return { ok: false, reason: 'missing-headers' };
        return verifyWebflowSignature({ headers, rawBody, secret: options.webhookSecret });
      },
      parse(rawBody: Buffer | string) {
        const decoded = decodeWebflowWebhook(rawBody);
        if (decoded.kind === 'invalid') return decoded;
        if (decoded.kind === 'ignored')
          return { kind: 'ignored' as const, reason: `trigger ${decoded.triggerType}` };
        const e = decoded.event;
        const collection = schema?.collectionKeyById.get(e.collectionId);
        if (!collection || !config.collections[collection]) {
          return { kind: 'ignored' as const, reason: `collection ${e.collectionId} is not synced` };
        }
        const locale = schema ? tagOf(schema, e.cmsLocaleId ?? '') : undefined;
        const k = known.get(e.itemId);
        const slug = k?.variants.get(schema ? keyOf(schema.locales, schema.primaryTag) : '')?.slug;
        return {
          kind: 'pull' as const,
          target: {
            change: e.change,
            collection,
            remoteId: e.itemId,
            ...(slug ? { entity: `item:${collection}:${slug}` } : {}),
            ...(locale ? { locale } : {}),
            lastUpdated: e.lastUpdated,
          },
        };
      },
    },
    stats: (): CallStats => ({ total, byMethodStatus: { ...counts } }),
    async close(): Promise<void> {
      await pipeline.close();
    },
  };

  /** Stand-in schema for estimating before open(): the configured fields, typed from the config. */
  function looseSchema(): Schema {
    const bindings = new Map<string, CollectionBinding & { id: string }>();
    for (const [key, model] of Object.entries(config.collections)) {
      // Every collection has `name` and `slug` (§2.2), configured or not.
      const specs: Record<string, FieldSpec> = {
        name: { type: 'text' },
        slug: { type: 'text' },
        ...model.fields,
      };
      const fields = Object.entries(specs).map(([slug, spec]) => ({
        id: slug,
        slug,
        type:
          spec.type === 'reference'
            ? spec.many
              ? 'MultiReference'
              : 'Reference'
            : ((
                {
                  richtext: 'RichText',
                  number: 'Number',
                  boolean: 'Switch',
                  date: 'DateTime',
                  media: 'Image',
                } as Record<string, string>
              )[spec.type] ?? 'PlainText'),
        isEditable: true,
        isRequired: false,
        validations: null,
      }));
      bindings.set(key, { key, id: key, fields: model.fields, schema: { id: key, slug: key, fields } });
    }
    const locales = new Map<string, string | null>(
      config.locales.all.map((t) => [t, config.locales.all.length > 1 ? `locale:${t}` : null]),
    );
    return { bindings, collectionKeyById: new Map(), locales, primaryTag: config.locales.default };
  }

  return backend;
}

function addTo(map: Map<EntityKey, Set<string>>, entity: EntityKey, tag: string): void {
  if (!map.has(entity)) map.set(entity, new Set());
  map.get(entity)!.add(tag);
}

/** Creates sharing one request: the same locales and the same draft flag (both are per request, §2.5). */
function createGroups(creates: readonly CreateWork[]): Map<string, CreateWork[]> {
  const groups = new Map<string, CreateWork[]>();
  for (const c of creates) {
    const key = `${[...c.tags].sort().join(',')}\0${c.isDraft}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return groups;
}

/** The bulk answer holds one entry per locale, sharing an id (§2.5, D8): the n-th distinct id is the n-th item. */
function pairCreated(
  sent: CreateWork[],
  answer: WebflowItem[],
  primary: string | null,
): Array<{ work: CreateWork; item: WebflowItem }> {
  const firstOfEach: WebflowItem[] = [];
  const seen = new Set<string>();
  for (const item of answer) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    firstOfEach.push(answer.find((a) => a.id === item.id && a.cmsLocaleId === primary) ?? item);
  }
  if (firstOfEach.length !== sent.length) {
    throw new SyncError(
      'CMS_BAD_RESPONSE',
      `POST items/bulk: Webflow answered ${firstOfEach.length} items for ${sent.length} sent`,
    );
  }
  return sent.map((work, i) => ({ work, item: firstOfEach[i]! }));
}

/** A 5xx, a timeout or a dropped connection: the request may have been applied. */
function isUncertain(error: unknown): boolean {
  return isSyncError(error) && ['CMS_SERVER', 'CMS_TIMEOUT', 'CMS_NETWORK'].includes(error.code);
}

function receiptOk(receipt: WriteReceipt | undefined): boolean {
  return receipt === undefined || receipt.state === 'applied' || receipt.state === 'exists';
}

function describe(error: unknown): string {
  return isSyncError(error) ? error.message : String(error);
}

function fail(receipts: Map<EntityKey, WriteReceipt>, entity: EntityKey, error: unknown): void {
  const e = isSyncError(error) ? error : new SyncError('INTERNAL', describe(error), { cause: error });
  const before = receipts.get(entity);
  receipts.set(entity, {
    entity,
    state: 'failed',
    ...(before?.remoteId ? { remoteId: before.remoteId } : {}),
    error: e,
    problems: [...(before?.problems ?? []), e.message],
  });
}

function settle(
  receipts: Map<EntityKey, WriteReceipt>,
  entity: EntityKey,
  next: Omit<WriteReceipt, 'entity'>,
): void {
  const before = receipts.get(entity);
  if (before && !receiptOk(before)) return;
  receipts.set(entity, {
    ...before,
    ...next,
    entity,
    // A create's receipt stays what it was (its slug note, its media), a PATCH adds to it.
    mediaLearned: { ...before?.mediaLearned, ...next.mediaLearned },
    ...(before?.keyAssigned ? { keyAssigned: before.keyAssigned } : {}),
  });
}

function addProblem(
  receipts: Map<EntityKey, WriteReceipt>,
  entity: EntityKey,
  problem: string,
  live: boolean,
): void {
  const r = receipts.get(entity) ?? { entity, state: 'applied' as const };
  receipts.set(entity, { ...r, live, problems: [...(r.problems ?? []), problem] });
}
