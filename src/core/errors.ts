/**
 * The error catalogue: every failure a user can meet has a code, a plain message, a hint saying what to
 * do next, and whether retrying can help. The CLI maps codes to exit codes; nobody sees a stack trace
 * for a bad file or a 401. (Modelled on Astro's errors-data.ts.) The CMS_* entries speak of whichever CMS
 * runs; a backend gives its own hint where it can name its tokens or URL (ButterCMS: cms/butter/http-errors.ts).
 */

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'USAGE'
  | 'MISSING_TOKEN'
  | 'CMS_AUTH'
  | 'CMS_NOT_FOUND'
  | 'CMS_BAD_REQUEST'
  | 'CMS_METHOD_NOT_ALLOWED'
  | 'CMS_RATE_LIMITED'
  | 'CMS_SERVER'
  | 'CMS_NETWORK'
  | 'CMS_TIMEOUT'
  | 'CMS_BAD_RESPONSE'
  | 'CMS_DUPLICATE_KEY'
  | 'CONTENT_PARSE'
  | 'CONTENT_UNKNOWN_FIELD'
  | 'CONTENT_WRONG_TYPE'
  | 'CONTENT_PATH'
  | 'CONTENT_TOO_LARGE'
  | 'CONTENT_BINARY'
  | 'MANIFEST_LOCKED'
  | 'MANIFEST_CORRUPT'
  | 'STATE_UNWRITABLE'
  | 'GIT'
  | 'INTERNAL';

export interface ErrorInfo {
  message: string;
  hint: string;
  retryable: boolean;
}

export const ERROR_CATALOGUE: Record<ErrorCode, Omit<ErrorInfo, 'message'> & { title: string }> = {
  CONFIG_INVALID: {
    title: 'The config file is not valid',
    hint: 'Fix the listed keys in sync.config.json; your editor can autocomplete them through "$schema".',
    retryable: false,
  },
  CONFIG_NOT_FOUND: {
    title: 'No config file',
    hint: 'Run `butter-sync init` to write a starter sync.config.json, or pass --config FILE.',
    retryable: false,
  },
  USAGE: {
    title: 'Wrong usage',
    hint: 'Run `butter-sync --help` to see the commands and options.',
    retryable: false,
  },
  MISSING_TOKEN: {
    title: 'A CMS token is missing',
    hint: 'Set the token the message names in the environment (a write token too, to write). Tokens never go in the config file.',
    retryable: false,
  },
  CMS_AUTH: {
    title: 'The CMS refused the credentials',
    hint: 'Check the CMS tokens in the environment: reads need the read token, writes the write token.',
    retryable: false,
  },
  CMS_NOT_FOUND: {
    title: 'The CMS has no such page, collection or item',
    hint: 'Check that the page type or collection key in sync.config.json exists in the CMS.',
    retryable: false,
  },
  CMS_BAD_REQUEST: {
    title: 'The CMS rejected the request',
    hint: "The content does not match the CMS's schema; compare the field names and types in sync.config.json with the CMS.",
    retryable: false,
  },
  CMS_METHOD_NOT_ALLOWED: {
    title: 'The CMS does not allow this operation on that route',
    hint: 'This is likely a bug in butter-sync; please report it with the log line.',
    retryable: false,
  },
  CMS_RATE_LIMITED: {
    title: 'CMS API call limit reached',
    hint: 'The monthly API quota is used up (or the rate is too high). Try again later or raise the plan limit.',
    retryable: true,
  },
  CMS_SERVER: {
    title: 'The CMS had a server error',
    hint: "Usually temporary; the next run retries. If it persists, check the CMS's status page or contact its support.",
    retryable: true,
  },
  CMS_NETWORK: {
    title: 'Could not reach the CMS',
    hint: "Check the network and the CMS's API URL. The next run retries.",
    retryable: true,
  },
  CMS_TIMEOUT: {
    title: 'The CMS did not answer in time',
    hint: 'The next run retries; raise rate.timeoutMs in sync.config.json if this keeps happening.',
    retryable: true,
  },
  CMS_BAD_RESPONSE: {
    title: 'The CMS answered with something unexpected',
    hint: "Check that the CMS's API URL in the environment points at its API.",
    retryable: true,
  },
  CMS_DUPLICATE_KEY: {
    title: 'Two CMS items share one key',
    hint: 'Delete or rename one of them in the CMS (its keyField must be unique); until then nothing is written for that key on either side.',
    retryable: false,
  },
  CONTENT_PARSE: {
    title: 'A content file could not be parsed',
    hint: 'Fix the syntax at the given line. Until then the file is left out (nothing is sent or written for it); the other files are not held up.',
    retryable: false,
  },
  CONTENT_UNKNOWN_FIELD: {
    title: 'A content file has a field the content model does not know',
    hint: 'Remove the field or add it to the page type / collection in sync.config.json.',
    retryable: false,
  },
  CONTENT_WRONG_TYPE: {
    title: 'A field has a value of the wrong type',
    hint: 'Change the value to the type declared in sync.config.json.',
    retryable: false,
  },
  CONTENT_PATH: {
    title: 'A file is not where the content layout expects it',
    hint: 'Pages go in pages/<page_type>/<slug>.md, single pages in pages/_single/<slug>.json, items in collections/<key>/<item>.json.',
    retryable: false,
  },
  CONTENT_TOO_LARGE: {
    title: 'A content file is too large',
    hint: 'Split the content; files over the size limit are skipped.',
    retryable: false,
  },
  CONTENT_BINARY: {
    title: 'A content file is not text',
    hint: 'Move binary files (images, PDFs) out of the content folder or reference them by URL.',
    retryable: false,
  },
  MANIFEST_LOCKED: {
    title: 'Another butter-sync process is running on this repository (exit code 5)',
    hint: 'Wait for it to finish and run again; `plan`, `--dry-run` and `status` work meanwhile. A lock left by a killed process is taken over at once.',
    retryable: true,
  },
  MANIFEST_CORRUPT: {
    title: 'The manifest (.butter-sync/manifest.json) could not be read',
    hint: 'Move it aside and run `butter-sync reconcile` with initialSource set to rebuild it.',
    retryable: false,
  },
  STATE_UNWRITABLE: {
    title: 'The sync state (.butter-sync/) cannot be written',
    hint: 'Nothing was sent or written. Make .butter-sync/ and manifest.json writable by this user (check `ls -l`, `lsattr` for the immutable flag, a read-only mount, a full disk), then run again.',
    retryable: false,
  },
  GIT: {
    title: 'A git operation failed',
    hint: 'Run `git status` in the content repository to see what git needs.',
    retryable: false,
  },
  INTERNAL: {
    title: 'Unexpected internal error',
    hint: 'Please report it with the log output.',
    retryable: false,
  },
};

