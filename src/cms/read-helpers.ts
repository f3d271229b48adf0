import type { IdLookup } from '../core/api-fields.js';
import type { EntityKey, EntityRef, Manifest } from '../core/types.js';
import type { ReadTarget, RemoteRead, RemoteSnapshot, UnavailableList } from './port.js';

/** Small pieces of the read side every backend and the engine share; none holds a fact about one CMS. */

/** The read targets of a set of entities and locales, merged per entity. */
export function mergeTargets(targets: ReadTarget[]): ReadTarget[] {
  const byEntity = new Map<EntityKey, Set<string>>();
  for (const { entity, locales } of targets) {
    const set = byEntity.get(entity) ?? new Set<string>();
    for (const locale of locales) set.add(locale);
    byEntity.set(entity, set);
  }
  return [...byEntity].map(([entity, locales]) => ({ entity, locales: [...locales].sort() }));
}

/** The reads as a snapshot for verification: the entities they covered, found or not. */
export function snapshotOfRead(result: RemoteRead): RemoteSnapshot {
  return {
    remote: result.remote,
    itemKeys: result.itemKeys,
    covered: new Set(result.read.keys()),
    unavailable: result.unavailable,
    duplicateKeys: new Map(),
    calls: result.calls,
  };
}

/** Whether an entity belongs to one of the unavailable lists. */
export function inUnavailableList(ref: EntityRef, unavailable: UnavailableList[]): boolean {
  return unavailable.some((u) =>
    ref.kind === 'item'
      ? u.kind === 'collection' && u.name === ref.collection
      : u.kind === 'page type' && u.name === ref.pageType,
  );
}

/** Id lookups backed by the manifest, with ids learned from a read layered on top. */
export function makeIdLookup(manifest: Manifest, itemKeys?: Map<string, Map<number, string>>): IdLookup {
  const byId = new Map<string, string>();
  for (const [key, entity] of Object.entries(manifest.entities)) {
    if (!key.startsWith('item:') || entity.remoteId === undefined) continue;
    const [, collection, ...rest] = key.split(':');
    byId.set(`${collection}:${entity.remoteId}`, rest.join(':'));
  }
  for (const [collection, ids] of itemKeys ?? []) {
    for (const [id, key] of ids) byId.set(`${collection}:${id}`, key);
  }
  const byKey = new Map<string, number>();
  for (const [composite, key] of byId) {
    const cut = composite.lastIndexOf(':');
    byKey.set(`${composite.slice(0, cut)}:${key}`, Number(composite.slice(cut + 1)));
  }
  return {
    itemIdByKey: (collection, key) => byKey.get(`${collection}:${key}`),
    itemKeyById: (collection, id) => byId.get(`${collection}:${id}`),
  };
}
