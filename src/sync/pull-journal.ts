/**
 * The pull journal: a pulled change is a two-step promise (write the file, then commit it), and a process can
 * die between the steps, or a person can throw the written file away (`git checkout -- .`, `git stash`, a clean
 * CI checkout restoring a cached state). DESIGN.md §3: a base moves to a pulled value only once Git holds it as
 * the run promised. So before a pull writes a file it records, per file, the base each changed field had
 * (`prior`) and will have (`next`); the next run settles every record against the file and Git before it plans:
 *
 * - the file holds `next` and Git has it (or `pull.commit` is off) → the record is done;
 * - the file holds `next` but the promised commit is missing (killed before committing) → the run commits it;
 * - the file went back to `prior` as Git holds it (a discard: `git checkout -- .`, `git stash`, a clean checkout)
 *   → the base goes back to `prior`, so the change is pulled again and the old value is never pushed over the
 *   editor's work; a written file that holds `prior` but differs from HEAD (or is untracked), or one whose pull
 *   commit is already in history, was typed back by a person: their edit, pushed;
 * - anything else (a person edited the field meanwhile) → the edit counts as made on top of the pulled value
 *   when the file is known to have been written; otherwise the base goes back to `prior`, so a difference with
 *   the CMS becomes a conflict rather than an overwrite.
 */

import { readContentFile } from '../content/index.js';
import { digestVariant } from '../core/digest.js';
import { modelFor } from '../core/model.js';
import type { EntityKey, FieldDigests, Manifest, Operation, PulledChange } from '../core/types.js';
import type { ContentRepo } from '../git/port.js';
import { plainOf } from '../state/manifest-tracking.js';
import { buryLocale } from '../state/tombstones.js';
import type { SyncContext } from './context.js';
import type { LocalScan } from './local-scan.js';

/**
 * Write-ahead for a pull: record what each file operation will change (see the module comment). Returns
 * whether anything was recorded; the caller saves the manifest before the first file is touched. A record
 * left by an earlier unsettled pull keeps its older `prior` for the fields it already covers.
 */
export function recordPulledChanges(manifest: Manifest, operations: readonly Operation[]): boolean {
  let recorded = false;
  for (const op of operations) {
    if (op.kind !== 'write-file' && op.kind !== 'delete-file') continue;
    const entity = manifest.entities[op.entity] ?? { locales: {} };
    const slot = entity.locales[op.locale] ?? { base: {} };
    const before = slot.base;
    const after: FieldDigests = op.kind === 'write-file' ? (op.base ?? before) : {};
    const change: PulledChange = {
      prior: { ...slot.pulled?.prior },
      next: { ...slot.pulled?.next },
      ...(slot.pulled?.written ? { written: true } : {}),
      ...(slot.pulled?.commit ? { commit: slot.pulled.commit } : {}),
    };
    for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (before[field] === after[field] && change.next[field] === undefined) continue;
      if (change.prior[field] === undefined) change.prior[field] = before[field] ?? '';
      change.next[field] = after[field] ?? '';
    }
    // A file created or removed with no field to tell by still needs its record (an empty item file).
    if (Object.keys(change.next).length === 0 && !op.path) continue;
    slot.pulled = change;
    slot.path = op.path;
    entity.locales[op.locale] = slot;
    manifest.entities[op.entity] = entity;
    recorded = true;
  }
  return recorded;
}

/** These files were written: a later edit of a pulled field was made on top of the pulled value. */
export function markPulledWritten(manifest: Manifest, files: readonly string[]): void {
  forRecordsOf(manifest, files, (change) => {
    change.written = true;
  });
}

function forRecordsOf(
  manifest: Manifest,
  files: readonly string[],
  mark: (change: PulledChange) => void,
): void {
  const wanted = new Set(files);
  for (const entity of Object.values(manifest.entities)) {
    for (const slot of Object.values(entity.locales)) {
      if (slot.pulled && slot.path && wanted.has(slot.path)) mark(slot.pulled);
    }
  }
}

/** The pull commit `sha` now holds these files: their records say so (settled for good by the next run). */
export function markPulledCommitted(manifest: Manifest, files: readonly string[], sha: string): void {
  forRecordsOf(manifest, files, (change) => {
    change.commit = sha;
  });
}

export interface SettleResult {
  /** Files that hold a pulled change whose promised commit never happened: commit them now. */
  toCommit: string[];
  /** Records whose file went back (or was edited): their base went back to `prior`. */
  undone: number;
  /** Records found done and removed. */
  done: number;
}

/**
 * Settle every pull record the scan can judge (see the module comment). Entities outside the scan's scope or
 * with an unreadable file keep their record for a later run. `commitPromised` is `pull.commit`.
 */
