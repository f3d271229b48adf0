import { isSyncError, SyncError } from '../../core/errors.js';
import type { WebflowPipeline } from './webflow-pipeline.js';

/**
 * The Webflow Data API v2 item calls the adapter makes (webflow-api.md §2.1, §2.4-§2.8), typed, on the
 * rate-limited pipeline. One method per call, so a caller (and its `estimate`) counts requests exactly; the
 * bulk methods refuse more than 100 items instead of splitting silently. Values are Webflow's wire form; the
 * translation to file form is field-values.ts.
 */

/** Webflow's bulk routes take at most this many items per request (§2.1, §2.6, §2.7). */
export const WEBFLOW_BULK_LIMIT = 100;

/** An item as the API renders it (§2.3). */
export interface WebflowItem {
  id: string;
  cmsLocaleId: string | null;
  lastPublished: string | null;
  lastUpdated: string;
  createdOn: string;
  isArchived: boolean;
  isDraft: boolean;
  fieldData: Record<string, unknown>;
}

/** A field of a collection's schema (§2.2). */
export interface WebflowField {
  id: string;
  slug: string;
  type: string;
  isEditable: boolean;
  isRequired: boolean;
  validations: {
    options?: Array<{ id: string; name: string }>;
    collectionId?: string;
    format?: string;
  } | null;
}

export interface WebflowCollection {
  id: string;
  slug: string;
  displayName?: string;
  fields: WebflowField[];
}

export interface WebflowSiteLocale {
  tag: string;
  cmsLocaleId: string;
  enabled?: boolean;
}

export interface WebflowSite {
  id: string;
  locales: { primary: WebflowSiteLocale | null; secondary: WebflowSiteLocale[] } | null;
}

/** One entry of a bulk PATCH: one id appears at most once per locale in a request (§2.6). */
export interface ItemUpdate {
  id: string;
  cmsLocaleId?: string | null;
  isDraft?: boolean;
  fieldData?: Record<string, unknown>;
}

/** An item (and the locales of it) a publish, unpublish or delete acts on (§2.7, §2.8). */
export interface ItemTarget {
  id: string;
  cmsLocaleIds?: string[];
}

export interface PublishResult {
  publishedItemIds: string[];
  /** Per-item failures: Webflow answers them with HTTP 202, never a failed request (§2.8). */
  errors: string[];
}

export interface ListOptions {
  /** The live list holds published items only (§2.4). Default: staged (drafts and archived included). */
  live?: boolean;
  /** Locales to list (csv on the wire); omitted → the primary locale. */
  cmsLocaleIds?: string[];
  /** Exact-match filters (§2.4), e.g. for the create-idempotency lookup. */
  slug?: string;
  name?: string;
}

function badShape(where: string): SyncError {
  return new SyncError(
    'CMS_BAD_RESPONSE',
    `${where}: Webflow answered in a shape this version does not know`,
    {
      hint: 'Report it with the output of --log-level debug.',
    },
  );
}

function checkBulk(what: string, n: number): void {
  if (n === 0 || n > WEBFLOW_BULK_LIMIT) {
    throw new RangeError(`${what}: 1 to ${WEBFLOW_BULK_LIMIT} items per request, got ${n}`);
  }
}

function itemsOf(body: unknown, where: string): WebflowItem[] {
  const items = (body as { items?: unknown } | undefined)?.items;
  if (!Array.isArray(items)) throw badShape(where);
  return items as WebflowItem[];
}

export class WebflowClient {
  constructor(
    private readonly pipeline: WebflowPipeline,
    readonly siteId: string,
  ) {}

  private items(collectionId: string, suffix = ''): string {
    return `collections/${encodeURIComponent(collectionId)}/items${suffix}`;
  }

  /** `GET /sites/{id}`: the locales with their `cmsLocaleId`s (§7). */
  async getSite(): Promise<WebflowSite> {
    const { body } = await this.pipeline.send({
      method: 'GET',
      path: `sites/${encodeURIComponent(this.siteId)}`,
    });
    return body as WebflowSite;
  }

