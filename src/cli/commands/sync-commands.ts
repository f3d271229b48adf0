import type { SyncPlan } from '../../core/types.js';
import { filesChangedBy } from '../../git/index.js';
import { exitCodeForReport, type SyncReport } from '../../sync/report.js';
import { printJson, renderPlan, renderReport, startProgress } from '../output.js';
import { type GlobalOptions, openSession, type Session } from '../wiring.js';

/** Draw progress on a TTY while `run` works; the line is cleared before the report prints. */
async function withProgress<T>(options: GlobalOptions, session: Session, run: () => Promise<T>): Promise<T> {
  const progress = startProgress(options.json);
  if (progress.onProgress) session.engine.ctx.onProgress = progress.onProgress;
  try {
    return await run();
  } finally {
    progress.done();
  }
}

export interface RunResult {
  exitCode: number;
}

function emit(options: GlobalOptions, report: SyncReport, plan: SyncPlan, dryRun: boolean): void {
  if (options.json) {
    printJson(dryRun ? { plan, errors: report.errors } : report);
    return;
  }
  if (dryRun) {
    process.stdout.write(`${renderPlan(plan)}\n`);
    if (report.errors.length) process.stdout.write(`\n${renderReport(report)}\n`);
    return;
  }
  process.stdout.write(`${renderReport(report)}\n`);
}

/**
 * One engine run as a command: open a session, run with progress, print, map to an exit code, close.
 * A dry run exits by `dryRunExit` (default: 4 when a file could not be read, else 0).
 */
async function runEngineCommand(
  options: GlobalOptions,
  open: { needsWrite: boolean; signal: AbortSignal; dryRun: boolean },
  run: (session: Session) => Promise<{ report: SyncReport; plan: SyncPlan }>,
  dryRunExit: (report: SyncReport, plan: SyncPlan) => number = (report) => (report.errors.length ? 4 : 0),
): Promise<RunResult> {
  const session = await openSession(options, {
    needsWrite: open.needsWrite,
    readOnly: open.dryRun,
    signal: open.signal,
  });
  try {
    const { report, plan } = await withProgress(options, session, () => run(session));
    emit(options, report, plan, open.dryRun);
    return { exitCode: open.dryRun ? dryRunExit(report, plan) : exitCodeForReport(report) };
  } finally {
    await session.close();
  }
}

/** `push [PATH…] [--commit REV] [--dry-run]` */
export async function runPush(
  options: GlobalOptions,
  paths: string[],
  flags: { commit?: string; dryRun?: boolean; wait?: number },
  signal: AbortSignal,
): Promise<RunResult> {
  const dryRun = flags.dryRun ?? false;
  return runEngineCommand(options, { needsWrite: !dryRun, signal, dryRun }, async (session) => {
    let scoped: string[] | undefined = paths.length ? paths : undefined;
    if (flags.commit) {
      const changed = await filesChangedBy(session.repoDir, flags.commit);
      scoped = changed.flatMap((c) => (c.from ? [c.path, c.from] : [c.path]));
    }
    return session.engine.push({ paths: scoped, dryRun, verifyWaitMs: (flags.wait ?? 10) * 1000 });
  });
}

/** `pull [--dry-run]` */
export async function runPull(
  options: GlobalOptions,
  flags: { dryRun?: boolean },
  signal: AbortSignal,
): Promise<RunResult> {
  const dryRun = flags.dryRun ?? false;
  return runEngineCommand(options, { needsWrite: false, signal, dryRun }, (session) =>
    session.engine.pull({ dryRun }),
  );
}

/** `reconcile [--dry-run]` and `plan` (a reconcile that sends nothing). */
export async function runReconcile(
  options: GlobalOptions,
  flags: { dryRun?: boolean; wait?: number },
  signal: AbortSignal,
): Promise<RunResult> {
  const dryRun = flags.dryRun ?? false;
  return runEngineCommand(
    options,
    { needsWrite: !dryRun, signal, dryRun },
    (session) => session.engine.reconcile({ dryRun, verifyWaitMs: (flags.wait ?? 30) * 1000 }),
    (report, plan) =>
      plan.operations.some((op) => op.kind === 'conflict') ? 3 : report.errors.length ? 4 : 0,
  );
}

/** `resolve PATH --take git|cms` */
export async function runResolve(
  options: GlobalOptions,
  file: string,
  take: 'git' | 'cms',
  signal: AbortSignal,
): Promise<RunResult> {
  const session = await openSession(options, { needsWrite: take === 'git', signal });
  try {
    const { resolved, report } = await session.engine.resolve(file.split('\\').join('/'), take);
    if (options.json) printJson({ resolved, report });
    else
      process.stdout.write(
        `Resolved ${resolved} conflict(s) in ${file} taking ${take}.\n${renderReport(report)}\n`,
      );
    return { exitCode: exitCodeForReport(report) };
  } finally {
    await session.close();
  }
}
