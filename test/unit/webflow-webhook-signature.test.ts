import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebflowSignature, WEBHOOK_MAX_AGE_MS } from '../../src/cms/webflow/webhook-signature.js';

// webflow-api.md §8: HMAC-SHA256 of "timestamp:body", constant-time comparison, a 5-minute window.

const secret = 'whsec-test';
const body =
  '{"triggerType":"collection_item_changed","payload":{"id":"684ad5c1ad20a9327e58ebce","name":"Café"}}';
const now = 1_722_370_035_277;

function sign(ts: number | string, raw: string | Buffer = body, key = secret): string {
  return createHmac('sha256', key).update(`${ts}:`).update(raw).digest('hex');
}

function headersFor(ts: number | string, signature = sign(ts)): Record<string, string> {
  return { 'x-webflow-timestamp': String(ts), 'x-webflow-signature': signature };
}

describe('verifyWebflowSignature', () => {
  it('accepts a delivery signed with the secret over "timestamp:raw body"', () => {
    expect(verifyWebflowSignature({ headers: headersFor(now), rawBody: body, secret, now })).toEqual({
      ok: true,
      timestampMs: now,
    });
    expect(
      verifyWebflowSignature({ headers: headersFor(now), rawBody: Buffer.from(body), secret, now }).ok,
    ).toBe(true);
    // Upper-case hex is the same bytes.
    const upper = headersFor(now, sign(now).toUpperCase());
    expect(verifyWebflowSignature({ headers: upper, rawBody: body, secret, now }).ok).toBe(true);
  });

  it('refuses another body, another secret, another timestamp and a re-serialized body', () => {
    const check = (h: Record<string, string>, raw: string) =>
      verifyWebflowSignature({ headers: h, rawBody: raw, secret, now });
    expect(check(headersFor(now), `${body} `)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(check(headersFor(now, sign(now, body, 'other')), body)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(check(headersFor(now, sign(now - 1)), body)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(check(headersFor(now), JSON.stringify(JSON.parse(body), null, 1))).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(check(headersFor(now, 'abc'), body)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(check(headersFor(now, sign(now).slice(0, 62)), body)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses deliveries older than 5 minutes (a replay) and ones from far in the future', () => {
    const old = now - WEBHOOK_MAX_AGE_MS - 1;
    expect(verifyWebflowSignature({ headers: headersFor(old), rawBody: body, secret, now })).toEqual({
      ok: false,
      reason: 'too-old',
    });
    const edge = now - WEBHOOK_MAX_AGE_MS;
    expect(verifyWebflowSignature({ headers: headersFor(edge), rawBody: body, secret, now }).ok).toBe(true);
    const ahead = now + WEBHOOK_MAX_AGE_MS + 1;
    expect(verifyWebflowSignature({ headers: headersFor(ahead), rawBody: body, secret, now })).toEqual({
      ok: false,
      reason: 'in-the-future',
    });
  });

  it('refuses unsigned deliveries and timestamps that are not Unix ms', () => {
    expect(verifyWebflowSignature({ headers: {}, rawBody: body, secret, now })).toEqual({
      ok: false,
      reason: 'missing-headers',
    });
    expect(
      verifyWebflowSignature({ headers: headersFor('2024-07-30T20:07:15Z'), rawBody: body, secret, now }),
    ).toEqual({
      ok: false,
      reason: 'bad-timestamp',
    });
  });
});
