import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webflow webhook authentication (webflow-api.md §8): `x-webflow-signature` is the lowercase hex
 * HMAC-SHA256(secret, "<x-webflow-timestamp>:<raw body>"), the timestamp in Unix ms. The SDK's own
 * `verifySignature` compares with `===` and never checks the age (obs K1); this one hashes the raw bytes,
 * compares in constant time and refuses deliveries outside a 5-minute window (D6, D15), so a captured delivery
 * cannot be replayed later.
 */

export const WEBHOOK_MAX_AGE_MS = 5 * 60 * 1000;

export type SignatureCheck =
  | { ok: true; timestampMs: number }
  | {
      ok: false;
      reason: 'missing-headers' | 'bad-timestamp' | 'too-old' | 'in-the-future' | 'bad-signature';
    };

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Check one delivery; `rawBody` must be the bytes received, before any JSON parse (a re-serialized body differs). */
export function verifyWebflowSignature(input: {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer | string;
  secret: string;
  now?: number;
  maxAgeMs?: number;
}): SignatureCheck {
  const timestamp = header(input.headers, 'x-webflow-timestamp');
  const signature = header(input.headers, 'x-webflow-signature');
  if (!timestamp || !signature) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'bad-timestamp' };
  const timestampMs = Number(timestamp);
  const now = input.now ?? Date.now();
  const maxAge = input.maxAgeMs ?? WEBHOOK_MAX_AGE_MS;
  if (now - timestampMs > maxAge) return { ok: false, reason: 'too-old' };
  // A clock far ahead of ours is as suspicious as an old one: the same window on both sides.
  if (timestampMs - now > maxAge) return { ok: false, reason: 'in-the-future' };
  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody, 'utf8') : input.rawBody;
  const expected = createHmac('sha256', input.secret).update(`${timestamp}:`).update(body).digest();
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return { ok: false, reason: 'bad-signature' };
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }
  return { ok: true, timestampMs };
}
