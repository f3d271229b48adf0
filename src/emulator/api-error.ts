/** An HTTP answer raised from deep inside a handler; the server turns it into a DRF-style JSON response (butter-api.md §1.2). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

/** 400 with DRF's field → messages map. */
export function badRequest(errors: Record<string, string[]>): ApiError {
  return new ApiError(400, errors);
}

/** 400/403/404 with a `detail` string. */
export function detailError(status: number, detail: string): ApiError {
  return new ApiError(status, { detail });
}
