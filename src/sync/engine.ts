import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ReadTarget, RemoteRead, RemoteSnapshot, SnapshotScope, WriteIntent } from '../cms/port.js';
import { inUnavailableList, makeIdLookup, mergeTargets, snapshotOfRead } from '../cms/read-helpers.js';
import { editContentFile, isContentPath, locateFile, pathForEntity } from '../content/index.js';
import { digestVariant } from '../core/digest.js';
import { SyncError } from '../core/errors.js';
import { modelFor } from '../core/model.js';
import { planSync } from '../core/plan.js';
import {
  type EntityKey,
  type EntityRef,
  entityKey,
  type FailedWrite,
  type LocalEntity,
  type PendingWrite,
  parseEntityKey,
  type ReadStep,
  type RemoteEntity,
  type SyncPlan,
  writeLabel,
} from '../core/types.js';
import { countCalls } from '../state/manifest-edits.js';
import { plainOf } from '../state/manifest-tracking.js';
import { applyPlan } from './apply-plan.js';
import { nowOf, readStateOf, type SyncContext, sleep } from './context.js';
import { type LocalScan, scanLocal } from './local-scan.js';
import { markPulledCommitted, markPulledWritten, settlePulledChanges } from './pull-journal.js';
import { newReport, type SyncReport, toFileProblem } from './report.js';
import { mergeRemoteRichText } from './rich-text-map.js';
import { pendingTargets, planVerifyReads, settleLandedFailures, verifyPending } from './verify-pending.js';

/** The fields of a pending write that do not bear on what its read-back reads. */
const PLACEHOLDER_WRITE: Omit<PendingWrite, 'entity' | 'kind' | 'expect'> = {
  id: '',
  state: 'intent',
  createdAt: '',
  deadline: '',
};

export interface PushOptions {
  /** Repo-relative or absolute paths; undefined = the whole content tree. */
  paths?: string[] | undefined;
  dryRun?: boolean;
  /** How long to keep reading back pending writes before returning (they stay pending afterwards). */
  verifyWaitMs?: number;
  /** `--create-renamed`: a renamed page file becomes a new page instead of a report. */
  createRenamed?: boolean;
  /** Renames git detected in the pushed commit (new path → old path). */
  renamedPaths?: ReadonlyMap<string, string>;
  /**
   * What a push does when the content model changed since the last reconcile: `reconcile` runs a full
   * two-way pass instead (the daemon, which pulls anyway); `push-only` pushes and says a reconcile is due,
   * so the hook and a push-only CI job never pull or commit (every write is still read before it is sent).
   */
  onModelChange?: 'reconcile' | 'push-only';
}

/** The notice a push-only run gives while the content model differs from the one of the last reconcile. */
export const RECONCILE_DUE_MESSAGE =
  'the content model in the config changed since the last reconcile: this push sent only file changes (each checked against the CMS first); run `butter-sync reconcile` to bring in changes made in the CMS and settle every entity under the new model';

export interface PullOptions {
  dryRun?: boolean;
  /** Limit the remote read to these lists (webhook-driven pulls). */
  scope?: SnapshotScope | undefined;
  commit?: boolean;
  /** The pull commit's title, when the pull settles something else (a resolve); default "pull N files". */
  commitTitle?: string;
}

export interface ReconcileOptions {
  dryRun?: boolean;
  verifyWaitMs?: number;
  commit?: boolean;
}

/**
 * One run of the pipeline, as data: push, pull and reconcile are presets of it (`pushBatch`, `pullBatch`,
 * `reconcileBatch`). What differs between them is here; everything else is `SyncEngine.run`.
 */
export interface SyncBatch {
  /** What the report and the state call the run. */
  mode: 'push' | 'pull' | 'reconcile';
  /** Which way the plan carries changes (files → CMS, CMS → files, both). */
  direction: 'push' | 'pull' | 'both';
  dryRun: boolean;
  /**
   * What is read before the one plan: the entities the files would write, in the locales they write (a push
   * of some files or of the tree), or the CMS's lists (all, or those in `scope`) beside the whole file tree.
   */
  read: { kind: 'touched' } | { kind: 'lists'; scope?: SnapshotScope | undefined };
  /** Files to scan for a `touched` read; undefined: the whole content tree. */
  paths?: string[] | undefined;
  createRenamed?: boolean | undefined;
  renamedPaths?: ReadonlyMap<string, string> | undefined;
  onModelChange?: PushOptions['onModelChange'];
  /** Which failures end when their entity has nothing left to do (`endFailuresWithNothingLeft`). */
  endFailures: 'none' | 'refused' | 'all';
  /** How long to read back this run's writes before returning; undefined: not at all (a pull sends none). */
  verifyWaitMs?: number | undefined;
  /** Commit the files written (pull, reconcile); undefined: the config's `pull.commit`. */
  commit?: boolean | undefined;
  commitTitle?: string | undefined;
}

/** A push: scan the files (or the tree), read what they would write, plan files → CMS. */
export function pushBatch(options: PushOptions): SyncBatch {
  return {
    mode: 'push',
    direction: 'push',
    dryRun: options.dryRun ?? false,
    read: { kind: 'touched' },
    paths: options.paths,
    createRenamed: options.createRenamed,
    renamedPaths: options.renamedPaths,
    onModelChange: options.onModelChange,
    // A push plan does not look at the whole remote: only refused and held-back writes can end in it.
    endFailures: 'refused',
    verifyWaitMs: options.verifyWaitMs ?? 0,
  };
}

/** A pull: read the CMS's lists (or a webhook's scope), plan CMS → files, commit what was written. */
export function pullBatch(options: PullOptions): SyncBatch {
  return {
    mode: 'pull',
    direction: 'pull',
    dryRun: options.dryRun ?? false,
    read: { kind: 'lists', scope: options.scope },
    endFailures: 'none',
    commit: options.commit,
    commitTitle: options.commitTitle,
  };
}

/** A reconcile: read every list, plan both ways in one three-way pass, verify, commit. */
export function reconcileBatch(options: ReconcileOptions): SyncBatch {
  return {
    mode: 'reconcile',
    direction: 'both',
    dryRun: options.dryRun ?? false,
    read: { kind: 'lists' },
    endFailures: 'all',
    verifyWaitMs: options.verifyWaitMs ?? 10_000,
    commit: options.commit,
  };
}

