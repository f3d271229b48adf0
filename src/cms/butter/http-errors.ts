/**
 * Turns ButterCMS HTTP answers and transport failures into catalogue errors (src/core/errors.ts).
 * Every message names the method and the token-free path; tokens never reach this module.
 */

import { type ErrorCode, SyncError, type SyncErrorOptions } from '../../core/errors.js';

/** How a 403 on a read should be understood; the request builder knows which case applies. */
export type ForbiddenReading = 'credentials' | 'bad-filter' | 'ambiguous-slug';

/** What the error needs to know about the request that failed. */
export interface RequestContext {
  method: string;
  /** Path plus query, WITHOUT the token. */
  path: string;
  /** Write calls carry the write token; the hints differ. */
  write: boolean;
  forbidden?: ForbiddenReading;
}

/** DRF error bodies split into field errors and plain messages (butter-api.md §1.2). */
export interface ErrorBodyDetails {
  fieldErrors?: Record<string, string[]>;
  messages?: string[];
}

const MAX_RETRY_AFTER_DATE_SECONDS = 366 * 24 * 3600;

/** Reads the DRF shapes: `{field: [msg]}`, `[msg]`, `{"error": msg}`, `{"detail": msg}`; a `""` key holds non-field errors (§1.2, S25). */
export function readErrorBody(body: unknown): ErrorBodyDetails {
  if (Array.isArray(body)) return { messages: body.map(toMessage) };
  if (typeof body === 'string') return body.trim() === '' ? {} : { messages: [body.trim()] };
  if (body === null || typeof body !== 'object') return {};
  const messages: string[] = [];
  const fieldErrors: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const list = Array.isArray(value) ? value.map(toMessage) : [toMessage(value)];
    if (key === 'detail' || key === 'error' || key === '' || key === 'non_field_errors')
      messages.push(...list);
    else fieldErrors[key] = list;
  }
  return {
    ...(Object.keys(fieldErrors).length > 0 ? { fieldErrors } : {}),
    ...(messages.length > 0 ? { messages } : {}),
  };
}

