import type { MediaHosting, ReadTarget, RemoteSnapshot, SnapshotScope } from '../cms/port.js';
import { inUnavailableList, mergeTargets, snapshotOfRead } from '../cms/read-helpers.js';
import { digestVariant } from '../core/digest.js';
import { type EntityModel, modelFor } from '../core/model.js';
import {
  type EntityKey,
  type FailedWrite,
  type FieldDigests,
  type Manifest,
  type PendingWrite,
  parseEntityKey,
  type ReadStep,
  type RemoteEntity,
  type Variant,
} from '../core/types.js';
import { isOverdue, moveBase } from '../state/manifest-edits.js';
import { endSupersededFailures, failPending, settlePending } from '../state/outbox.js';
import { buryEntity } from '../state/tombstones.js';
import { nowOf, readStateOf, type SyncContext } from './context.js';
import { learnRecord } from './media-map.js';

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
    else if (ref.kind === 'post')
      continue; // posts are read by slug (the backend's read-back)
    else if (ref.pageType === '*') singlePages.add(ref.slug);
    else pageTypes.add(ref.pageType);
  }
  return { pageTypes: [...pageTypes], singlePages: [...singlePages], collections: [...collections] };
}

/** What a read-back of these writes reads: the locales each expects (a delete: that the item is gone). */
export function pendingTargets(pending: PendingWrite[], defaultLocale: string): ReadTarget[] {
  return mergeTargets(
    pending.map((write) => {
      const locales = Object.keys(write.expect);
      return { entity: write.entity, locales: locales.length > 0 ? locales : [defaultLocale] };
    }),
  );
}

/** The reads a read-back of these writes makes (at the backend's call floor). */
export function planVerifyReads(pending: PendingWrite[], ctx: SyncContext): ReadStep[] {
  return ctx.backend.planReads(
    pendingTargets(pending, ctx.config.locales.default),
    { manifest: ctx.store.manifest },
    'verify',
  );
}

/**
 * 202 is not success (butter-api.md §3.0): a write stays pending until a read-back shows the expected
 * digests; then the base moves. Past its deadline it becomes `failed` and is reported.
 * `snapshot` lets a pull or reconcile reuse the lists it has already read; without one, the pending writes
 * (those `which` picks, all by default) are read back at the call floor: per collection or page type and
 * locale, the cheaper of one GET per entity and the list pages. With a snapshot that covers only some
 * entities (a push's reads), only their writes are judged: absent from it is not absent from the CMS.
 */