/** What a run read before planning, with the scan it read for and the entities it plans. */
interface BatchRead {
  scan: LocalScan;
  only: Set<EntityKey> | undefined;
  snapshot: RemoteSnapshot;
  /** The planned reads made (a push's); their calls are counted in the plan. */
  before: ReadStep[];
  /** Calls the list reads made (a pull's or reconcile's). */
  listCalls: number;
  /** Where a push's reads made the remote known, and the creates found there (merged two-way). */
  known?: { readLocales: Map<EntityKey, Set<string>>; twoWay: Set<EntityKey> };
  /** The plan already made from exactly this input (a push that read nothing): planned once, not twice. */
  plan?: SyncPlan;
}

/**
 * The one engine every mode goes through (watch, hook, push, pull, reconcile): scan → plan (pure) →
 * apply → verify. `plan`/`--dry-run` stop after planning and print the plan.
 */
export class SyncEngine {
  constructor(readonly ctx: SyncContext) {}

  private planInput(
    { local, digests }: Pick<LocalScan, 'local' | 'digests'>,
    remote: Map<EntityKey, RemoteEntity> | undefined,
    scope: 'push' | 'pull' | 'both',
    only: Set<EntityKey> | undefined,
    snapshot?: RemoteSnapshot,
  ) {
    const { config, store } = this.ctx;
    const lowerCased = lowerCaseCollections(local);
    const extensions = markdownExtensions(local);
    // The planner only reads: the plain manifest spares it a tracking proxy per object it visits, which at 10k
    // entities cost more than the plan itself (manifest-tracking.ts).
    const manifest = plainOf(store.manifest);
    return {
      config,
      manifest,
      local,
      localDigests: digests,
      ...(remote ? { remote } : {}),
      scope,
      ...(only ? { only } : {}),
      resolvePath: (ref: EntityRef, locale: string) =>
        pathForEntity(ref, locale, config, {
          lowerCase: ref.kind === 'item' && lowerCased.has(ref.collection),
          markdownExtension: ref.kind === 'page' ? extensions.get(ref.pageType) : undefined,
        }),
      ids: makeIdLookup(manifest, snapshot?.itemKeys),
      now: nowOf(this.ctx),
      hasFile: (entity: EntityKey) => this.hasFile(entity),
      rules: this.ctx.backend.rules,
      estimate: (intent: WriteIntent) => this.ctx.backend.estimate(intent),
    };
  }

  /** A content file exists for this entity in some locale (read or not): where the manifest says, or by its name. */
  private hasFile(entity: EntityKey): boolean {
    const { config, repoDir, store } = this.ctx;
    const known = Object.values(plainOf(store.manifest).entities[entity]?.locales ?? {}).flatMap((slot) =>
      slot.path ? [slot.path] : [],
    );
    if (known.some((file) => existsSync(path.join(repoDir, file)))) return true;
    const ref = parseEntityKey(entity);
    return config.locales.all.some((locale) => {
      let file: string;
      try {
        file = pathForEntity(ref, locale, config);
      } catch {
        return false; // a name that cannot be a file has none
      }
      // A Markdown page may also be stored as .mdx or .markdown; an item file may be named in lower case.
      const stem = file.endsWith('.md') ? file.slice(0, -'.md'.length) : undefined;
      const candidates = stem ? [file, `${stem}.mdx`, `${stem}.markdown`] : [file];
      if (ref.kind === 'item') candidates.push(pathForEntity(ref, locale, config, { lowerCase: true }));
      return candidates.some((candidate) => existsSync(path.join(repoDir, candidate)));
    });
  }

  private finish(report: SyncReport, callsBefore: number): SyncReport {
    const { store, backend } = this.ctx;
    report.calls = backend.stats().total - callsBefore;
    report.pending = store.manifest.pending.length;
    report.failures.push(
      ...store.manifest.failed.filter(
        (f) => !report.failures.some((r) => r.id === f.id) && f.at >= report.startedAt,
      ),
    );
    report.finishedAt = nowOf(this.ctx).toISOString();
    const month = report.finishedAt.slice(0, 7);
    if (countCalls(store.manifest, month, report.calls)) store.markDirty();
    return report;
  }

  /** Push local changes: the whole tree, some paths, or what a commit changed (the caller passes its paths). */
  push(options: PushOptions = {}): Promise<{ report: SyncReport; plan: SyncPlan }> {
    return this.run(pushBatch(options));
  }

  /** Pull remote changes into files and commit them (only the files written, with the pull trailer). */
  pull(options: PullOptions = {}): Promise<{ report: SyncReport; plan: SyncPlan }> {
    return this.run(pullBatch(options));
  }

  /** push + pull + verify pending in one three-way pass, then a report. */
  reconcile(options: ReconcileOptions = {}): Promise<{ report: SyncReport; plan: SyncPlan }> {
    return this.run(reconcileBatch(options));
  }

