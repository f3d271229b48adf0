import { existsSync } from 'node:fs';
import path from 'node:path';
import { isContentPath } from '../../content/index.js';
import { EXIT, SyncError } from '../../core/errors.js';
import type { SyncPlan } from '../../core/types.js';
import { exitCodeForReport, type SyncReport } from '../../sync/report.js';
import { sortNotices } from '../notice-store.js';
import { emitReport, printJson, renderPlan, startProgress } from '../output.js';
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

async function emit(
  options: GlobalOptions,
  repoDir: string,
  report: SyncReport,
  plan: SyncPlan,
  dryRun: boolean,
): Promise<void> {
  if (options.json) {
    // `plan.totalCalls` is what the run will spend; `dryRunCalls` what this dry run spent reading (issue 10).
    printJson(
      dryRun ? { plan, dryRunCalls: report.calls, errors: report.errors, notices: report.notices } : report,
    );
    return;
  }
  if (dryRun) process.stdout.write(`${renderPlan(plan, report)}\n`);
  // A standing notice is said once; later runs count it (status keeps it, dismiss silences it).
  const { fresh, standing } = await sortNotices(repoDir, report);
  emitReport({ ...report, notices: fresh }, { summary: !dryRun, standing });
}

/**
 * A plan exits by the rules of the run it previews (README "Exit codes"): 3 when it holds a conflict, 4 when
 * a file could not be read, a write is held back or a delete is refused, 0 otherwise.
 */
export function exitCodeForPlan(report: SyncReport, plan: SyncPlan): number {
  if (report.rateLimited) return EXIT.tryLater;
  if (plan.operations.some((op) => op.kind === 'conflict')) return EXIT.conflicts;
  if (report.errors.length > 0) return EXIT.partial;
  const heldBack = plan.operations.some((op) => 'unresolved' in op && op.unresolved !== undefined);
  const refused = plan.operations.some((op) => op.kind === 'report' && op.reason === 'delete-guard');
  return heldBack || refused ? EXIT.partial : EXIT.ok;
}

/** One engine run as a command: open a session, run with progress, print, map to an exit code, close. */
async function runEngineCommand(
  options: GlobalOptions,
  open: { needsWrite: boolean; signal: AbortSignal; dryRun: boolean; allowDelete?: boolean | undefined },
  run: (session: Session) => Promise<{ report: SyncReport; plan: SyncPlan }>,
): Promise<RunResult> {
  const session = await openSession(options, {
    needsWrite: open.needsWrite,
    readOnly: open.dryRun,
    signal: open.signal,
    allowDelete: open.allowDelete === true,
  });
  try {
    const { report, plan } = await withProgress(options, session, () => run(session));
    await emit(options, session.repoDir, report, plan, open.dryRun);
    return { exitCode: open.dryRun ? exitCodeForPlan(report, plan) : exitCodeForReport(report) };
  } finally {
    await session.close();
  }
}

/**
 * A path on the command line, repo-relative and `/`-separated: relative to the current directory when that
 * is inside the repository (as a shell user expects), else relative to the repository (`--repo`).
 */
export function repoRelative(repoDir: string, raw: string, cwd: string = process.cwd()): string {
  const insideRepo =
    !path.relative(repoDir, cwd).startsWith('..') && !path.isAbsolute(path.relative(repoDir, cwd));
  const abs = path.isAbsolute(raw) ? raw : path.resolve(insideRepo ? cwd : repoDir, raw);
  return path.relative(repoDir, abs).split(path.sep).join('/');
}

/**
 * The paths given to `push`, checked before anything is read or sent: each must be a content file that
 * exists, or one the manifest knows (a removed file is pushed as its removal). Anything else is a usage
 * error naming every bad path, so a typo never passes for "nothing to push".
 */
function checkPushPaths(session: Session, raws: string[]): string[] {
  const { repoDir, config, store } = session;
  const known = new Set<string>();
  for (const entity of Object.values(store.manifest.entities)) {
    for (const slot of Object.values(entity.locales)) if (slot.path) known.add(slot.path);
  }
  const problems: string[] = [];
  const paths = raws.map((raw) => {
    const rel = repoRelative(repoDir, raw);
    if (rel.startsWith('../') || rel === '..' || path.isAbsolute(rel)) {
      problems.push(`${raw}: outside the repository ${repoDir}`);
    } else if (!isContentPath(rel, config)) {
      problems.push(
        `${raw}: not a content file (content files are .md, .mdx, .markdown or .json under ${config.contentDir}/pages/ or ${config.contentDir}/collections/)`,
      );
    } else if (!existsSync(path.join(repoDir, rel)) && !known.has(rel)) {
      problems.push(`${raw}: no such content file`);
    }
    return rel;
  });
  if (problems.length > 0) {
    throw new SyncError('USAGE', `nothing was pushed: ${problems.join('; ')}`, {
      hint: 'Give paths of content files relative to the current directory (or the repository), or run `butter-sync push` with no path to push every change.',
    });
  }
  return paths;
}

