import { existsSync } from 'node:fs';
import { type SimpleGitOptions, simpleGit } from 'simple-git';
import { SyncError } from '../core/errors.js';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunGitOptions {
  /** Written to git's stdin, then closed. */
  input?: string;
  /** Extra environment (e.g. GIT_INDEX_FILE for a temporary index, author identity). */
  env?: Record<string, string>;
  /** Return a non-zero exit as a result instead of throwing. */
  allowFailure?: boolean;
}

/**
 * Variables a hook inherits from the `git commit` that ran it: GIT_INDEX_FILE points at that commit's
 * index, GIT_AUTHOR_DATE would back-date our commits. Our git calls address the repository by its
 * directory only (simple-git's `baseDir`, the child's working directory).
 */
const INHERITED_HOOK_VARS = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_PREFIX',
  'GIT_COMMON_DIR',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_NAMESPACE',
  'GIT_QUARANTINE_PATH',
  'GIT_REFLOG_ACTION',
  'GIT_AUTHOR_DATE',
  'GIT_COMMITTER_DATE',
];

/** Our own secrets (the CMS tokens): git never needs them, so they never reach its environment or a debug log. */
const OWN_SECRET_PREFIXES = ['BUTTER_', 'WEBFLOW_'];

/**
 * simple-git 4's guard refuses a task whose argv or environment could run a program (an editor, a pager, an
 * ssh command, config paths, config set through GIT_CONFIG_COUNT…), because it assumes the argv may carry
 * untrusted input. Ours never does: every vector is fixed in `git/`, paths come after `--`, as `:(literal)`
 * pathspecs or on stdin. The environment is the operator's own (GIT_SSH_COMMAND for a deploy key, credentials
 * injected with GIT_CONFIG_*, EDITOR in a shell, GIT_CONFIG_GLOBAL in the tests), and git must see it exactly
 * as the `git` the operator runs by hand does, so every category is allowed.
 */
const OPERATOR_ENVIRONMENT: SimpleGitOptions['unsafe'] = {
  allowUnsafeAlias: true,
  allowUnsafeAskPass: true,
  allowUnsafeCommandBinaries: true,
  allowUnsafeConfigPaths: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeCredentialHelper: true,
  allowUnsafeEditor: true,
  allowUnsafeMergeDriver: true,
  allowUnsafePager: true,
  allowUnsafeProtocolOverride: true,
  allowUnsafePack: true,
  allowUnsafeSshCommand: true,
  allowUnsafeGitProxy: true,
  allowUnsafeExec: true,
  allowUnsafeHooksPath: true,
  allowUnsafeDiffExternal: true,
  allowUnsafeDiffTextConv: true,
  allowUnsafeFilter: true,
  allowUnsafeFsMonitor: true,
  allowUnsafeGpgProgram: true,
  allowUnsafeTemplateDir: true,
  allowUnsafeInclude: true,
  allowUnsafeSubmodule: true,
  allowUnsafeUrlRewrite: true,
  // Otherwise simple-git exports GIT_TEST_DISALLOW_ABBREVIATED_OPTIONS=true, which the hooks git runs for us
  // (a person's pre-push or post-merge hook) inherit: one that abbreviates an option would start failing.
  allowAbbreviatedOptions: true,
};

/**
 * Run git with an argument vector (never a shell string), in `repoDir`, with a clean repository environment,
 * through simple-git's `raw()`: the port's commands are plumbing (a temporary index, stdin records, exit codes
 * that are answers, like `merge-base --is-ancestor`) that simple-git's typed API does not offer, so each is
 * run raw and its exit code, stdout and stderr are taken from simple-git's `errors` hook.
 */
export async function runGit(
  repoDir: string,
  args: string[],
  options: RunGitOptions = {},
): Promise<GitResult> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || INHERITED_HOOK_VARS.includes(name)) continue;
    if (OWN_SECRET_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    env[name] = value;
  }
  // Parsable messages, and no credential prompt that would hang a daemon.
  Object.assign(env, { LC_ALL: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0' }, options.env);

  // simple-git refuses to start in a missing directory; git's own answer (exit 128) is what callers expect.
  if (!existsSync(repoDir)) {
    return settle(args, options, { code: 128, stdout: '', stderr: `fatal: cannot change to '${repoDir}'` });
  }
  let result: GitResult | undefined;
  const git = simpleGit({
    baseDir: repoDir,
    // `.env()` below replaces the whole environment; every variable in it is meant, none is stripped.
    allowEnvironment: Object.keys(env),
    unsafe: OPERATOR_ENVIRONMENT,
    // Always a buffer, even an empty one, so stdin is closed and a command reading it never waits.
    input: () => Buffer.from(options.input ?? '', 'utf8'),
    // Done when git has exited and closed its output, never earlier: simple-git's default also settles 50 ms
    // after the exit, which could cut off a large `ls-tree -r` or `show` still draining from the pipe.
    completion: { onClose: true, onExit: false },
    errors: (error, outcome) => {
      result = {
        code: outcome.exitCode,
        stdout: Buffer.concat(outcome.stdOut).toString('utf8'),
        stderr: Buffer.concat(outcome.stdErr).toString('utf8'),
      };
      // A spawn failure (no git on PATH) has no exit code to answer with.
      return outcome.exitCode < 0 || error instanceof Error ? error : undefined;
    },
  })
    .env(env)
    // simple-git waits 50 ms more after a command that printed nothing, in case output trails the exit. Ours
    // settle on 'close' (above), when every byte is in, so an empty chunk ends that wait: most plumbing here
    // (update-index, update-ref, read-tree, a clean status) is silent, and a pull commit is seven such calls.
    // Were simple-git to attach its listener later, the chunk is missed and only the 50 ms come back.
    .outputHandler((_command, stdout) => queueMicrotask(() => stdout.emit('data', Buffer.alloc(0))));
  try {
    await git.raw(args);
  } catch (error) {
    if (result === undefined || result.code < 0) {
      throw new SyncError('GIT', `cannot run git: ${(error as Error).message.split('\n')[0]}`, {
        hint: 'Install git and put it on PATH.',
      });
    }
  }
  if (result === undefined) throw new SyncError('GIT', `git ${args[0] ?? ''} gave no result`);
  return settle(args, options, result);
}

function settle(args: string[], options: RunGitOptions, result: GitResult): GitResult {
  if (result.code !== 0 && !options.allowFailure) {
    throw new SyncError('GIT', `git ${args[0] ?? ''} failed: ${describeGitFailure(result)}`, {
      details: { exitCode: result.code },
    });
  }
  return result;
}

/** The first meaningful line of git's complaint, with any credentials in remote URLs masked. */
export function describeGitFailure(result: GitResult): string {
  const text = (result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`).split('\n');
  const line = text.find((l) => /^(fatal|error):/.test(l)) ?? text[0] ?? '';
  return redactUrlCredentials(line.trim());
}

/** `https://user:token@host/…` → `https://***@host/…`: a push URL may carry a token. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/** Split `-z` output into its records. */
export function splitNul(text: string): string[] {
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}
