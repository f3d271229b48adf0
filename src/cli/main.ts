#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, exitCodeFor, isSyncError } from '../core/errors.js';
import type { EmulatorFlags } from './commands/emulator.js';
import { EMULATOR_HELP } from './commands/emulator-help.js';
import type { InitFlags } from './commands/init.js';
import { scrubSecrets } from './output.js';
import type { GlobalOptions } from './project.js';

// Each command's module is imported when that command runs, never before: `push` does not load the emulators,
// the daemon's server or the Webflow code, and `--help` loads none of them (a CLI process starts in tens of
// milliseconds instead of hundreds; the e2e suite starts thousands). Keep these imports out of the top of the file.
const syncCommands = () => import('./commands/sync-commands.js');
const statusCommands = () => import('./commands/status.js');
const hookCommands = () => import('./commands/hook.js');

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

/** Signals → an abort the commands honour; a second signal forces the exit (DESIGN.md: 130/143). */
function installSignals(): { signal: AbortSignal; exitCodeIfStopped: () => number | null } {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals) => {
    if (stoppedBy) {
      process.stderr.write(`second ${sig}: exiting now\n`);
      process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    }
    stoppedBy = sig;
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    exitCodeIfStopped: () =>
      stoppedBy === null ? null : stoppedBy === 'SIGINT' ? EXIT.sigint : EXIT.sigterm,
  };
}

/**
 * The one place a failed command is told to a person: message and hint, never a stack trace (that only at
 * --log-level debug, for a bug report).
 */