export interface SyncErrorOptions {
  hint?: string;
  file?: string;
  line?: number;
  status?: number;
  retryAfterSeconds?: number;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** An error from the catalogue. `file`/`line` name the content file when there is one. */
export class SyncError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly retryable: boolean;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SyncErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SyncError';
    this.code = code;
    const entry = ERROR_CATALOGUE[code];
    this.hint = options.hint ?? entry.hint;
    this.retryable = entry.retryable;
    this.file = options.file;
    this.line = options.line;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.details = options.details;
  }

  /** `file:line: message` — the form shown to users. */
  describe(): string {
    const where = this.file ? `${this.file}${this.line ? `:${this.line}` : ''}: ` : '';
    return `${where}${this.message}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      retryable: this.retryable,
      ...(this.file ? { file: this.file } : {}),
      ...(this.line ? { line: this.line } : {}),
      ...(this.status ? { status: this.status } : {}),
    };
  }
}

export function isSyncError(error: unknown): error is SyncError {
  return error instanceof SyncError;
}

/** Exit codes of DESIGN.md §2. */
export const EXIT = {
  ok: 0,
  runtime: 1,
  usage: 2,
  conflicts: 3,
  partial: 4,
  /** Another butter-sync process holds the repository's lock (a `watch` daemon, a hook run): nothing was done. */
  busy: 5,
  tryLater: 75,
  sigint: 130,
  sigterm: 143,
} as const;

export function exitCodeFor(error: unknown): number {
  if (!isSyncError(error)) return EXIT.runtime;
  switch (error.code) {
    case 'CONFIG_INVALID':
    case 'CONFIG_NOT_FOUND':
    case 'USAGE':
    case 'MISSING_TOKEN':
      return EXIT.usage;
    case 'CMS_RATE_LIMITED':
      return EXIT.tryLater;
    case 'MANIFEST_LOCKED':
      return EXIT.busy;
    default:
      return EXIT.runtime;
  }
}
