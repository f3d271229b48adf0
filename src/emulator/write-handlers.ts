import { badRequest, detailError } from './api-error.js';
import type { ContentStore, ItemRecord, PageRecord, Status } from './content-store.js';
import { isPlainObject, normalizeFields, rehostMedia } from './field-values.js';
import type { JobApply, WebhookEvent } from './write-jobs.js';

/**
 * Write API validation (butter-api.md §3): everything checkable is checked before the answer;
 * what is returned is the job that applies the change later, plus the 202 body.
 */

export interface AcceptedWrite {
  status: 202 | 204;
  body?: Record<string, unknown>;
  apply: JobApply;
}

type Body = Record<string, unknown>;

const SCHEDULED_WARNING = 'scheduled fields are ignored';

/** Who the webhook `editor` names: an API write or a seeded/dashboard edit. */
export type Editor = 'Write API' | 'Dashboard';

function plainTimestamp(): string {
  return new Date().toISOString().slice(0, 19);
}

/** Pages may be sent wrapped the way the Read API shapes them, `{"data": {...}}` (§3.2). */
function unwrapBody(body: Body): Body {
  if (isPlainObject(body.data) && !('fields' in body) && !('title' in body)) return body.data;
  return body;
}

function readStatus(body: Body, warnings: string[]): Status {
  const status = body.status;
  if (status === undefined || status === null) return 'draft';
  if (status === 'draft' || status === 'published') return status;
  if (status === 'scheduled') {
    warnings.push(SCHEDULED_WARNING);
    return 'draft';
  }
  throw badRequest({ status: [`"${String(status)}" is not a valid choice.`] });
}

function targetLocale(store: ContentStore, query: URLSearchParams): string {
  const locale = query.get('locale') || store.defaultLocale;
  if (!store.locales.includes(locale)) throw detailError(400, 'Invalid locale parameter');
  return locale;
}

/** Multi-locale shape when ALL keys of `fields` are configured locale slugs (§3.1). */
export function splitLocales(
  store: ContentStore,
  fields: Body,
  query: URLSearchParams,
): Record<string, Body> {
  const keys = Object.keys(fields);
  const multi = keys.length > 0 && keys.every((k) => store.locales.includes(k) && isPlainObject(fields[k]));
  if (multi) return fields as Record<string, Body>;
  return { [targetLocale(store, query)]: fields };
}

function normalizeLocales(
  specs: Parameters<typeof normalizeFields>[0],
  byLocale: Record<string, Body>,
): Record<string, Body> {
  const out: Record<string, Body> = {};
  const problems: Record<string, string[]> = {};
  for (const [locale, fields] of Object.entries(byLocale)) {
    const result = normalizeFields(specs, fields);
    out[locale] = result.fields;
    for (const [key, messages] of Object.entries(result.problems)) {
      problems[key] = [...(problems[key] ?? []), ...messages];
    }
  }
  if (Object.keys(problems).length > 0) throw badRequest(problems);
  return out;
}

function localeOrNull(store: ContentStore, locale: string): string | null {
  return locale === store.defaultLocale ? null : locale;
}

function pageEvent(store: ContentStore, page: PageRecord, locale: string, editor: Editor): WebhookEvent {
  const versions = page.locales[locale];
  const latest = versions?.draft ?? versions?.published;
  const status = versions?.draft ? 'draft' : 'published';
  return {
    event: `page.${status}`,
    data: {
      id: page.slug,
      buttercms_id: page.id,
      page_type: page.pageType,
      editor,
      name: page.title,
      timestamp: plainTimestamp(),
      locale: localeOrNull(store, locale),
      status,
      updated: latest?.updated ?? null,
      published: latest?.published ?? null,
      scheduled: null,
    },
  };
}

function itemLabel(store: ContentStore, item: ItemRecord): string {
  const fields = item.locales[store.defaultLocale] ?? Object.values(item.locales)[0] ?? {};
  const first = Object.values(fields).find((v) => typeof v === 'string' && v !== '');
  return typeof first === 'string' ? first : String(item.id);
}

/** Item events name the collection in `id`; the item id hides in `itemid` (§4). */
export function itemEvent(
  store: ContentStore,
  item: ItemRecord,
  event: 'published' | 'draft' | 'unpublished' | 'delete',
  locales: string[],
  editor: Editor,
): WebhookEvent {
  const only = locales.length === 1 && locales[0] ? locales[0] : store.defaultLocale;
  return {
    event: `collectionitem.${event}`,
    data: {
      id: item.collection,
      itemid: `/v2/content/?keys=${item.collection}[_id=${item.id}]`,
      label: itemLabel(store, item),
      editor,
      timestamp: plainTimestamp(),
      locale: localeOrNull(store, only),
      status: event === 'delete' ? 'deleted' : event === 'published' ? 'published' : 'draft',
    },
  };
}

