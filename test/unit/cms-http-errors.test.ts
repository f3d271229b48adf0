import { describe, expect, it } from 'vitest';
import {
  BUTTER_HINTS,
  mapHttpError,
  mapTransportError,
  parseRetryAfter,
  type RequestContext,
  readErrorBody,
} from '../../src/cms/butter/http-errors.js';
import { ERROR_CATALOGUE, type ErrorCode, SyncError } from '../../src/core/errors.js';

const read: RequestContext = { method: 'GET', path: '/v2/content/tags/?fields.colour=red', write: false };
const write: RequestContext = { method: 'POST', path: '/v2/pages/', write: true };

describe('readErrorBody', () => {
  it('splits a DRF field-error object into field errors', () => {
    expect(
      readErrorBody({ title: ['You must specify a page title.'], slug: ['You must specify a page slug.'] }),
    ).toEqual({
      fieldErrors: { title: ['You must specify a page title.'], slug: ['You must specify a page slug.'] },
    });
  });

  it('reads an array of strings, {"error"}, {"detail"} and the "" key as plain messages', () => {
    expect(readErrorBody(['a', 'b'])).toEqual({ messages: ['a', 'b'] });
    expect(
      readErrorBody({ error: 'Cannot create a new Collection Item. Collection Item Limit Reached.' }),
    ).toEqual({
      messages: ['Cannot create a new Collection Item. Collection Item Limit Reached.'],
    });
    expect(
      readErrorBody({ detail: 'Invalid locale parameter', '': ['whole body'], name: 'required' }),
    ).toEqual({
      messages: ['Invalid locale parameter', 'whole body'],
      fieldErrors: { name: ['required'] },
    });
    expect(readErrorBody(undefined)).toEqual({});
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, and ignores junk', () => {
    expect(parseRetryAfter('2')).toBe(2);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
  });
});

describe('mapHttpError', () => {
  it('maps each status to its catalogue code, naming method and path', () => {
    const cases: Array<[number, string]> = [
      [400, 'CMS_BAD_REQUEST'],
      [401, 'CMS_AUTH'],
      [404, 'CMS_NOT_FOUND'],
      [405, 'CMS_METHOD_NOT_ALLOWED'],
      [429, 'CMS_RATE_LIMITED'],
      [500, 'CMS_SERVER'],
      [503, 'CMS_SERVER'],
      [301, 'CMS_BAD_RESPONSE'],
      [409, 'CMS_BAD_REQUEST'],
    ];
    for (const [status, code] of cases) {
      const error = mapHttpError(status, { detail: 'x' }, write);
      expect(error.code, String(status)).toBe(code);
      expect(error.status).toBe(status);
      expect(error.message).toContain('POST /v2/pages/');
    }
  });

  it('keeps the 400 field messages in details and in the message', () => {
    const error = mapHttpError(400, { title: ['You must specify a page title.'] }, write);
    expect(error.details).toEqual({ fieldErrors: { title: ['You must specify a page title.'] } });
    expect(error.message).toContain('title: You must specify a page title.');
  });

  it('reads a 403 on a filtered read or a "*" lookup as a bad request, and on a write as credentials', () => {
    expect(mapHttpError(403, { detail: 'nope' }, { ...read, forbidden: 'bad-filter' }).code).toBe(
      'CMS_BAD_REQUEST',
    );
    const ambiguous = mapHttpError(403, {}, { ...read, forbidden: 'ambiguous-slug' });
    expect(ambiguous.code).toBe('CMS_BAD_REQUEST');
    expect(ambiguous.hint).toMatch(/several page types/);
    expect(mapHttpError(403, {}, { ...read, forbidden: 'credentials' }).code).toBe('CMS_AUTH');
    expect(mapHttpError(403, {}, { ...write, forbidden: 'bad-filter' }).code).toBe('CMS_AUTH');
  });

  it('points at the write token on a refused write and carries Retry-After on a 429', () => {
    expect(mapHttpError(401, { detail: 'Invalid token.' }, write).hint).toMatch(/BUTTER_WRITE_TOKEN/);
    expect(mapHttpError(401, { detail: 'Invalid token.' }, read).hint).toMatch(/BUTTER_READ_TOKEN/);
    expect(mapHttpError(429, {}, read, 7).retryAfterSeconds).toBe(7);
  });
});

describe('mapTransportError', () => {
  it('tells timeouts from network failures', () => {
    expect(mapTransportError(new Error('aborted'), read, true).code).toBe('CMS_TIMEOUT');
    expect(
      mapTransportError(Object.assign(new Error('h'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), read, false).code,
    ).toBe('CMS_TIMEOUT');
    const refused = mapTransportError(
      Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
      read,
      false,
    );
    expect(refused.code).toBe('CMS_NETWORK');
    expect(refused.message).toContain('ECONNREFUSED');
  });
});

describe('whose words the CMS errors are', () => {
  it('the catalogue speaks of whichever CMS runs; the ButterCMS client adds its own hints', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(`${code}: ${entry.title} ${entry.hint}`).not.toMatch(/butter(?!-sync)/i);
    }
    // A 404 and a transport failure from the Butter client name ButterCMS's dashboard and URL variable.
    expect(mapHttpError(404, {}, read).hint).toBe(BUTTER_HINTS.CMS_NOT_FOUND);
    expect(mapHttpError(404, {}, read).hint).toContain('ButterCMS dashboard');
    expect(mapTransportError(new Error('boom'), read, false).hint).toContain('BUTTER_API_URL');
    // A hint given where the error is made still wins.
    expect(mapHttpError(401, {}, write).hint).toContain('BUTTER_WRITE_TOKEN');
    // The same code raised outside the Butter client gets the neutral hint.
    const neutral = new SyncError('CMS_NOT_FOUND' satisfies ErrorCode, 'x');
    expect(neutral.hint).toBe(ERROR_CATALOGUE.CMS_NOT_FOUND.hint);
    expect(neutral.hint).not.toContain('Butter');
  });
});