  /**
   * The one pipeline (issue 10; Astro's `syncData`): scan → read → one `planSync` → apply → verify. Push, pull
   * and reconcile are presets of it (`pushBatch`, `pullBatch`, `reconcileBatch`): which files are scanned,
   * what is read before the plan, which direction the plan takes, and what the run records afterwards.
   */
  async run(batch: SyncBatch): Promise<{ report: SyncReport; plan: SyncPlan }> {
    const { ctx } = this;
    const { dryRun } = batch;
    const modelChanged = batch.direction === 'push' && !dryRun && this.modelChanged();
    if (modelChanged && (batch.onModelChange ?? 'reconcile') === 'reconcile') {
      // Digests made under another content model may no longer mean the same values (STYLE.md principle 4).
      ctx.logger.info('the content model in the config changed since the last run: running a full reconcile');
      return this.run(reconcileBatch({ verifyWaitMs: batch.verifyWaitMs }));
    }
    const callsBefore = ctx.backend.stats().total;
    const report = newReport(dryRun ? 'plan' : batch.mode, dryRun, nowOf(ctx));
    if (modelChanged) {
      // The base digests were made under the old model; the read before each write (below) keeps a value
      // that only looks different from being sent or overwriting an editor's change.
      report.notices.push({ entity: 'config', reason: 'reconcile-due', message: RECONCILE_DUE_MESSAGE });
    }
    const commit = batch.commit ?? ctx.config.pull.commit;
    if (batch.direction !== 'push' && !dryRun) await this.checkRepo(report, commit);

    // Scan, then read.
    const { scan, only, ...read } =
      batch.read.kind === 'touched'
        ? await this.readTouched(batch, report)
        : await this.readLists(batch, batch.read.scope, report);

    // Plan once.
    let plan =
      read.plan ??
      planSync({
        ...this.planInput(scan, read.snapshot.remote, batch.direction, only, read.snapshot),
        ...(batch.read.kind === 'touched'
          ? { createRenamed: batch.createRenamed, renamedPaths: batch.renamedPaths, ...read.known }
          : {}),
      });
    if (!dryRun && batch.endFailures !== 'none')
      this.endFailuresWithNothingLeft(plan, only, (f) => batch.endFailures === 'all' || f.refused === true);
    plan = this.withCalls(this.holdAcceptedCreates(plan, report), read.before, read.listCalls);
    if (dryRun) return { report: this.finish(report, callsBefore), plan };

    // Apply, then verify.
    const earlier = new Set(ctx.store.manifest.pending.map((p) => p.id));
    // A plan that may write files goes through the git guard (pull and reconcile); a push's writes only send.
    let pulled: Awaited<ReturnType<SyncEngine['applyGuarded']>> | undefined;
    if (batch.direction === 'push') await applyPlan(ctx, { plan, local: scan.local, report });
    else pulled = await this.applyGuarded(plan, scan, read.snapshot, report, commit);
    if (batch.verifyWaitMs !== undefined) await this.waitForPending(batch.verifyWaitMs, earlier);
    const now = nowOf(ctx).toISOString();
    const manifest = ctx.store.manifest;
    if (batch.direction === 'both' && ctx.configDigest) manifest.configDigest = ctx.configDigest;
    if (batch.direction !== 'push') manifest.lastPull = now;
    if (batch.direction !== 'pull' && plan.operations.some((op) => op.cost > 0)) manifest.lastPush = now;
    if (batch.direction === 'both') {
      // Conflicts still standing are the ones this pass found; settled ones drop out.
      manifest.conflicts = manifest.conflicts.filter((c) =>
        report.conflicts.some((r) => r.entity === c.entity && r.locale === c.locale && r.field === c.field),
      );
    }
    await ctx.store.save();
    if (pulled && commit)
      await this.commitPulled(pulled.changedFiles, report, pulled.guard, batch.commitTitle);
    return { report: this.finish(report, callsBefore), plan };
  }

  /**
   * A push's scan and reads (read, then plan once). What the files alone would send names the entities to read
   * (pure, no call); each of them is read in the locales it writes, before the one plan that is sent:
   * - a create: an entity that already exists is merged through the no-base rules instead of duplicated
   *   (DESIGN.md §3);
   * - an update (PATCH, or a PUT that replaces every field): a field an editor changed in the dashboard since
   *   the last sync becomes a conflict (or is kept) instead of being overwritten silently.
   * Writes still pending are read back in the same batch, only when there is something to send or a created
   * item's id is still unknown (what references it waits for it): an unchanged tree costs no call.
   */
  private async readTouched(batch: SyncBatch, report: SyncReport): Promise<BatchRead> {
    const { ctx } = this;
    ctx.onProgress?.({ phase: 'scan' });
    // Files held back earlier (a reference not in the CMS yet) ride along, so they go out once it is.
    const heldBack = ctx.store.manifest.heldBack.flatMap((h) => (h.path ? [h.path] : []));
    const paths = batch.paths && [...new Set([...batch.paths, ...heldBack])];
    const scan = await scanLocal(ctx.repoDir, ctx.config, plainOf(ctx.store.manifest), paths);
    report.errors.push(...scan.errors.map(toFileProblem));
    await this.settlePulls(scan, report, batch.dryRun);
    let only = await this.withoutBehind(this.withoutUnreadable(scan.scope, scan), scan, report);
    const probe = planSync({
      ...this.planInput(scan, undefined, 'push', only),
      createRenamed: batch.createRenamed,
      renamedPaths: batch.renamedPaths,
    });
    const touched = this.entitiesToRead(probe, scan.local);
    const { pending, entities } = ctx.store.manifest;
    const idUnknown = pending.some(
      (p) =>
        p.kind === 'create' && p.entity.startsWith('item:') && entities[p.entity]?.remoteId === undefined,
    );
    const verifyFirst = (touched.sends || idUnknown) && pending.length > 0;
    const targets = mergeTargets([
      ...touched.targets,
      ...(verifyFirst ? pendingTargets(pending, ctx.config.locales.default) : []),
    ]);
    const state = readStateOf(ctx);
    const before = ctx.backend.planReads(targets, state);
    if (before.length > 0) ctx.onProgress?.({ phase: 'read-cms' });
    // Nothing to read (an unchanged tree): what runReads answers for no step, without its passes over the manifest.
    const read: RemoteRead =
      before.length > 0
        ? await ctx.backend.read(before, state)
        : { remote: new Map(), read: new Map(), unavailable: [], itemKeys: new Map(), calls: 0 };
    if (read.unavailable.length > 0) {
      for (const { kind, name, error } of read.unavailable) {
        // A collection the CMS answers 404 for fails its own writes, not the whole push (trial F14).
        report.errors.push({
          code: error.code,
          message: `the CMS has no ${kind} "${name}" (${error.message}); its files were not pushed`,
          hint: `Create the ${kind} "${name}" in the CMS, or fix or remove its name in the config. The other page types and collections are not held up by it.`,
        });
      }
      only = this.withoutUnreadable(only, scan, snapshotOfRead(read));
    }
    // A write reported failed that landed late after all is recognised before it could look like an editor's edit.
    if (verifyFirst) await verifyPending(ctx, snapshotOfRead(read), (w) => read.read.has(w.entity));
    else settleLandedFailures(ctx, read.remote);
    const found = new Set([...read.remote.keys()].filter((key) => touched.writes.has(key)));
    for (const key of read.remote.keys()) if (verifyFirst) found.add(key);
    return {
      scan,
      only,
      snapshot: snapshotOfRead(read),
      before,
      listCalls: 0,
      // Nothing read and nothing verified (an unchanged tree): the plan with the read would have the probe's
      // input, so the probe is the plan; at 10k entities that saves a pass over every entity (issue 14).
      ...(before.length === 0 && !verifyFirst ? { plan: probe } : {}),
      known: {
        readLocales: new Map([...found].map((key) => [key, read.read.get(key) ?? new Set<string>()])),
        twoWay: new Set([...found].filter((key) => touched.creates.has(key))),
      },
    };
  }

