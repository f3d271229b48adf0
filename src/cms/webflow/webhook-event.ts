/**
 * Webflow CMS item webhooks (webflow-api.md §8): `{triggerType, payload}` decoded into what a scoped pull needs,
 * which item of which collection in which locale changed, and nothing more: the pull re-reads the item, so the
 * payload's fieldData (and its `isDraft`/`draft` spelling, open question 10) never becomes content.
 */

export type WebflowItemChange = 'created' | 'changed' | 'deleted' | 'published' | 'unpublished';

export interface WebflowItemEvent {
  change: WebflowItemChange;
  collectionId: string;
  itemId: string;
  /** null on a site without localization, or when the payload does not say (a delete). */
  cmsLocaleId: string | null;
  /** For echo suppression by (id, lastUpdated), §8: our own writes may come back as webhooks. */
  lastUpdated: string | null;
}

const TRIGGERS: Record<string, WebflowItemChange> = {
  collection_item_created: 'created',
  collection_item_changed: 'changed',
  collection_item_deleted: 'deleted',
  collection_item_published: 'published',
  collection_item_unpublished: 'unpublished',
};

const HEX24 = /^[0-9a-f]{24}$/;

export type DecodedWebhook =
  | { kind: 'item'; event: WebflowItemEvent }
  | { kind: 'ignored'; triggerType: string }
  | { kind: 'invalid'; reason: string };

/** Decode a delivery's raw body (verify its signature first: webhook-signature.ts). */
export function decodeWebflowWebhook(rawBody: Buffer | string): DecodedWebhook {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null)
    return { kind: 'invalid', reason: 'the body is not an object' };
  const { triggerType, payload } = parsed as { triggerType?: unknown; payload?: unknown };
  if (typeof triggerType !== 'string') return { kind: 'invalid', reason: 'no triggerType' };
  const change = TRIGGERS[triggerType];
  // Site publishes, form submissions and the rest are not item changes: acknowledged, not acted on.
  if (!change) return { kind: 'ignored', triggerType };
  if (typeof payload !== 'object' || payload === null) return { kind: 'invalid', reason: 'no payload' };
  const p = payload as Record<string, unknown>;
  if (typeof p.id !== 'string' || !HEX24.test(p.id))
    return { kind: 'invalid', reason: 'payload.id is not an item id' };
  if (typeof p.collectionId !== 'string' || !HEX24.test(p.collectionId)) {
    return { kind: 'invalid', reason: 'payload.collectionId is not a collection id' };
  }
  const cmsLocaleId = typeof p.cmsLocaleId === 'string' && HEX24.test(p.cmsLocaleId) ? p.cmsLocaleId : null;
  const lastUpdated = typeof p.lastUpdated === 'string' ? p.lastUpdated : null;
  return {
    kind: 'item',
    event: { change, collectionId: p.collectionId, itemId: p.id, cmsLocaleId, lastUpdated },
  };
}