/** `POST /v2/pages/` (§3.1): title, slug, page_type (or `page-type`), and every schema key in `fields`. */
export function acceptCreatePage(
  store: ContentStore,
  rawBody: Body,
  query: URLSearchParams,
  editor: Editor = 'Write API',
  checkSlug = true,
): AcceptedWrite {
  const body = unwrapBody(rawBody);
  const warnings: string[] = [];
  const title = body.title ?? body.name;
  const slug = body.slug;
  const pageType = body.page_type ?? body['page-type'];
  const problems: Record<string, string[]> = {};
  if (typeof title !== 'string' || title.trim() === '') problems.title = ['You must specify a page title.'];
  if (typeof slug !== 'string' || slug.trim() === '') problems.slug = ['You must specify a page slug.'];
  else if (checkSlug && !/^[A-Za-z0-9_-]+$/.test(slug)) problems.slug = ['Enter a valid slug.'];
  if (typeof pageType !== 'string' || pageType === '') problems.page_type = ['You must specify a page type.'];
  if (Object.keys(problems).length > 0) throw badRequest(problems);
  const type = pageType as string;
  const pageSlug = slug as string;
  // Single pages are created with page_type "*" (unverified, §3.1); each has its own schema, keyed by slug.
  const specs = store.pageSchema(type, pageSlug);
  if (!specs) {
    throw badRequest(
      type === '*'
        ? { slug: [`No single page "${pageSlug}" exists in the content model.`] }
        : { page_type: [`Page type "${type}" does not exist.`] },
    );
  }
  if (store.findPages(type, pageSlug).some((p) => p.pageType === type)) {
    throw badRequest({ slug: ['Page with this slug already exists.'] });
  }
  if ('scheduled' in body) warnings.push(SCHEDULED_WARNING);
  const status = readStatus(body, warnings);
  if (!isPlainObject(body.fields)) throw badRequest({ fields: ['This field is required.'] });
  const byLocale = normalizeLocales(specs, splitLocales(store, body.fields, query));
  const missing = Object.values(byLocale).flatMap((fields) =>
    Object.keys(specs).filter((k) => !(k in fields)),
  );
  if (missing.length > 0) {
    throw badRequest({
      fields: [`Every field of the page type must be sent; missing: ${[...new Set(missing)].join(', ')}.`],
    });
  }
  return {
    status: 202,
    body: { status: 'pending', ...(warnings.length ? { warnings } : {}) },
    apply: () => {
      if (store.findPages(type, pageSlug).some((p) => p.pageType === type)) return [];
      const locales = Object.fromEntries(
        Object.entries(byLocale).map(([locale, fields]) => [locale, rehostMedia(specs, fields)]),
      );
      const page = store.createPage({
        pageType: type,
        slug: pageSlug,
        title: title as string,
        status,
        locales,
      });
      return Object.keys(locales).map((locale) => pageEvent(store, page, locale, editor));
    },
  };
}

/** Resolve `{type}/{slug}`; `*` looks in every type and is a 403 when ambiguous (§3.2). */
export function findPageForWrite(store: ContentStore, pageType: string, slug: string): PageRecord {
  if (pageType !== '*' && !store.config.pageTypes[pageType]) throw detailError(404, 'Not found.');
  const pages = store.findPages(pageType, slug);
  if (pages.length > 1) throw detailError(403, 'Multiple pages found with this slug; use the page type.');
  const page = pages[0];
  if (!page) throw detailError(404, 'Not found.');
  return page;
}

/** `PATCH|PUT /v2/pages/{type}/{slug}/` (§3.2): both partial, status defaults to draft, title/slug ignored. */
export function acceptUpdatePage(
  store: ContentStore,
  page: PageRecord,
  rawBody: Body,
  query: URLSearchParams,
  editor: Editor = 'Write API',
): AcceptedWrite {
  const body = unwrapBody(rawBody);
  const warnings: string[] = [];
  if ('scheduled' in body) warnings.push(SCHEDULED_WARNING);
  const status = readStatus(body, warnings);
  const specs = store.pageSchema(page.pageType, page.slug) ?? {};
  const fields = body.fields ?? {};
  if (!isPlainObject(fields)) throw badRequest({ fields: ['Expected a dictionary of fields.'] });
  const byLocale = normalizeLocales(specs, splitLocales(store, fields, query));
  return {
    status: 202,
    body: { status: 'pending', ...(warnings.length ? { warnings: [...new Set(warnings)] } : {}) },
    apply: () => {
      if (!store.allPages().includes(page)) return [];
      return Object.entries(byLocale).map(([locale, localeFields]) => {
        store.updatePage(page, locale, rehostMedia(specs, localeFields), status);
        return pageEvent(store, page, locale, editor);
      });
    },
  };
}

