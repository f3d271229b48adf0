import path from 'node:path';
import { isSyncError } from '../../core/errors.js';
import {
  checkRepoState,
  filesChangedBy,
  installHook,
  isPullCommit,
  repoRoot,
  uninstallHook,
} from '../../git/index.js';
import { renderReport, scrubSecrets } from '../output.js';
import { configPathOf, type GlobalOptions, openSession, repoDirOf } from '../wiring.js';

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The line the git hook runs, from the top of the work tree. It finds node and butter-sync when the commit
 * runs, not when the hook was installed, so a moved repository or a new Node keeps working: `node` from the
 * PATH of the shell running `git commit`, the project's own node_modules/butter-sync first, then the
 * binary that installed the hook, then `butter-sync` on the PATH. The repo and config are relative paths.
 */
export async function hookCommandLine(options: GlobalOptions): Promise<string> {
  const repoDir = repoDirOf(options);
  const top = await repoRoot(repoDir);
  const repoRel = path.relative(top, repoDir) || '.';
  const configRel = path.relative(repoDir, configPathOf(options));
  const installed = process.argv[1] ? path.resolve(process.argv[1]) : '';
  const args = ['hook', 'post-commit', '--repo', repoRel, '--config', configRel].map(shellQuote).join(' ');
  return [
    `node=$(command -v node 2>/dev/null) || node=${shellQuote(process.execPath)}`,
    `[ -x "$node" ] || { echo "butter-sync hook: node is not on the PATH of the shell that ran git commit"; exit 0; }`,
    'script=./node_modules/butter-sync/dist/cli/main.js',
    `[ -f "$script" ] || script=${shellQuote(installed)}`,
    `if [ -f "$script" ]; then exec "$node" "$script" ${args}; fi`,
    `if command -v butter-sync >/dev/null 2>&1; then exec butter-sync ${args}; fi`,
    'echo "butter-sync hook: butter-sync is not installed here (npm install --save-dev butter-sync)"',
  ].join('\n');
}

export async function runHookInstall(options: GlobalOptions): Promise<{ exitCode: number }> {
  const result = await installHook(repoDirOf(options), await hookCommandLine(options));
  process.stdout.write(
    `Installed the post-commit hook at ${result.path}${result.chained ? ' (your existing hook still runs first)' : ''}.\n` +
      'Each commit now pushes the content files it changed. Output goes to .butter-sync/hook.log.\n' +
      'The hook runs with the environment of the shell that runs `git commit`: export BUTTER_READ_TOKEN and BUTTER_WRITE_TOKEN there (a GUI git client needs them in its own environment).\n',
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
        say('another butter-sync (the daemon) is running; it pushes this change itself');
        return { exitCode: 0 };
      }
      throw error;
    }
    try {
      // The hook never pulls or commits, even after a model change (it says a reconcile is due instead).
      const { report } = await session.engine.push({
        paths,
        renamedPaths,
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
