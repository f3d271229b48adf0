import path from 'node:path';
import { isSyncError } from '../../core/errors.js';
import { checkRepoState, filesChangedBy, installHook, isPullCommit, uninstallHook } from '../../git/index.js';
import { renderReport } from '../output.js';
import { configPathOf, type GlobalOptions, makeLogger, openSession, repoDirOf } from '../wiring.js';

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The line the git hook runs: this very binary, with the repo and config made absolute. */
export function hookCommandLine(options: GlobalOptions): string {
  const script = process.argv[1] ? path.resolve(process.argv[1]) : 'butter-sync';
  return [
    process.execPath,
    script,
    'hook',
    'post-commit',
    '--repo',
    repoDirOf(options),
    '--config',
    configPathOf(options),
  ]
    .map(shellQuote)
    .join(' ');
}

export async function runHookInstall(options: GlobalOptions): Promise<{ exitCode: number }> {
  const result = await installHook(repoDirOf(options), hookCommandLine(options));
  process.stdout.write(
    `Installed the post-commit hook at ${result.path}${result.chained ? ' (your existing hook still runs first)' : ''}.\n` +
      'Each commit now pushes the content files it changed. Output goes to .butter-sync/hook.log.\n',
  );
  return { exitCode: 0 };
}

export async function runHookUninstall(options: GlobalOptions): Promise<{ exitCode: number }> {
  const result = await uninstallHook(repoDirOf(options));
  process.stdout.write(
    result.removed ? 'Removed the butter-sync post-commit hook.\n' : 'No butter-sync hook was installed.\n',
  );
  return { exitCode: 0 };
}

/**
 * Runs after each commit: push what the commit changed, within a time budget; anything unfinished stays
 * pending for the next run. It never fails the commit: every outcome exits 0. Commits made by the
 * daemon's pulls (trailer `Butter-Sync: pull`) are skipped, and a running daemon (holding the lock) is
 * left to do the work.
 */
export async function runHookPostCommit(
  options: GlobalOptions,
  budgetSeconds: number,
): Promise<{ exitCode: number }> {
  const logger = makeLogger(options);
  const repoDir = repoDirOf(options);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), budgetSeconds * 1000);
  timer.unref();
  try {
    // git also runs post-commit for each commit a rebase or cherry-pick replays: wait for the final state.
    const state = await checkRepoState(repoDir);
    if (!state.ok && state.reason !== 'detached') {
      logger.info(
        { reason: state.reason },
        'repository is mid-operation: the next push or reconcile picks this up',
      );
      return { exitCode: 0 };
    }
    if (await isPullCommit(repoDir, 'HEAD')) {
      logger.info('commit made by a butter-sync pull: nothing to push');
      return { exitCode: 0 };
    }
    const changed = await filesChangedBy(repoDir, 'HEAD');
    const paths = changed.flatMap((c) => (c.from ? [c.path, c.from] : [c.path]));
    const renamedPaths = new Map(changed.flatMap((c) => (c.from ? [[c.path, c.from] as const] : [])));
    let session: Awaited<ReturnType<typeof openSession>>;
    try {
      session = await openSession(options, {
        needsWrite: true,
        signal: controller.signal,
        lockWaitMs: 2_000,
      });
    } catch (error) {
      if (isSyncError(error) && error.code === 'MANIFEST_LOCKED') {
        logger.info('another butter-sync (the daemon) is running; it pushes this change itself');
        return { exitCode: 0 };
      }
      throw error;
    }
    try {
      const { report } = await session.engine.push({
        paths,
        renamedPaths,
        verifyWaitMs: Math.max(0, budgetSeconds * 500),
      });
      logger.info({ calls: report.calls, pending: report.pending }, renderReport(report));
    } finally {
      await session.close();
    }
  } catch (error) {
    logger.error(
      { code: isSyncError(error) ? error.code : undefined },
      `post-commit push failed: ${(error as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
  return { exitCode: 0 };
}