  /** `GET /sites/{id}/collections`: ids and slugs, no fields. */
  async listCollections(): Promise<Array<{ id: string; slug: string }>> {
    const { body } = await this.pipeline.send({
      method: 'GET',
      path: `sites/${encodeURIComponent(this.siteId)}/collections`,
    });
    const list = (body as { collections?: unknown })?.collections;
    if (!Array.isArray(list)) throw badShape('GET collections');
    return list as Array<{ id: string; slug: string }>;
  }

  /** `GET /collections/{id}`: the fields, with option ids and reference targets (§2.2). */
  async getCollection(collectionId: string): Promise<WebflowCollection> {
    const { body } = await this.pipeline.send({
      method: 'GET',
      path: `collections/${encodeURIComponent(collectionId)}`,
    });
    const c = body as WebflowCollection;
    if (!Array.isArray(c?.fields)) throw badShape(`GET collections/${collectionId}`);
    return c;
  }

  /** One page of a list (§2.4): `offset`, `limit` ≤ 100. */
  async listItemsPage(
    collectionId: string,
    options: ListOptions & { offset: number },
  ): Promise<{ items: WebflowItem[]; total: number }> {
    const query: Record<string, string> = {
      offset: String(options.offset),
      limit: String(WEBFLOW_BULK_LIMIT),
    };
    if (options.cmsLocaleIds && options.cmsLocaleIds.length > 0)
      query.cmsLocaleId = options.cmsLocaleIds.join(',');
    if (options.slug !== undefined) query.slug = options.slug;
    if (options.name !== undefined) query.name = options.name;
    const path = this.items(collectionId, options.live ? '/live' : '');
    const { body } = await this.pipeline.send({ method: 'GET', path, query });
    const items = itemsOf(body, `GET ${path}`);
    const total = (body as { pagination?: { total?: unknown } }).pagination?.total;
    return { items, total: typeof total === 'number' ? total : items.length };
  }

  /** Every item of a collection, page by page: ⌈n/100⌉ calls (an empty collection costs 1). */
  async listItems(collectionId: string, options: ListOptions = {}): Promise<WebflowItem[]> {
    const out: WebflowItem[] = [];
    const seen = new Set<string>();
    let offset = 0;
    for (;;) {
      const page = await this.listItemsPage(collectionId, { ...options, offset });
      for (const item of page.items) {
        // Items added during the scan shift the offsets (§4): de-duplicated by id and locale.
        const key = `${item.id}\0${item.cmsLocaleId ?? ''}`;
        if (!seen.has(key)) out.push(item);
        seen.add(key);
      }
      offset += page.items.length;
      if (page.items.length === 0 || offset >= page.total) return out;
    }
  }

  /** The staged item with this exact slug, or undefined: 1 call (the create-idempotency lookup, §2.5, §11.2). */
  async findBySlug(
    collectionId: string,
    slug: string,
    cmsLocaleId?: string | null,
  ): Promise<WebflowItem | undefined> {
    const page = await this.listItemsPage(collectionId, {
      offset: 0,
      slug,
      ...(cmsLocaleId ? { cmsLocaleIds: [cmsLocaleId] } : {}),
    });
    return page.items.find((i) => i.fieldData.slug === slug);
  }

