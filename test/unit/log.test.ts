import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, makeRedactor } from '../../src/log.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
}

describe('logger redaction', () => {
  it('scrubs secret values wherever they appear in a line', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ secrets: ['read-SECRET-1', 'write-SECRET-2', undefined], destination });
    logger.info({ url: 'https://api.buttercms.com/v2/pages/?auth_token=read-SECRET-1' }, 'GET failed');
    logger.warn(new Error('Authorization: Token write-SECRET-2 was refused'));
    logger.info({ nested: { deep: ['write-SECRET-2'] } }, 'msg with read-SECRET-1 inside');
    const out = lines.join('');
    expect(out).not.toContain('read-SECRET-1');
    expect(out).not.toContain('write-SECRET-2');
    expect(out.match(/\[redacted\]/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it('censors known secret-bearing keys even when the value is not a known secret', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination });
    logger.info({ writeToken: 'anything', headers: { authorization: 'Token zzz' } }, 'x');
    expect(lines.join('')).not.toMatch(/anything|Token zzz/);
  });

  it('ignores empty or very short secrets instead of shredding every line', () => {
    const redact = makeRedactor(['', 'ab']);
    expect(redact('a line about abc')).toBe('a line about abc');
  });

  it('scrubs a secret percent-encoded, JSON-escaped or in another letter case (issue 15 item 8)', () => {
    const secret = 'tok/en+9 "x"';
    const redact = makeRedactor([secret]);
    const lines = [
      `GET /v2/pages/?auth_token=${encodeURIComponent(secret)}`,
      `GET /v2/pages/?auth_token=${encodeURIComponent(secret).toLowerCase()}`,
      `form: token=${encodeURIComponent(secret).replaceAll('%20', '+')}`,
      `body: ${JSON.stringify({ token: secret })}`,
      `header echoed: AUTHORIZATION: TOKEN ${secret.toUpperCase()}`,
      `logged twice: ${JSON.stringify(JSON.stringify({ token: secret }))}`,
    ];
    for (const line of lines) {
      const out = redact(line);
      expect(out, line).toContain('[redacted]');
      for (const piece of ['tok/en', 'tok%2fen', 'en%2b9', 'en+9'])
        expect(out.toLowerCase(), line).not.toContain(piece);
    }
  });
});
