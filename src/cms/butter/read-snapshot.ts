import type { SyncConfig } from '../../config/schema.js';
import { SyncError } from '../../core/errors.js';
import { modelFor } from '../../core/model.js';
import { normalizeField } from '../../core/normalize.js';
import {
  type EntityKey,
  type EntityRef,
  entityKey,
  type RemoteEntity,
  type RemoteId,
  type Variant,
} from '../../core/types.js';
import type { ReadState, RemoteSnapshot, SnapshotScope, UnavailableList } from '../port.js';
import { makeIdLookup } from '../read-helpers.js';
import { fromApiFields } from './api-values.js';
import type { CmsClient, RemoteItem, RemotePage } from './wire-types.js';

/** ButterCMS's snapshot protocol (butter-api.md §2.1, §2.2): every list of a scope, in every locale. */

/** ButterCMS ids are numbers (meta.id); the port's ids are opaque text. */
function idOf(item: RemoteItem): RemoteId {
  return String(item.id);
}

/** Every locale of one list, or undefined after a 404 (recorded); any other error ends the run as before. */
async function readList<T>(
  what: { kind: UnavailableList['kind']; name: string },
  locales: string[],
  read: (locale: string) => Promise<T[]>,
  unavailable: UnavailableList[],
): Promise<Map<string, T[]> | undefined> {
  const perLocale = new Map<string, T[]>();
  for (const locale of locales) {
    try {
      perLocale.set(locale, await read(locale));
    } catch (error) {
      if (!(error instanceof SyncError) || error.code !== 'CMS_NOT_FOUND') throw error;
      unavailable.push({ ...what, error });
      return undefined;
    }
  }
  return perLocale;
}

/** Items carry no locale marker (butter-api.md §2.2): a locale whose every field is empty was never written. */
export function isEmptyVariant(fields: Record<string, unknown>, ref: EntityRef, config: SyncConfig): boolean {
  const model = modelFor(ref, config);
  return Object.entries(model.fields).every(([name, spec]) => {
    const value = normalizeField(spec, fields[name], { media: {} });
    return value === '' || value === null || value === false || (Array.isArray(value) && value.length === 0);
  });
}

/**
 * Read every configured page type, single page and collection in every locale (list endpoints at
 * page_size=100, so the cost is ⌈n/100⌉ per list), or just the lists and entities a scope names;
 * translate to file form (the same normalisation as the push side) and key by entity.
 */
