import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, type Fixture } from './sync-fixture.js';
import { freePort, waitUntil } from './wait.js';

export interface ConsoleWatch {
  /** http://127.0.0.1:<port> */
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

/** `watch` as a child process on 127.0.0.1 (no webhook, no fetch), started and through its start-up sync. */
export async function startConsoleWatch(fx: Fixture, env: NodeJS.ProcessEnv = {}): Promise<ConsoleWatch> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      CLI,
      'watch',
      '--repo',
      fx.repoDir,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--no-fetch',
      '--no-webhook',
    ],
    { env: { ...fx.env(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`watch to finish its start-up sync\n${output}`, async () => {
    if (child.exitCode !== null) throw new Error(`watch exited with ${child.exitCode}:\n${output}`);
    try {
      return (await fetch(`${url}/healthz`)).ok && output.includes('start-up sync done');
    } catch {
      return undefined;
    }
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Debian's chromium (CI installs it; `.ci/run`), or CHROMIUM_PATH; undefined when neither exists. */
export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p));
}
