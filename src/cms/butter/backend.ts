/**
 * ButterCMS behind the neutral port (cms/port.ts), both sides over one client. Reads: the list/GET protocol
 * at the call floor, the snapshot lists, id discovery by keyField, CDN media and the shared-secret webhook.
 * Writes: its rules as data, and `write`, which shapes an intent into its requests (write-shapes.ts),
 * translates the values (api-values.ts) and sends them. Ids are opaque text outside this folder; ButterCMS's
 * numeric `meta.id` is converted to text on read and back to a number here, at the wire.
 */

import type { SyncConfig } from '../../config/schema.js';
import type { IdLookup } from '../../core/api-fields.js';
import { isSyncError, SyncError } from '../../core/errors.js';
import { modelFor } from '../../core/model.js';
import { entityKey } from '../../core/types.js';
import type {
  BackendRules,
  CmsBackend,
  ReadState,
  RemoteId,
  WebhookDecoder,
  WriteIntent,
  WriteReceipt,
} from '../port.js';
import { toApiFields } from './api-values.js';
import { butterMedia } from './media.js';
import {
  isPostKey,
  planPostReads,
  readPostScope,
  runPostReads,
  shapePostWrite,
  writePost,
} from './post-backend.js';
import { findItemByKey, planReads, runReads } from './read-entities.js';
import { fetchRemoteSnapshot } from './read-snapshot.js';
import { makeButterWebhook } from './webhook.js';
import type { CmsClient } from './wire-types.js';
import { type ButterRequest, type ShapeOptions, shapeWrite } from './write-shapes.js';

/** What ButterCMS's Write API can do (butter-api.md §3, §9). */
export const BUTTER_RULES: BackendRules = Object.freeze({
  titlesWritable: false,
  pagesDeletable: false,
  replaceClearsOmitted: true,
  createReturnsId: false,
  writesApplyLater: true,
  maxBatch: 1,
  // The blog engine (§3.8): PATCH sets a post's title, DELETE removes a post; a post without a publish
  // date gets one when published, a post without an author gets the organisation's owner.
  posts: Object.freeze({
    deletable: true,
    titlesWritable: true,
    cmsFills: Object.freeze(['published', 'author']),
  }),
});

/** The calls a write makes: one per request it becomes (pure; the planner's cost). */
export function estimateButterWrite(intent: WriteIntent, options: Omit<ShapeOptions, 'translate'>): number {
  if (intent.ref.kind === 'post') return shapePostWrite(intent, options.defaultLocale).length;
  return shapeWrite(intent, options).length;
}

/** An opaque id as ButterCMS's wire wants it: the numeric `meta.id` (butter-api.md §2.2). */
export function butterWireId(id: RemoteId, entity: string): number {
  const wire = Number(id);
  if (!Number.isSafeInteger(wire) || wire < 0 || String(id).trim() === '') {
    throw new SyncError(
      'INTERNAL',
      `${entity} has the id "${id}", which is not a ButterCMS item id (a whole number)`,
    );
  }
  return wire;
}

/**
 * The ButterCMS backend. `webhook` is given only when a secret is set: without one the receiver stays off.
 */
