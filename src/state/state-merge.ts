import type { Manifest, ManifestEntity } from '../core/types.js';

/**
 * Merge two states that grew from the same `ancestor` (the shared state both machines last read), as
 * a three-way merge per key: a key changed on one side only takes that side; changed on both, the
 * result keeps what cannot be lost. No pending write, failed write, conflict, id or media mapping that
 * either side holds and the other did not deliberately remove is dropped (DESIGN.md §3, issue 14).
 *
 * Both changed the same entity locale: `ours` wins. The machine merging is the one whose run ended
 * last (it publishes after the other did), so its base is the later verified one; a base both machines
 * verified is a value both sides held, and the next run's three-way comparison still reports any
 * difference as a conflict rather than overwriting it.
 */
export function mergeManifests(ancestor: Manifest, ours: Manifest, theirs: Manifest): Manifest {
  return {
    ...theirs,
    ...ours,
    entities: mergeRecords(ancestor.entities, ours.entities, theirs.entities, mergeEntity),
    media: mergeRecords(ancestor.media, ours.media, theirs.media, (o) => o),
    richText: mergeRecords(ancestor.richText ?? {}, ours.richText ?? {}, theirs.richText ?? {}, (o) => o),
    // Both buried it: the later burial (a tombstone only ever keeps a stale copy from coming back).
    tombstones: mergeRecords(
      ancestor.tombstones ?? {},
      ours.tombstones ?? {},
      theirs.tombstones ?? {},
      (o, t) => (o.at >= t.at ? o : t),
    ),
    pending: mergeLists(ancestor.pending, ours.pending, theirs.pending, (w) => w.id),
    failed: mergeLists(ancestor.failed, ours.failed, theirs.failed, (w) => w.id),
    heldBack: mergeLists(ancestor.heldBack ?? [], ours.heldBack ?? [], theirs.heldBack ?? [], (w) => w.id),
    conflicts: mergeLists(
      ancestor.conflicts,
      ours.conflicts,
      theirs.conflicts,
      (c) => `${c.entity}\0${c.locale}\0${c.field}`,
    ),
    calls: mergeCalls(ancestor.calls, ours.calls, theirs.calls),
    lastPush: later(ours.lastPush, theirs.lastPush),
    lastPull: later(ours.lastPull, theirs.lastPull),
  };
}

/**
 * A cache that includes some shared state, but not a known one (a CI cache restored into a fresh checkout with no
 * record of it), merged into the shared state: with no common ancestor, whatever both hold differently is taken
 * from the shared state (its bases were verified at least as late: a stale cached base would turn an editor's
 * later change into a conflict), and whatever only the cache holds is kept (nothing lost: an unpublished id,
 * mapping, pending write or conflict). Call counts are the larger of the two, not their sum (the cache's
 * counts are mostly the shared state's own).
 */
export function adoptUnknownCache(cache: Manifest, shared: Manifest): Manifest {
  const merged = mergeManifests(emptyAncestor(shared), shared, cache);
  const calls: Record<string, number> = {};
  for (const month of new Set([...Object.keys(shared.calls), ...Object.keys(cache.calls)]))
    calls[month] = Math.max(shared.calls[month] ?? 0, cache.calls[month] ?? 0);
  return { ...merged, calls };
}

function emptyAncestor(like: Manifest): Manifest {
  return {
    version: like.version,
    configDigest: like.configDigest,
    entities: {},
    media: {},
    pending: [],
    failed: [],
    heldBack: [],
    conflicts: [],
    calls: {},
  };
}

/** Both machines changed one entity: locales merge one by one, an id either side learned is kept. */
function mergeEntity(
  ours: ManifestEntity,
  theirs: ManifestEntity,
  ancestor?: ManifestEntity,
): ManifestEntity {
  const merged: ManifestEntity = {
    ...theirs,
    ...ours,
    locales: mergeRecords(ancestor?.locales ?? {}, ours.locales, theirs.locales, (o) => o),
  };
  const remoteId = ours.remoteId ?? theirs.remoteId;
  if (remoteId !== undefined) merged.remoteId = remoteId;
  return merged;
}

function mergeRecords<T>(
  ancestor: Record<string, T>,
  ours: Record<string, T>,
  theirs: Record<string, T>,
  both: (ours: T, theirs: T, ancestor: T | undefined) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  const keys = new Set([...Object.keys(ancestor), ...Object.keys(ours), ...Object.keys(theirs)]);
  for (const key of keys) {
    const value = pick(ancestor[key], ours[key], theirs[key], both);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function mergeLists<T>(ancestor: T[], ours: T[], theirs: T[], keyOf: (item: T) => string): T[] {
  const byKey = (list: T[]) => new Map(list.map((item) => [keyOf(item), item]));
  const a = byKey(ancestor);
  const o = byKey(ours);
  const t = byKey(theirs);
  const out: T[] = [];
  // Ours first, in its order, then what only theirs has: the order a single machine would have made.
  for (const key of new Set([...o.keys(), ...t.keys(), ...a.keys()])) {
    const value = pick(a.get(key), o.get(key), t.get(key), (mine) => mine);
    if (value !== undefined) out.push(value);
  }
  return out;
}

/**
 * The three-way rule for one key. Removed on one side and untouched on the other: removed (a verified
 * pending write, a resolved conflict). Removed on one side and changed on the other: kept, because the
 * change is news the remover never saw.
 */
function pick<T>(
  ancestor: T | undefined,
  ours: T | undefined,
  theirs: T | undefined,
  both: (ours: T, theirs: T, ancestor: T | undefined) => T,
): T | undefined {
  if (same(ours, theirs)) return ours;
  if (same(ours, ancestor)) return theirs;
  if (same(theirs, ancestor)) return ours;
  if (ours === undefined) return theirs;
  if (theirs === undefined) return ours;
  return both(ours, theirs, ancestor);
}

/** Calls are counters: each machine's increments since the ancestor add up. */
function mergeCalls(
  ancestor: Record<string, number>,
  ours: Record<string, number>,
  theirs: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const month of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    const base = ancestor[month] ?? 0;
    out[month] = Math.max(0, (ours[month] ?? base) + (theirs[month] ?? base) - base);
  }
  return out;
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a >= b ? a : b;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );
}
