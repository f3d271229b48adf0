import { digestVariant } from '../core/digest.js';
import { type EntityModel, modelFor } from '../core/model.js';
import {
  type EntityKey,
  type FieldDigests,
  type Manifest,
  type PendingWrite,
  parseEntityKey,
  type RemoteEntity,
  type Variant,
} from '../core/types.js';
import { failPending, settlePending } from '../state/outbox.js';
import { nowOf, type SyncContext } from './context.js';
import { learnRecord } from './media-map.js';
import { fetchRemoteSnapshot, type RemoteSnapshot, type SnapshotScope } from './remote-snapshot.js';

export interface VerifyResult {
  settled: number;
  failed: number;
  stillPending: number;
  calls: number;
}

/** The lists that hold the pending entities: one list read verifies up to 100 of them (butter-api.md §6). */
export function scopeOfPending(pending: PendingWrite[]): SnapshotScope {
  const pageTypes = new Set<string>();
  const singlePages = new Set<string>();
  const collections = new Set<string>();
  for (const write of pending) {
    const ref = parseEntityKey(write.entity);
    if (ref.kind === 'item') collections.add(ref.collection);
    else if (ref.pageType === '*') singlePages.add(ref.slug);
    else pageTypes.add(ref.pageType);
  }
  return { pageTypes: [...pageTypes], singlePages: [...singlePages], collections: [...collections] };
}

/**
 * 202 is not success (butter-api.md §3.0): a write stays pending until a read-back shows the expected
 * digests; then the base moves. Past its deadline it becomes `failed` and is reported.
 * `snapshot` lets a pull or reconcile reuse the lists it has already read.
 */
export async function verifyPending(ctx: SyncContext, snapshot?: RemoteSnapshot): Promise<VerifyResult> {
  const manifest = ctx.store.manifest;
  if (manifest.pending.length === 0) {
    // With lists already read, writes reported failed may still be seen landing late.
    const settled = snapshot ? settleLandedFailures(ctx, snapshot.remote) : 0;
    return { settled, failed: 0, stillPending: 0, calls: 0 };
  }
  const snap =
    snapshot ?? (await fetchRemoteSnapshot(ctx.cms, ctx.config, manifest, scopeOfPending(manifest.pending)));
  const now = nowOf(ctx);
  let settled = 0;
  let failed = 0;

  for (const write of [...manifest.pending]) {
    const ref = parseEntityKey(write.entity);
    const remote = snap.remote.get(write.entity);
    const entity = manifest.entities[write.entity];
    const overdue = now.getTime() > Date.parse(write.deadline);

    if (write.kind === 'delete-item') {
      if (!remote) {
        settlePending(manifest, write.id);
        delete manifest.entities[write.entity];
        settled += 1;
      } else if (overdue) {
        failPending(
          manifest,
          write.id,
          'ButterCMS accepted the delete but the item is still listed',
          now.toISOString(),
        );
        failed += 1;
      }
      continue;
    }

    if (remote && entity && remote.remoteId !== undefined && entity.remoteId === undefined) {
      entity.remoteId = remote.remoteId;
    }
    const model = modelFor(ref, ctx.config);
    let matches = remote !== undefined;
    if (remote) {
      for (const [locale, expected] of Object.entries(write.expect)) {
        const variant = remote.locales[locale];
        if (!variant) {
          matches = false;
          break;
        }
        const sentMedia = write.media?.[locale];
        if (sentMedia) {
          // Learn CDN → source only for fields the remote has moved on from the base: an old, unmapped CDN URL
          // still in place means the write has not landed, and must not be mistaken for its re-hosted copy.
          const base = entity?.locales[locale]?.base ?? {};
          const before = digestVariant(variant, model, { media: manifest.media });
          const moved = Object.fromEntries(
            Object.entries(sentMedia).filter(
              ([field]) => base[field] === undefined || before[field] !== base[field],
            ),
          );
          learnRecord(model.fields, moved, variant.fields, manifest.media);
        }
        if (!localeShows(expected, variant, model, manifest.media)) {
          matches = false;
          break;
        }
      }
    }
    if (matches && remote) {
      moveBase(manifest, write.entity, remote, write.expect);
      settlePending(manifest, write.id);
      settled += 1;
    } else if (overdue) {
      failPending(
        manifest,
        write.id,
        'ButterCMS accepted the write (202) but it was not visible by the deadline; it may have failed after acceptance',
        now.toISOString(),
      );
      failed += 1;
    }
  }
  settled += settleLandedFailures(ctx, snap.remote);
  if (settled + failed > 0) ctx.store.markDirty();
  return { settled, failed, stillPending: manifest.pending.length, calls: snapshot ? 0 : snap.calls };
}

/** Does this locale read back as the write expected? */
function localeShows(
  expected: FieldDigests,
  variant: Variant,
  model: EntityModel,
  media: Record<string, string>,
): boolean {
  const actual = digestVariant(variant, model, { media });
  return Object.entries(expected).every(
    // Older ButterCMS payloads carry no page status (butter-api.md §2.1): tolerate its absence.
    ([field, digest]) =>
      (field === '$status' && variant.meta.status === undefined) || actual[field] === digest,
  );
}

/** A proven write: its expected digests become the base (and a new item's id is kept). */
function moveBase(
  manifest: Manifest,
  key: EntityKey,
  remote: RemoteEntity,
  expect: Record<string, FieldDigests>,
): void {
  const target = manifest.entities[key] ?? { locales: {} };
  if (remote.remoteId !== undefined) target.remoteId = remote.remoteId;
  for (const [locale, expected] of Object.entries(expect)) {
    const slot = target.locales[locale] ?? { base: {} };
    slot.base = { ...slot.base, ...expected };
    target.locales[locale] = slot;
  }
  manifest.entities[key] = target;
}

/**
 * A write reported failed (not visible by its deadline) may still land later. Once the CMS shows exactly what
 * it expected, the base moves and the failure is withdrawn; otherwise our own late write would later look like
 * an editor's change and raise a false conflict.
 */
export function settleLandedFailures(ctx: SyncContext, remote: Map<EntityKey, RemoteEntity>): number {
  const manifest = ctx.store.manifest;
  let landed = 0;
  for (const failure of [...manifest.failed]) {
    const seen = failure.expect ? remote.get(failure.entity) : undefined;
    if (!failure.expect || !seen) continue;
    const model = modelFor(parseEntityKey(failure.entity), ctx.config);
    const shows = Object.entries(failure.expect).every(([locale, expected]) => {
      const variant = seen.locales[locale];
      return variant !== undefined && localeShows(expected, variant, model, manifest.media);
    });
    if (!shows) continue;
    moveBase(manifest, failure.entity, seen, failure.expect);
    manifest.failed = manifest.failed.filter((f) => f.id !== failure.id);
    landed += 1;
  }
  if (landed > 0) ctx.store.markDirty();
  return landed;
}