  /**
   * A pull's or reconcile's scan and reads: the whole file tree, then the CMS's lists (all, or those in
   * `scope`), with the pending writes verified against them where the lists cover them.
   */
  private async readLists(
    batch: SyncBatch,
    scope: SnapshotScope | undefined,
    report: SyncReport,
  ): Promise<BatchRead> {
    const { ctx } = this;
    const { scan, snapshot } = await this.readBothSides(report, scope);
    // A webhook's one-entity snapshot says nothing about other pending writes: only full pulls verify.
    if (!batch.dryRun && (batch.direction === 'both' || !scope)) await verifyPending(ctx, snapshot);
    const unreadable = this.withoutUnreadable(
      scope ? this.keysInScope(scan.local, snapshot, scope) : undefined,
      scan,
      snapshot,
    );
    const unique = this.withoutDuplicates(unreadable, scan, snapshot, report);
    // Reconcile also leaves out what this clone holds older than its shared state (withoutBehind); a pull does not.
    const only =
      batch.direction === 'both' ? await this.withoutBehind(unique, scan, report, snapshot) : unique;
    // The lists just read are the run's reads: a pull of an unchanged account costs those pages only.
    return { scan, only, snapshot, before: [], listCalls: snapshot.calls };
  }

  /**
   * The entities a push plan made from the files alone would write, each in the locales it writes (a create:
   * every locale it has a file for). A write held back (an unresolved reference) is not sent, so not read; nor
   * is a create still pending (it is looked up with the other pending writes).
   */
  private entitiesToRead(
    probe: SyncPlan,
    local: Map<EntityKey, LocalEntity>,
  ): { targets: ReadTarget[]; writes: Set<EntityKey>; creates: Set<EntityKey>; sends: boolean } {
    const { pending } = this.ctx.store.manifest;
    const targets: ReadTarget[] = [];
    const creates = new Set<EntityKey>();
    for (const op of probe.operations) {
      if (op.kind !== 'write' || op.intent.kind === 'delete') continue;
      const isCreate = op.intent.kind === 'create';
      if (op.unresolved !== undefined) continue;
      if (isCreate && pending.some((p) => p.entity === op.entity)) continue;
      if (isCreate) creates.add(op.entity);
      const locales = isCreate
        ? Object.keys(local.get(op.entity)?.locales ?? {})
        : Object.keys(op.expect ?? {});
      targets.push({
        entity: op.entity,
        locales: locales.length > 0 ? locales : [this.ctx.config.locales.default],
      });
    }
    const merged = mergeTargets(targets);
    return {
      targets: merged,
      writes: new Set(merged.map((t) => t.entity)),
      creates,
      sends: probe.operations.some((op) => op.cost > 0),
    };
  }

  /**
   * The plan with every call the run makes counted: the reads made before planning, one call per write, and
   * the read-back of the writes (every pending write, old and new, at the call floor), which runs when the
   * run sends something. `totalCalls` is their sum (issue 10: the plan is what the run does).
   */
  private withCalls(plan: SyncPlan, before: ReadStep[], listCalls = 0): SyncPlan {
    const writes = plan.operations.reduce((sum, op) => sum + op.cost, 0);
    const verify = writes > 0 ? this.verifyReadsAfter(plan) : [];
    const breakdown = {
      reads: listCalls + before.reduce((sum, step) => sum + step.calls, 0),
      writes,
      verify: verify.reduce((sum, step) => sum + step.calls, 0),
    };
    return {
      ...plan,
      totalCalls: breakdown.reads + breakdown.writes + breakdown.verify,
      breakdown,
      reads: { before, verify },
    };
  }

  /** The verification reads after this plan's writes: what is pending now plus what the plan sends. */
  private verifyReadsAfter(plan: SyncPlan): ReadStep[] {
    const { ctx } = this;
    const sent = plan.operations.flatMap((op): PendingWrite[] => {
      if (op.cost === 0 || op.kind !== 'write') return [];
      return [{ ...PLACEHOLDER_WRITE, entity: op.entity, kind: op.intent.kind, expect: op.expect ?? {} }];
    });
    return planVerifyReads([...ctx.store.manifest.pending, ...sent], ctx);
  }

  /** One entity from the remote, every locale, in file form (or undefined when it does not exist). */
  private async readRemoteEntity(ref: EntityRef): Promise<RemoteEntity | undefined> {
    const { ctx } = this;
    const key = entityKey(ref);
    const state = readStateOf(ctx);
    const steps = ctx.backend.planReads([{ entity: key, locales: ctx.config.locales.all }], state);
    const read = await ctx.backend.read(steps, state);
    const entity = read.remote.get(key);
    return entity && Object.keys(entity.locales).length > 0 ? entity : undefined;
  }

  /**
   * Read back pending writes with backoff until none is left or the wait is over. Writes pending from
   * earlier runs (`earlier`: their ids) are verified along the way but not waited for: one that cannot
   * verify must not make every later run poll until its wait is over.
   */
  async waitForPending(waitMs: number, earlier: ReadonlySet<string> = new Set()): Promise<void> {
    const { ctx } = this;
    const until = Date.now() + waitMs;
    const waiting = () => ctx.store.manifest.pending.some((p) => !earlier.has(p.id));
    if (waiting()) ctx.onProgress?.({ phase: 'verify' });
    let delay = 150;
    while (waiting() && !ctx.signal?.aborted) {
      await verifyPending(ctx);
      if (!waiting() || Date.now() + delay > until) break;
      await sleep(delay, ctx.signal);
      delay = Math.min(delay * 2, 5_000);
    }
  }

