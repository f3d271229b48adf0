import { ApiError } from '../api-error.js';

/**
 * Webflow error bodies: `{message, code, externalReference, details}` in that key order for every status
 * (webflow-api.md §6); the texts are the recorded ones where the contract has them.
 */

export interface ErrorDetail {
  param: string;
  description: string;
}

export function webflowError(
  status: number,
  code: string,
  message: string,
  details: ErrorDetail[] = [],
  headers: Record<string, string> = {},
): ApiError {
  return new ApiError(status, { message, code, externalReference: null, details }, headers);
}

export const notFound = (): ApiError =>
  webflowError(404, 'resource_not_found', 'Requested resource not found');

export const badRequest = (
  message = 'Bad Request: Request is malformed',
  details: ErrorDetail[] = [],
): ApiError => webflowError(400, 'bad_request', message, details);

export const validationError = (details: ErrorDetail[]): ApiError =>
  webflowError(400, 'validation_error', 'Validation Error', details);

export const NEVER_PUBLISHED_MESSAGE =
  "Conflict: Conflict with server data: Live PATCH updates can't be applied to items that have never been published";
export const STRUCTURE_CHANGED_MESSAGE = 'Conflict: The collection structure changed since the last publish';

export const tooManyRequests = (retryAfterSeconds: number): ApiError =>
  webflowError(429, 'too_many_requests', 'Too Many Requests', [], {
    'retry-after': String(retryAfterSeconds),
  });

export const internalError = (): ApiError =>
  webflowError(500, 'internal_error', 'An Internal Error occurred');
