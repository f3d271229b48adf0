import { spawn } from 'node:child_process';
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
 * index, GIT_AUTHOR_DATE would back-date our commits. Our git calls address the repository by `-C dir` only.
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

/** Run git with an argument vector (never a shell string), in `repoDir`, with a clean repository environment. */
export async function runGit(
  repoDir: string,
  args: string[],
  options: RunGitOptions = {},
): Promise<GitResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INHERITED_HOOK_VARS) delete env[name];
  // Parsable messages, and no credential prompt that would hang a daemon.
  Object.assign(env, { LC_ALL: 'C', LANGUAGE: 'C', GIT_TERMINAL_PROMPT: '0' }, options.env);

  const result = await new Promise<GitResult>((resolve, reject) => {
    const child = spawn('git', ['-C', repoDir, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) =>
      reject(
        new SyncError('GIT', `cannot run git: ${error.message}`, { hint: 'Install git and put it on PATH.' }),
      ),
    );
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });

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
