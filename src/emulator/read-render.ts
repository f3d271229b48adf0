import type { FieldSpec } from '../config/schema.js';
import { detailError } from './api-error.js';
import type { ContentStore, ItemRecord, PageRecord, PageSnapshot } from './content-store.js';
import { blankFields, blankValue, isPlainObject } from './field-values.js';

/** Read API response shapes (butter-api.md §2): page objects, flat items, reference expansion, list meta. */

export interface ReadContext {
  store: ContentStore;
  locale: string;
  preview: boolean;
  levels: number;
  altMedia: boolean;
}

const MAX_PAGE_SIZE = 100;

function isOn(value: string | null): boolean {
  return value !== null && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** `locale`, `levels` (1..5, default 2) and `preview`/`test` as every read route takes them (§2.1, §2.3, §2.6). */
export function readContext(store: ContentStore, query: URLSearchParams): ReadContext {
  const locale = query.get('locale') || store.defaultLocale;
  if (!store.locales.includes(locale)) throw detailError(400, 'Invalid locale parameter');
  const rawLevels = query.get('levels');
  const levels = rawLevels === null || rawLevels === '' ? 2 : Number(rawLevels);
  // Docs disagree on clamp vs 400 (§2.3, unverified); a 400 makes a daemon bug visible.
  if (!Number.isInteger(levels) || levels < 1 || levels > 5) {
    throw detailError(400, 'levels query parameter should be an integer between 1 and 5 (inclusive)');
  }
  return {
    store,
    locale,
    levels,
    preview: isOn(query.get('preview')) || isOn(query.get('test')),
    altMedia: isOn(query.get('alt_media_text')),
  };
}

function visibleVersion(
  page: PageRecord,
  ctx: ReadContext,
): { snap: PageSnapshot; status: string } | undefined {
  const versions = page.locales[ctx.locale];
  if (!versions) return undefined;
  if (ctx.preview && versions.draft) return { snap: versions.draft, status: 'draft' };
  if (versions.published) return { snap: versions.published, status: 'published' };
  return undefined;
}

function isItemVisible(item: ItemRecord, ctx: ReadContext): boolean {
  return !item.deleted && (ctx.preview || item.status === 'published');
}

/** Key order as in real payloads: slug, name, published, updated, page_type, fields, scheduled, status (§2.1). */
export function renderPage(
  page: PageRecord,
  ctx: ReadContext,
  depth = 1,
): Record<string, unknown> | undefined {
  const version = visibleVersion(page, ctx);
  if (!version) return undefined;
  const schema = ctx.store.pageSchema(page.pageType, page.slug) ?? {};
  return {
    slug: page.slug,
    name: page.title,
    published: version.snap.published,
    updated: version.snap.updated,
    page_type: page.pageType === '*' ? null : page.pageType,
    fields: renderFields(schema, version.snap.fields, ctx, depth),
    scheduled: null,
    status: version.status,
  };
}

/** An item is flat: `meta.id` beside its fields, no timestamps or status (§2.2). */
export function renderItem(item: ItemRecord, ctx: ReadContext, depth = 1): Record<string, unknown> {
  const schema = ctx.store.collectionSchema(item.collection) ?? {};
  const fields = item.locales[ctx.locale] ?? blankFields(schema);
  return { meta: { id: item.id }, ...renderFields(schema, fields, ctx, depth) };
}

/** The URI string a reference becomes past `levels` (§2.3; exact form unverified, same pattern as webhook `itemid`). */
export function itemUri(collection: string, id: number): string {
  return `/v2/content/?keys=${collection}[_id=${id}]`;
}

function pageUri(page: PageRecord): string {
  return `/v2/pages/${page.pageType}/${page.slug}/`;
}

function renderFields(
  specs: Record<string, FieldSpec>,
  fields: Record<string, unknown>,
  ctx: ReadContext,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    out[key] = renderValue(spec, key in fields ? fields[key] : blankValue(spec), ctx, depth);
  }
  return out;
}

function renderReference(to: string, ref: unknown, ctx: ReadContext, depth: number): unknown {
  const expand = depth < ctx.levels;
  if (to === 'page') {
    if (typeof ref !== 'string') return null;
    const page = ctx.store.allPages().find((p) => p.slug === ref && visibleVersion(p, ctx));
    if (!page) return null;
    return expand ? renderPage(page, ctx, depth + 1) : pageUri(page);
  }
  const collection = to.slice('collection:'.length);
  const item = typeof ref === 'number' ? ctx.store.findItem(collection, ref) : undefined;
  if (!item || !isItemVisible(item, ctx)) return null;
  return expand ? renderItem(item, ctx, depth + 1) : itemUri(collection, item.id);
}