export function makeButterBackend(
  client: CmsClient,
  config: SyncConfig,
  options: { webhook?: { header: string; secret: string } | undefined } = {},
): CmsBackend {
  const webhook: WebhookDecoder | undefined =
    options.webhook && options.webhook.secret !== ''
      ? makeButterWebhook({ ...options.webhook, posts: config.posts !== undefined })
      : undefined;
  const shapeOptions = { defaultLocale: config.locales.default, defaultStatus: config.defaultStatus };
  return {
    planReads: (targets, state, purpose) => [
      ...planReads(
        targets.filter((t) => !isPostKey(t.entity)),
        state.manifest,
        purpose,
      ),
      ...planPostReads(targets, state.manifest, purpose),
    ],
    async read(steps, state) {
      const before = client.stats().total;
      const [read, posts] = await Promise.all([
        runReads(
          client,
          config,
          state,
          steps.filter((s) => s.kind !== 'posts'),
        ),
        runPostReads(
          client,
          state,
          steps.filter((s) => s.kind === 'posts'),
        ),
      ]);
      for (const [key, entity] of posts.remote) read.remote.set(key, entity);
      for (const [key, locales] of posts.read) read.read.set(key, locales);
      read.unavailable.push(...posts.unavailable);
      return { ...read, calls: client.stats().total - before };
    },
    async readScope(scope, state) {
      const before = client.stats().total;
      const snapshot = await fetchRemoteSnapshot(client, config, state, scope);
      const posts = await readPostScope(client, config, state, scope);
      for (const [key, entity] of posts.remote) snapshot.remote.set(key, entity);
      for (const key of posts.covered) snapshot.covered.add(key);
      snapshot.unavailable.push(...posts.unavailable);
      return { ...snapshot, calls: client.stats().total - before };
    },
    async locate(ref, state: ReadState) {
      // Pages are addressed by slug: only items have an id to find (butter-api.md §2.2).
      if (ref.kind !== 'item') return undefined;
      const known = state.manifest.entities[entityKey(ref)]?.remoteId;
      if (known !== undefined) return known;
      const keyField = config.collections[ref.collection]?.keyField;
      if (!keyField) return undefined;
      const item = await findItemByKey(client, ref.collection, keyField, ref.key, config.locales.default);
      return item === undefined ? undefined : String(item.id);
    },
    media: butterMedia,
    webhook,
    rules: BUTTER_RULES,
    estimate: (intent) => estimateButterWrite(intent, shapeOptions),
    async write(intent: WriteIntent, ids: IdLookup): Promise<WriteReceipt> {
      if (intent.ref.kind === 'post') return writePost(client, config, intent);
      const model = modelFor(intent.ref, config);
      // Every value is translated before the first request: an unknown reference sends nothing.
      const requests = shapeWrite(intent, { ...shapeOptions, translate: (f) => toApiFields(f, model, ids) });
      const itemId = (): number => {
        const id =
          intent.remoteId ??
          (intent.ref.kind === 'item' ? ids.itemIdByKey(intent.ref.collection, intent.ref.key) : undefined);
        if (id === undefined) throw new SyncError('INTERNAL', `${intent.entity} has no ButterCMS id yet`);
        return butterWireId(id, intent.entity);
      };
      let accepted = 0;
      for (const request of requests) {
        try {
          if (await send(client, request, itemId)) return { state: 'gone' };
        } catch (error) {
          if (accepted > 0) Object.assign(error as object, { partlySent: true });
          throw error;
        }
        accepted += 1;
      }
      return { state: 'pending' };
    },
    stats: () => client.stats(),
    queueDepth: () => client.queueDepth(),
    close: (deadlineMs) => client.close(deadlineMs),
  };
}

/** One request; true when a DELETE found the item already gone (what it wanted). */
async function send(client: CmsClient, request: ButterRequest, itemId: () => number): Promise<boolean> {
  const at = (locale: string | undefined) => (locale ? { locale } : {});
  switch (request.kind) {
    case 'create-page':
      await client.createPage(request.body, at(request.locale));
      return false;
    case 'update-page':
      await client.updatePage(request.pageType, request.slug, request.body, at(request.locale));
      return false;
    case 'create-item':
      await client.createItem(request.body);
      return false;
    case 'put-item':
      await client.replaceItem(request.collection, itemId(), request.body);
      return false;
    case 'patch-item':
      await client.patchItem(request.collection, itemId(), request.body);
      return false;
    case 'delete-item':
      try {
        await client.deleteItem(request.collection, itemId());
        return false;
      } catch (error) {
        if (isSyncError(error) && error.code === 'CMS_NOT_FOUND') return true;
        throw error;
      }
  }
}
