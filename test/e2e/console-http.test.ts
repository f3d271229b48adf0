import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../../src/server/console-auth.js';
import { type ConsoleWatch, startConsoleWatch } from '../helpers/console-watch.js';
import { TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { type Fixture, makeFixture } from '../helpers/sync-fixture.js';

// The console's security over real HTTP against a real `watch`: login, cookie flags, Bearer, CSRF,
// loopback-only without a token, and escaping of content values.
const TOKEN = 'console-token-for-http-tests';
const SHIPPING = 'content-example/pages/faq/shipping.md';
const HOSTILE = '<script>window.__injected = 1</script> Free shipping';
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const BROKEN = 'content-example/pages/faq/broken.md';
const RATE = { requestsPerSecond: 200, concurrency: 8, timeoutMs: 10_000, maxRetries: 3 };

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch: the tests need to set Host and to see redirects and Set-Cookie as sent. */
function call(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {},
): Promise<Answer> {
  const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  const headers: Record<string, string> = { ...init.headers };
  if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method: init.method ?? 'GET', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function cookieOf(answer: Answer): string {
  const set = answer.headers['set-cookie'];
  const first = Array.isArray(set) ? set[0] : set;
  if (!first) throw new Error(`no Set-Cookie (status ${answer.status})`);
  return first;
}

function csrfOf(page: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error('no CSRF field in the page');
  return match[1];
}

/** A repo pushed once, then edited on both sides: the daemon's start-up sync records one conflict. */
async function conflictFixture(config: Parameters<typeof makeFixture>[0] = {}): Promise<Fixture> {
  const fx = await makeFixture({ config: { pull: { intervalSeconds: 0, commit: true }, ...config.config } });
  const s = await fx.open();
  await s.engine.push({ verifyWaitMs: 5_000 });
  await s.done();
  await fx.write(SHIPPING, (await fx.read(SHIPPING)).replace('Everything about shipping', HOSTILE));
  await fx.commitAll('writer edit');
  fx.emulator.editPage('faq', 'shipping', { headline: 'From the dashboard' }, { status: 'published' });
  await fx.emulator.settle();
  return fx;
}

describe('console with BUTTER_SYNC_CONSOLE_TOKEN set', () => {
  let fx: Fixture;
  let watch: ConsoleWatch;

  beforeAll(async () => {
    fx = await conflictFixture({ config: { rate: { ...RATE, monthlyCallBudget: 10_000 } } });
    // A file that cannot be read, and a team member tagged with a tag ButterCMS does not have (held back).
    await fx.write(BROKEN, '---\ntitle: Broken\nheadline: [unclosed\n---\nBody\n');
    await fx.write(
      MEMBER,
      (await fx.read(MEMBER)).replace('"engineering"]', '"engineering", "not-there-yet"]'),
    );
    await fx.commitAll('a broken file and a dangling reference');
    watch = await startConsoleWatch(fx, { BUTTER_SYNC_CONSOLE_TOKEN: TOKEN });
  }, 60_000);
  afterAll(async () => {
    expect(await watch?.stop()).toBe(143);
    await fx?.cleanup();
  });

  it('answers a login form to strangers, and 401 to scripts without the token', async () => {
    const page = await call(watch.url, '/');
    expect(page.status).toBe(401);
    expect(page.body).toContain('<form method="post" action="/login">');
    expect(page.body).toContain('name="token"');
    expect(page.body).not.toContain('From the dashboard');
    expect((await call(watch.url, '/console/state.json')).status).toBe(401);
    expect((await call(watch.url, '/console/events')).status).toBe(401);
    const forged = await call(watch.url, '/console/resolve', {
      method: 'POST',
      form: { path: SHIPPING, take: 'cms' },
    });
    expect(forged.status).toBe(401);
    const wrongBearer = await call(watch.url, '/console/state.json', {
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    expect(wrongBearer.status).toBe(401);
  });

  it('logs in with the token only, into an HttpOnly SameSite=Strict cookie that is not the token', async () => {
    const wrong = await call(watch.url, '/login', { method: 'POST', form: { token: 'not-it' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(wrong.body).toContain('That is not the console token.');

    const right = await call(watch.url, '/login', { method: 'POST', form: { token: TOKEN } });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe('/');
    const cookie = cookieOf(right);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    expect(cookie).not.toContain('Secure');
    // Behind an HTTPS proxy the cookie is also Secure.
    const proxied = await call(watch.url, '/login', {
      method: 'POST',
      headers: { 'x-forwarded-proto': 'https' },
      form: { token: TOKEN },
    });
    expect(cookieOf(proxied)).toMatch(/; Secure$/);
  });

  it('shows content values as text, sends a strict CSP, and puts no secret in the page', async () => {
    const login = await call(watch.url, '/login', { method: 'POST', form: { token: TOKEN } });
    const session = cookieOf(login).split(';')[0]!;
    const page = await call(watch.url, '/', { headers: { cookie: session } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('&lt;script&gt;window.__injected = 1&lt;/script&gt; Free shipping');
    expect(page.body).not.toContain('<script>window.__injected');
    expect(page.body).toContain('<td class="cms"><pre>From the dashboard</pre>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    for (const secret of [TOKEN, TEST_WRITE_TOKEN, TEST_READ_TOKEN]) expect(page.body).not.toContain(secret);
    const state = await call(watch.url, '/console/state.json', { headers: { cookie: session } });
    for (const secret of [TOKEN, TEST_WRITE_TOKEN, TEST_READ_TOKEN]) expect(state.body).not.toContain(secret);
  });

  it('lists failures with their reason and what to do, and the month against the budget', async () => {
    const state = await call(watch.url, '/console/state.json', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const snapshot = JSON.parse(state.body);
    const page = (await call(watch.url, '/', { headers: { authorization: `Bearer ${TOKEN}` } })).body;
    const failures = page.slice(
      page.indexOf('<section id="failures">'),
      page.indexOf('<section id="activity">'),
    );
    expect(failures).toContain(`${BROKEN}:`);
    expect(failures).toContain(snapshot.problems[0].hint.replace(/&/g, '&amp;').replace(/'/g, '&#39;'));
    expect(failures).toMatch(
      /ada-lovelace\.json<\/td><td>held back<\/td><td>not sent: it [^<]*not-there-yet/,
    );
    expect(failures).toContain('Push the referenced file too');
    expect(page).toMatch(/<strong>\d+<\/strong> in \d{4}-\d{2} \(\d+% of the 10000 budget\)/);
    expect(page).toContain('<line x1="0"');
  });

  it('refuses an action without its CSRF token or by GET; with it, resolves and says so once', async () => {
    const login = await call(watch.url, '/login', { method: 'POST', form: { token: TOKEN } });
    const session = cookieOf(login).split(';')[0]!;
    const page = await call(watch.url, '/', { headers: { cookie: session } });
    const csrf = csrfOf(page.body);

    const headers = { cookie: session, accept: 'application/json' };
    const noCsrf = await call(watch.url, '/console/resolve', {
      method: 'POST',
      headers,
      form: { path: SHIPPING, take: 'cms' },
    });
    expect(noCsrf.status).toBe(403);
    const wrongCsrf = await call(watch.url, '/console/resolve', {
      method: 'POST',
      headers,
      form: { path: SHIPPING, take: 'cms', csrf: `${csrf}x` },
    });
    expect(wrongCsrf.status).toBe(403);
    expect((await call(watch.url, `/console/resolve?path=${SHIPPING}&take=cms`, { headers })).status).toBe(
      405,
    );
    const still = JSON.parse((await call(watch.url, '/console/state.json', { headers })).body);
    expect(still.conflicts).toHaveLength(1);

    // A plain form post (no JavaScript): 303 back to the page, which shows the outcome once.
    const done = await call(watch.url, '/console/resolve', {
      method: 'POST',
      headers: { cookie: session },
      form: { path: SHIPPING, take: 'cms', csrf },
    });
    expect(done.status).toBe(303);
    const after = await call(watch.url, '/', { headers: { cookie: session } });
    expect(after.body).toContain(`Resolved 1 conflict(s) in ${SHIPPING} keeping the CMS.`);
    expect(after.body).toContain('Conflicts (0)');
    const again = await call(watch.url, '/', { headers: { cookie: session } });
    expect(again.body).not.toContain('Resolved 1 conflict(s)');
    expect(await fx.read(SHIPPING)).toContain('headline: From the dashboard\n');

    // Scripts use the Bearer token; there is nothing left to resolve, and the answer says so.
    const bearer = await call(watch.url, '/console/resolve', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      form: { path: SHIPPING, take: 'git' },
    });
    expect(bearer.status).toBe(409);
    expect(JSON.parse(bearer.body).message).toContain(`no recorded conflict for ${SHIPPING}`);

    // The live stream of a session that logs out ends (call() resolves only when the answer ends).
    const stream = call(watch.url, '/console/events', { headers: { cookie: session } });
    const logout = await call(watch.url, '/logout', {
      method: 'POST',
      headers: { cookie: session },
      form: { csrf },
    });
    expect(logout.status).toBe(303);
    const ended = await stream;
    expect(ended.status).toBe(200);
    expect(ended.headers['content-type']).toContain('text/event-stream');
    expect((await call(watch.url, '/', { headers: { cookie: session } })).status).toBe(401);
    expect(watch.output()).not.toContain(TOKEN);
  });
});

describe('console without a token', () => {
  let fx: Fixture;
  let watch: ConsoleWatch;

  beforeAll(async () => {
    fx = await conflictFixture();
    // The start-up sync's first reads are answered "rate limited" (429): the console counts the pauses.
    fx.emulator.setFaults({ burst429: 2, retryAfterSeconds: 1 });
    watch = await startConsoleWatch(fx, { BUTTER_SYNC_CONSOLE_TOKEN: '' });
  }, 60_000);
  afterAll(async () => {
    expect(await watch?.stop()).toBe(143);
    await fx?.cleanup();
  });

  it('opens on loopback with a session, refuses another Host name, and still wants CSRF for actions', async () => {
    const page = await call(watch.url, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('open to this machine only');
    const session = cookieOf(page).split(';')[0]!;

    // A web page whose name was re-pointed at 127.0.0.1 (DNS rebinding) must not read the console.
    const rebound = await call(watch.url, '/', { headers: { host: 'attacker.example' } });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('BUTTER_SYNC_CONSOLE_TOKEN');

    const forged = await call(watch.url, '/console/resolve', {
      method: 'POST',
      headers: { cookie: session, accept: 'application/json' },
      form: { path: SHIPPING, take: 'cms' },
    });
    expect(forged.status).toBe(403);
    const state = JSON.parse(
      (await call(watch.url, '/console/state.json', { headers: { cookie: session } })).body,
    );
    expect(state.conflicts).toHaveLength(1);
    expect(state.daemon.rateLimitPauses).toBe(2);
    expect(page.body).toMatch(/<dt>Rate-limit pauses<\/dt><dd>2, last <time/);
  });

  it('counts only loopback peers as loopback', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
    expect(['10.0.0.1', '::ffff:192.168.1.2', '172.17.0.1', '', undefined].some(isLoopbackAddress)).toBe(
      false,
    );
  });
});

describe('console with a short token', () => {
  it('warns once at start-up, without printing the token', async () => {
    const fx = await makeFixture({ config: { pull: { intervalSeconds: 0 } } });
    try {
      const watch = await startConsoleWatch(fx, { BUTTER_SYNC_CONSOLE_TOKEN: 'k3y9x' });
      expect(await watch.stop()).toBe(143);
      expect(watch.output().match(/BUTTER_SYNC_CONSOLE_TOKEN is shorter than 16 characters/g)).toHaveLength(
        1,
      );
      expect(watch.output()).not.toContain('k3y9x');
    } finally {
      await fx.cleanup();
    }
  });
});
