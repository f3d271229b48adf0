/**
 * Webflow's per-token request budget (webflow-api.md §5): N requests per minute per API key, with
 * `X-RateLimit-Limit`/`-Remaining` on every answer and `Retry-After` on a 429. Webflow does not document how the
 * minute is cut; a fixed window opened by the first request is the assumption (unverified), and the clock is
 * injected so a test can cross a window without waiting.
 */
export class RateWindow {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: () => number,
    private readonly now: () => number,
    private readonly windowMs = 60_000,
  ) {}

  /** Count one request of `key`; `allowed: false` means answer 429 (the refused request is not counted). */
  take(key: string): { allowed: boolean; limit: number; remaining: number; retryAfterSeconds: number } {
    const now = this.now();
    const limit = this.limit();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
    if (w.count >= limit) return { allowed: false, limit, remaining: 0, retryAfterSeconds };
    w.count++;
    return { allowed: true, limit, remaining: limit - w.count, retryAfterSeconds };
  }

  clear(): void {
    this.windows.clear();
  }
}
