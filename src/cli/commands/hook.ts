import path from 'node:path';
import { isSyncError } from '../../core/errors.js';
import { checkRepoState, filesChangedBy, installHook, isPullCommit, uninstallHook } from '../../git/index.js';
import { renderReport, scrubSecrets } from '../output.js';
import { configPathOf, type GlobalOptions, openSession, repoDirOf } from '../wiring.js';

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

/** One line of the hook log (.butter-sync/hook.log, where the hook script sends stdout and stderr). */
function say(text: string): void {
  process.stdout.write(scrubSecrets(`${new Date().toISOString()} ${text}\n`));
}

/**
 * Runs after each commit: push what the commit changed, within a time budget; anything unfinished stays
 * pending for the next run. It never fails the commit: every outcome exits 0. Commits made by the
 * daemon's pulls (trailer `Butter-Sync: pull`) are skipped, and a running daemon (holding the lock) is
 * left to do the work. Its output is the report, as `push` prints it, in the hook log.
 */
export async function runHookPostCommit(
  options: GlobalOptions,
  budgetSeconds: number,
): Promise<{ exitCode: number }> {
  const repoDir = repoDirOf(options);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), budgetSeconds * 1000);
  timer.unref();
  try {
    // git also runs post-commit for each commit a rebase or cherry-pick replays: wait for the final state.
    const state = await checkRepoState(repoDir);
    if (!state.ok && state.reason !== 'detached') {
      say(`repository is mid-operation (${state.reason}): the next push or reconcile picks this up`);
      return { exitCode: 0 };
    }
    if (await isPullCommit(repoDir, 'HEAD')) {
      say('commit made by a butter-sync pull: nothing to push');
      return { exitCode: 0 };
    }
    const changed = await filesChangedBy(repoDir, 'HEAD');
    const paths = changed.flatMap((c) => (c.from ? [c.path, c.from] : [c.path]));
    let session: Awaited<ReturnType<typeof openSession>>;
    try {
      session = await openSession(options, {
        needsWrite: true,
        signal: controller.signal,
        lockWaitMs: 2_000,
      });
    } catch (error) {
      if (isSyncError(error) && error.code === 'MANIFEST_LOCKED') {
        say('another butter-sync (the daemon) is running; it pushes this change itself');
        return { exitCode: 0 };
      }
      throw error;
    }
    try {
      // The hook never pulls or commits, even after a model change (it says a reconcile is due instead).
      const { report } = await session.engine.push({
        paths,
        verifyWaitMs: Math.max(0, budgetSeconds * 500),
        onModelChange: 'push-only',
      });
      say(`post-commit push of ${paths.length} changed file(s):\n${renderReport(report)}`);
    } finally {
      await session.close();
    }
  } catch (error) {
    const hint = isSyncError(error) ? `\n  hint: ${error.hint}` : '';
    say(`post-commit push failed: ${(error as Error).message}${hint}`);
  } finally {
    clearTimeout(timer);
  }
  return { exitCode: 0 };
}
