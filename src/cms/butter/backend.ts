/**
 * ButterCMS behind the neutral port (cms/port.ts): its rules as data, and `write`, which shapes an intent into
 * its requests (write-shapes.ts), translates the values (api-values.ts) and sends them through the client.
 */

import type { SyncConfig } from '../../config/schema.js';
import type { IdLookup } from '../../core/api-fields.js';
import { isSyncError, SyncError } from '../../core/errors.js';
import { modelFor } from '../../core/model.js';
import type { BackendRules, CmsBackend, RemoteId, WriteIntent, WriteReceipt } from '../port.js';
import { toApiFields } from './api-values.js';
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
});

/** The calls a write makes: one per request it becomes (pure; the planner's cost). */
export function estimateButterWrite(intent: WriteIntent, options: Omit<ShapeOptions, 'translate'>): number {
  return shapeWrite(intent, options).length;
}

export function createButterBackend(client: CmsClient, config: SyncConfig): CmsBackend {
  const shapeOptions = { defaultLocale: config.locales.default, defaultStatus: config.defaultStatus };
  return {
    rules: BUTTER_RULES,
    estimate: (intent) => estimateButterWrite(intent, shapeOptions),
    async write(intent: WriteIntent, ids: IdLookup): Promise<WriteReceipt> {
      const model = modelFor(intent.ref, config);
      // Every value is translated before the first request: an unknown reference sends nothing.
      const requests = shapeWrite(intent, { ...shapeOptions, translate: (f) => toApiFields(f, model, ids) });
      const itemId = (): RemoteId => {
        const id =
          intent.remoteId ??
          (intent.ref.kind === 'item' ? ids.itemIdByKey(intent.ref.collection, intent.ref.key) : undefined);
        if (id === undefined) throw new SyncError('INTERNAL', `${intent.entity} has no ButterCMS id yet`);
        return id;
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
  };
}

/** One request; true when a DELETE found the item already gone (what it wanted). */
async function send(client: CmsClient, request: ButterRequest, itemId: () => RemoteId): Promise<boolean> {
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
