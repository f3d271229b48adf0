import type { FieldSpec, SyncConfig } from '../../config/schema.js';
import type { RichTextOptions } from '../../content/rich-text.js';
import { SyncError } from '../../core/errors.js';
import type { EntityKey, EntityRef, Variant } from '../../core/types.js';
import {
  bindCollection,
  type CollectionBinding,
  fromFieldData,
  type IdMap,
  mapLocales,
  type PublishStatus,
  statusOf,
} from './field-values.js';
import { bindingOf, ItemStates, localeKeyOf, type SiteSchema, tagOf } from './site-state.js';
import { WebflowClient, type WebflowItem } from './webflow-client.js';
import { WebflowPipeline, type WebflowPipelineOptions } from './webflow-pipeline.js';
import { decodeWebflowWebhook, type WebflowItemChange } from './webhook-event.js';
import { type SignatureCheck, verifyWebflowSignature } from './webhook-signature.js';
import { makeBatchWriter } from './write-batch.js';

// ---- The port this backend implements --------------------------------------------------------------------
// Written here as local types, named as in review-architecture.md §1 "Redesign", so the lead can swap them for
// the real `CmsBackend` of cms/port.ts once the neutral port lands. Differences from the sketch, and why:
// - `writeAll(intents)` beside `write(intent)`: Webflow's floor is one bulk request per 100 items (§2.6), which a
//   one-intent-at-a-time write cannot reach; `estimate` takes a list for the same reason (a batch of 150 costs
//   2 PATCHes, not 150 × 1).
// - `WriteReceipt.state` adds 'exists' (the slug lookup before a create found the item: nothing was sent, the
//   engine adopts or merges it) and 'held-back' (a reference names an item with no id yet: nothing was sent);
//   `keyAssigned` carries the slug Webflow gave a create when it suffixed a taken one (§2.5), for the file's name.
// - `estimate(intents, ids)` needs the id map: a reference to an item created in the same batch costs a PATCH
//   after the create, one with no id at all holds the intent back (0 calls).
// Write path (§9, §11.3): a staged write, then `POST /items/publish` for the items that should be live. Never a
// live PATCH: it 409s for the whole batch when one item was never published, and leaves the staged copy behind.

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
  const itemStates = new ItemStates();
  const writer = makeBatchWriter({
    client,
    items: itemStates,
    media,
    richText,
    learnRichText: options.learnRichText,
  });
  let schema: SiteSchema | undefined;
  let opening: Promise<SiteSchema> | undefined;

  async function loadSchema(): Promise<SiteSchema> {
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

  function need(): SiteSchema {
    if (!schema) throw new Error('webflow backend: open() first');
    return schema;
  }

  const schemaCalls = () => (schema ? 0 : 2 + Object.keys(config.collections).length);
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
        bindingOf(s, key).id,
        localeIds.length > 0 ? { cmsLocaleIds: localeIds } : {},
      );
      for (const item of items) itemStates.remember(key, item);
      raw.set(key, items);
    };
    for (const key of wanted) await listAll(key);
    for (const [key, slugs] of entityScope) {
      if (wanted.has(key)) continue;
      const b = bindingOf(s, key);
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
      for (const item of items) itemStates.remember(key, item);
      raw.set(key, items);
    }
    const idsOut = new Map<EntityKey, RemoteId>();
    const slugIndex = new Map<string, Map<RemoteId, string>>();
    const index = (key: string, id: RemoteId, slug: string) => {
      if (!slugIndex.has(key)) slugIndex.set(key, new Map());
      slugIndex.get(key)!.set(id, slug);
    };
    const primaryKey = localeKeyOf(s.locales, s.primaryTag);
    for (const [id, k] of itemStates.entries()) {
      const slug = k.variants.get(primaryKey)?.slug;
      if (slug) index(k.collection, id, slug);
    }
    const convert = () => {
      const unknown = new Set<string>();
      const entities = new Map<EntityKey, RemoteEntityRead>();
      for (const [key, items] of raw) {
        const b = bindingOf(s, key);
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
          bindingOf(s, key).id,
          primaryKey ? { cmsLocaleIds: [primaryKey] } : {},
        );
        for (const item of items) {
          itemStates.remember(key, item);
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
      const plan = writer.planBatch(s, intents, ids, true);
      const receipts = await writer.runBatch(s, plan, ids);
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
        bindingOf(s, ref.collection).id,
        ref.key,
        s.locales.get(s.primaryTag) ?? null,
      );
      if (found) itemStates.remember(ref.collection, found);
      return found?.id;
    },
    estimate(intents: readonly WriteIntent[], ids: IdMap): number {
      if (!schema) {
        // Before the schema is known only the count of requests can be told, not each field's shape: the
        // shape does not change the count, so the intents are planned against a schema-free stand-in.
        return schemaCalls() + writer.countBatch(writer.planBatch(looseSchema(), intents, ids, false));
      }
      return writer.countBatch(writer.planBatch(schema, intents, ids, false));
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
        const k = itemStates.get(e.itemId);
        const slug = k?.variants.get(schema ? localeKeyOf(schema.locales, schema.primaryTag) : '')?.slug;
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
  function looseSchema(): SiteSchema {
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