  /** The whole file tree, then the CMS (all lists, or those in `scope`): pull and reconcile start here. */
  private async readBothSides(
    report: SyncReport,
    scope?: SnapshotScope,
  ): Promise<{ scan: LocalScan; snapshot: RemoteSnapshot }> {
    const { ctx } = this;
    ctx.onProgress?.({ phase: 'scan' });
    const scan = await scanLocal(ctx.repoDir, ctx.config, ctx.store.manifest);
    report.errors.push(...scan.errors.map(toFileProblem));
    await this.settlePulls(scan, report, report.dryRun);
    ctx.onProgress?.({ phase: 'read-cms' });
    const snapshot = await ctx.backend.readScope(scope ?? {}, readStateOf(ctx));
    // Rich text the CMS changed is merged into each file's Markdown before planning (issue 11).
    const learn = !report.dryRun; // a dry run changes no state
    if (
      mergeRemoteRichText(
        scan.local,
        snapshot.remote,
        ctx.store.manifest,
        ctx.config,
        (e) => modelFor(e.ref, ctx.config),
        learn,
      )
    )
      ctx.store.markDirty();
    for (const { kind, name, error } of snapshot.unavailable) {
      report.errors.push({
        code: error.code,
        message: `the CMS has no ${kind} "${name}" (${error.message}); its files were left out of this run`,
        hint: `Create the ${kind} "${name}" in the CMS, or fix or remove its name in the config. The other page types and collections are not held up by it.`,
      });
    }
    return { scan, snapshot };
  }

  /** Apply a plan that writes files, behind the git guard (pull and reconcile share it). */
  private async applyGuarded(
    plan: SyncPlan,
    scan: LocalScan,
    snapshot: RemoteSnapshot,
    report: SyncReport,
    commit: boolean,
  ) {
    const guard = await this.guardGit(plan, report, commit);
    const { changedFiles } = await applyPlan(this.ctx, {
      plan: guard.plan,
      local: scan.local,
      remote: snapshot.remote,
      report,
    });
    markPulledWritten(this.ctx.store.manifest, changedFiles);
    return { guard, changedFiles };
  }

  /**
   * Git safety before a pull writes files: while a person is mid-merge/rebase/cherry-pick or on a detached
   * HEAD, pulled changes are held back (the base does not move, so the next pull brings them); files that
   * already hold uncommitted work are noted, so the pull commit never carries a person's edits.
   */
  private async guardGit(
    plan: SyncPlan,
    report: SyncReport,
    commit: boolean,
  ): Promise<{ plan: SyncPlan; dirty: Set<string> }> {
    const isFileOp = (op: SyncPlan['operations'][number]) =>
      op.kind === 'write-file' || op.kind === 'delete-file';
    const paths = plan.operations.flatMap((op) => (isFileOp(op) && 'path' in op && op.path ? [op.path] : []));
    if (!commit || paths.length === 0) return { plan, dirty: new Set() };
    const state = await this.ctx.repo.state();
    if (!state.ok && state.reason !== 'no-commits' && state.reason !== 'not-a-repo') {
      report.gitNote = `${paths.length} pulled file change(s) held back: ${state.message ?? state.reason}; the next pull after it is finished writes them`;
      report.heldBack = paths.length;
      this.ctx.logger.warn({ reason: state.reason }, report.gitNote);
      const operations = plan.operations.filter((op) => !isFileOp(op));
      return { plan: { ...plan, operations }, dirty: new Set() };
    }
    if (!state.ok) return { plan, dirty: new Set() };
    return { plan, dirty: await this.ctx.repo.dirtyAmong(paths, { untracked: false }) };
  }

  /**
   * Failures (those `which` picks) whose entity has nothing left to do in this plan are over: no operation
   * for it (an adopt aside) and no write pending. Entities left out of the plan (unreadable files) keep
   * theirs. A two-way plan may end any failure (the file was put back, or the write landed some other way);
   * a push plan only held-back ones (their file put back or removed before it was ever sent), since it does
   * not look at the remote; a pull plan none, as it holds no push operations.
   */
  private endFailuresWithNothingLeft(
    plan: SyncPlan,
    only: Set<EntityKey> | undefined,
    which: (failure: FailedWrite) => boolean,
  ): void {
    const manifest = this.ctx.store.manifest;
    const busy = new Set<EntityKey>(manifest.pending.map((p) => p.entity));
    for (const op of plan.operations) if (op.kind !== 'adopt') busy.add(op.entity);
    const kept = (entity: EntityKey) => busy.has(entity) || (only !== undefined && !only.has(entity));
    const before = manifest.failed.length + manifest.heldBack.length;
    manifest.failed = manifest.failed.filter((f) => !which(f) || kept(f.entity));
    // A held-back write with nothing left to send for it ends in every plan that pushes.
    manifest.heldBack = manifest.heldBack.filter((h) => kept(h.entity));
    if (manifest.failed.length + manifest.heldBack.length !== before) this.ctx.store.markDirty();
  }

  /**
   * Entities with a file that could not be read are left out of the plan on both sides: a parse error must
   * never look like a deletion (a DELETE sent, or the file "restored" over the person's broken edit). So are
   * the entities of a page type or collection the CMS answered 404 for: missing there is not deleted.
   */
  private withoutUnreadable(
    only: Set<EntityKey> | undefined,
    scan: LocalScan,
    snapshot?: RemoteSnapshot,
  ): Set<EntityKey> | undefined {
    const unreadable = this.unreadableKeys(scan);
    const unavailable = snapshot?.unavailable ?? [];
    if (unreadable.size === 0 && unavailable.length === 0) return only;
    const candidates =
      only ??
      new Set([
        ...scan.local.keys(),
        ...(snapshot?.remote.keys() ?? []),
        ...Object.keys(this.ctx.store.manifest.entities),
      ]);
    return new Set(
      [...candidates].filter(
        (key) => !unreadable.has(key) && !inUnavailableList(parseEntityKey(key), unavailable),
      ),
    );
  }