function checkRequired(
  specs: ReturnType<ContentStore['collectionSchema']>,
  byLocale: Record<string, Body>,
): void {
  const problems: Record<string, string[]> = {};
  for (const [key, spec] of Object.entries(specs ?? {})) {
    if (!('required' in spec) || !spec.required) continue;
    for (const fields of Object.values(byLocale)) {
      const value = fields[key];
      if (
        value === undefined ||
        value === null ||
        value === '' ||
        (Array.isArray(value) && value.length === 0)
      ) {
        problems[key] = ['This field is required.'];
      }
    }
  }
  if (Object.keys(problems).length > 0) throw badRequest(problems);
}

/** `POST /v2/content/` (§3.3): `key` in the body and `fields` as an ARRAY of one object per item. */
export function acceptCreateItem(
  store: ContentStore,
  body: Body,
  query: URLSearchParams,
  editor: Editor = 'Write API',
): AcceptedWrite {
  const key = body.key;
  if (typeof key !== 'string' || key === '') throw badRequest({ key: ['This field is required.'] });
  const specs = store.collectionSchema(key);
  if (!specs) throw badRequest({ key: [`Collection "${key}" does not exist.`] });
  const warnings: string[] = [];
  const status = readStatus(body, warnings);
  if (!Array.isArray(body.fields)) {
    throw badRequest({ fields: ['Expected a list of items; on create `fields` is an array.'] });
  }
  if (body.fields.length === 0) throw badRequest({ fields: ['This list may not be empty.'] });
  // Several elements create several items (unverified, §3.3); the daemon sends one.
  const entries = body.fields.map((element) => {
    if (!isPlainObject(element)) throw badRequest({ fields: ['Each entry must be an object of fields.'] });
    const byLocale = normalizeLocales(specs, splitLocales(store, element, query));
    checkRequired(specs, byLocale);
    return byLocale;
  });
  return {
    status: 202,
    body: { status: 'pending' },
    apply: () =>
      entries.map((byLocale) => {
        const locales = Object.fromEntries(
          Object.entries(byLocale).map(([locale, fields]) => [locale, rehostMedia(specs, fields)]),
        );
        const item = store.createItem(key, status, locales);
        return itemEvent(store, item, status, Object.keys(locales), editor);
      }),
  };
}

/** Parse `{key}/{id}` into a live item, or 404 (§3.4). */
export function findItemForWrite(store: ContentStore, collection: string, rawId: string): ItemRecord {
  const id = /^\d+$/.test(rawId) ? Number(rawId) : Number.NaN;
  const item = store.collectionSchema(collection) ? store.findItem(collection, id) : undefined;
  if (!item) throw detailError(404, 'Not found.');
  return item;
}

/** `PATCH` merges, `PUT` replaces (fields required); `fields` is an OBJECT here; omitted status is kept (§3.4). */
export function acceptUpdateItem(
  store: ContentStore,
  item: ItemRecord,
  body: Body,
  query: URLSearchParams,
  replace: boolean,
  editor: Editor = 'Write API',
): AcceptedWrite {
  const specs = store.collectionSchema(item.collection) ?? {};
  const warnings: string[] = [];
  const status = body.status === undefined || body.status === null ? undefined : readStatus(body, warnings);
  if (body.fields === undefined && replace) throw badRequest({ fields: ['This field is required.'] });
  const fields = body.fields ?? {};
  if (!isPlainObject(fields)) {
    throw badRequest({ fields: ['Expected a dictionary of fields; on update `fields` is an object.'] });
  }
  // `?locale=` on item updates is undocumented (§3.4); it is honoured like on pages.
  const byLocale =
    Object.keys(fields).length > 0 ? normalizeLocales(specs, splitLocales(store, fields, query)) : {};
  if (replace) checkRequired(specs, byLocale);
  return {
    status: 202,
    body: { status: 'pending' },
    apply: () => {
      if (item.deleted) return [];
      const wasPublished = item.status === 'published';
      const locales = Object.fromEntries(
        Object.entries(byLocale).map(([locale, localeFields]) => [locale, rehostMedia(specs, localeFields)]),
      );
      store.updateItem(item, locales, { status, replace });
      const event =
        item.status === 'published'
          ? 'published'
          : wasPublished && status === 'draft'
            ? 'unpublished'
            : 'draft';
      return [itemEvent(store, item, event, Object.keys(locales), editor)];
    },
  };
}

/** `DELETE /v2/content/{key}/{id}/`: 204 now, soft delete and webhook later (§3.5). */
export function acceptDeleteItem(
  store: ContentStore,
  item: ItemRecord,
  editor: Editor = 'Write API',
): AcceptedWrite {
  return {
    status: 204,
    apply: () => {
      if (item.deleted) return [];
      store.deleteItem(item);
      return [itemEvent(store, item, 'delete', [], editor)];
    },
  };
}
