import { randomUUID } from 'node:crypto';
import { readFile, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { isPartlySent, type WriteIntent, type WriteReceipt } from '../cms/port.js';
import { makeIdLookup } from '../cms/read-helpers.js';
import { editContentFile, readContentFile, renderContentFile } from '../content/index.js';
import { digestValue, digestVariant } from '../core/digest.js';
import { isSyncError, SyncError } from '../core/errors.js';
import { type EntityModel, modelFor } from '../core/model.js';
import type {
  EntityKey,
  FailedWrite,
  FieldDigests,
  HeldBackWrite,
  LocalEntity,
  LocalVariant,
  Manifest,
  Operation,
  PendingWrite,
  RemoteEntity,
  SyncPlan,
  WriteOperation,
} from '../core/types.js';
import { parseEntityKey, writeLabel } from '../core/types.js';
import { writeFileAtomic } from '../state/atomic-file.js';
import {
  adoptLocale,
  endFailures,
  fileNamingEntity,
  holdBack,
  recordConflict,
  settleConflicts,
} from '../state/manifest-edits.js';
import { stateTempDir } from '../state/manifest-file.js';
import { markSent, recordIntent } from '../state/outbox.js';
import { buryEntity, buryLocale } from '../state/tombstones.js';
import { nowOf, type SyncContext, sleep } from './context.js';
import { holdsMedia } from './media-map.js';
import { recordPulledChanges } from './pull-journal.js';
import type { AppliedOperation, SyncReport } from './report.js';
import { withRichTextHtml } from './rich-text-map.js';
import { verifyPending } from './verify-pending.js';

export interface ApplyInput {
  plan: SyncPlan;
  local: Map<EntityKey, LocalEntity>;
  remote?: Map<EntityKey, RemoteEntity> | undefined;
  report: SyncReport;
}

export interface ApplyOutcome {
  /** Repo-relative files written or removed (what a pull commits). */
  changedFiles: string[];
}

type FileOperation = Extract<Operation, { kind: 'write-file' | 'delete-file' }>;

/** Pulled files written at once; each write fsyncs, so a batch of 10,000 new files is bound by disk latency. */
const FILE_WRITE_CONCURRENCY = 16;

/** The file to name in a report for an entity (the one rule, state/manifest-edits.ts). */
function entityPaths(
  manifest: Manifest,
  local: LocalEntity | undefined,
  key: EntityKey,
  defaultLocale: string,
): string | undefined {
  return fileNamingEntity(manifest, key, defaultLocale, local?.locales);
}

/**
 * The one applier: turns a SyncPlan into API calls and file writes, keeping the manifest's write-ahead
 * outbox in step. Each failure is recorded against its operation and the rest of the batch goes on;
 * a quota 429 or an auth failure stops sending (every further call would fail the same way).
 */
export async function applyPlan(ctx: SyncContext, input: ApplyInput): Promise<ApplyOutcome> {
  const { plan, local, report } = input;
  const manifest = ctx.store.manifest;
  const changedFiles: string[] = [];
  const failedEntities = new Set<EntityKey>();
  let stopSending = false;

  const record = (entry: AppliedOperation): void => {
    report.operations.push(entry);
    const log =
      entry.status === 'failed' ? ctx.logger.warn.bind(ctx.logger) : ctx.logger.info.bind(ctx.logger);
    log(
      {
        op: entry.kind,
        entity: entry.entity,
        locale: entry.locale,
        fields: entry.fields,
        status: entry.status,
      },
      entry.message ?? entry.kind,
    );
  };

  const applyFileOperation = async (op: FileOperation): Promise<void> => {
    try {
      const written =
        op.kind === 'write-file'
          ? await writeEntityFile(ctx, op, input.remote, local.get(op.entity)?.locales[op.locale])
          : await deleteEntityFile(ctx, op);
      if (typeof written === 'object') {
        // Some pulled keys were saved in the file meanwhile: the others were written, these wait.
        const message = `${written.heldBack.map(fieldLabel).join(', ')} changed in the file while the pull ran; the other pulled fields were written and the next run merges these`;
        report.notices.push({ entity: op.entity, path: op.path, reason: 'changed-meanwhile', message });
        changedFiles.push(op.path);
        record({
          kind: op.kind,
          entity: op.entity,
          path: op.path,
          locale: op.locale,
          fields: written.written,
          status: 'written',
          message,
        });
      } else if (written === CHANGED_MEANWHILE) {
        const message =
          'the file changed while the pull ran; it was left as it is and the next run merges it';
        report.notices.push({ entity: op.entity, path: op.path, reason: 'changed-meanwhile', message });
        record({
          kind: op.kind,
          entity: op.entity,
          path: op.path,
          locale: op.locale,
          status: 'skipped',
          message,
        });
      } else {
        if (written) changedFiles.push(op.path);
        record({
          kind: op.kind,
          entity: op.entity,
          path: op.path,
          locale: op.locale,
          fields: op.kind === 'write-file' ? Object.keys(op.set) : undefined,
          // A removal of a file that was already gone changed no file: not counted as a changed file.
          status:
            !written || written === ALREADY_GONE
              ? 'skipped'
              : op.kind === 'write-file'
                ? 'written'
                : 'deleted',
        });
      }
    } catch (error) {
      const err = isSyncError(error)
        ? error
        : new SyncError('INTERNAL', String(error), { file: op.path, cause: error });
      report.errors.push({
        file: err.file ?? op.path,
        line: err.line,
        code: err.code,
        message: err.message,
        hint: err.hint,
      });
      record({
        kind: op.kind,
        entity: op.entity,
        path: op.path,
        locale: op.locale,
        status: 'failed',
        message: err.message,
      });
    }
  };

  // Write-ahead: what the pull changes in each file is on disk before the first file is (pull-journal.ts).
  if (recordPulledChanges(manifest, plan.operations)) await ctx.store.save();

  const total = plan.operations.length;
  for (let index = 0; index < plan.operations.length; index += 1) {
    const op = plan.operations[index]!;
    if (ctx.signal?.aborted) break;
    ctx.onProgress?.({ phase: 'apply', done: index, total });
    switch (op.kind) {
      case 'adopt': {
        adoptLocale(manifest, op.entity, op.locale, op.base, {
          path: op.path ?? local.get(op.entity)?.locales[op.locale]?.path,
          remoteId: op.remoteId ?? input.remote?.get(op.entity)?.remoteId,
        });
        ctx.store.markDirty();
        break;
      }
      case 'conflict': {
        const conflict = {
          entity: op.entity,
          locale: op.locale,
          field: op.field,
          path: op.path,
          git: op.git,
          cms: op.cms,
          at: nowOf(ctx).toISOString(),
        };
        recordConflict(manifest, conflict);
        report.conflicts.push(conflict);
        ctx.store.markDirty();
        ctx.logger.warn({ entity: op.entity, locale: op.locale, field: op.field, path: op.path }, 'conflict');
        break;
      }
      case 'report':
        report.notices.push({ entity: op.entity, path: op.path, reason: op.reason, message: op.message });
        ctx.logger.warn({ entity: op.entity, path: op.path, reason: op.reason }, op.message);
        break;
      case 'write-file':
      case 'delete-file': {
        // File writes are independent of each other: a run of them goes in parallel (each fsyncs).
        const run: FileOperation[] = [op];
        while (run.length < FILE_WRITE_CONCURRENCY) {
          const next = plan.operations[index + 1];
          if (next?.kind !== 'write-file' && next?.kind !== 'delete-file') break;
          if (run.some((r) => r.path === next.path)) break;
          run.push(next);
          index += 1;
        }
        await Promise.all(run.map((fileOp) => applyFileOperation(fileOp)));
        break;
      }
      case 'write': {
        const label = writeLabel(op.intent.kind, op.entity);
        if (stopSending) {
          record({
            kind: label,
            entity: op.entity,
            status: 'skipped',
            message: 'not sent: an earlier call was refused',
          });
          break;
        }
        if (op.unresolved !== undefined) {
          // Checked before its prerequisites: a write that is held back whatever they do must be kept as held
          // back (status shows it, exit 4), not only skipped because one of them (e.g. its cycle partner) is not
          // created yet. Sent, it would fail after its 202 or read back without the reference. Kept in the manifest, so
          // every later push retries it (status shows it meanwhile).
          failedEntities.add(op.entity);
          const file = entityPaths(manifest, local.get(op.entity), op.entity, ctx.config.locales.default);
          const held: HeldBackWrite = {
            id: randomUUID(),
            entity: op.entity,
            kind: op.intent.kind,
            reason: `not sent: it ${op.unresolved} — Push the referenced file too (or the whole content tree), or fix the reference; every later push retries this file.`,
            at: nowOf(ctx).toISOString(),
            path: file,
          };
          holdBack(manifest, held);
          ctx.store.markDirty();
          report.failures.push({ ...held, heldBack: true });
          record({
            kind: label,
            entity: op.entity,
            path: file,
            status: 'failed',
            message: `not sent: it ${op.unresolved}`,
          });
          break;
        }
        const blocked = op.dependsOn.find((dep) => failedEntities.has(dep));
        if (!blocked) {
          try {
            await learnCreatedIds(ctx, op.dependsOn);
          } catch (error) {
            // The read-back that finds the new ids failed: this write waits (its creates stay pending, so
            // they are never sent twice); a quota 429 or an auth failure stops sending, as for a write.
            const err = isSyncError(error)
              ? error
              : new SyncError('INTERNAL', String(error), { cause: error });
            if (err.code === 'CMS_RATE_LIMITED') report.rateLimited = true;
            if (err.code === 'CMS_RATE_LIMITED' || err.code === 'CMS_AUTH' || err.code === 'MISSING_TOKEN')
              stopSending = true;
            failedEntities.add(op.entity);
            record({
              kind: label,
              entity: op.entity,
              status: 'skipped',
              message: `not sent yet: reading back the items it references failed (${err.message}); the next run sends it`,
            });
            break;
          }
        }
        // A referenced item created in this run whose id is not readable yet (ButterCMS applies writes later).
        const waiting = op.dependsOn.find(
          (dep) => dep.startsWith('item:') && manifest.entities[dep]?.remoteId === undefined,
        );
        if (blocked || waiting) {
          failedEntities.add(op.entity);
          record({
            kind: label,
            entity: op.entity,
            status: 'skipped',
            message: blocked
              ? `not sent: ${blocked} was not created`
              : `not sent yet: ${waiting} is not visible in the CMS yet; the next run sends it`,
          });
          break;
        }
        const body = writeDigest(op.intent);
        const refusedBefore = manifest.failed.find(
          (f) => f.entity === op.entity && f.refused && f.refusedBody === body,
        );
        if (refusedBefore) {
          // A 400 means this exact body is wrong: sent again it is refused again. It stays in `status`.
          failedEntities.add(op.entity);
          report.failures.push(refusedBefore);
          record({
            kind: label,
            entity: op.entity,
            path: refusedBefore.path,
            status: 'skipped',
            message:
              'not sent: the CMS refused this same write before (400); fix the file, or run `butter-sync resolve <file> --take git` to send it again',
          });
          break;
        }
        endFailures(manifest, op.entity, 'held-back'); // whatever the answer, it is no longer held back
        try {
          await sendWrite(ctx, op, local.get(op.entity));
          endFailures(manifest, op.entity, 'refused'); // accepted: an earlier refusal of this entity is over
          record({
            kind: label,
            entity: op.entity,
            path: entityPaths(manifest, local.get(op.entity), op.entity, ctx.config.locales.default),
            locale: loneLocale(op.intent, ctx.config.locales.default),
            fields: op.intent.kind === 'delete' ? undefined : fieldNames(op.intent),
            status: 'sent',
          });
        } catch (error) {
          failedEntities.add(op.entity);
          const err = isSyncError(error) ? error : new SyncError('INTERNAL', String(error), { cause: error });
          if (err.code === 'CMS_RATE_LIMITED') report.rateLimited = true;
          if (err.code === 'CMS_RATE_LIMITED' || err.code === 'CMS_AUTH' || err.code === 'MISSING_TOKEN')
            stopSending = true;
          const file = entityPaths(manifest, local.get(op.entity), op.entity, ctx.config.locales.default);
          const failure: FailedWrite = {
            id: randomUUID(),
            entity: op.entity,
            kind: op.intent.kind,
            reason: `${err.message} — ${err.hint}`,
            at: nowOf(ctx).toISOString(),
            path: file,
          };
          if (REFUSALS.has(err.code)) {
            // ButterCMS refused it (400/401/403): nothing changed there and nothing is pending, so only the
            // manifest can keep it in `status` until a later write of this entity is accepted.
            failure.refused = true;
            if (err.code === 'CMS_BAD_REQUEST') failure.refusedBody = body;
            manifest.failed = [
              ...manifest.failed.filter((f) => !(f.entity === op.entity && f.refused)),
              failure,
            ];
            ctx.store.markDirty();
          }
          report.failures.push(failure);
          record({ kind: label, entity: op.entity, path: file, status: 'failed', message: err.message });
        }
      }
    }
  }
  ctx.onProgress?.({ phase: 'apply', done: total, total });
  await ctx.store.save();
  return { changedFiles };
}

/**
 * The create of a reference cycle expects to read back without the references its follow-up now sends:
 * those fields are the follow-up's to verify, or the create could never verify once the follow-up lands.
 */
function leaveToFollowUp(manifest: Manifest, entity: EntityKey, expect: Record<string, FieldDigests>): void {
  for (const write of manifest.pending) {
    if (write.entity !== entity || write.kind !== 'create') continue;
    for (const [locale, digests] of Object.entries(expect)) {
      const created = write.expect[locale];
      if (!created) continue;
      for (const field of Object.keys(digests)) if (!field.startsWith('$')) delete created[field];
    }
  }
}

/** Answers that refuse a write outright: the write changed nothing and is not pending. */
const REFUSALS = new Set([
  'CMS_BAD_REQUEST',
  'CMS_AUTH',
  'MISSING_TOKEN',
  'CMS_NOT_FOUND',
  'CMS_METHOD_NOT_ALLOWED',
]);

/** What identifies a write's content: the same digest means the same write the CMS would see. */
function writeDigest(intent: WriteIntent): string {
  return digestValue({ kind: intent.kind, locales: intent.locales });
}

/** The fields a write carries, over all its locales. */
function fieldNames(intent: WriteIntent): string[] {
  return [...new Set(Object.values(intent.locales).flatMap((change) => Object.keys(change.fields)))];
}

/** The locale a report names for a write of one locale other than the default. */
function loneLocale(intent: WriteIntent, defaultLocale: string): string | undefined {
  const locales = Object.keys(intent.locales);
  return locales.length === 1 && locales[0] !== defaultLocale ? locales[0] : undefined;
}

/** Media-bearing values a write carries, per locale, so the CDN URLs read back can be mapped to them. */
function sentMediaOf(
  ctx: SyncContext,
  intent: WriteIntent,
  entity: LocalEntity | undefined,
): Record<string, Record<string, unknown>> {
  const media: Record<string, Record<string, unknown>> = {};
  if (!entity || intent.kind === 'delete') return media;
  const model = modelFor(entity.ref, ctx.config);
  for (const [locale, change] of Object.entries(intent.locales)) {
    const variant = entity.locales[locale];
    if (!variant) continue;
    for (const [field, spec] of Object.entries(model.fields)) {
      if (field in change.fields && holdsMedia(spec))
        media[locale] = { ...media[locale], [field]: variant.fields[field] };
    }
  }
  return media;
}

/** The intent with its rich-text fields as the HTML the CMS holds (issue 11), the map learning each pairing. */
function withHtml(ctx: SyncContext, intent: WriteIntent, model: EntityModel): WriteIntent {
  const { config } = ctx;
  const manifest = ctx.store.manifest;
  const locales = Object.fromEntries(
    Object.entries(intent.locales).map(([locale, change]) => [
      locale,
      { ...change, fields: withRichTextHtml(change.fields, model, config, manifest) },
    ]),
  );
  return { ...intent, locales };
}

async function sendWrite(
  ctx: SyncContext,
  op: WriteOperation,
  entity: LocalEntity | undefined,
): Promise<void> {
  const manifest = ctx.store.manifest;
  const { config } = ctx;
  const { intent } = op;
  const now = nowOf(ctx);
  // The planner computes what the read-back must show (a delete: only that the entity is gone).
  const expect = op.expect ?? {};
  const media = sentMediaOf(ctx, intent, entity);
  const pending: PendingWrite = {
    id: randomUUID(),
    entity: op.entity,
    kind: intent.kind,
    state: 'intent',
    expect,
    createdAt: now.toISOString(),
    deadline: new Date(now.getTime() + config.verify.deadlineSeconds * 1000).toISOString(),
    ...(Object.keys(media).length ? { media } : {}),
    path: entityPaths(manifest, entity, op.entity, ctx.config.locales.default),
  };
  // A newer write to the same entity supersedes older unverified updates of the same fields.
  manifest.pending = manifest.pending.filter(
    (p) => !(p.entity === op.entity && p.kind !== 'create' && p.kind === intent.kind),
  );
  if (op.completesCycle) leaveToFollowUp(manifest, op.entity, expect);
  const model = modelFor(parseEntityKey(op.entity), config);

  // Remember where each locale's file lives, so later scoped runs find the sibling files.
  if (entity) {
    const slot = manifest.entities[op.entity] ?? { locales: {} };
    for (const [locale, variant] of Object.entries(entity.locales)) {
      slot.locales[locale] = { ...(slot.locales[locale] ?? { base: {} }), path: variant.path };
    }
    manifest.entities[op.entity] = slot;
  }

  // Rich text is converted (and cached) before the request, then the event loop turns once: converting a long
  // page can take seconds, and a keep-alive socket the server closed meanwhile must be noticed, not written to.
  const sent = intent.kind === 'delete' ? intent : withHtml(ctx, intent, model);
  if (intent.kind !== 'delete') await new Promise((resolve) => setImmediate(resolve));
  recordIntent(manifest, pending);
  let receipt: WriteReceipt;
  try {
    // Write-ahead (DESIGN.md §3: zero duplicates is a hard rule): a create's intent is on disk before it leaves.
    if (intent.kind === 'create') await ctx.store.save();
    // Ids are looked up now, after the creates this write depends on.
    receipt = await ctx.backend.write(sent, makeIdLookup(manifest));
  } catch (error) {
    // A request that died in flight (network, timeout, 5xx) may still have been accepted: keep it pending,
    // so a create is looked up before anything is ever re-sent (butter-api.md §5). A definite refusal
    // (4xx) changed nothing: drop the intent, so the next run sends it again instead of waiting it out.
    // A write of several requests that failed after one was accepted may have changed something: pending too.
    const mayHaveLanded =
      isPartlySent(error) ||
      (isSyncError(error) && ['CMS_NETWORK', 'CMS_TIMEOUT', 'CMS_SERVER'].includes(error.code));
    if (!mayHaveLanded) manifest.pending = manifest.pending.filter((p) => p.id !== pending.id);
    else {
      // Verified like a sent write, but never reported as "accepted (202)": the answer was an error.
      markSent(manifest, pending.id, nowOf(ctx).toISOString());
      pending.uncertain = true;
    }
    await ctx.store.save();
    throw error;
  }
  if (receipt.state === 'gone') {
    // A delete that found the entity already gone: what it wanted.
    manifest.pending = manifest.pending.filter((p) => p.id !== pending.id);
    buryEntity(manifest, op.entity, 'git');
    delete manifest.entities[op.entity];
    ctx.store.markDirty();
    return;
  }
  markSent(manifest, pending.id, nowOf(ctx).toISOString());
  ctx.store.markDirty();
  if (intent.kind === 'create') await ctx.store.save();
  if (op.renamedFrom) moveRenamedItem(manifest, op.renamedFrom, op.entity);
}

/**
 * A renamed item file was PATCHed under its old id: the old entry's id and base become the new entity's
 * (its paths are the new files'), so the item is never seen as deleted, nor created again. Done only after
 * ButterCMS accepted the PATCH: a refused one leaves the manifest as it was, and the next run plans it again.
 */
function moveRenamedItem(manifest: Manifest, from: EntityKey, to: EntityKey): void {
  const old = manifest.entities[from];
  if (!old) return;
  const renamed = manifest.entities[to] ?? { locales: {} };
  const locales: Manifest['entities'][string]['locales'] = {};
  for (const [locale, slot] of Object.entries(old.locales)) {
    const path = renamed.locales[locale]?.path;
    locales[locale] = { ...slot, ...(path ? { path } : {}) };
  }
  for (const [locale, slot] of Object.entries(renamed.locales)) locales[locale] ??= slot;
  manifest.entities[to] = { ...old, locales };
  delete manifest.entities[from];
  manifest.conflicts = manifest.conflicts.filter((c) => c.entity !== from);
}

/**
 * A create may return no id (`rules.createReturnsId`; ButterCMS: butter-api.md §9.1), and a write that
 * references a new item needs it: the pending writes of the referenced collections are read back (verified)
 * through the port at the backend's call floor (`planReads(…, 'verify')`), one list or GET batch for all the
 * creates sent so far, which is the verification read they get anyway. If an id does not show within a few
 * tries (writes apply later), the write that needs it waits for the next run (verification finds it).
 * Not `backend.locate` per new item: a locate finds the id but settles nothing, so the same item is read again
 * by the verification (measured in plan-equals-run: initial push 24 → 27 calls, 150 new tags 175 → 178,
 * creates with references 6 → 7).
 */
async function learnCreatedIds(ctx: SyncContext, dependsOn: EntityKey[], tries = 6): Promise<void> {
  const manifest = ctx.store.manifest;
  const unknown = () =>
    dependsOn.filter(
      (dep) =>
        dep.startsWith('item:') &&
        manifest.entities[dep]?.remoteId === undefined &&
        manifest.pending.some((p) => p.entity === dep && p.kind === 'create'),
    );
  let delay = 200;
  for (let attempt = 0; attempt < tries && unknown().length > 0; attempt += 1) {
    if (attempt > 0) {
      await sleep(delay, ctx.signal);
      delay *= 2;
    }
    const collections = new Set(unknown().map((dep) => dep.split(':')[1]));
    await verifyPending(ctx, undefined, (write) => {
      const ref = parseEntityKey(write.entity);
      return ref.kind === 'item' && collections.has(ref.collection);
    });
  }
}

/** `title`/`status` keys in a page file are stored as `$title`/`$status` digests; items have no page meta. */
function fileKeyToDigestKey(key: string, config: SyncContext['config'], isPage: boolean): string {
  if (!isPage) return key;
  if (key === config.pageMeta.titleKey) return '$title';
  if (key === config.pageMeta.statusKey) return '$status';
  return key;
}

/** Write a pulled change into its file: only the changed keys, atomically, and not at all if nothing changed. */
async function writeEntityFile(
  ctx: SyncContext,
  planned: Extract<Operation, { kind: 'write-file' }>,
  remote: Map<EntityKey, RemoteEntity> | undefined,
  scanned: LocalVariant | undefined,
): Promise<boolean | typeof CHANGED_MEANWHILE | PartlyWritten> {
  const { config } = ctx;
  let op = planned;
  const abs = await resolveInside(ctx, op.path);
  // Pages and posts have a title and status (meta keys in `set`); items do not.
  const isPage = parseEntityKey(op.entity).kind !== 'item';
  let next: string;
  let partly: PartlyWritten | undefined;
  if (op.create) {
    const fields: Record<string, unknown> = {};
    const meta: { title?: string; status?: 'draft' | 'published' } = {};
    for (const [key, value] of Object.entries(op.set)) {
      const digestKey = fileKeyToDigestKey(key, config, isPage);
      if (digestKey === '$title') meta.title = String(value);
      else if (digestKey === '$status') meta.status = value === 'draft' ? 'draft' : 'published';
      else fields[key] = value;
    }
    next = renderContentFile(op.path, { fields, meta }, config);
    if ((await readCurrent(abs)) !== undefined) return CHANGED_MEANWHILE; // someone created it since the scan
  } else {
    const current = await readCurrent(abs);
    if (current === undefined) return CHANGED_MEANWHILE; // removed since the scan
    const keys = Object.keys(op.set).map((k) => fileKeyToDigestKey(k, config, isPage));
    const moved = keysChangedMeanwhile(ctx, op, current, scanned, keys);
    if (moved === undefined || moved.length === keys.length) return CHANGED_MEANWHILE;
    if (moved.length > 0) {
      // One key saved meanwhile holds back only itself: the other pulled keys are written now.
      op = withoutKeys(ctx, op, moved, isPage);
      partly = { written: Object.keys(op.set), heldBack: moved };
    }
    next = editContentFile(op.path, current, op.set, config);
  }
  const written = await writeFileAtomic(abs, next, { tempDir: stateTempDir(ctx.repoDir) });

  // The base moves to the pulled values (echo suppression: a pulled change is not pushed back). The planner
  // hands over the locale's complete new base.
  const manifest = ctx.store.manifest;
  const entity = manifest.entities[op.entity] ?? { locales: {} };
  const remoteId = remote?.get(op.entity)?.remoteId;
  if (remoteId !== undefined) entity.remoteId = remoteId;
  const slot = entity.locales[op.locale] ?? { base: {} };
  const keys = Object.keys(op.set).map((k) => fileKeyToDigestKey(k, config, isPage));
  if (op.base) slot.base = { ...op.base };
  slot.path = op.path;
  entity.locales[op.locale] = slot;
  manifest.entities[op.entity] = entity;
  settleConflicts(manifest, op.entity, op.locale, keys);
  ctx.store.markDirty();
  return partly ?? written;
}

/** A pull that wrote some of its keys: the rest changed in the file while the pull ran. */
interface PartlyWritten {
  written: string[];
  heldBack: string[];
}

function fieldLabel(key: string): string {
  if (key === '$title') return 'the title';
  if (key === '$status') return 'the status';
  return `field "${key}"`;
}

/** The write without the held-back keys; their base stays as it was, so the next run merges them. */
function withoutKeys(
  ctx: SyncContext,
  op: Extract<Operation, { kind: 'write-file' }>,
  heldBack: string[],
  isPage: boolean,
): Extract<Operation, { kind: 'write-file' }> {
  const set = Object.fromEntries(
    Object.entries(op.set).filter(([k]) => !heldBack.includes(fileKeyToDigestKey(k, ctx.config, isPage))),
  );
  const oldBase = ctx.store.manifest.entities[op.entity]?.locales[op.locale]?.base ?? {};
  const base: FieldDigests = { ...op.base };
  for (const key of heldBack) {
    if (oldBase[key] === undefined) delete base[key];
    else base[key] = oldBase[key];
  }
  // The pull journal recorded these keys as pulled before the write (pull-journal.ts); they were not written,
  // so the record must not let the next run take the person's value for an edit made on top of the pull.
  const pulled = ctx.store.manifest.entities[op.entity]?.locales[op.locale]?.pulled;
  if (pulled) {
    for (const key of heldBack) {
      delete pulled.prior[key];
      delete pulled.next[key];
    }
  }
  return { ...op, set, base };
}

async function deleteEntityFile(
  ctx: SyncContext,
  op: Extract<Operation, { kind: 'delete-file' }>,
): Promise<boolean | typeof CHANGED_MEANWHILE | typeof ALREADY_GONE> {
  const abs = await resolveInside(ctx, op.path);
  const current = await readCurrent(abs);
  if (current !== undefined && !stillAtBase(ctx, op, current)) return CHANGED_MEANWHILE;
  await rm(abs, { force: true });
  const manifest = ctx.store.manifest;
  const entity = manifest.entities[op.entity];
  // A recorded removal keeps its slot until Git holds it: a restored file is then not taken for a new one.
  if (entity && !entity.locales[op.locale]?.pulled) {
    buryLocale(manifest, op.entity, op.locale, entity.locales[op.locale]?.base, 'cms');
    delete entity.locales[op.locale];
    if (Object.keys(entity.locales).length === 0) delete manifest.entities[op.entity];
  }
  ctx.store.markDirty();
  // Still handed to the commit (Git may track the file a person removed), but no file changed now.
  return current === undefined ? ALREADY_GONE : true;
}

/** Last line of defence: nothing is ever written outside the content folder, whatever the remote sent. */
async function resolveInside(ctx: SyncContext, relPath: string): Promise<string> {
  const root = path.resolve(ctx.repoDir, ctx.config.contentDir);
  const abs = path.resolve(ctx.repoDir, relPath);
  const refuse = () =>
    new SyncError('CONTENT_PATH', 'refusing to write outside the content folder', { file: relPath });
  if (!abs.startsWith(root + path.sep)) throw refuse();
  // A symlinked folder inside the content dir could still lead outside it: compare real paths too.
  const realRoot = await realpathOfNearest(root);
  const realDir = await realpathOfNearest(path.dirname(abs));
  if (realDir !== realRoot && !realDir.startsWith(realRoot + path.sep)) throw refuse();
  return abs;
}

/** The real path of `p`, resolving symlinks in the part that exists (folders may not be created yet). */
async function realpathOfNearest(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (error) {
    const parent = path.dirname(p);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) throw error;
    return path.join(await realpathOfNearest(parent), path.basename(p));
  }
}

