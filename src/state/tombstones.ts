import type { EntityKey, FieldDigests, Manifest, Tombstone } from '../core/types.js';

/**
 * Tombstones (issue 14, DESIGN.md §3): an entity deleted on one side on purpose is remembered in the shared
 * state with the bases it had, so a clone whose checkout still holds its file (a CI run, a laptop that has
 * not pulled yet) does not take that file for a new entity and create it again. Called where the engine
 * drops an entity locale because it is gone; the planner reads it before a create (core/plan.ts).
 */
export function buryLocale(
  manifest: Manifest,
  key: EntityKey,
  locale: string,
  base: FieldDigests | undefined,
  side: Tombstone['side'],
  at: Date = new Date(),
): void {
  if (manifest.tombstones === undefined) manifest.tombstones = {};
  // Read back through the manifest, so the store's change tracking sees the write.
  const tombstones = manifest.tombstones;
  const current = tombstones[key];
  const locales = { ...(current?.side === side ? current.locales : {}), [locale]: { ...(base ?? {}) } };
  tombstones[key] = { side, at: at.toISOString(), locales };
}

/** Every locale of an entity about to be dropped (a delete-item ButterCMS no longer lists). */
export function buryEntity(
  manifest: Manifest,
  key: EntityKey,
  side: Tombstone['side'],
  at: Date = new Date(),
): void {
  for (const [locale, slot] of Object.entries(manifest.entities[key]?.locales ?? {})) {
    buryLocale(manifest, key, locale, slot.base, side, at);
  }
}