function renderValue(spec: FieldSpec, value: unknown, ctx: ReadContext, depth: number): unknown {
  switch (spec.type) {
    case 'media':
      return ctx.altMedia ? { url: value ?? '', alt: '' } : value;
    case 'reference':
      if (spec.many) {
        const refs = Array.isArray(value) ? value : [];
        return refs.map((r) => renderReference(spec.to, r, ctx, depth)).filter((r) => r !== null);
      }
      return renderReference(spec.to, value, ctx, depth);
    case 'repeater':
      return (Array.isArray(value) ? value : []).map((row) =>
        renderFields(spec.fields, isPlainObject(row) ? row : {}, ctx, depth),
      );
    case 'component':
      return renderFields(spec.fields, isPlainObject(value) ? value : {}, ctx, depth);
    case 'component-picker':
      return (Array.isArray(value) ? value : []).flatMap((entry) => {
        if (!isPlainObject(entry)) return [];
        const component = spec.components[String(entry.type)];
        if (!component) return [];
        const fields = isPlainObject(entry.fields) ? entry.fields : {};
        return [{ type: entry.type, fields: renderFields(component.fields, fields, ctx, depth) }];
      });
    default:
      return value;
  }
}

export interface Pagination {
  style: 'page' | 'offset';
  start: number;
  size: number;
  page: number;
}