  /**
   * Before a run that may commit writes anything: a stale `.git/index.lock` stops it (GIT, naming the lock), and
   * an index left staging the old content under a pull commit by an older crash is repaired.
   */
  private async checkRepo(report: SyncReport, commit: boolean): Promise<void> {
    const { ctx } = this;
    if (commit) await ctx.repo.assertIndexUnlocked();
    const repaired = await ctx.repo.repairPullCommitIndex();
    if (repaired.length > 0) {
      report.gitNote = `repaired the index: it staged the old version of ${repaired.length} file(s) of the last pull commit (${repaired.slice(0, 5).join(', ')}${repaired.length > 5 ? ', …' : ''})`;
      ctx.logger.warn({ files: repaired }, report.gitNote);
    }
  }

  /**
   * Zero duplicates (DESIGN.md §3): a create the CMS accepted (202) that was still not visible at its
   * deadline may land at any later time, so it is never sent again on its own. The plan only gets here after a
   * fresh lookup by its key (push reads each entity it creates; reconcile reads every list) found nothing; the
   * create is left out and its failure reported again, until the item shows up (then it is adopted) or a
   * person runs `resolve PATH --take git`.
   */
  private holdAcceptedCreates(plan: SyncPlan, report: SyncReport): SyncPlan {
    const accepted = this.ctx.store.manifest.failed.filter((f) => f.acceptedCreate);
    if (accepted.length === 0) return plan;
    const operations = plan.operations.filter((op) => {
      if (op.kind !== 'write' || op.intent.kind !== 'create') return true;
      const failure = accepted.find((f) => f.entity === op.entity);
      if (!failure) return true;
      if (!report.failures.some((f) => f.id === failure.id)) report.failures.push(failure);
      report.operations.push({
        kind: writeLabel(op.intent.kind, op.entity),
        entity: op.entity,
        path: failure.path,
        status: 'skipped',
        message: `not sent again: the CMS accepted this create at ${failure.at.slice(0, 19)}Z and it may still land; it is adopted once it shows, or run \`butter-sync resolve ${failure.path ?? 'PATH'} --take git\` to send it again`,
      });
      return false;
    });
    return { operations, totalCalls: operations.reduce((sum, op) => sum + op.cost, 0) };
  }

  /**
   * Two CMS items with one key cannot both be one file: each such key is reported with both ids and left out
   * of the plan on both sides (nothing written, nothing sent), so the state keeps pointing at the item it knows.
   */
  private withoutDuplicates(
    only: Set<EntityKey> | undefined,
    scan: LocalScan,
    snapshot: RemoteSnapshot,
    report: SyncReport,
  ): Set<EntityKey> | undefined {
    if (snapshot.duplicateKeys.size === 0) return only;
    const { manifest } = this.ctx.store;
    for (const [key, ids] of snapshot.duplicateKeys) {
      const ref = parseEntityKey(key);
      const known = manifest.entities[key]?.remoteId;
      const file =
        scan.local.get(key)?.locales[this.ctx.config.locales.default]?.path ??
        Object.values(manifest.entities[key]?.locales ?? {})[0]?.path;
      const error = new SyncError(
        'CMS_DUPLICATE_KEY',
        `the CMS holds ${ids.length} items of ${ref.kind === 'item' ? ref.collection : ''} with the key "${ref.kind === 'item' ? ref.key : ''}" (ids ${ids.join(', ')})${known !== undefined ? `; butter-sync tracks id ${known}` : ''}: nothing was written for it`,
        file ? { file } : {},
      );
      report.errors.push(toFileProblem(error));
      this.ctx.logger.warn({ entity: key, ids }, error.message);
    }
    const candidates =
      only ?? new Set([...scan.local.keys(), ...snapshot.remote.keys(), ...Object.keys(manifest.entities)]);
    return new Set([...candidates].filter((key) => !snapshot.duplicateKeys.has(key)));
  }

  /**
   * Issue 14: with a shared state, a base can come from a commit another clone pushed that this clone has not
   * pulled yet. Its copies of the files those commits changed are older than the base, not edits: pushed, they
   * would revert the newer content (and a pull into them would build on a stale file). They are left out of
   * the run, with one notice to pull first; the next run after `git pull` finds them in step.
   */
  private async withoutBehind(
    only: Set<EntityKey> | undefined,
    scan: LocalScan,
    report: SyncReport,
    snapshot?: RemoteSnapshot,
  ): Promise<Set<EntityKey> | undefined> {
    const { ctx } = this;
    const remote = ctx.sharedStateRemote;
    if (remote === undefined) return only;
    const branch = ctx.config.pull.branch ?? (await ctx.repo.currentBranch());
    if (!branch) return only;
    const upstream = await ctx.repo.upstreamChanges(remote, branch);
    if (upstream.files.length === 0) return only;
    const stale = new Set(upstream.files);
    const keys = new Set<EntityKey>();
    for (const [key, entity] of scan.local)
      if (Object.values(entity.locales).some((v) => stale.has(v.path))) keys.add(key);
    for (const [key, entity] of Object.entries(ctx.store.manifest.entities))
      if (Object.values(entity.locales).some((l) => l.path !== undefined && stale.has(l.path))) keys.add(key);
    for (const file of stale) {
      if (!isContentPath(file, ctx.config)) continue;
      try {
        // A file the remote's commits added: its entity is not to be pulled into a file git pull then adds.
        keys.add(entityKey(locateFile(file, ctx.config).ref));
      } catch {
        // not a content file
      }
    }
    const candidates =
      only ??
      new Set([
        ...scan.local.keys(),
        ...(snapshot?.remote.keys() ?? []),
        ...Object.keys(ctx.store.manifest.entities),
      ]);
    const left = [...candidates].filter((key) => keys.has(key));
    if (left.length === 0) return only;
    const files = [...stale].filter((f) => isContentPath(f, ctx.config)).sort();
    const shown = files.slice(0, 5).join(', ') + (files.length > 5 ? ` and ${files.length - 5} more` : '');
    report.notices.push({
      entity: 'git',
      reason: 'behind-remote',
      message: `this clone is ${upstream.behind} commit(s) behind ${remote}/${branch}, whose newer commits changed ${shown}: those files were left out of this run (their copies here are older than what was synced). Run \`git pull\`, then sync again.`,
    });
    return new Set([...candidates].filter((key) => !keys.has(key)));
  }

