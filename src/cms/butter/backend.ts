import type { SyncConfig } from '../../config/schema.js';
import { entityKey } from '../../core/types.js';
import type { CmsBackend, CmsClient, ReadState, WebhookDecoder } from '../port.js';
import { butterMedia } from './media.js';
import { findItemByKey, planReads, runReads } from './read-entities.js';
import { fetchRemoteSnapshot } from './read-snapshot.js';
import { makeButterWebhook } from './webhook.js';

/**
 * The ButterCMS backend of the CMS-neutral port (read side): the list/GET protocol at the call floor, the
 * snapshot lists, id discovery by keyField, CDN media and the shared-secret webhook, over one client.
 * `webhook` is given only when a secret is set: without one the receiver stays off.
 */
export function makeButterBackend(
  client: CmsClient,
  config: SyncConfig,
  options: { webhook?: { header: string; secret: string } | undefined } = {},
): CmsBackend {
  const webhook: WebhookDecoder | undefined =
    options.webhook && options.webhook.secret !== '' ? makeButterWebhook(options.webhook) : undefined;
  return {
    planReads: (targets, state, purpose) => planReads(targets, state.manifest, purpose),
    read: (steps, state) => runReads(client, config, state, steps),
    readScope: (scope, state) => fetchRemoteSnapshot(client, config, state, scope),
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
    stats: () => client.stats(),
    queueDepth: () => client.queueDepth(),
    close: (deadlineMs) => client.close(deadlineMs),
  };
}