export async function fetchRemoteSnapshot(
  cms: CmsClient,
  config: SyncConfig,
  state: ReadState,
  scope: SnapshotScope = {},
): Promise<RemoteSnapshot> {
  const { manifest } = state;
  const before = cms.stats().total;
  const remote = new Map<EntityKey, RemoteEntity>();
  const itemKeys = new Map<string, Map<RemoteId, string>>();
  // Always with drafts (butter-api.md §7): without preview=1 a draft would look deleted, and read-backs
  // of writes (which default to draft) would never match.
  const preview = true;
  const locales = config.locales.all;
  const collections = scope.collections ?? Object.keys(config.collections);

  // Items first: page references resolve by slug, but item references need the id → key map.
  const rawItems = new Map<string, Map<string, RemoteItem[]>>();
  const unavailable: UnavailableList[] = [];
  for (const collection of collections) {
    const model = config.collections[collection];
    if (!model) continue;
    const perLocale = await readList(
      { kind: 'collection', name: collection },
      locales,
      (locale) => cms.listItems(collection, { preview, locale, levels: 1 }),
      unavailable,
    );
    if (perLocale) rawItems.set(collection, perLocale);
  }
  const lookup = makeIdLookup(manifest);
  const covered = new Set<EntityKey>();
  const duplicateKeys = new Map<EntityKey, RemoteId[]>();
  for (const { collection, id } of scope.items ?? []) {
    if (!config.collections[collection] || collections.includes(collection)) continue;
    const perLocale = rawItems.get(collection) ?? new Map<string, RemoteItem[]>();
    rawItems.set(collection, perLocale);
    let found = false;
    for (const locale of locales) {
      const item = await cms.getItem(collection, Number(id), { preview, locale, levels: 1 });
      if (!item) continue;
      found = true;
      perLocale.set(locale, [...(perLocale.get(locale) ?? []), item]);
    }
    const keyValue = found ? undefined : lookup.itemKeyById(collection, id);
    if (keyValue !== undefined) covered.add(entityKey({ kind: 'item', collection, key: keyValue }));
  }
  for (const [collection, perLocale] of rawItems) {
    const model = config.collections[collection];
    if (!model) continue;
    const ids = new Map<RemoteId, string>();
    for (const locale of [config.locales.default, ...locales]) {
      for (const item of perLocale.get(locale) ?? []) {
        const keyValue = item.fields[model.keyField];
        if (!ids.has(idOf(item)) && typeof keyValue === 'string' && keyValue !== '')
          ids.set(idOf(item), keyValue);
      }
    }
    itemKeys.set(collection, ids);
    const byKey = new Map<string, RemoteId[]>();
    for (const [id, key] of ids) byKey.set(key, [...(byKey.get(key) ?? []), id]);
    for (const [key, sharing] of byKey) {
      if (sharing.length > 1)
        duplicateKeys.set(
          entityKey({ kind: 'item', collection, key }),
          sharing.sort((a, b) => Number(a) - Number(b)),
        );
    }
    if (!collections.includes(collection)) {
      for (const key of ids.values()) covered.add(entityKey({ kind: 'item', collection, key }));
    }
  }
  const ids = makeIdLookup(manifest, itemKeys);
  const ctx = { media: manifest.media, readRichText: state.readRichText };

  for (const [collection, perLocale] of rawItems) {
    for (const [locale, items] of perLocale) {
      for (const item of items) {
        const key = itemKeys.get(collection)?.get(idOf(item));
        if (key === undefined) continue;
        const ref: EntityRef = { kind: 'item', collection, key };
        if (locale !== config.locales.default && isEmptyVariant(item.fields, ref, config)) continue;
        const model = modelFor(ref, config);
        const variant: Variant = { fields: fromApiFields(item.fields, model, ids, config, ctx), meta: {} };
        const k = entityKey(ref);
        const entity: RemoteEntity = remote.get(k) ?? { key: k, ref, remoteId: idOf(item), locales: {} };
        entity.locales[locale] = variant;
        remote.set(k, entity);
      }
    }
  }

  const addPage = (ref: EntityRef, locale: string, page: RemotePage): void => {
    const model = modelFor(ref, config);
    const variant: Variant = {
      fields: fromApiFields(page.fields, model, ids, config, ctx),
      meta: {
        title: page.name,
        ...(page.status === 'draft' || page.status === 'published' ? { status: page.status } : {}),
      },
    };
    const k = entityKey(ref);
    const entity = remote.get(k) ?? { key: k, ref, locales: {} };
    entity.locales[locale] = variant;
    remote.set(k, entity);
  };

  const listedTypes = scope.pageTypes ?? Object.keys(config.pageTypes);
  for (const pageType of listedTypes) {
    if (!config.pageTypes[pageType]) continue;
    const perLocale = await readList(
      { kind: 'page type', name: pageType },
      locales,
      (locale) => cms.listPages(pageType, { preview, locale, levels: 1 }),
      unavailable,
    );
    for (const [locale, pages] of perLocale ?? []) {
      for (const page of pages) addPage({ kind: 'page', pageType, slug: page.slug }, locale, page);
    }
  }
  const singles = (scope.singlePages ?? Object.keys(config.singlePages)).filter((s) => config.singlePages[s]);
  for (const { pageType, slug } of scope.pages ?? []) {
    const known = pageType === '*' ? config.singlePages[slug] : config.pageTypes[pageType];
    const listed = pageType === '*' ? singles.includes(slug) : listedTypes.includes(pageType);
    if (!known || listed) continue;
    const ref: EntityRef = { kind: 'page', pageType, slug };
    covered.add(entityKey(ref));
    for (const locale of locales) {
      const page = await cms.getPage(pageType, slug, { preview, locale, levels: 1 });
      if (page) addPage(ref, locale, page);
    }
  }
  if (singles.length > 0) {
    for (const locale of locales) {
      for (const page of await cms.listPages('*', { preview, locale, levels: 1 })) {
        if (singles.includes(page.slug))
          addPage({ kind: 'page', pageType: '*', slug: page.slug }, locale, page);
      }
    }
  }
  return { remote, itemKeys, covered, unavailable, duplicateKeys, calls: cms.stats().total - before };
}
