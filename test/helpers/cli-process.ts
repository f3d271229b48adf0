import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from './sync-fixture.js';

/** A CLI run as a child process: its exit code (null when killed), signal and captured output. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliHandle {
  child: ChildProcess;
  done: Promise<CliRun>;
}

/** Start `node dist/cli/main.js ...args` (dist is built by `npm test` before vitest runs). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): CliHandle {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    ...(cwd ? { cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  return { child, done };
}

/** Run the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliRun> {
  return startCli(args, env, cwd).done;
}

/** The CLI on a fixture's repository (`... --repo <repoDir>`), by default in the fixture's environment. */
export function runCliOn(
  fx: { repoDir: string; env(): NodeJS.ProcessEnv },
  args: string[],
  env: NodeJS.ProcessEnv = fx.env(),
): Promise<CliRun> {
  return runCli([...args, '--repo', fx.repoDir], env);
}
