import { isRecord } from '../core/is-record.js';

/** What a webhook asks the engine to pull: one page (per locale) or one collection item. */
export type PullTarget =
  | { kind: 'page'; pageType: string; slug: string; locale: string | null; event: string }
  | { kind: 'item'; collection: string; id: number; locale: string | null; event: string; deleted: boolean };

// butter-api.md §4: an item event names the item only inside `itemid`, e.g. "/v2/content/?keys=products[_id=5678]".
const ITEM_ID_PATTERN = /\[_id=(\d+)\]/;

/**
 * Turns a ButterCMS webhook body (butter-api.md §4) into a pull target, or null for what we don't sync
 * (blog posts, media, unknown shapes). Pure: the receiver answers 2xx first and the engine pulls later.
 */
export function parseWebhook(body: unknown): PullTarget | null {
  if (!isRecord(body) || !isRecord(body.data)) return null;
  const data = body.data;
  const event = isRecord(body.webhook) && typeof body.webhook.event === 'string' ? body.webhook.event : '';
  const kind = kindOf(event, data);
  if (kind === null) return null;
  const locale = typeof data.locale === 'string' && data.locale !== '' ? data.locale : null;
  if (typeof data.id !== 'string' || data.id === '') return null;

  if (kind === 'page') {
    // page_type is "*" for single pages (§4); a page event without it cannot be mapped to a file.
    if (typeof data.page_type !== 'string' || data.page_type === '') return null;
    return { kind: 'page', pageType: data.page_type, slug: data.id, locale, event: event || 'page' };
  }

  const match = typeof data.itemid === 'string' ? ITEM_ID_PATTERN.exec(data.itemid) : null;
  const id = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(id) || id <= 0) return null;
  const deleted = data.status === 'deleted' || event === 'collectionitem.delete';
  return { kind: 'item', collection: data.id, id, locale, event: event || 'collectionitem', deleted };
}

/**
 * The envelope always names the event in the docs; if it is missing we fall back on the data's shape
 * (unverified case: pulling is idempotent, so guessing "pull it" is the safe side).
 */
function kindOf(event: string, data: Record<string, unknown>): 'page' | 'item' | null {
  if (event !== '') {
    if (event.startsWith('page.')) return 'page';
    if (event.startsWith('collectionitem.')) return 'item';
    return null;
  }
  if (typeof data.itemid === 'string') return 'item';
  if (typeof data.page_type === 'string') return 'page';
  return null;
}