  /** `GET /items/{id}` (or `/live`); undefined on 404 (a live GET of a never-published item is one, §2.1). */
  async getItem(
    collectionId: string,
    id: string,
    options: { live?: boolean; cmsLocaleId?: string | null } = {},
  ): Promise<WebflowItem | undefined> {
    try {
      const { body } = await this.pipeline.send({
        method: 'GET',
        path: this.items(collectionId, `/${encodeURIComponent(id)}${options.live ? '/live' : ''}`),
        ...(options.cmsLocaleId ? { query: { cmsLocaleId: options.cmsLocaleId } } : {}),
      });
      return body as WebflowItem;
    } catch (error) {
      if (isSyncError(error) && error.code === 'CMS_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /**
   * `POST /items/bulk` (§2.5): up to 100 staged items in the given locales (every variant starts with the same
   * fieldData and shares one id; without locales only the primary one). Sent once: the pipeline never re-sends a
   * POST, because a taken slug is silently suffixed and a blind retry duplicates the item. `skipInvalidFiles=false`
   * makes a bad image fail the request instead of vanishing (§11.7).
   */
  async createItems(
    collectionId: string,
    input: { fieldData: Record<string, unknown>[]; cmsLocaleIds?: string[]; isDraft: boolean },
  ): Promise<WebflowItem[]> {
    checkBulk('createItems', input.fieldData.length);
    const path = this.items(collectionId, '/bulk');
    const { body } = await this.pipeline.send({
      method: 'POST',
      path,
      query: { skipInvalidFiles: 'false' },
      body: {
        ...(input.cmsLocaleIds && input.cmsLocaleIds.length > 0 ? { cmsLocaleIds: input.cmsLocaleIds } : {}),
        isArchived: false,
        isDraft: input.isDraft,
        fieldData: input.fieldData,
      },
    });
    return itemsOf(body, `POST ${path}`);
  }

  /** `PATCH /items` (§2.6): up to 100 staged entries, partial (omitted keys stay), arrays replaced whole. */
  updateItems(collectionId: string, entries: ItemUpdate[]): Promise<WebflowItem[]> {
    return this.patchItems('updateItems', collectionId, entries, '');
  }

  /** `PATCH /items/live` (§2.6): writes and publishes; 409 for the whole batch if one item was never published. */
  updateItemsLive(collectionId: string, entries: ItemUpdate[]): Promise<WebflowItem[]> {
    return this.patchItems('updateItemsLive', collectionId, entries, '/live');
  }

  private async patchItems(
    name: string,
    collectionId: string,
    entries: ItemUpdate[],
    suffix: '' | '/live',
  ): Promise<WebflowItem[]> {
    checkBulk(name, entries.length);
    const path = this.items(collectionId, suffix);
    const { body } = await this.pipeline.send({
      method: 'PATCH',
      path,
      query: { skipInvalidFiles: 'false' },
      body: { items: entries },
    });
    return itemsOf(body, `PATCH ${path}`);
  }

  /** `POST /items/publish` (§2.8): staged → live; per-item failures come back in `errors` with a 202. */
  async publishItems(collectionId: string, targets: ItemTarget[]): Promise<PublishResult> {
    checkBulk('publishItems', targets.length);
    const path = this.items(collectionId, '/publish');
    const { body } = await this.pipeline.send({ method: 'POST', path, body: { items: targets } });
    const b = body as { publishedItemIds?: unknown; errors?: unknown };
    if (!Array.isArray(b?.publishedItemIds)) throw badShape(`POST ${path}`);
    return {
      publishedItemIds: b.publishedItemIds as string[],
      errors: Array.isArray(b.errors) ? b.errors.map(String) : [],
    };
  }

  /** `DELETE /items/live` (§2.7): unpublish; the staged item stays as a never-published draft. */
  async unpublishItems(collectionId: string, targets: ItemTarget[]): Promise<void> {
    checkBulk('unpublishItems', targets.length);
    await this.pipeline.send({
      method: 'DELETE',
      path: this.items(collectionId, '/live'),
      body: { items: targets },
    });
  }

  /** `DELETE /items` (§2.7): delete the staged items (unpublish them first for "gone everywhere"). */
  async deleteItems(collectionId: string, targets: ItemTarget[]): Promise<void> {
    checkBulk('deleteItems', targets.length);
    await this.pipeline.send({ method: 'DELETE', path: this.items(collectionId), body: { items: targets } });
  }
}

/** `list` cut into runs of at most `size` (the bulk routes' 100). */
export function chunked<T>(list: readonly T[], size = WEBFLOW_BULK_LIMIT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
