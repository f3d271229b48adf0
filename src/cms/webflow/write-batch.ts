import type { RichTextOptions } from '../../content/rich-text.js';
import { isSyncError, SyncError } from '../../core/errors.js';
import type { EntityKey } from '../../core/types.js';
import type { RemoteId, WriteIntent, WriteReceipt } from './backend.js';
import { type CollectionBinding, type IdMap, learnMedia, statusOf, toFieldData } from './field-values.js';
import { bindingOf, type ItemStates, localeKeyOf, type SiteSchema } from './site-state.js';
import {
  chunked,
  type ItemTarget,
  type ItemUpdate,
  type WebflowClient,
  type WebflowItem,
} from './webflow-client.js';

/**
 * Write intents in bulk at the floor Webflow allows (webflow-api.md §2.5-§2.8, issue 12): a pure plan of a batch
 * (the slug lookups, bulk creates, ⌈k/100⌉ staged PATCHes, publishes, unpublishes and deletes per collection),
 * counted by `countBatch` for `estimate` and carried out by `runBatch`, so the estimate is the run.
 */

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

export interface BatchContext {
  client: WebflowClient;
  items: ItemStates;
  /** The manifest's media map, CDN URL → file URL. */
  media: Readonly<Record<string, string>>;
  richText: RichTextOptions;
  learnRichText?: ((html: string, markdown: string) => void) | undefined;
}

export function makeBatchWriter(ctx: BatchContext) {
  const { client, items, media, richText } = ctx;

  function planBatch(s: SiteSchema, intents: readonly WriteIntent[], ids: IdMap, forRun: boolean): BatchPlan {
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
      const b = bindingOf(s, intent.ref.collection);
      const w = work(b.key);
      if (intent.kind === 'delete') {
        if (!intent.remoteId) {
          settled.set(intent.entity, { entity: intent.entity, state: 'applied' }); // never created: nothing to delete
          return;
        }
        const variants = items.get(intent.remoteId)?.variants;
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
          learnRichText: forRun ? ctx.learnRichText : undefined,
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
        const live = items.liveOf(intent.remoteId, localeKeyOf(s.locales, tag));
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
  async function runBatch(s: SiteSchema, plan: BatchPlan, ids: IdMap): Promise<Map<EntityKey, WriteReceipt>> {
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
    s: SiteSchema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
    idsNow: IdMap,
  ): Promise<void> {
    const b = bindingOf(s, w.key);
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
      for (const item of answer) items.remember(b.key, item);
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
    s: SiteSchema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
  ): Promise<void> {
    const b = bindingOf(s, w.key);
    const primary = s.locales.get(s.primaryTag) ?? null;
    // §2.5, §11.2: no idempotency key, a taken slug is silently suffixed: look the slug up before every create.
    const toSend: CreateWork[] = [];
    const lookups = await Promise.all(w.creates.map((c) => client.findBySlug(b.id, c.slug, primary)));
    for (const [i, c] of w.creates.entries()) {
      const found = lookups[i];
      if (found) {
        items.remember(b.key, found);
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
          items.remember(b.key, item);
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
    s: SiteSchema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
  ): Promise<void> {
    const b = bindingOf(s, w.key);
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
          if (ok) items.markLive(t.target, true, s);
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
    s: SiteSchema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
    created: Map<EntityKey, RemoteId>,
  ): Promise<void> {
    const b = bindingOf(s, w.key);
    await Promise.all(
      chunked(targetsOf(s, w.unpublish, receipts, created)).map(async (chunk) => {
        try {
          await client.unpublishItems(
            b.id,
            chunk.map((t) => t.target),
          );
          for (const t of chunk) {
            items.markLive(t.target, false, s);
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
    s: SiteSchema,
    w: CollectionWork,
    receipts: Map<EntityKey, WriteReceipt>,
  ): Promise<void> {
    const b = bindingOf(s, w.key);
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
        items.forget(d.remoteId);
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
    s: SiteSchema,
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

  return { planBatch, countBatch, runBatch };
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
