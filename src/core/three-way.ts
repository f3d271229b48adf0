import type { FieldDigests } from './types.js';

/** What to do with one field (or `$title`/`$status`) of one locale. */
export type FieldAction = 'push' | 'pull' | 'adopt' | 'conflict';

/** One key that needs something done, and why. */
export interface FieldChange {
  key: string;
  action: FieldAction;
  /** Why a conflict-policy or initial-source rule decided it (for reports). */
  reason: 'local-changed' | 'remote-changed' | 'same-change' | 'both-changed' | 'no-base';
}

/** Digests of one locale on each side, the base, and the policies that settle what digests cannot. */
export interface LocaleDiffInput {
  local: FieldDigests;
  remote: FieldDigests;
  /** What both sides last agreed on; `undefined` = no base for this locale at all. */
  base: FieldDigests | undefined;
  conflicts: 'manual' | 'git-wins' | 'cms-wins';
  initialSource: 'none' | 'git' | 'cms';
  /** Digests that pending writes expect per key (DESIGN.md §3 "202 is not success"). */
  pending?: ReadonlyMap<string, ReadonlySet<string>> | undefined;
}

const isMetaKey = (key: string): boolean => key.startsWith('$');

function resolveNoBase(initialSource: LocaleDiffInput['initialSource']): FieldAction {
  if (initialSource === 'git') return 'push';
  if (initialSource === 'cms') return 'pull';
  return 'conflict';
}

function resolveBothChanged(conflicts: LocaleDiffInput['conflicts']): FieldAction {
  if (conflicts === 'git-wins') return 'push';
  if (conflicts === 'cms-wins') return 'pull';
  return 'conflict';
}

/**
 * The three-way decision of DESIGN.md §3 for one locale, field by field; unchanged keys are left out.
 * Page meta keys (`$title`, `$status`) missing on one side mean "no opinion" (a file without a status, or a
 * pre-2024 read without one, butter-api.md §2.1), never a change. A key with no base follows `initialSource`.
 */
export function diffLocale(input: LocaleDiffInput): FieldChange[] {
  const { local, remote, base } = input;
  const keys = new Set([...Object.keys(local), ...Object.keys(remote), ...Object.keys(base ?? {})]);
  const changes: FieldChange[] = [];
  for (const key of [...keys].sort()) {
    const b = base?.[key];
    let l = local[key];
    let r = remote[key];
    if (isMetaKey(key)) {
      l ??= b ?? r;
      r ??= b ?? l;
    }
    if (l === undefined || r === undefined) continue;
    const expected = input.pending?.get(key);
    if (l === r) {
      if (l !== b) changes.push({ key, action: 'adopt', reason: 'same-change' });
      continue;
    }
    if (b === undefined) {
      // A pending write of this value is still being verified: neither re-send nor pull over it.
      if (expected?.has(l)) continue;
      changes.push({ key, action: resolveNoBase(input.initialSource), reason: 'no-base' });
      continue;
    }
    if (expected?.has(r)) {
      // Our write landed (base moves on verification); the file has moved on since, unless that is pending too.
      if (!expected.has(l)) changes.push({ key, action: 'push', reason: 'local-changed' });
      continue;
    }
    const localChanged = l !== b && !expected?.has(l);
    // A field with a pending write is not pulled: the remote just has not applied it yet.
    const remoteChanged = r !== b && expected === undefined;
    if (localChanged && remoteChanged) {
      changes.push({ key, action: resolveBothChanged(input.conflicts), reason: 'both-changed' });
    } else if (localChanged) {
      changes.push({ key, action: 'push', reason: 'local-changed' });
    } else if (remoteChanged) {
      changes.push({ key, action: 'pull', reason: 'remote-changed' });
    }
  }
  return changes;
}
