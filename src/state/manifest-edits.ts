/**
 * The manifest's intent-named edits (issue 10, "one owner for the manifest"): the engine says what happened
 * (an entity adopted, a write proven, a conflict found, a write held back, calls spent) and these functions
 * change the in-memory manifest accordingly; persisting it stays with ManifestStore. Pure, no I/O. The one
 * rule for which file names an entity and the one deadline rule live here too.
 */

import type {
  ConflictRecord,
  EntityKey,
  FailedWrite,
  FieldDigests,
  HeldBackWrite,
  Manifest,
  ManifestEntity,
  PendingWrite,
  RemoteId,
  ShownFailure,
} from '../core/types.js';

function entityOf(manifest: Manifest, key: EntityKey): ManifestEntity {
  const entity = manifest.entities[key] ?? { locales: {} };
  manifest.entities[key] = entity;
  return entity;
}

/**
 * The file that names an entity in reports and `status`: its default-locale file when it has one, else the
 * first of its files in locale order. `local` (what the scan read) is asked before the manifest.
 */
export function fileNamingEntity(
  manifest: Manifest,
  key: EntityKey,
  defaultLocale: string,
  local?: Record<string, { path?: string | undefined }> | undefined,
): string | undefined {
  const pick = (locales: Record<string, { path?: string | undefined }> | undefined) => {
    if (!locales) return undefined;
    if (locales[defaultLocale]?.path) return locales[defaultLocale]?.path;
    for (const locale of Object.keys(locales).sort()) {
      const path = locales[locale]?.path;
      if (path) return path;
    }
    return undefined;
  };
  return pick(local) ?? pick(manifest.entities[key]?.locales);
}

/** The one deadline rule: a write is overdue from its deadline on (the planner's and verification's boundary). */
export function isOverdue(write: Pick<PendingWrite, 'deadline'>, now: Date): boolean {
  return Date.parse(write.deadline) <= now.getTime();
}

/** Both sides agree on these fields of one locale: they become its base (and the file and id are recorded). */
export function adoptLocale(
  manifest: Manifest,
  key: EntityKey,
  locale: string,
  base: FieldDigests,
  where: { path?: string | undefined; remoteId?: RemoteId | undefined } = {},
): void {
  const entity = entityOf(manifest, key);
  const slot = entity.locales[locale] ?? { base: {} };
  slot.base = { ...slot.base, ...base };
  if (where.path) slot.path = where.path;
  entity.locales[locale] = slot;
  if (where.remoteId !== undefined) entity.remoteId = where.remoteId;
}

/** A write proven by a read-back: its expected digests become the base (and a new item's id is kept). */
export function moveBase(
  manifest: Manifest,
  key: EntityKey,
  expect: Record<string, FieldDigests>,
  remoteId?: RemoteId | undefined,
): void {
  const entity = entityOf(manifest, key);
  if (remoteId !== undefined) entity.remoteId = remoteId;
  for (const [locale, expected] of Object.entries(expect)) {
    const slot = entity.locales[locale] ?? { base: {} };
    slot.base = { ...slot.base, ...expected };
    entity.locales[locale] = slot;
  }
}

/** A field both sides changed differently: recorded once per entity × locale × field (the newest wins). */
export function recordConflict(manifest: Manifest, conflict: ConflictRecord): void {
  settleConflicts(manifest, conflict.entity, conflict.locale, [conflict.field]);
  manifest.conflicts.push(conflict);
}

/** Conflicts of these fields are over (a pull wrote them, or a person resolved them). */
export function settleConflicts(
  manifest: Manifest,
  entity: EntityKey,
  locale: string,
  fields: string[],
): void {
  manifest.conflicts = manifest.conflicts.filter(
    (c) => !(c.entity === entity && c.locale === locale && fields.includes(c.field)),
  );
}

/** A write not sent (it references what the CMS does not hold yet): it replaces the entity's earlier hold. */
export function holdBack(manifest: Manifest, held: HeldBackWrite): void {
  manifest.heldBack = [...manifest.heldBack.filter((h) => h.entity !== held.entity), held];
}

/** The failures `status`, the console and metrics show: the failed writes, then the held-back ones. */
export function shownFailures(manifest: Readonly<Manifest>): ShownFailure[] {
  return [...manifest.failed, ...manifest.heldBack.map((held) => ({ ...held, heldBack: true as const }))];
}

/**
 * End an entity's held-back writes once a write of it goes out, or its refused failures once a write of it
 * is accepted. Returns whether anything ended.
 */
export function endFailures(manifest: Manifest, entity: EntityKey, which: 'held-back' | 'refused'): boolean {
  if (which === 'held-back') {
    if (!manifest.heldBack.some((h) => h.entity === entity)) return false;
    manifest.heldBack = manifest.heldBack.filter((h) => h.entity !== entity);
    return true;
  }
  const picked = (f: FailedWrite) => f.entity === entity && f.refused === true;
  if (!manifest.failed.some(picked)) return false;
  manifest.failed = manifest.failed.filter((f) => !picked(f));
  return true;
}

/** Calls spent in a month `YYYY-MM` (for `monthlyCallBudget`). Returns whether the manifest changed. */
export function countCalls(manifest: Manifest, month: string, calls: number): boolean {
  if (calls <= 0) return false;
  manifest.calls[month] = (manifest.calls[month] ?? 0) + calls;
  return true;
}