  /** Entities with a file the scan could not read. */
  private unreadableKeys(scan: LocalScan): Set<EntityKey> {
    const unreadable = new Set<EntityKey>();
    for (const error of scan.errors) {
      if (!error.file) continue;
      try {
        unreadable.add(entityKey(locateFile(error.file, this.ctx.config).ref));
      } catch {
        // a file outside the content model belongs to no entity
      }
      // `fra.json` holds item "FRA": the manifest knows which entity the broken file was.
      for (const [key, entity] of Object.entries(this.ctx.store.manifest.entities)) {
        if (Object.values(entity.locales).some((l) => l.path === error.file)) unreadable.add(key);
      }
    }
    return unreadable;
  }

  /**
   * Settle what earlier pulls left open (pull-journal.ts) before anything is planned from the base: an undone
   * pulled change is pulled again, and a file an interrupted pull wrote is committed as that pull promised.
   */
  private async settlePulls(scan: LocalScan, report: SyncReport, dryRun: boolean): Promise<void> {
    const { ctx } = this;
    if (!dryRun) {
      for (const file of scan.strayTemp ?? []) await rm(path.join(ctx.repoDir, file), { force: true });
    }
    const settled = await settlePulledChanges(ctx, scan, this.unreadableKeys(scan), ctx.config.pull.commit);
    if (dryRun || settled.toCommit.length === 0) return;
    const files = [...settled.toCommit].sort();
    const state = await ctx.repo.state();
    if (!state.ok) {
      report.gitNote = `files an interrupted pull wrote are not committed yet: ${state.message ?? state.reason}`;
      ctx.logger.warn({ reason: state.reason, files }, report.gitNote);
      return;
    }
    const message = `butter-sync: pull ${files.length} file${files.length === 1 ? '' : 's'} from the CMS (finishing an interrupted pull)\n\n${files
      .slice(0, 20)
      .map((f) => `- ${f}`)
      .join('\n')}${files.length > 20 ? `\n- … and ${files.length - 20} more` : ''}`;
    const sha = await ctx.repo.commit(files, message, ctx.config.pull.author);
    if (sha) {
      markPulledCommitted(ctx.store.manifest, files, sha);
      report.commit = sha;
    }
    await ctx.store.save();
  }

  private keysInScope(
    local: Map<EntityKey, LocalEntity>,
    snapshot: RemoteSnapshot,
    scope: SnapshotScope,
  ): Set<EntityKey> {
    const inScope = (key: EntityKey): boolean => {
      if (snapshot.covered.has(key)) return true;
      const ref = parseEntityKey(key);
      if (ref.kind === 'item') return scope.collections?.includes(ref.collection) ?? false;
      if (ref.kind === 'post') return scope.postList ?? false;
      if (ref.pageType === '*') return scope.singlePages?.includes(ref.slug) ?? false;
      return scope.pageTypes?.includes(ref.pageType) ?? false;
    };
    const keys = new Set<EntityKey>();
    for (const key of [
      ...local.keys(),
      ...snapshot.remote.keys(),
      ...Object.keys(this.ctx.store.manifest.entities),
    ]) {
      if (inScope(key)) keys.add(key);
    }
    return keys;
  }

  private modelChanged(): boolean {
    const current = this.ctx.configDigest;
    return current !== undefined && this.ctx.store.manifest.configDigest !== current;
  }

  /**
   * Settle a recorded conflict by moving the base to the losing side, so the normal three-way pass
   * carries the winning side over (take git → push it; take cms → pull it).
   */
  async resolve(relPath: string, take: 'git' | 'cms'): Promise<{ resolved: number; report: SyncReport }> {
    const { ctx } = this;
    const manifest = ctx.store.manifest;
    const conflicts = manifest.conflicts.filter((c) => c.path === relPath);
    // A person asks to send again what is never re-sent on its own: a create the CMS accepted that never
    // showed (the push still looks it up by its key first, so one that landed meanwhile is adopted, not
    // duplicated), or a write refused with a 400 (the dashboard's model was fixed, say).
    const resend =
      conflicts.length === 0 && take === 'git'
        ? manifest.failed.filter(
            (f) => f.path === relPath && (f.acceptedCreate || f.refusedBody !== undefined),
          )
        : [];
    if (resend.length > 0) {
      // The failure stays (with the media it sent) until a write proves it: a create that did land meanwhile is
      // then recognised with its CDN URLs, not met as a conflict of git URL against CDN URL.
      for (const failure of resend) {
        failure.refusedBody = undefined;
        failure.acceptedCreate = undefined;
      }
      ctx.store.markDirty();
      const result = await this.push({ paths: [relPath], verifyWaitMs: 5_000 });
      return { resolved: resend.length, report: result.report };
    }
    if (conflicts.length === 0) {
      throw new SyncError('USAGE', `no recorded conflict for ${relPath}`, {
        hint: 'Run `butter-sync status` to list the files with conflicts.',
      });
    }
    const scan = await scanLocal(ctx.repoDir, ctx.config, manifest, [relPath]);
    const entityKeys = [...new Set(conflicts.map((c) => c.entity))];
    for (const key of entityKeys) {
      const ref = parseEntityKey(key);
      const model = modelFor(ref, ctx.config);
      const remote = await this.readRemoteEntity(ref);
      const local = scan.local.get(key);
      const entity = manifest.entities[key] ?? { locales: {} };
      if (remote?.remoteId !== undefined) entity.remoteId = remote.remoteId;
      for (const conflict of conflicts.filter((c) => c.entity === key)) {
        const losing = take === 'git' ? remote?.locales[conflict.locale] : local?.locales[conflict.locale];
        const slot = entity.locales[conflict.locale] ?? { base: {} };
        if (losing) {
          const digests = digestVariant(losing, model, { media: manifest.media });
          const digest = digests[conflict.field];
          if (digest) slot.base = { ...slot.base, [conflict.field]: digest };
        }
        if (local?.locales[conflict.locale]) slot.path = local.locales[conflict.locale]?.path;
        entity.locales[conflict.locale] = slot;
      }
      // Fields that already agree become base too, so only the settled field moves.
      for (const [locale, variant] of Object.entries(local?.locales ?? {})) {
        const remoteVariant = remote?.locales[locale];
        if (!remoteVariant) continue;
        const l = digestVariant(variant, model, { media: manifest.media });
        const r = digestVariant(remoteVariant, model, { media: manifest.media });
        const slot = entity.locales[locale] ?? { base: {} };
        for (const [field, digest] of Object.entries(l)) {
          if (r[field] === digest) slot.base[field] = digest;
        }
        entity.locales[locale] = slot;
      }
      manifest.entities[key] = entity;
    }
    manifest.conflicts = manifest.conflicts.filter((c) => c.path !== relPath);
    ctx.store.markDirty();
    const result =
      take === 'git'
        ? await this.push({ paths: [relPath], verifyWaitMs: 5_000 })
        : await this.pull({ commitTitle: `butter-sync: resolve ${relPath}, taking the CMS's side` });
    return { resolved: conflicts.length, report: result.report };
  }

