import type { IdLookup } from '../core/api-fields.js';
import type { EntityKey, EntityRef, Manifest, RemoteId } from '../core/types.js';
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
      : ref.kind === 'post'
        ? u.kind === 'posts'
        : u.kind === 'page type' && u.name === ref.pageType,
  );
}

/** Id lookups backed by the manifest, with ids learned from a read layered on top. */
export function makeIdLookup(manifest: Manifest, itemKeys?: Map<string, Map<RemoteId, string>>): IdLookup {
  const byId = new Map<string, Map<RemoteId, string>>();
  const learn = (collection: string, id: RemoteId, key: string) => {
    const ids = byId.get(collection) ?? new Map<RemoteId, string>();
    ids.set(id, key);
    byId.set(collection, ids);
  };
  for (const [key, entity] of Object.entries(manifest.entities)) {
    if (!key.startsWith('item:') || entity.remoteId === undefined) continue;
    const [, collection = '', ...rest] = key.split(':');
    learn(collection, entity.remoteId, rest.join(':'));
  }
  for (const [collection, ids] of itemKeys ?? []) {
    for (const [id, key] of ids) learn(collection, id, key);
  }
  const byKey = new Map<string, Map<string, RemoteId>>();
  for (const [collection, ids] of byId) {
    byKey.set(collection, new Map([...ids].map(([id, key]) => [key, id])));
  }
  return {
    itemIdByKey: (collection, key) => byKey.get(collection)?.get(key),
    itemKeyById: (collection, id) => byId.get(collection)?.get(id),
  };
}