function toMessage(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

function summarise(details: ErrorBodyDetails): string {
  const parts = [
    ...(details.messages ?? []),
    ...Object.entries(details.fieldErrors ?? {}).map(([field, list]) => `${field}: ${list.join(' ')}`),
  ];
  const text = parts.join('; ');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

/** ButterCMS's own hints for the catalogue codes whose neutral hint (core/errors.ts) cannot name its tokens or URL. */
export const BUTTER_HINTS: Partial<Record<ErrorCode, string>> = {
  MISSING_TOKEN:
    'Set BUTTER_READ_TOKEN (and BUTTER_WRITE_TOKEN to write) in the environment. Tokens never go in the config file.',
  CMS_AUTH:
    'Check BUTTER_READ_TOKEN / BUTTER_WRITE_TOKEN. Writes need a write token, a paid add-on enabled by ButterCMS support.',
  CMS_NOT_FOUND:
    'Check that the page type or collection key in sync.config.json exists in the ButterCMS dashboard.',
  CMS_BAD_REQUEST:
    'The content does not match the ButterCMS schema; compare the field names and types in sync.config.json with the dashboard.',
  CMS_SERVER:
    'Usually temporary; the next run retries. If it persists, check status.buttercms.com or contact support.',
  CMS_NETWORK: 'Check the network and BUTTER_API_URL. The next run retries.',
  CMS_BAD_RESPONSE: 'Check BUTTER_API_URL points at the ButterCMS API (…/v2).',
};

/** A catalogue error from the ButterCMS client: without a hint of its own, it gets ButterCMS's. */
export function butterError(code: ErrorCode, message: string, options: SyncErrorOptions = {}): SyncError {
  return new SyncError(code, message, { ...options, hint: options.hint ?? BUTTER_HINTS[code] });
}

/** `Retry-After` is delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_RETRY_AFTER_DATE_SECONDS, Math.max(0, Math.ceil((at - now) / 1000)));
}

/** Maps a non-2xx answer to the catalogue (butter-api.md §1.2, §5). */
export function mapHttpError(
  status: number,
  body: unknown,
  context: RequestContext,
  retryAfterSeconds?: number,
): SyncError {
  const where = `${context.method} ${context.path}`;
  const details = readErrorBody(body);
  const said = summarise(details);
  const suffix = said ? `: ${said}` : '';
  const base = { status, details: { ...details } as Record<string, unknown> };

  if (status >= 300 && status < 400) {
    return butterError('CMS_BAD_RESPONSE', `${where} answered a ${status} redirect, which is not followed`, {
      ...base,
      hint:
        'ButterCMS redirects URLs without a trailing slash, and a redirected write is replayed as a GET and lost; ' +
        'check BUTTER_API_URL (it should end in /v2, without a trailing slash).',
    });
  }
  if (status === 401) {
    return butterError('CMS_AUTH', `${where} was refused (401)${suffix}`, {
      ...base,
      hint: context.write
        ? 'Check BUTTER_WRITE_TOKEN: writes need the write token, a paid add-on enabled by ButterCMS support.'
        : 'Check BUTTER_READ_TOKEN (Settings > API Tokens in the ButterCMS dashboard).',
    });
  }
  if (status === 403) {
    // A bad read token answers 401 [obs]; a 403 on a read means the request itself was wrong (butter-api.md §1.2:
    // invalid filter/order field, or `*` matching several page types), so it is reported as a bad request.
    if (!context.write && context.forbidden === 'bad-filter') {
      return butterError('CMS_BAD_REQUEST', `${where} was refused (403)${suffix}`, {
        ...base,
        hint: 'ButterCMS answers 403 to a filter or order on a field the page type or collection does not have; check the field names.',
      });
    }
    if (!context.write && context.forbidden === 'ambiguous-slug') {
      return butterError('CMS_BAD_REQUEST', `${where} was refused (403)${suffix}`, {
        ...base,
        hint: 'With page type "*" ButterCMS answers 403 when the slug exists in several page types; use the page type.',
      });
    }
    return butterError('CMS_AUTH', `${where} was refused (403)${suffix}`, {
      ...base,
      hint: context.write
        ? 'The write token may lack permission for this content; check BUTTER_WRITE_TOKEN.'
        : 'Check BUTTER_READ_TOKEN and that the account plan allows this API.',
    });
  }
  if (status === 404) {
    return butterError('CMS_NOT_FOUND', `${where} found nothing (404)${suffix}`, base);
  }
  if (status === 405) {
    return butterError('CMS_METHOD_NOT_ALLOWED', `${where} is not allowed (405)${suffix}`, base);
  }
  if (status === 429) {
    return butterError('CMS_RATE_LIMITED', `${where} hit the API call limit (429)${suffix}`, {
      ...base,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (status >= 500) {
    return butterError('CMS_SERVER', `${where} failed on the server (${status})${suffix}`, base);
  }
  return butterError('CMS_BAD_REQUEST', `${where} was rejected (${status})${suffix}`, base);
}

/** A 2xx whose body is not the JSON the API always sends (butter-api.md §0). */
export function badResponse(context: RequestContext, status: number, problem: string): SyncError {
  return butterError('CMS_BAD_RESPONSE', `${context.method} ${context.path} answered ${status} ${problem}`, {
    status,
  });
}

/** The transport failed: `timeout` when our per-request limit fired, otherwise a network error. */
export function mapTransportError(error: unknown, context: RequestContext, timedOut: boolean): SyncError {
  const where = `${context.method} ${context.path}`;
  const code = (error as { code?: unknown } | null)?.code;
  if (
    timedOut ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return butterError('CMS_TIMEOUT', `${where} timed out`, { cause: error });
  }
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  return butterError('CMS_NETWORK', `${where} failed: ${reason}`, { cause: error });
}
