import type { ConflictRecord, Manifest, PendingWrite, ShownFailure } from '../core/types.js';
import { shownFailures } from '../state/manifest-edits.js';
import type { FileProblem, SyncReport } from '../sync/report.js';
import type { BaseLookup } from './conflict-base.js';

/** A recorded conflict with what the console found of its base value. */
export type ConsoleConflict = ConflictRecord & { base: BaseLookup };

/** Everything the console page shows, read at one instant. */
export interface ConsoleSnapshot {
  now: string;
  daemon: {
    lastPush: string | null;
    lastPull: string | null;
    /** null when polling is off. */
    nextPoll: string | null;
    pollNote?: string | undefined;
    queueDepth: number;
    /** 429 answers seen by this process, and the last one. */
    rateLimitPauses: number;
    lastRateLimitAt: string | null;
  };
  pending: PendingWrite[];
  failed: ShownFailure[];
  /** Files the last runs could not read or send, with the hint their error carries. */
  problems: FileProblem[];
  conflicts: ConsoleConflict[];
  activity: ActivityEntry[];
  calls: { month: string; used: number; budget: number | undefined; byMonth: Array<[string, number]> };
}

/** One run of the daemon: what changed and what it cost. */
export interface ActivityEntry {
  mode: SyncReport['mode'];
  at: string;
  calls: number;
  changes: Array<{
    entity: string;
    path?: string | undefined;
    kind: string;
    fields: string[];
    status: string;
    calls: number;
  }>;
  /** Calls of the run not tied to one entity (listings, discovery reads). */
  sharedCalls: number;
  conflicts: number;
}

/** The console's view of the daemon: a snapshot to render and the one action it can take. */
export interface ConsoleBackend {
  snapshot(): ConsoleSnapshot;
  /** Settles the conflicts recorded for one file through the engine's resolve path. */
  resolve(path: string, take: 'git' | 'cms'): Promise<{ resolved: number; report: SyncReport }>;
}

const ACTIVITY_KEPT = 30;

/**
 * Collects what the console shows that the manifest does not keep: per-entity call counts (from the client's
 * call events), the recent runs, file problems and rate-limit answers. The daemon feeds it; it does no I/O.
 */
export class ConsoleRecorder {
  private callsByEntity = new Map<string, number>();
  private untracked = 0;
  private readonly entries: ActivityEntry[] = [];
  private fileProblems = new Map<string, FileProblem[]>();
  rateLimitPauses = 0;
  lastRateLimitAt: string | null = null;

  /** One API call: its HTTP status (429 = rate limited) and the entity it was for, when it was for one. */
  recordCall(event: { status: number | string; entity?: string | undefined }, now = new Date()): void {
    if (event.status === 429) {
      this.rateLimitPauses += 1;
      this.lastRateLimitAt = now.toISOString();
    }
    if (event.entity) this.callsByEntity.set(event.entity, (this.callsByEntity.get(event.entity) ?? 0) + 1);
    else this.untracked += 1;
  }

  /** Closes a run: the calls counted since the previous report are charged to this one's changes. */
  recordReport(report: SyncReport): void {
    const charged = new Set<string>();
    const changes = report.operations
      .filter((op) => op.status !== 'skipped')
      .map((op) => {
        // An entity's calls are charged once, to its first change, so the column adds up to the run's total.
        const calls = charged.has(op.entity) ? 0 : (this.callsByEntity.get(op.entity) ?? 0);
        charged.add(op.entity);
        return {
          entity: op.entity,
          path: op.path,
          kind: op.kind,
          fields: op.fields ?? [],
          status: op.status,
          calls,
        };
      });
    let shared = this.untracked;
    for (const [entity, n] of this.callsByEntity) if (!charged.has(entity)) shared += n;
    this.callsByEntity = new Map();
    this.untracked = 0;
    this.trackProblems(report);
    if (changes.length === 0 && report.calls === 0 && report.conflicts.length === 0) return; // nothing happened
    this.entries.unshift({
      mode: report.mode,
      at: report.finishedAt,
      calls: report.calls,
      changes,
      sharedCalls: shared,
      conflicts: report.conflicts.length,
    });
    this.entries.length = Math.min(this.entries.length, ACTIVITY_KEPT);
  }

  activity(): ActivityEntry[] {
    return [...this.entries];
  }

  /** Files the runs could not read or send, until a full pass or a later change of the same file clears them. */
  problems(): FileProblem[] {
    return [...this.fileProblems.values()].flat();
  }

  private trackProblems(report: SyncReport): void {
    // A reconcile reads every file, so it knows them all; a scoped run only knows the files it touched.
    if (report.mode === 'reconcile') this.fileProblems = new Map();
    for (const op of report.operations)
      if (op.path && op.status !== 'failed') this.fileProblems.delete(op.path);
    const fresh = new Map<string, FileProblem[]>();
    for (const problem of report.errors) {
      const file = problem.file ?? '';
      fresh.set(file, [...(fresh.get(file) ?? []), problem]);
    }
    for (const [file, list] of fresh) this.fileProblems.set(file, list);
  }
}

/** The month's calls and the ones before it, oldest first, for the budget chart. */
export function callsByMonth(
  manifest: Pick<Manifest, 'calls'>,
  now: Date,
  months = 6,
): ConsoleSnapshot['calls'] {
  const month = now.toISOString().slice(0, 7);
  const byMonth: Array<[string, number]> = [];
  for (let i = months - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    const key = d.toISOString().slice(0, 7);
    byMonth.push([key, manifest.calls[key] ?? 0]);
  }
  return { month, used: manifest.calls[month] ?? 0, budget: undefined, byMonth };
}

export interface SnapshotSources {
  manifest: Manifest;
  recorder: ConsoleRecorder;
  queueDepth: number;
  nextPoll: Date | null;
  pollNote?: string | undefined;
  monthlyCallBudget: number | undefined;
  /** The base value of a conflict (see conflict-base.ts); without it every base shows as not found. */
  baseOf?: (conflict: ConflictRecord) => BaseLookup;
  now?: Date;
}

/** Reads what the console shows from the daemon's in-memory manifest and the recorder (no I/O). */
export function buildSnapshot(sources: SnapshotSources): ConsoleSnapshot {
  const { manifest, recorder } = sources;
  const now = sources.now ?? new Date();
  return {
    now: now.toISOString(),
    daemon: {
      lastPush: manifest.lastPush ?? null,
      lastPull: manifest.lastPull ?? null,
      nextPoll: sources.nextPoll?.toISOString() ?? null,
      pollNote: sources.pollNote,
      queueDepth: sources.queueDepth,
      rateLimitPauses: recorder.rateLimitPauses,
      lastRateLimitAt: recorder.lastRateLimitAt,
    },
    pending: [...manifest.pending],
    failed: shownFailures(manifest),
    problems: recorder.problems(),
    conflicts: manifest.conflicts.map((c) => ({
      ...c,
      base: sources.baseOf?.(c) ?? { state: 'not-found' },
    })),
    activity: recorder.activity(),
    calls: { ...callsByMonth(manifest, now), budget: sources.monthlyCallBudget },
  };
}