export async function verifyPending(
  ctx: SyncContext,
  snapshot?: RemoteSnapshot,
  which: (write: PendingWrite) => boolean = () => true,
): Promise<VerifyResult> {
  const manifest = ctx.store.manifest;
  const chosen = manifest.pending.filter(which);
  if (chosen.length === 0) {
    // With lists already read, writes reported failed may still be seen landing late.
    const settled = snapshot ? settleLandedFailures(ctx, snapshot.remote) : 0;
    return { settled, failed: 0, stillPending: manifest.pending.length, calls: 0 };
  }
  const snap =
    snapshot ?? snapshotOfRead(await ctx.backend.read(planVerifyReads(chosen, ctx), readStateOf(ctx)));
  const now = nowOf(ctx);
  let settled = 0;
  let failed = 0;

  for (const write of chosen) {
    const ref = parseEntityKey(write.entity);
    // A list that answered 404 says nothing about its entities: absent there is not deleted or dropped.
    if (inUnavailableList(ref, snap.unavailable)) continue;
    const remote = snap.remote.get(write.entity);
    const entity = manifest.entities[write.entity];
    const overdue = isOverdue(write, now);

    if (write.kind === 'delete') {
      if (!remote) {
        settlePending(manifest, write.id);
        buryEntity(manifest, write.entity, 'git'); // deleted in Git: a stale checkout does not create it again
        delete manifest.entities[write.entity];
        endSupersededFailures(manifest, write.entity, undefined);
        settled += 1;
      } else if (overdue) {
        failPending(
          manifest,
          write.id,
          'the CMS accepted the delete but the item is still listed',
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
        learnSentMedia(
          manifest,
          write.entity,
          locale,
          write.media?.[locale],
          variant,
          model,
          ctx.backend.media,
        );
        if (!localeShows(expected, variant, model, manifest.media)) {
          matches = false;
          break;
        }
      }
    }
    if (matches && remote) {
      moveBase(manifest, write.entity, write.expect, remote.remoteId);
      settlePending(manifest, write.id);
      endSupersededFailures(manifest, write.entity, write.expect);
      settled += 1;
    } else if (overdue) {
      const isCreate = write.kind === 'create';
      // Only a 202 that arrived is an acceptance; an intent (the process died before the answer) is unknown.
      const accepted = write.state === 'sent' && !write.uncertain;
      const failure = failPending(
        manifest,
        write.id,
        write.uncertain
          ? 'the CMS answered with an error (5xx, timeout or a dropped connection) and the write was not visible by the deadline; it is looked up again before it is re-sent'
          : !accepted
            ? 'the run stopped before the CMS answered this write (it may not have been sent) and it was not visible by the deadline; it is looked up again before it is re-sent'
            : isCreate
              ? 'the CMS accepted the create (202) but the item was not visible by the deadline; it is never sent twice: it is adopted once it shows (however late), or run `butter-sync resolve PATH --take git` to send it again if it never does'
              : 'the CMS accepted the write (202) but it was not visible by the deadline; it may have failed after acceptance',
        now.toISOString(),
      );
      if (failure && isCreate && accepted) failure.acceptedCreate = true;
      failed += 1;
    }
  }
  settled += settleLandedFailures(ctx, snap.remote);
  if (settled + failed > 0) ctx.store.markDirty();
  return { settled, failed, stillPending: manifest.pending.length, calls: snapshot ? 0 : snap.calls };
}

/**
 * Learn hosted → source for the media a write sent (into `media`, the manifest's map by default), only for
 * fields the remote has moved on from the base: an old, unmapped CDN URL still in place means the write has
 * not landed, and must not be mistaken for its re-hosted copy. Returns entries learned.
 */
function learnSentMedia(
  manifest: Manifest,
  key: EntityKey,
  locale: string,
  sentMedia: Record<string, unknown> | undefined,
  variant: Variant,
  model: EntityModel,
  hosting: MediaHosting,
  media: Record<string, string> = manifest.media,
): number {
  if (!sentMedia) return 0;
  const base = manifest.entities[key]?.locales[locale]?.base ?? {};
  const before = digestVariant(variant, model, { media });
  const moved = Object.fromEntries(
    Object.entries(sentMedia).filter(([field]) => base[field] === undefined || before[field] !== base[field]),
  );
  return learnRecord(model.fields, moved, variant.fields, media, hosting);
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

/**
 * A write reported failed (not visible by its deadline) may still land later. Once the CMS shows exactly what
 * it expected, the base moves and the failure is withdrawn; otherwise our own late write would later look like
 * an editor's change and raise a false conflict. This is judged per locale: a write of several locales can show
 * in one before the other (seen with a page create under load), and the locale that shows must not be merged as
 * if nobody had written it (its re-hosted media would then be a conflict). The locales that show settle; the
 * failure stays for the rest. Returns the writes that landed whole.
 */
export function settleLandedFailures(ctx: SyncContext, remote: Map<EntityKey, RemoteEntity>): number {
  const manifest = ctx.store.manifest;
  let landed = 0;
  let changed = false;
  for (const failure of [...manifest.failed]) {
    if (!manifest.failed.includes(failure)) continue; // ended by one that landed before it in this loop
    const seen = failure.expect ? remote.get(failure.entity) : undefined;
    if (!failure.expect || !seen) continue;
    const shown = landedLocales(
      manifest,
      failure,
      seen,
      modelFor(parseEntityKey(failure.entity), ctx.config),
      ctx.backend.media,
    );
    if (shown.size === 0) continue;
    const expect = Object.fromEntries(Object.entries(failure.expect).filter(([locale]) => shown.has(locale)));
    for (const learned of shown.values()) Object.assign(manifest.media, learned);
    moveBase(manifest, failure.entity, expect, seen.remoteId);
    changed = true;
    if (shown.size === Object.keys(failure.expect).length) {
      endSupersededFailures(manifest, failure.entity, failure.expect); // itself included
      landed += 1;
      continue;
    }
    // Part of it landed: what is left still waits (and still holds back a second create).
    for (const locale of shown.keys()) {
      delete failure.expect[locale];
      if (failure.media) delete failure.media[locale];
    }
    endSupersededFailures(manifest, failure.entity, expect);
  }
  if (changed) ctx.store.markDirty();
  return landed;
}

/**
 * The locales where the CMS shows exactly what a failed write expected, each with the CDN → source entries it
 * teaches (possibly none). A media value read back is an opaque CDN handle, and an editor may have put a
 * different image there since the write failed: so media are learned only when a non-media field the write
 * changed also reads back as sent (in any locale that shows). Without that evidence the locale is left failed,
 * which is noisy but safe.
 */
function landedLocales(
  manifest: Manifest,
  failure: FailedWrite,
  seen: RemoteEntity,
  model: EntityModel,
  hosting: MediaHosting,
): Map<string, Record<string, string>> {
  const shown = new Map<string, { learned: Record<string, string>; needsEvidence: boolean }>();
  let evidence = false;
  for (const [locale, expected] of Object.entries(failure.expect ?? {})) {
    const variant = seen.locales[locale];
    if (variant === undefined) continue;
    const sent = failure.media?.[locale];
    // A tentative copy of the map to learn into; a locale that sent no media needs none.
    const media = sent ? { ...manifest.media } : manifest.media;
    const learned = learnSentMedia(manifest, failure.entity, locale, sent, variant, model, hosting, media);
    if (!localeShows(expected, variant, model, media)) continue;
    const base = manifest.entities[failure.entity]?.locales[locale]?.base ?? {};
    evidence ||= Object.entries(expected).some(
      ([field, digest]) => !field.startsWith('$') && !(field in (sent ?? {})) && digest !== base[field],
    );
    shown.set(locale, {
      learned:
        learned === 0
          ? {}
          : Object.fromEntries(Object.entries(media).filter(([cdn]) => manifest.media[cdn] === undefined)),
      needsEvidence: learned > 0,
    });
  }
  const result = new Map<string, Record<string, string>>();
  for (const [locale, { learned, needsEvidence }] of shown) {
    if (needsEvidence && !evidence) continue;
    result.set(locale, learned);
  }
  return result;
}
