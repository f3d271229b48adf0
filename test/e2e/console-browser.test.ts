import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleWatch, findChromium, startConsoleWatch } from '../helpers/console-watch.js';
import { callEmulator } from '../helpers/emulator.js';
import { type Fixture, makeFixture, PROJECT_ROOT } from '../helpers/sync-fixture.js';
import { waitUntil } from '../helpers/wait.js';

// The console in a real browser: log in, see a pending write and two conflicts, settle them with clicks,
// and see the file and ButterCMS agree. With UPDATE_CONSOLE_SCREENSHOT=1 it also rewrites docs/console.png.
const TOKEN = 'console-token-for-browser-tests';
const SHIPPING = 'content-example/pages/faq/shipping.md';
const RETURNS = 'content-example/pages/faq/returns.md';
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const HOSTILE = '<script>window.__injected = 1</script> Free shipping over 50 EUR';

const executablePath = findChromium();
if (!executablePath && process.env.CI) {
  throw new Error('chromium is missing on CI: .ci/run installs it with `apt-get install -y chromium`');
}
const skipNote = executablePath
  ? ''
  : ' (SKIPPED: no chromium at /usr/bin/chromium or $CHROMIUM_PATH; install it with `apt-get install -y chromium`)';

describe.skipIf(!executablePath)(`console in headless Chromium${skipNote}`, () => {
  let fx: Fixture;
  let watch: ConsoleWatch;
  let browser: BrowserContext;
  let profileDir: string;

  beforeAll(async () => {
    fx = await makeFixture({ config: { pull: { intervalSeconds: 300, commit: true } } });
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
    // Both sides change the same fields: the daemon's start-up sync records two conflicts.
    await fx.write(SHIPPING, (await fx.read(SHIPPING)).replace('Everything about shipping', HOSTILE));
    await fx.write(RETURNS, (await fx.read(RETURNS)).replace('Returning an order', 'Returns, as Git has it'));
    await fx.commitAll('writer edits');
    fx.emulator.editPage(
      'faq',
      'shipping',
      { headline: 'Shipping, as the dashboard has it' },
      { status: 'published' },
    );
    fx.emulator.editPage(
      'faq',
      'returns',
      { headline: 'Returns, as the dashboard has it' },
      { status: 'published' },
    );
    await fx.emulator.settle();

    watch = await startConsoleWatch(fx, { BUTTER_SYNC_CONSOLE_TOKEN: TOKEN });
    profileDir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-chromium-'));
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    expect(await watch?.stop()).toBe(143);
    await fx?.cleanup();
    if (profileDir) await rm(profileDir, { recursive: true, force: true });
  });

  it('shows a pending write and the conflicts; "Keep Git" and "Keep CMS" settle the file and ButterCMS', async () => {
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000); // fail on the step that did not happen, inside the test's own timeout
    // A script error or a Content-Security-Policy refusal of the page's own assets shows up here.
    const browserErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(message.text());
    });
    page.on('pageerror', (error) => browserErrors.push(error.message));
    await page.goto(watch.url);
    await page.fill('input[name="token"]', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForSelector('#conflicts');

    // A write ButterCMS accepts but never applies stays pending until its deadline.
    fx.emulator.setFaults({ failAfterAcceptRate: 1 });
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Head of Words"'));
    const pendingRow = page.locator('#pending tbody tr', { hasText: MEMBER });
    // Recorded before sending ("about to be sent"), then answered 202 ("sent").
    await pendingRow.filter({ hasText: 'sent, waiting for read-back' }).waitFor();
    fx.emulator.setFaults({ failAfterAcceptRate: 0 });
    expect(await pendingRow.innerText()).toMatch(
      /update-item\s+sent, waiting for read-back\s+\d+ s ago\s+in \d+ s/,
    );

    const shipping = page.locator('article.conflict', { hasText: SHIPPING });
    const returns = page.locator('article.conflict', { hasText: RETURNS });
    // The Git value holding a <script> shows as text, and nothing ran.
    expect(await shipping.locator('td.git pre').innerText()).toBe(HOSTILE);
    expect(await shipping.locator('td.cms pre').innerText()).toBe('Shipping, as the dashboard has it');
    // The base comes from the file's git history (the manifest keeps only its digest).
    await shipping.locator('td.base pre', { hasText: 'Everything about shipping' }).waitFor();
    expect(await returns.locator('td.base pre').innerText()).toBe('Returning an order');
    expect(await page.evaluate(() => (globalThis as { __injected?: number }).__injected)).toBeUndefined();
    expect(await page.content()).not.toContain(TOKEN);
    // The push that sent it is listed with what it cost once it has waited for its read-back.
    await page.locator('#activity li li', { hasText: MEMBER }).waitFor();
    expect(await page.locator('#activity li li', { hasText: MEMBER }).innerText()).toMatch(
      /role sent [1-9]\d* call/,
    );
    // UPDATE_CONSOLE_SCREENSHOT=1 refreshes the README's picture; otherwise it goes to the throwaway profile dir.
    const shot = process.env.UPDATE_CONSOLE_SCREENSHOT
      ? path.join(PROJECT_ROOT, 'docs/console.png')
      : path.join(profileDir, 'console.png');
    expect((await page.screenshot({ path: shot, fullPage: true })).length).toBeGreaterThan(10_000);

    await shipping.getByRole('button', { name: 'Keep Git' }).click();
    await page
      .locator('#flash', { hasText: `Resolved 1 conflict(s) in ${SHIPPING} keeping the file` })
      .waitFor();
    await returns.getByRole('button', { name: 'Keep CMS' }).click();
    await page
      .locator('#flash', { hasText: `Resolved 1 conflict(s) in ${RETURNS} keeping the CMS` })
      .waitFor();
    await page.locator('#conflicts h2', { hasText: 'Conflicts (0)' }).waitFor();

    // Keep Git: ButterCMS now holds the file's headline. Keep CMS: the file now holds ButterCMS's.
    await waitUntil('ButterCMS to hold the Git headline', async () => {
      const { json } = await callEmulator(fx.emulator, '/v2/pages/faq/shipping/?preview=1');
      return json?.data?.fields?.headline === HOSTILE;
    });
    expect(await fx.read(SHIPPING)).toContain(HOSTILE);
    expect(await fx.read(RETURNS)).toContain('headline: Returns, as the dashboard has it\n');
    const { json: returnsPage } = await callEmulator(fx.emulator, '/v2/pages/faq/returns/?preview=1');
    expect(returnsPage.data.fields.headline).toBe('Returns, as the dashboard has it');
    expect(watch.output()).not.toContain(TOKEN);
    // The login page's 401 is the only error the browser reports.
    expect(browserErrors.filter((e) => !e.includes('401'))).toEqual([]);
  }, 90_000);
});
