import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isRecord } from '../../core/is-record.js';
import type { DecodedWebhook, PullTarget, WebhookDecoder } from '../port.js';

// butter-api.md §4: an item event names the item only inside `itemid`, e.g. "/v2/content/?keys=products[_id=5678]".
const ITEM_ID_PATTERN = /\[_id=(\d+)\]/;

/**
 * Turns a ButterCMS webhook body (butter-api.md §4) into a pull target, or null for what we don't sync
 * (blog posts unless `posts` is on, media, unknown shapes). Pure: the receiver answers 2xx first and the
 * engine pulls later.
 */
export function parseWebhook(body: unknown, options: { posts?: boolean } = {}): PullTarget | null {
  if (!isRecord(body) || !isRecord(body.data)) return null;
  const data = body.data;
  const event = isRecord(body.webhook) && typeof body.webhook.event === 'string' ? body.webhook.event : '';
  const kind = kindOf(event, data);
  if (kind === null) return null;
  const locale = typeof data.locale === 'string' && data.locale !== '' ? data.locale : null;
  if (typeof data.id !== 'string' || data.id === '') return null;

  if (kind === 'post') {
    // A post event names the post by slug only (`{"id": slug, "_id": n}`, §4): every locale of it is read.
    if (!options.posts) return null;
    return { kind: 'post', slug: data.id, locale, event, deleted: event === 'post.delete' };
  }

  if (kind === 'page') {
    // page_type is "*" for single pages (§4); a page event without it cannot be mapped to a file.
    if (typeof data.page_type !== 'string' || data.page_type === '') return null;
    return { kind: 'page', pageType: data.page_type, slug: data.id, locale, event: event || 'page' };
  }

  const match = typeof data.itemid === 'string' ? ITEM_ID_PATTERN.exec(data.itemid) : null;
  const id = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(id) || id <= 0) return null;
  const deleted = data.status === 'deleted' || event === 'collectionitem.delete';
  return {
    kind: 'item',
    collection: data.id,
    id: String(id),
    locale,
    event: event || 'collectionitem',
    deleted,
  };
}

/**
 * The envelope always names the event in the docs; if it is missing we fall back on the data's shape
 * (unverified case: pulling is idempotent, so guessing "pull it" is the safe side).
 */
function kindOf(event: string, data: Record<string, unknown>): 'page' | 'item' | 'post' | null {
  if (event !== '') {
    if (event.startsWith('page.')) return 'page';
    if (event.startsWith('collectionitem.')) return 'item';
    if (event.startsWith('post.')) return 'post';
    return null;
  }
  if (typeof data.itemid === 'string') return 'item';
  if (typeof data.page_type === 'string') return 'page';
  return null;
}

/**
 * ButterCMS webhooks (butter-api.md §4): they carry no signature, so the sender proves itself with a shared
 * secret in a custom header (set in the ButterCMS webhook settings), checked before the body is read.
 */
export function makeButterWebhook(options: {
  header: string;
  secret: string;
  /** Blog posts are synced (`"posts"` in the config): their events pull the post. */
  posts?: boolean;
}): WebhookDecoder {
  const matches = createSecretCheck(options.secret);
  const header = options.header.toLowerCase();
  return {
    admits(headers: IncomingHttpHeaders): boolean {
      const presented = headers[header];
      return matches(typeof presented === 'string' ? presented : undefined);
    },
    verify: () => true,
    decode(body: Buffer): DecodedWebhook {
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        return { kind: 'invalid', reason: 'body is not JSON' };
      }
      const target = parseWebhook(payload, { posts: options.posts ?? false });
      if (target === null) return { kind: 'ignored' };
      // Item payloads carry only a whole-second `timestamp` (§4), so two quick edits of one item can produce
      // identical bodies: only page deliveries, whose `updated` has microseconds, are true duplicates.
      return { kind: 'pull', target, dedupe: target.kind === 'page' };
    },
  };
}

/**
 * Compares HMACs of both values under a per-process random key: equal lengths for timingSafeEqual
 * whatever was sent, and nothing about the secret's length leaks through timing.
 */
function createSecretCheck(secret: string): (presented: string | undefined) => boolean {
  const key = randomBytes(32);
  const expected = createHmac('sha256', key).update(secret).digest();
  return (presented) => {
    const actual = createHmac('sha256', key)
      .update(presented ?? '')
      .digest();
    return timingSafeEqual(actual, expected) && presented !== undefined;
  };
}
