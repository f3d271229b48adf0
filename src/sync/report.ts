import { EXIT, type SyncError } from '../core/errors.js';
import type { ConflictRecord, Operation, ShownFailure } from '../core/types.js';

/** One line of what a run did, for the report and the per-operation log line. */
export interface AppliedOperation {
  /** A file operation's kind, or a write's label (`create-page`, `update-item`, core/types.ts writeLabel). */
  kind: Exclude<Operation['kind'], 'write'> | string;
  entity: string;
  path?: string | undefined;
  locale?: string | undefined;
  fields?: string[] | undefined;
  status: 'sent' | 'written' | 'deleted' | 'adopted' | 'skipped' | 'failed';
  message?: string | undefined;
}

export interface FileProblem {
  file?: string | undefined;
  line?: number | undefined;
  code: string;
  message: string;
  hint: string;
}

export interface SyncReport {
  mode: 'push' | 'pull' | 'reconcile' | 'plan';
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  calls: number;
  operations: AppliedOperation[];
  conflicts: ConflictRecord[];
  failures: ShownFailure[];
  /** Writes the CMS accepted (202) and not yet seen applied. */
  pending: number;
  /** Things the API cannot do that a person should look at (page removed, title changed, delete guard). */
  notices: Array<{ entity: string; path?: string | undefined; reason: string; message: string }>;
  errors: FileProblem[];
  commit?: string | null | undefined;
  gitNote?: string | undefined;
  /** Pulled file changes not written because of the repository's state (mid-rebase, detached HEAD): exit 4. */
  heldBack?: number | undefined;
  rateLimited: boolean;
}

export function toFileProblem(error: SyncError): FileProblem {
  return { file: error.file, line: error.line, code: error.code, message: error.message, hint: error.hint };
}

/** Notices that mean the run left something undone on purpose: the sides are not in step afterwards. */
const REFUSAL_REASONS = new Set(['delete-guard']);

/**
 * DESIGN.md exit codes: 75 quota/rate, 3 conflicts need a person, 4 some operations failed or were refused
 * (the maxDeletePercent guard: cron and CI must see that nothing was deleted), 0 in sync.
 */
export function exitCodeForReport(report: SyncReport): number {
  if (report.rateLimited) return EXIT.tryLater;
  if (report.conflicts.length > 0) return EXIT.conflicts;
  if (report.failures.length > 0 || report.errors.length > 0) return EXIT.partial;
  if (report.operations.some((op) => op.status === 'failed')) return EXIT.partial;
  if (report.notices.some((n) => REFUSAL_REASONS.has(n.reason))) return EXIT.partial;
  if ((report.heldBack ?? 0) > 0) return EXIT.partial;
  return EXIT.ok;
}

/** An empty report for a run that starts now. */
export function newReport(mode: SyncReport['mode'], dryRun: boolean, now: Date): SyncReport {
  return {
    mode,
    dryRun,
    startedAt: now.toISOString(),
    finishedAt: now.toISOString(),
    calls: 0,
    operations: [],
    conflicts: [],
    failures: [],
    pending: 0,
    notices: [],
    errors: [],
    rateLimited: false,
  };
}
