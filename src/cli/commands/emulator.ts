import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/load-config.js';
import type { SyncConfig } from '../../config/schema.js';
import { isSyncError, SyncError } from '../../core/errors.js';
import type { EmulatorHandle } from '../../emulator/index.js';
import { startEmulator } from '../../emulator/index.js';
import { startWebflowEmulator } from '../../emulator/webflow/index.js';
import { scrubSecrets } from '../output.js';
import { configPathOf, type GlobalOptions, loadProjectConfig, makeLogger } from '../project.js';

export interface EmulatorFlags {
  port: number;
  data?: string;
  applyDelay?: number;
  errorRate?: number;
  resetRate?: number;
  latency?: number;
  failAfterAccept?: number;
  quota?: number;
  /** Which CMS to emulate; default butter. */
  cms?: string;
  /** Webflow: requests per minute per token. */
  rateLimit?: number;
}

async function start<T>(flags: EmulatorFlags, starter: () => Promise<T>): Promise<T> {
  try {
    return await starter();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new SyncError('USAGE', `port ${flags.port} on 127.0.0.1 is already in use`, {
        hint: 'Stop the other process (another emulator?) or pass --port with a free port; --port 0 picks one.',
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Follow the config file: an edit gives the emulator the new model (trial F14: every command failed with a
 * 404 until a restart). The directory is watched, since editors replace files by renaming over them.
 */
function followConfig(configFile: string, emulator: EmulatorHandle): FSWatcher | undefined {
  let timer: NodeJS.Timeout | undefined;
  const reload = async () => {
    try {
      const { config } = await loadConfig(configFile);
      emulator.setModel(config);
      process.stdout.write(
        `${new Date().toISOString()} ${path.basename(configFile)} changed: the emulator now uses the new content model\n`,
      );
    } catch (error) {
      const text = isSyncError(error) ? `${error.describe()}\n  hint: ${error.hint}` : String(error);
      process.stderr.write(
        scrubSecrets(
          `${new Date().toISOString()} ${path.basename(configFile)} changed but cannot be used; the emulator keeps the previous content model:\n${text}\n`,
        ),
      );
    }
  };
  try {
    return watch(path.dirname(configFile), (_event, name) => {
      if (name !== path.basename(configFile)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), 100); // one reload per save, however many events it makes
    });
  } catch {
    process.stderr.write(
      `cannot watch ${configFile} for changes: restart the emulator after editing the content model\n`,
    );
    return undefined;
  }
}

/** `emulator`: the local ButterCMS-compatible server, until SIGINT/SIGTERM. */
export async function runEmulator(
  options: GlobalOptions,
  flags: EmulatorFlags,
  signal: AbortSignal,
): Promise<{ exitCode: number }> {
  const logger = makeLogger(options);
  const config = await loadProjectConfig(options, logger);
  const cms = flags.cms ?? 'butter';
  if (cms === 'webflow') return runWebflowEmulator(config, flags, signal);
  if (cms !== 'butter') {
    throw new SyncError('USAGE', `unknown --cms "${cms}"`, {
      hint: 'Use --cms butter (default) or --cms webflow.',
    });
  }
  const readToken = process.env.BUTTER_READ_TOKEN || 'emulator-read-token';
  const writeToken = process.env.BUTTER_WRITE_TOKEN || 'emulator-write-token';
  const emulator = await start(flags, () =>
    startEmulator({
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
    }),
  );
  const configFile = configPathOf(options);
  const watcher = followConfig(configFile, emulator);
  process.stdout.write(
    `ButterCMS emulator listening at ${emulator.url}\n` +
      `  content model: ${configFile} (edits are picked up while it runs)\n` +
      `  export BUTTER_API_URL=${emulator.url}\n` +
      (process.env.BUTTER_READ_TOKEN ? '' : `  export BUTTER_READ_TOKEN=${readToken}\n`) +
      (process.env.BUTTER_WRITE_TOKEN ? '' : `  export BUTTER_WRITE_TOKEN=${writeToken}\n`) +
      `  admin: ${emulator.origin}/__emulator/ (lists the routes: log, faults, webhooks, reset, settle, state)\n`,
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  watcher?.close();
  await emulator.close();
  return { exitCode: 0 };
}

/** `emulator --cms webflow`: the Webflow Data API v2 server (webflow-api.md §12), until SIGINT/SIGTERM. */
async function runWebflowEmulator(
  config: SyncConfig,
  flags: EmulatorFlags,
  signal: AbortSignal,
): Promise<{ exitCode: number }> {
  if (flags.data || flags.applyDelay !== undefined) {
    throw new SyncError('USAGE', '--data and --apply-delay are ButterCMS emulator options', {
      hint: 'Webflow answers writes synchronously and the Webflow emulator keeps its content in memory: drop them.',
    });
  }
  const token = process.env.WEBFLOW_TOKEN || 'emulator-webflow-token';
  const emulator = await start(flags, () =>
    startWebflowEmulator({
      config,
      tokens: [{ token, label: 'token' }],
      port: flags.port,
      ...(flags.rateLimit !== undefined ? { rateLimitPerMinute: flags.rateLimit } : {}),
      ...(flags.quota !== undefined ? { quota: flags.quota } : {}),
      faults: {
        ...(flags.errorRate !== undefined ? { errorRate: flags.errorRate } : {}),
        ...(flags.resetRate !== undefined ? { resetRate: flags.resetRate } : {}),
        ...(flags.latency !== undefined ? { latencyMs: flags.latency } : {}),
        ...(flags.failAfterAccept !== undefined ? { failAfterAcceptRate: flags.failAfterAccept } : {}),
      },
    }),
  );
  process.stdout.write(
    `Webflow emulator listening at ${emulator.url}\n` +
      `  site: ${emulator.siteId}\n` +
      `  export WEBFLOW_API_URL=${emulator.url}\n` +
      (process.env.WEBFLOW_TOKEN ? '' : `  export WEBFLOW_TOKEN=${token}\n`) +
      `  admin: ${emulator.origin}/__emulator/ (lists the routes: log, faults, webhooks, reset, settle, state)\n`,
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await emulator.close();
  return { exitCode: 0 };
}