  /** Commit only what the pull wrote, with the `Butter-Sync: pull` trailer; never mid-merge/rebase/detached. */
  private async commitPulled(
    files: string[],
    report: SyncReport,
    guard: { plan: SyncPlan; dirty: Set<string> },
    title?: string,
  ): Promise<void> {
    const { ctx } = this;
    const dirty = new Set<string>();
    for (const file of guard.dirty) {
      if (!(await holdsOnlyPulledChanges(ctx, file, guard.plan))) dirty.add(file);
    }
    const held = [...new Set(files.filter((f) => dirty.has(f)))].sort();
    if (held.length > 0) {
      report.gitNote = `not committed, they also hold uncommitted work: ${held.join(', ')}`;
      ctx.logger.warn({ files: held }, 'pulled into files with uncommitted changes; left for you to commit');
    }
    const unique = [...new Set(files.filter((f) => !dirty.has(f)))].sort();
    if (unique.length === 0) return;
    const state = await ctx.repo.state();
    if (!state.ok && state.reason !== 'no-commits') {
      report.gitNote = `files were written but not committed: ${state.message ?? state.reason}`;
      ctx.logger.warn({ reason: state.reason }, report.gitNote);
      return;
    }
    const heading =
      title ?? `butter-sync: pull ${unique.length} file${unique.length === 1 ? '' : 's'} from the CMS`;
    const message = `${heading}\n\n${unique
      .slice(0, 20)
      .map((f) => `- ${f}`)
      .join('\n')}${unique.length > 20 ? `\n- … and ${unique.length - 20} more` : ''}`;
    report.commit = await ctx.repo.commit(unique, message, ctx.config.pull.author);
    if (report.commit) {
      markPulledCommitted(ctx.store.manifest, unique, report.commit);
      await ctx.store.save();
    }
    if (report.commit && ctx.config.pull.push) {
      const branch = ctx.config.pull.branch ?? (await ctx.repo.currentBranch());
      if (branch) {
        const pushed = await ctx.repo.pushBranch(ctx.config.pull.remote, branch);
        if (!pushed.pushed) report.gitNote = `pull commit not pushed: ${pushed.rejected ?? 'rejected'}`;
      }
    }
  }
}

/**
 * A file that had uncommitted changes before the pull may still be committed when its content is exactly
 * HEAD's version with the pulled keys applied (e.g. a conflict settled with `resolve --take cms`).
 */
async function holdsOnlyPulledChanges(ctx: SyncContext, file: string, plan: SyncPlan): Promise<boolean> {
  const ops = plan.operations.filter((op) => op.kind === 'write-file' && op.path === file);
  if (ops.length === 0) return false;
  const head = await ctx.repo.fileAt('HEAD', file);
  if (head === null) return false;
  try {
    let expected = head;
    for (const op of ops)
      if (op.kind === 'write-file') expected = editContentFile(file, expected, op.set, ctx.config);
    return expected === (await readFile(path.join(ctx.repoDir, file), 'utf8'));
  } catch {
    return false;
  }
}

/** Collections whose item files are named in lower case (`fra.json` for "FRA"): pulled items follow suit. */
function lowerCaseCollections(local: Map<EntityKey, LocalEntity>): Set<string> {
  const lower = new Set<string>();
  const asIs = new Set<string>();
  for (const entity of local.values()) {
    if (entity.ref.kind !== 'item') continue;
    const { collection, key } = entity.ref;
    if (key === key.toLowerCase()) continue; // says nothing about the habit
    for (const variant of Object.values(entity.locales)) {
      const base = (variant.path.split('/').pop() ?? '').replace(/\.json$/, '');
      const named = (name: string) => base === name || base.startsWith(`${name}.`);
      if (named(key)) asIs.add(collection);
      else if (named(key.toLowerCase())) lower.add(collection);
    }
  }
  for (const collection of asIs) lower.delete(collection);
  return lower;
}

/** The one Markdown extension every file of a page type uses (`.markdown`, `.mdx`): new pulled pages get it too. */
function markdownExtensions(local: Map<EntityKey, LocalEntity>): Map<string, string> {
  const seen = new Map<string, Set<string>>();
  for (const entity of local.values()) {
    if (entity.ref.kind !== 'page') continue;
    for (const variant of Object.values(entity.locales)) {
      const ext = /\.(md|mdx|markdown)$/i.exec(variant.path)?.[0].toLowerCase();
      if (!ext) continue;
      const set = seen.get(entity.ref.pageType) ?? new Set<string>();
      set.add(ext);
      seen.set(entity.ref.pageType, set);
    }
  }
  const out = new Map<string, string>();
  for (const [type, exts] of seen) if (exts.size === 1) out.set(type, [...exts][0]!);
  return out;
}
