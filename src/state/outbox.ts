/**
 * The write-ahead outbox on a Manifest (pure). ButterCMS answers writes with `202 pending` and applies them
 * later, and a create returns no id (butter-api.md §9): so a write is recorded as an `intent` and the
 * manifest saved BEFORE it is sent, marked `sent` on the 202, and settled or failed only after a read-back.
 */

import { SyncError } from '../core/errors.js';
import type { EntityKey, FailedWrite, FieldDigests, Manifest, PendingWrite } from '../core/types.js';

/**
 * Record a write about to be sent (the caller's object itself, set to `intent`). A duplicate id is a bug:
 * it would hide a possibly duplicated create.
 */
export function recordIntent(manifest: Manifest, pending: PendingWrite): PendingWrite {
  if (manifest.pending.some((p) => p.id === pending.id)) {
    throw new SyncError('INTERNAL', `pending write ${pending.id} is already recorded`);
  }
  pending.state = 'intent';
  manifest.pending.push(pending);
  return pending;
}

/** The API accepted the write (202); it still awaits a read-back. */
export function markSent(manifest: Manifest, id: string, at: string): PendingWrite | undefined {
  const entry = manifest.pending.find((p) => p.id === id);
  if (entry === undefined) return undefined;
  entry.state = 'sent';
  entry.sentAt = at;
  return entry;
}

/** A read-back showed the expected digests: the write is done. */
export function settlePending(manifest: Manifest, id: string): PendingWrite | undefined {
  const index = manifest.pending.findIndex((p) => p.id === id);
  if (index < 0) return undefined;
  const [entry] = manifest.pending.splice(index, 1);
  return entry;
}

/**
 * Give up on a write (rejected, or past its deadline) and keep it in `failed` for `status` and the report.
 * `path` defaults to the write's own file, else one the entity lives in, so the report can name it.
 */
export function failPending(
  manifest: Manifest,
  id: string,
  reason: string,
  at: string,
  path?: string,
): FailedWrite | undefined {
  const entry = settlePending(manifest, id);
  if (entry === undefined) return undefined;
  const failed: FailedWrite = {
    id: entry.id,
    entity: entry.entity,
    kind: entry.kind,
    reason,
    at,
    path: path ?? entry.path ?? entityPath(manifest, entry.entity),
    ...(Object.keys(entry.expect).length > 0 ? { expect: entry.expect } : {}),
    ...(entry.media ? { media: entry.media } : {}),
  };
  manifest.failed.push(failed);
  return failed;
}

/**
 * A proven write ends the failures it supersedes: failed writes of the same entity whose every expected
 * field (per locale) it wrote. The CMS now shows values that were read back and became the base; whatever
 * the files still hold beyond them is re-sent by the planner. `expect` undefined: the entity is gone, so all
 * its failures end. Returns how many ended. Without this a failure fixed by a later edit stayed reported.
 */
export function endSupersededFailures(
  manifest: Manifest,
  entity: EntityKey,
  expect: Record<string, FieldDigests> | undefined,
): number {
  const covered = (failure: FailedWrite): boolean =>
    expect === undefined ||
    (failure.expect !== undefined &&
      Object.entries(failure.expect).every(([locale, fields]) =>
        Object.keys(fields).every((field) => expect[locale]?.[field] !== undefined),
      ));
  const before = manifest.failed.length;
  manifest.failed = manifest.failed.filter((failure) => failure.entity !== entity || !covered(failure));
  return before - manifest.failed.length;
}

/** Writes still open for one entity, oldest first: a new write must not race one that is unresolved. */
export function pendingFor(manifest: Manifest, entity: EntityKey): PendingWrite[] {
  return manifest.pending.filter((p) => p.entity === entity);
}

/** Writes whose deadline has passed at `now` (ISO instant): candidates for one last read-back, then failPending. */
export function overduePending(manifest: Manifest, now: string): PendingWrite[] {
  const at = Date.parse(now);
  return manifest.pending.filter((p) => Date.parse(p.deadline) <= at);
}

function entityPath(manifest: Manifest, entity: EntityKey): string | undefined {
  const locales = manifest.entities[entity]?.locales;
  if (locales === undefined) return undefined;
  for (const locale of Object.keys(locales).sort()) {
    const path = locales[locale]?.path;
    if (path !== undefined) return path;
  }
  return undefined;
}
