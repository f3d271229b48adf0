import { startEmulator } from '../../emulator/index.js';
import { type GlobalOptions, loadProjectConfig, makeLogger } from '../wiring.js';

export interface EmulatorFlags {
  port: number;
  data?: string;
  applyDelay?: number;
  errorRate?: number;
  resetRate?: number;
  latency?: number;
  failAfterAccept?: number;
  quota?: number;
}

/** `emulator`: the local ButterCMS-compatible server, until SIGINT/SIGTERM. */
export async function runEmulator(
  options: GlobalOptions,
  flags: EmulatorFlags,
  signal: AbortSignal,
): Promise<{ exitCode: number }> {
  const logger = makeLogger(options);
  const config = await loadProjectConfig(options, logger);
  const readToken = process.env.BUTTER_READ_TOKEN || 'emulator-read-token';
  const writeToken = process.env.BUTTER_WRITE_TOKEN || 'emulator-write-token';
  const emulator = await startEmulator({
    config,
    readToken,
    writeToken,
    port: flags.port,
    ...(flags.data ? { dataFile: flags.data } : {}),
    ...(flags.applyDelay !== undefined ? { applyDelayMs: flags.applyDelay } : {}),
    ...(flags.quota !== undefined ? { quota: flags.quota } : {}),
    faults: {
      ...(flags.errorRate !== undefined ? { errorRate: flags.errorRate } : {}),
      ...(flags.resetRate !== undefined ? { resetRate: flags.resetRate } : {}),
      ...(flags.latency !== undefined ? { latencyMs: flags.latency } : {}),
      ...(flags.failAfterAccept !== undefined ? { failAfterAcceptRate: flags.failAfterAccept } : {}),
    },
  });
  process.stdout.write(
    `ButterCMS emulator listening at ${emulator.url}\n` +
      `  export BUTTER_API_URL=${emulator.url}\n` +
      (process.env.BUTTER_READ_TOKEN ? '' : `  export BUTTER_READ_TOKEN=${readToken}\n`) +
      (process.env.BUTTER_WRITE_TOKEN ? '' : `  export BUTTER_WRITE_TOKEN=${writeToken}\n`) +
      `  admin: ${emulator.origin}/__emulator/ (log, faults, reset, state)\n`,
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await emulator.close();
  return { exitCode: 0 };
}