function parseBoundedInt(
  query: URLSearchParams,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw detailError(400, `${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** `page`/`page_size` or `limit`/`offset`, never both (§2.1); page_size and limit are 1..100, default 10. */
export function parsePagination(query: URLSearchParams): Pagination {
  const offsetStyle = query.has('limit') || query.has('offset');
  if (offsetStyle && (query.has('page') || query.has('page_size'))) {
    throw detailError(400, 'Use either page/page_size or limit/offset, not both');
  }
  if (offsetStyle) {
    const size = parseBoundedInt(query, 'limit', 1, MAX_PAGE_SIZE, 10);
    const start = parseBoundedInt(query, 'offset', 0, Number.MAX_SAFE_INTEGER, 0);
    return { style: 'offset', start, size, page: 0 };
  }
  const size = parseBoundedInt(query, 'page_size', 1, MAX_PAGE_SIZE, 10);
  const page = parseBoundedInt(query, 'page', 1, Number.MAX_SAFE_INTEGER, 1);
  return { style: 'page', start: (page - 1) * size, size, page };
}

export function paginate<T>(entries: T[], p: Pagination): { meta: Record<string, unknown>; slice: T[] } {
  const count = entries.length;
  const slice = entries.slice(p.start, p.start + p.size);
  const hasNext = p.start + p.size < count;
  if (p.style === 'offset') {
    return {
      meta: {
        count,
        next_offset: hasNext ? p.start + p.size : null,
        previous_offset: p.start > 0 ? Math.max(0, p.start - p.size) : null,
      },
      slice,
    };
  }
  return {
    meta: { count, next_page: hasNext ? p.page + 1 : null, previous_page: p.page > 1 ? p.page - 1 : null },
    slice,
  };
}

function lookupPath(fields: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = fields;
  for (const part of path) value = isPlainObject(value) ? value[part] : undefined;
  return value;
}

function specAtPath(specs: Record<string, FieldSpec>, path: string[]): FieldSpec | undefined {
  let current: Record<string, FieldSpec> | undefined = specs;
  let spec: FieldSpec | undefined;
  for (const part of path) {
    spec = current?.[part];
    current = spec && spec.type === 'component' ? spec.fields : undefined;
  }
  return spec;
}

/** Equality match on the stored value; references match by slug or id, a many-reference by any entry (§2.1). */
function matchesFilter(value: unknown, wanted: string): boolean {
  if (Array.isArray(value)) return value.some((v) => matchesFilter(v, wanted));
  if (value === null || value === undefined) return wanted === '' || wanted === 'null';
  return String(value) === wanted;
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined || a === '') return 1;
  if (b === null || b === undefined || b === '') return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

interface Row {
  fields: Record<string, unknown>;
  published?: string | null;
  updated?: string;
}

/** `fields.x[.y]=v` filters and `order=[-]field`; an unknown field in either is a 403 (§2.2). */
function filterAndOrder<T extends Row>(
  rows: T[],
  specs: Record<string, FieldSpec>,
  query: URLSearchParams,
  orderable: string[],
): T[] {
  let out = rows;
  for (const [name, wanted] of query) {
    if (!name.startsWith('fields.')) continue;
    const path = name.slice('fields.'.length).split('.');
    if (!specAtPath(specs, path)) throw detailError(403, `Invalid filter field: ${path.join('.')}`);
    out = out.filter((row) => matchesFilter(lookupPath(row.fields, path), wanted));
  }
  const order = query.get('order');
  if (order) {
    const descending = order.startsWith('-');
    const name = descending ? order.slice(1) : order;
    const builtin = orderable.includes(name);
    if (!builtin && !specs[name]) throw detailError(403, `Invalid order field: ${name}`);
    const key = (row: T): unknown => (builtin ? row[name as keyof Row] : row.fields[name]);
    out = [...out].sort((a, b) => (descending ? -1 : 1) * compareValues(key(a), key(b)));
  }
  return out;
}

/** `GET /v2/pages/{type}/{slug}/`: `*` searches every type and is a 403 when ambiguous (§2.1). */
export function readPage(
  store: ContentStore,
  pageType: string,
  slug: string,
  query: URLSearchParams,
): unknown {
  const ctx = readContext(store, query);
  const visible = store.findPages(pageType, slug).filter((p) => visibleVersion(p, ctx));
  if (visible.length > 1) throw detailError(403, 'Multiple pages found with this slug; use the page type.');
  const page = visible[0];
  if (!page) throw detailError(404, 'Page not found.');
  return { data: renderPage(page, ctx) };
}

/** `GET /v2/pages/{type}/`; `*` lists single pages, and takes no filter or order (§2.1, ignored there). */
export function listPages(store: ContentStore, pageType: string, query: URLSearchParams): unknown {
  if (pageType !== '*' && !store.config.pageTypes[pageType]) throw detailError(404, 'Not found.');
  const ctx = readContext(store, query);
  const pagination = parsePagination(query);
  let rows = store
    .allPages()
    .filter((p) => p.pageType === pageType)
    .flatMap((page) => {
      const version = visibleVersion(page, ctx);
      return version ? [{ page, ...version.snap }] : [];
    });
  if (pageType !== '*') {
    rows = filterAndOrder(rows, store.config.pageTypes[pageType]?.fields ?? {}, query, [
      'published',
      'updated',
    ]);
  }
  const { meta, slice } = paginate(rows, pagination);
  return { meta, data: slice.map((r) => renderPage(r.page, ctx)) };
}

/** `GET /v2/pages/search/?query=`: substring match on the title and text fields (matching rules unverified). */
export function searchPages(store: ContentStore, query: URLSearchParams): unknown {
  const ctx = readContext(store, query);
  const needle = (query.get('query') ?? '').toLowerCase();
  const pageType = query.get('page_type');
  const rows = store.allPages().filter((page) => {
    if (pageType && page.pageType !== pageType) return false;
    const version = visibleVersion(page, ctx);
    if (!version) return false;
    const haystack = `${page.title} ${JSON.stringify(version.snap.fields)}`.toLowerCase();
    return needle !== '' && haystack.includes(needle);
  });
  const { meta, slice } = paginate(rows, parsePagination(query));
  return { meta, data: slice.map((p) => renderPage(p, ctx)) };
}

function visibleItems(ctx: ReadContext, collection: string): Array<ItemRecord & Row> {
  return ctx.store
    .liveItems(collection)
    .filter((item) => isItemVisible(item, ctx))
    .map((item) => ({
      ...item,
      fields: item.locales[ctx.locale] ?? blankFields(ctx.store.collectionSchema(collection) ?? {}),
    }));
}

/** `GET /v2/content/{key}/`: `data` is an object keyed by the collection key (§2.2). */
export function listCollection(
  store: ContentStore,
  collection: string,
  query: URLSearchParams,
  onlyId?: number,
): unknown {
  const specs = store.collectionSchema(collection);
  if (!specs) throw detailError(404, 'Not found.');
  const ctx = readContext(store, query);
  const pagination = parsePagination(query);
  let rows = filterAndOrder(visibleItems(ctx, collection), specs, query, []);
  if (onlyId !== undefined) rows = rows.filter((r) => r.id === onlyId);
  const { meta, slice } = paginate(rows, pagination);
  return { meta, data: { [collection]: slice.map((item) => renderItem(item, ctx)) } };
}

/** `GET /v2/content/?keys=a,b`: no keys is `200 {}`, one key acts like `/content/{key}/`, 2+ have no meta (§2.2). */
export function readContentKeys(store: ContentStore, query: URLSearchParams): unknown {
  const keys = (query.get('keys') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (keys.length === 0) return {};
  // `key[_id=N]` is the URI form references take past `levels` (§2.3), so it is accepted as a key.
  const parsed = keys.map((raw) => {
    const match = /^(.+)\[_id=(\d+)\]$/.exec(raw);
    const key = match?.[1] ?? raw;
    if (!store.collectionSchema(key)) throw detailError(404, `Content key ${key} not found`);
    return { key, id: match ? Number(match[2]) : undefined };
  });
  const [first] = parsed;
  if (parsed.length === 1 && first) return listCollection(store, first.key, query, first.id);
  const ctx = readContext(store, query);
  const data: Record<string, unknown[]> = {};
  for (const { key, id } of parsed) {
    const items = visibleItems(ctx, key).filter((item) => id === undefined || item.id === id);
    data[key] = items.map((item) => renderItem(item, ctx));
  }
  return { data };
}

/** `GET /v2/content/{key}/{id}/` (newer docs, §2.2): `{"data": {"meta":{"id":N}, ...}}`. */
export function readItem(
  store: ContentStore,
  collection: string,
  id: number,
  query: URLSearchParams,
): unknown {
  if (!store.collectionSchema(collection)) throw detailError(404, 'Not found.');
  const ctx = readContext(store, query);
  const item = store.findItem(collection, id);
  if (!item || !isItemVisible(item, ctx)) throw detailError(404, 'Not found.');
  return { data: renderItem(item, ctx) };
}