function reportError(error: unknown, json: boolean, logLevel?: string): number {
  const code = exitCodeFor(error);
  // Errors bypass the logger, so they get the same scrubbing: no token ever reaches a terminal or CI log.
  if (isSyncError(error)) {
    if (json) process.stdout.write(scrubSecrets(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`));
    process.stderr.write(scrubSecrets(`butter-sync: ${error.describe()}\n  hint: ${error.hint}\n`));
  } else {
    const debug = logLevel === 'debug' || logLevel === 'trace';
    const detail = debug
      ? ((error as Error)?.stack ?? String(error))
      : ((error as Error)?.message ?? String(error));
    process.stderr.write(
      scrubSecrets(
        `butter-sync: unexpected error: ${detail}\n  hint: ${debug ? 'Please report it with the lines above.' : 'Run again with --log-level debug to see where it happened, and report it.'}\n`,
      ),
    );
  }
  return code;
}

export function buildProgram(
  run: (task: (signal: AbortSignal) => Promise<{ exitCode: number }>) => Promise<void>,
): Command {
  const program = new Command();
  program
    .name('butter-sync')
    .description('Keep a Git content repository and a ButterCMS account in step, both ways.')
    .version(pkg.version, '-v, --version')
    .option('--config <file>', 'config file', 'sync.config.json')
    .option('--repo <dir>', 'the content repository (default: the current directory)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(
      new Option(
        '--log-level <level>',
        'log detail on stderr (default: error for commands, which print a report; info for watch); debug shows every API call',
      ).choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'human: one readable line per log entry; json: pino JSON lines for a log collector (default: human, or $BUTTER_SYNC_LOG_FORMAT)',
      ).choices(['human', 'json']),
    )
    .addHelpText(
      'after',
      `
Environment:
  BUTTER_API_URL          API base (default https://api.buttercms.com/v2)
  BUTTER_READ_TOKEN       ButterCMS read token
  BUTTER_WRITE_TOKEN      ButterCMS write token (needed to push)
  BUTTER_WEBHOOK_SECRET   shared secret ButterCMS sends in the webhook header (watch)

Exit codes: 0 in sync · 1 error · 2 usage/config · 3 conflicts · 4 some operations failed · 5 busy (another butter-sync holds the lock) · 75 try later · 130/143 stopped`,
    )
    .showHelpAfterError('(run butter-sync --help for usage)')
    // Before any subcommand is added, so each inherits it: commander would otherwise exit 1 on a usage error
    // in a subcommand by itself, where the README promises 2 (main maps every CommanderError).
    .exitOverride();

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();

  program
    .command('push')
    .description('send local file changes to ButterCMS (all, the given paths, or what a commit changed)')
    .argument('[paths...]', 'content files to push')
    .option('--commit <rev>', 'push only the files this commit changed')
    .option('--dry-run', 'print the operations and their API-call cost; send nothing')
    .option('--wait <seconds>', 'how long to read back pending writes before returning', number, 10)
    .option(
      '--create-renamed',
      'create a new page for each renamed page file (the old page stays in ButterCMS); without it a rename is only reported',
    )
    .option('--allow-delete', 'delete this time even beyond maxDeletePercent')
    .action((paths: string[], flags) =>
      run(async (signal) => (await syncCommands()).runPush(globals(), paths, flags, signal)),
    );

  program
    .command('pull')
    .description('bring ButterCMS changes into the files and commit them')
    .option('--dry-run', 'print what would change; write nothing')
    .option('--allow-delete', 'remove files this time even beyond maxDeletePercent')
    .action((flags) => run(async (signal) => (await syncCommands()).runPull(globals(), flags, signal)));

  program
    .command('reconcile')
    .description('full two-way comparison: push, pull, verify pending writes, report (for schedulers)')
    .option('--dry-run', 'print the plan; send and write nothing')
    .option('--wait <seconds>', 'how long to read back pending writes', number, 30)
    .option('--allow-delete', 'delete this time even beyond maxDeletePercent')
    .action((flags) => run(async (signal) => (await syncCommands()).runReconcile(globals(), flags, signal)));

  program
    .command('plan')
    .description('print what a reconcile would do and its API-call cost; send nothing')
    .action(() =>
      run(async (signal) => (await syncCommands()).runReconcile(globals(), { dryRun: true }, signal)),
    );

  program
    .command('status')
    .description('what the manifest holds: pending writes, failures, conflicts, last sync (no API calls)')
    .action(() => run(async () => (await statusCommands()).runStatus(globals())));

  program
    .command('dismiss')
    .description(
      'silence standing notices (ids as status lists them); a notice is said once, then kept in status',
    )
    .argument('[ids...]', 'notice ids')
    .option('--all', 'every standing notice')
    .action((ids: string[], flags: { all?: boolean }) =>
      run(async () => (await statusCommands()).runDismiss(globals(), ids, flags)),
    );

  program
    .command('resolve')
    .description('settle a recorded conflict by taking one side')
    .argument('<path>', 'the content file with the conflict (as shown by status)')
    .addOption(
      new Option('--take <side>', 'the side that wins').choices(['git', 'cms']).makeOptionMandatory(),
    )
    .action((file: string, flags: { take: 'git' | 'cms' }) =>
      run(async (signal) => (await syncCommands()).runResolve(globals(), file, flags.take, signal)),
    );

  program
    .command('watch')
    .description(
      'daemon: watch files → push; webhooks and polling → pull; the web console at / (BUTTER_SYNC_CONSOLE_TOKEN); /healthz /readyz /metrics',
    )
    .option(
      '--port <port>',
      'port for the console, webhooks, health and metrics (default: webhook.port in the config)',
      number,
    )
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--no-webhook', 'do not start the webhook receiver (rely on polling)')
    .option('--no-fetch', 'do not fetch and merge the git remote')
    .action((flags: { port?: number; host?: string; webhook: boolean; fetch: boolean }) =>
      run(async (signal) =>
        (await import('./commands/watch.js')).runWatch(
          globals(),
          {
            ...(flags.port !== undefined ? { port: flags.port } : {}),
            ...(flags.host ? { host: flags.host } : {}),
            noWebhook: !flags.webhook,
            noFetch: !flags.fetch,
          },
          signal,
        ),
      ),
    );

  const hook = program.command('hook').description('manage and run the git post-commit hook');
  hook
    .command('install')
    .description('install the post-commit hook (an existing hook is kept and still runs)')
    .action(() => run(async () => (await hookCommands()).runHookInstall(globals())));
  hook
    .command('uninstall')
    .description('remove the hook and restore any hook it chained')
    .action(() => run(async () => (await hookCommands()).runHookUninstall(globals())));
  hook
    .command('post-commit')
    .description('what the hook runs: push the files HEAD changed; never fails')
    .option('--budget <seconds>', 'time budget', number, 20)
    .action((flags: { budget: number }) =>
      run(async () => (await hookCommands()).runHookPostCommit(globals(), flags.budget)),
    );

  program
    .command('emulator')
    .description('run the local ButterCMS-compatible server (for tests and the demo)')
    .option('--port <port>', 'port', number, 8790)
    .option('--data <file>', 'persist the emulator content to this JSON file')
    .option('--apply-delay <ms>', 'delay before an accepted write is applied', number)
    .option('--error-rate <0..1>', 'share of requests answered with a 5xx', number)
    .option('--reset-rate <0..1>', 'share of connections reset', number)
    .option('--latency <ms>', 'added latency per request', number)
    .option('--fail-after-accept <0..1>', 'share of accepted writes silently dropped', number)
    .option('--quota <calls>', 'API calls allowed before 429', number)
    .option('--config <file>', 'the content model to serve (default: ./sync.config.json; the global option)')
    .option('--cms <kind>', 'which CMS to emulate: butter (default) or webflow', 'butter')
    .option('--rate-limit <per-minute>', 'webflow: requests per minute per token (60 or 120)', number)
    .addHelpText('after', EMULATOR_HELP)
    .action((flags: EmulatorFlags & { config?: string }) =>
      run(async (signal) =>
        (await import('./commands/emulator.js')).runEmulator(
          { ...globals(), ...(flags.config ? { config: flags.config } : {}) },
          flags,
          signal,
        ),
      ),
    );

  program
    .command('init')
    .description('write a starter sync.config.json and add .butter-sync/ to .gitignore')
    .option(
      '--from-cms <kind>',
      'read the content model from the CMS: webflow (WEBFLOW_TOKEN, WEBFLOW_API_URL)',
    )
    .option('--site <id>', 'with --from-cms webflow: the Webflow site id')
    .action((flags: InitFlags) =>
      run(async () => (await import('./commands/init.js')).runInit(globals(), flags)),
    );

  return program;
}

async function main(argv: string[]): Promise<void> {
  const { signal, exitCodeIfStopped } = installSignals();
  let exitCode: number = EXIT.ok;
  const run = async (task: (signal: AbortSignal) => Promise<{ exitCode: number }>) => {
    try {
      exitCode = (await task(signal)).exitCode;
    } catch (error) {
      exitCode = reportError(error, Boolean(program.opts().json), program.opts().logLevel);
    }
    exitCode = exitCodeIfStopped() ?? exitCode;
  };
  const program = buildProgram(run);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      exitCode = reportError(error, false);
    }
  }
  process.exitCode = exitCode;
  // Only main exits (Litestream's rule): give stdout a tick to flush, then leave even if a handle lingers.
  setTimeout(() => process.exit(exitCode), 50).unref();
}

// A reader that stops early (`butter-sync --help | head`) closes the pipe: that is the reader's choice, not an
// error worth a stack trace, so the command ends quietly as `head` expects.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    throw error;
  });
}

await main(process.argv);