/** Returned instead of writing when the file no longer holds what the plan was made from. */
const CHANGED_MEANWHILE = 'changed-meanwhile' as const;
/** A file removal found the file already gone: the manifest was cleaned up, no file changed. */
const ALREADY_GONE = 'already-gone' as const;

async function readCurrent(abs: string): Promise<string | undefined> {
  try {
    return await readFile(abs, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The plan was made from a scan taken before the CMS was read (seconds earlier): a writer may have saved
 * the file since. The keys about to change that no longer hold what the plan saw (their base, or the
 * scanned value); `undefined` when the file cannot be read now (mid-save or broken: not ours to touch).
 * A page's `title`/`status` key that the file does not have, now or at the scan, is no change: the planner
 * read it as "no opinion" (three-way.ts), and the pull adds it.
 */
function keysChangedMeanwhile(
  ctx: SyncContext,
  op: { entity: EntityKey; locale: string; path: string },
  current: string,
  scanned: LocalVariant | undefined,
  keys: string[],
): string[] | undefined {
  const base = ctx.store.manifest.entities[op.entity]?.locales[op.locale]?.base ?? {};
  const norm = { media: ctx.store.manifest.media };
  let digests: FieldDigests;
  let model: EntityModel;
  try {
    const { location, variant } = readContentFile(op.path, Buffer.from(current, 'utf8'), ctx.config);
    model = modelFor(location.ref, ctx.config);
    digests = digestVariant(variant, model, norm);
  } catch {
    return undefined;
  }
  const seen = scanned ? digestVariant(scanned, model, norm) : undefined;
  return keys.filter((key) => {
    const now = digests[key];
    if (base[key] === undefined || now === base[key]) return false;
    if (seen && now === seen[key]) return false; // as the plan saw it (a missing meta key included)
    return true;
  });
}

function stillAtBase(
  ctx: SyncContext,
  op: { entity: EntityKey; locale: string; path: string },
  current: string,
  keys?: string[],
): boolean {
  const base = ctx.store.manifest.entities[op.entity]?.locales[op.locale]?.base ?? {};
  let digests: FieldDigests;
  try {
    const { location, variant } = readContentFile(op.path, Buffer.from(current, 'utf8'), ctx.config);
    digests = digestVariant(variant, modelFor(location.ref, ctx.config), { media: ctx.store.manifest.media });
  } catch {
    return false; // mid-save or broken: not ours to overwrite
  }
  return (keys ?? Object.keys(base)).every((key) => base[key] === undefined || digests[key] === base[key]);
}