export async function settlePulledChanges(
  ctx: SyncContext,
  scan: LocalScan,
  unreadable: ReadonlySet<EntityKey>,
  commitPromised: boolean,
): Promise<SettleResult> {
  const { manifest } = ctx.store;
  const result: SettleResult = { toCommit: [], undone: 0, done: 0 };
  const open: Array<{ key: EntityKey; locale: string; change: PulledChange; file: string }> = [];
  // Found on the plain manifest (no tracking proxy per entity visited); records are edited through `manifest`.
  for (const [key, entity] of Object.entries(plainOf(manifest).entities) as Array<
    [EntityKey, Manifest['entities'][string]]
  >) {
    if (scan.scope && !scan.scope.has(key)) continue;
    if (unreadable.has(key)) continue;
    for (const [locale, slot] of Object.entries(entity.locales)) {
      if (slot.pulled && slot.path) open.push({ key, locale, change: slot.pulled, file: slot.path });
    }
  }
  if (open.length === 0) return result;

  const git = await gitView(
    ctx.repo,
    open.map((o) => o.file),
    open.flatMap((o) => (o.change.commit ? [o.change.commit] : [])),
  );
  for (const { key, locale, change, file } of open) {
    const entity = manifest.entities[key];
    const slot = entity?.locales[locale];
    if (!entity || !slot) continue;
    const variant = scan.local.get(key)?.locales[locale];
    const digests: FieldDigests = variant
      ? digestVariant(variant, modelFor(scan.local.get(key)!.ref, ctx.config), { media: manifest.media })
      : {};
    const fields = Object.keys(change.next);
    const holds =
      fields.every((f) => (digests[f] ?? '') === change.next[f]) &&
      (variant !== undefined) === !isRemoval(change);
    const inHistory = change.commit !== undefined && git.ancestors.has(change.commit);
    if (holds) {
      setBase(slot.base, change.next);
      const clean = !git.available || !git.dirty.has(file);
      if (clean || inHistory || !commitPromised) {
        if (clean || inHistory) {
          delete slot.pulled;
          result.done += 1;
        }
        // pull.commit off: the work tree is what the run promised; the record stays until Git has the file,
        // so a `git checkout -- .` before that still brings the change back.
      } else if (variant === undefined || (await onlyPulledFieldsDiffer(ctx, file, fields, digests))) {
        result.toCommit.push(file);
      }
    } else {
      // A file the pull created and wrote, then gone: `git checkout -- .` and `git stash` leave untracked
      // files alone, so a person deleted it (a deletion to push), unless a pull commit that should hold it is
      // missing from HEAD's history (a clean checkout: pulled again).
      const created = fields.every((f) => change.prior[f] === '');
      const deleted =
        variant === undefined &&
        created &&
        change.written === true &&
        (change.commit === undefined || inHistory);
      // Back to `prior` is a discard only where a discard could have made it: a written file that Git now holds
      // as it is in HEAD (`git checkout -- .`, `git stash`, a clean checkout), or one never written (killed
      // first). A written file that differs from HEAD, or is untracked (checkout and stash leave those alone),
      // holds `prior` because a person typed it: their edit, pushed like any other. Once the pull commit is in
      // HEAD's history Git held the pulled value as promised, so going back is an edit too (a revert included).
      const discarded = !git.available || !git.dirty.has(file);
      const undone =
        !deleted &&
        !inHistory &&
        (discarded || change.written !== true) &&
        fields.every((f) => (digests[f] ?? '') === change.prior[f]);
      // A field a person edited on top of the written pulled value is theirs to push; when the file may never
      // have been written (killed first), the edit started from `prior` and meets the CMS as a conflict.
      const onTop = !undone && (inHistory || change.written === true);
      for (const f of fields) {
        const keepsNext = (digests[f] ?? '') === change.next[f] || onTop;
        setBase(slot.base, { [f]: keepsNext ? (change.next[f] ?? '') : (change.prior[f] ?? '') });
      }
      delete slot.pulled;
      result.undone += 1;
    }
    if (isRemoval(change) && holds && slot.pulled === undefined) {
      // Deleted in the CMS: no clone creates it again from a stale copy (the bases it had are the prior).
      buryLocale(manifest, key, locale, change.prior, 'cms');
      delete entity.locales[locale];
    } else if (Object.keys(slot.base).length === 0 && slot.pulled === undefined && variant === undefined)
      delete entity.locales[locale]; // created by the undone pull: no base, so the file is written again
    if (Object.keys(entity.locales).length === 0) delete manifest.entities[key];
  }
  if (result.undone + result.done > 0) ctx.store.markDirty();
  if (result.undone > 0) {
    ctx.logger.warn(
      { files: result.undone },
      'pulled changes missing from the files (discarded, or a pull was interrupted): they are pulled again',
    );
  }
  return result;
}

/** A removed file's record: every field's next digest is `''`. */
function isRemoval(change: PulledChange): boolean {
  const next = Object.values(change.next);
  return next.length > 0 && next.every((d) => d === '');
}

function setBase(base: FieldDigests, digests: FieldDigests): void {
  for (const [field, digest] of Object.entries(digests)) {
    if (digest === '') delete base[field];
    else base[field] = digest;
  }
}

/** Which files differ from HEAD, and which of `commits` are in HEAD's history; `available` false outside git. */
async function gitView(
  repo: ContentRepo,
  files: string[],
  commits: string[],
): Promise<{ available: boolean; dirty: Set<string>; ancestors: Set<string> }> {
  if ((await repo.headCommit()) === null) return { available: false, dirty: new Set(), ancestors: new Set() };
  // Untracked too: a file this pull created and never committed is not yet what Git holds.
  const dirty = await repo.dirtyAmong(files, { untracked: true });
  return { available: true, dirty, ancestors: await repo.inHistory(commits) };
}

/**
 * An interrupted pull's file may be committed now only when it differs from HEAD in the pulled fields alone:
 * a person's other edits in it are never swept into a pull commit.
 */
async function onlyPulledFieldsDiffer(
  ctx: SyncContext,
  file: string,
  pulledFields: string[],
  current: FieldDigests,
): Promise<boolean> {
  const shown = await ctx.repo.fileAt('HEAD', file);
  // Not in HEAD: a file the pull created, holding nothing else.
  if (shown === null) return true;
  try {
    const { location, variant } = readContentFile(file, Buffer.from(shown, 'utf8'), ctx.config);
    const inHead = digestVariant(variant, modelFor(location.ref, ctx.config), {
      media: ctx.store.manifest.media,
    });
    const pulled = new Set(pulledFields);
    return Object.keys({ ...inHead, ...current }).every((f) => pulled.has(f) || inHead[f] === current[f]);
  } catch {
    return false;
  }
}
