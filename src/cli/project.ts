import { createHash } from 'node:crypto';
import path from 'node:path';
import { loadConfig } from '../config/load-config.js';
import type { SyncConfig } from '../config/schema.js';
import { createLogger, type LogFormat, type Logger, type LogLevel } from '../log.js';
import { readSecrets } from './secrets.js';

// What every command needs before it knows what it will do (options, log, config), apart from wiring.ts so
// that `status`, `init` and `emulator` do not load the engine, the git port and the ButterCMS client.

export interface GlobalOptions {
  config?: string;
  repo?: string;
  json?: boolean;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

/**
 * The log on stderr. One-shot commands print their own report, so their log stays quiet unless asked
 * (`--log-level`): the report says each thing once. The daemon logs at info: its log is its output.
 * `--log-format json` (or BUTTER_SYNC_LOG_FORMAT=json, which the container sets) gives pino JSON lines.
 */
export function makeLogger(options: GlobalOptions, kind: 'command' | 'daemon' = 'command'): Logger {
  const secrets = readSecrets();
  return createLogger({
    level: options.logLevel ?? (kind === 'daemon' ? 'info' : 'error'),
    pretty: logFormatOf(options) === 'human',
    secrets: [
      secrets.readToken,
      secrets.writeToken,
      secrets.webhookSecret,
      secrets.consoleToken,
      secrets.webflowToken,
    ],
  });
}

export function logFormatOf(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): LogFormat {
  return options.logFormat ?? (env.BUTTER_SYNC_LOG_FORMAT === 'json' ? 'json' : 'human');
}

export function repoDirOf(options: GlobalOptions): string {
  return path.resolve(options.repo ?? process.cwd());
}

export function configPathOf(options: GlobalOptions): string {
  return path.resolve(repoDirOf(options), options.config ?? 'sync.config.json');
}

export async function loadProjectConfig(options: GlobalOptions, logger: Logger): Promise<SyncConfig> {
  const { config, warnings } = await loadConfig(configPathOf(options));
  for (const warning of warnings) logger.debug({ path: warning.path }, `config: ${warning.message}`);
  return config;
}

/** A change of the content model invalidates every digest: the manifest notices through this. */
export function configDigest(config: SyncConfig): string {
  const model = {
    pageTypes: config.pageTypes,
    singlePages: config.singlePages,
    collections: config.collections,
    locales: config.locales,
    pageMeta: config.pageMeta,
  };
  return createHash('sha256').update(JSON.stringify(model)).digest('hex').slice(0, 16);
}
