import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';
import { makeRedactor } from './redact.js';

export type { Logger } from 'pino';
export { makeRedactor } from './redact.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** `human`: one readable line per entry (the default); `json`: pino JSON lines for log collectors (the container). */
export type LogFormat = 'human' | 'json';

export interface LoggerOptions {
  level?: LogLevel;
  /** One human-readable line per entry (colours only on a TTY); JSON lines otherwise. */
  pretty?: boolean;
  /** Secret values (tokens, webhook secret) scrubbed from every line, whatever field they hide in. */
  secrets?: Array<string | undefined>;
  destination?: DestinationStream;
}

/** Field paths that never carry anything but secrets. */
const REDACT_PATHS = [
  'token',
  'readToken',
  'writeToken',
  'auth_token',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.readToken',
  '*.writeToken',
  'secret',
  'webhookSecret',
];

/**
 * pino with redaction: known secret-bearing keys are censored, and the final line is scrubbed of the
 * secret values themselves (a token can hide inside a URL or an error message).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const scrub = makeRedactor(options.secrets ?? []);
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
    hooks: { streamWrite: scrub },
  };
  if (options.destination) return pino(base, options.destination);
  if (options.pretty) {
    // In-process and synchronous (no transport thread): a short command's last lines are never lost, and
    // each entry stays on one line, its fields after the message.
    const stream = onFirstWrite(() =>
      (require('pino-pretty') as typeof import('pino-pretty')).build({
        destination: 2,
        sync: true,
        singleLine: true,
        colorize: process.stderr.isTTY === true,
        ignore: 'pid,hostname',
        translateTime: 'SYS:HH:MM:ss',
      }),
    );
    return pino(base, stream);
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

const require = createRequire(import.meta.url);

/**
 * A stream made when the first line is written: a command logs at `error` and most runs write no line, so
 * they never load pino-pretty and its dependencies.
 */
function onFirstWrite(make: () => DestinationStream): DestinationStream {
  let stream: DestinationStream | undefined;
  return {
    write(line: string) {
      stream ??= make();
      stream.write(line);
    },
  };
}