/** `push [PATH…] [--commit REV] [--dry-run] [--allow-delete]` */
export async function runPush(
  options: GlobalOptions,
  paths: string[],
  flags: { commit?: string; dryRun?: boolean; wait?: number; allowDelete?: boolean; createRenamed?: boolean },
  signal: AbortSignal,
): Promise<RunResult> {
  const dryRun = flags.dryRun ?? false;
  const open = { needsWrite: !dryRun, signal, dryRun, allowDelete: flags.allowDelete };
  return runEngineCommand(options, open, async (session) => {
    let scoped: string[] | undefined = paths.length ? checkPushPaths(session, paths) : undefined;
    let renamedPaths: Map<string, string> | undefined;
    if (flags.commit) {
      if ((await session.repo.readRef(flags.commit)) === null) {
        throw new SyncError('USAGE', `--commit ${flags.commit}: no such commit in ${session.repoDir}`, {
          hint: 'Give a commit git knows (a hash, HEAD, HEAD~1, a branch); `git log --oneline` lists them.',
        });
      }
      const changed = await session.repo.filesChangedBy(flags.commit);
      scoped = changed.flatMap((c) => (c.from ? [c.path, c.from] : [c.path]));
      renamedPaths = new Map(changed.flatMap((c) => (c.from ? [[c.path, c.from] as const] : [])));
    }
    // A push stays a push when the model changed: it says a reconcile is due instead of pulling and committing.
    return session.engine.push({
      paths: scoped,
      renamedPaths,
      dryRun,
      verifyWaitMs: (flags.wait ?? 10) * 1000,
      createRenamed: flags.createRenamed ?? false,
      onModelChange: 'push-only',
    });
  });
}

/** `pull [--dry-run] [--allow-delete]` */
export async function runPull(
  options: GlobalOptions,
  flags: { dryRun?: boolean; allowDelete?: boolean },
  signal: AbortSignal,
): Promise<RunResult> {
  const dryRun = flags.dryRun ?? false;
  return runEngineCommand(
    options,
    { needsWrite: false, signal, dryRun, allowDelete: flags.allowDelete },
    (session) => session.engine.pull({ dryRun }),
  );
}

/** `reconcile [--dry-run] [--allow-delete]` and `plan` (a reconcile that sends nothing). */
export async function runReconcile(
  options: GlobalOptions,
  flags: { dryRun?: boolean; wait?: number; allowDelete?: boolean },
  signal: AbortSignal,
): Promise<RunResult> {
  const dryRun = flags.dryRun ?? false;
  return runEngineCommand(
    options,
    { needsWrite: !dryRun, signal, dryRun, allowDelete: flags.allowDelete },
    (session) => session.engine.reconcile({ dryRun, verifyWaitMs: (flags.wait ?? 30) * 1000 }),
  );
}

/**
 * `resolve PATH --take git|cms`: exits by the named file alone (0 once its conflicts are settled), so a
 * script settling conflicts one by one is not told it failed because other files still have some.
 */
export async function runResolve(
  options: GlobalOptions,
  file: string,
  take: 'git' | 'cms',
  signal: AbortSignal,
): Promise<RunResult> {
  const session = await openSession(options, { needsWrite: take === 'git', signal });
  try {
    const relPath = repoRelative(session.repoDir, file);
    const { resolved, report } = await session.engine.resolve(relPath, take);
    const mine: SyncReport = {
      ...report,
      conflicts: report.conflicts.filter((c) => c.path === relPath),
      failures: report.failures.filter((f) => f.path === relPath),
      errors: report.errors.filter((e) => e.file === relPath),
      notices: report.notices.filter((n) => n.path === relPath),
    };
    const others = report.conflicts.length - mine.conflicts.length;
    if (options.json) printJson({ resolved, report });
    else {
      process.stdout.write(`Resolved ${resolved} conflict(s) in ${relPath} taking ${take}.\n`);
      const { fresh, standing } = await sortNotices(session.repoDir, report);
      emitReport({ ...report, notices: fresh }, { summary: true, standing });
      if (others > 0) {
        process.stderr.write(
          `${others} conflict(s) in other files remain: \`butter-sync status\` lists them.\n`,
        );
      }
    }
    return { exitCode: exitCodeForReport(mine) };
  } finally {
    await session.close();
  }
}
