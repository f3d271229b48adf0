import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, type Fixture, git, makeFixture, writesIn } from '../helpers/sync-fixture.js';
import { freePort, waitUntil } from '../helpers/wait.js';

// The daemon's pull side: webhooks (secret, duplicates, one entity only) and echo suppression with the hook.
const SECRET = 'webhook-secret-for-tests';
const HEADER = 'X-Butter-Sync-Secret';
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const FAQ = 'content-example/pages/faq/shipping.md';

interface Watch {
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

/** `watch` as a child process on 127.0.0.1, started and through its start-up sync. */
async function startWatch(fx: Fixture): Promise<Watch> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'watch', '--repo', fx.repoDir, '--port', String(port), '--host', '127.0.0.1', '--no-fetch'],
    { env: { ...fx.env(), BUTTER_WEBHOOK_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`watch to finish its start-up sync\n${output}`, async () => {
    try {
      return (await fetch(`${url}/healthz`)).ok && output.includes('start-up sync done');
    } catch {
      return undefined;
    }
  });
  return {
    url,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function pagePayload(slug: string, updated: string): unknown {
  return {
    data: { id: slug, page_type: 'faq', locale: null, status: 'published', updated, editor: 'Editor' },
    webhook: { event: 'page.published', target: 'x' },
  };
}

function itemPayload(collection: string, id: number): unknown {
  return {
    data: {
      id: collection,
      itemid: `/v2/content/?keys=${collection}[_id=${id}]`,
      locale: null,
      status: 'published',
    },
    webhook: { event: 'collectionitem.published', target: 'x' },
  };
}

async function deliver(watch: Watch, body: unknown, secret: string | null = SECRET): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== null) headers[HEADER] = secret;
  const response = await fetch(`${watch.url}/webhooks/butter`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

describe('watch: the pull side', () => {
  let fx: Fixture;
  let watch: Watch | undefined;
  let ids: Record<string, number>;

  beforeEach(async () => {
    fx = await makeFixture({ config: { pull: { intervalSeconds: 0, commit: true } } });
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    ids = Object.fromEntries(
      Object.entries(s.store.manifest.entities).flatMap(([k, e]) =>
        e.remoteId ? [[k, Number(e.remoteId)]] : [],
      ),
    );
    await s.done();
  });
  afterEach(async () => {
    if (watch) expect(await watch.stop()).toBe(143);
    watch = undefined;
    await fx.cleanup();
  });

  it('refuses a wrong or missing secret with 401 and pulls nothing; pulls only the item a delivery names', async () => {
    watch = await startWatch(fx);
    const adaId = ids['item:team_members:ada-lovelace']!;
    fx.emulator.editItem('team_members', adaId, { role: 'Via Webhook' });
    fx.emulator.clearLog();

    expect(await deliver(watch, itemPayload('team_members', adaId), 'wrong-secret')).toBe(401);
    expect(await deliver(watch, itemPayload('team_members', adaId), null)).toBe(401);
    expect(await deliver(watch, itemPayload('team_members', adaId), `${SECRET}x`)).toBe(401);
    expect(await deliver(watch, itemPayload('team_members', adaId))).toBe(202);
    await waitUntil('the pulled role in the file', async () =>
      (await fx.read(MEMBER)).includes('Via Webhook'),
    );
    await waitUntil('the pull commit', async () =>
      (await git(fx.repoDir, 'log', '-1', '--format=%B')).includes('Butter-Sync: pull'),
    );
    // The daemon's queue is serial: the only reads are the one accepted delivery's, one GET per locale of that item.
    const reads = fx.emulator.requestLog().map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(reads).toEqual([
      `GET /v2/content/team_members/${adaId}/`,
      `GET /v2/content/team_members/${adaId}/`,
    ]);
    expect(watch.output()).not.toContain(SECRET);
  });

  it('pulls a duplicate page delivery once', async () => {
    watch = await startWatch(fx);
    fx.emulator.editPage('faq', 'shipping', { headline: 'Pulled once' }, { status: 'published' });
    fx.emulator.clearLog();
    const payload = pagePayload('shipping', '2026-01-01T10:00:00.123456Z');
    expect(await deliver(watch, payload)).toBe(202);
    expect(await deliver(watch, payload)).toBe(202);
    await waitUntil('the pulled headline', async () =>
      (await fx.read(FAQ)).includes('headline: Pulled once'),
    );
    // A later, different delivery is a marker: once its read shows up, any second page pull would have run.
    const tagId = ids['item:tags:engineering']!;
    expect(await deliver(watch, itemPayload('tags', tagId))).toBe(202);
    await waitUntil('the marker read', () =>
      fx.emulator.requestLog().some((r) => r.path.startsWith(`/v2/content/tags/${tagId}/`)),
    );
    const pageReads = fx.emulator.requestLog().filter((r) => r.path.startsWith('/v2/pages/faq/shipping/'));
    expect(pageReads).toHaveLength(2); // en + es, once
    expect(writesIn(fx.emulator)).toEqual([]);
  });

  it('echo: with the hook installed and webhooks on, a push causes no pull and a pull causes no push', async () => {
    const installed = spawn(process.execPath, [CLI, 'hook', 'install', '--repo', fx.repoDir], {
      env: fx.env(),
    });
    expect(await new Promise((resolve) => installed.once('exit', resolve))).toBe(0);
    watch = await startWatch(fx);
    fx.emulator.setWebhooks([{ url: `${watch.url}/webhooks/butter`, headers: { [HEADER]: SECRET } }]);
    fx.emulator.clearLog();

    // A writer saves and commits: the watcher (or the hook) pushes one PATCH; its webhook pulls nothing new.
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Saved and committed"'));
    await git(fx.repoDir, 'add', MEMBER);
    await git(fx.repoDir, 'commit', '-q', '-m', 'edit ada');
    await waitUntil('the PATCH', () => writesIn(fx.emulator).find((w) => w.method === 'PATCH'));
    await fx.emulator.settle();

    // An editor changes a page in the dashboard: its webhook pulls it into the file and commits it.
    fx.emulator.editPage('faq', 'shipping', { headline: 'From the dashboard' }, { status: 'published' });
    await waitUntil('the pull commit', async () =>
      (await git(fx.repoDir, 'log', '-1', '--format=%B')).includes('Butter-Sync: pull'),
    );
    expect(await fx.read(FAQ)).toContain('headline: From the dashboard\n');
    // A marker delivery after everything: once its read shows up, every echo would have happened.
    await new Promise((r) => setTimeout(r, 1_000));
    const tagId = ids['item:tags:engineering']!;
    const marker = fx.emulator.requestLog().length;
    expect(await deliver(watch, itemPayload('tags', tagId))).toBe(202);
    await waitUntil('the marker read', () =>
      fx.emulator
        .requestLog()
        .slice(marker)
        .some((r) => r.path.startsWith(`/v2/content/tags/${tagId}/`)),
    );
    await fx.emulator.settle();
    const writes = writesIn(fx.emulator).map((w) => `${w.method} ${w.path}`);
    expect(writes).toEqual([`PATCH /v2/content/team_members/${ids['item:team_members:ada-lovelace']}/`]);
    expect(await fx.read(MEMBER)).toContain('"Saved and committed"');
    expect(await git(fx.repoDir, 'status', '--porcelain')).toBe('');
  });
});

/** A repo polled every second, already pushed once; `adaId` is a team member's CMS id to edit "in the dashboard". */
async function pollingFixture(): Promise<{ fx: Fixture; adaId: number }> {
  const fx = await makeFixture({ config: { pull: { intervalSeconds: 1, commit: true } } });
  const s = await fx.open();
  await s.engine.push({ verifyWaitMs: 5_000 });
  const adaId = Number(s.store.manifest.entities['item:team_members:ada-lovelace']!.remoteId);
  await s.done();
  return { fx, adaId };
}

describe('watch: polling as the fallback for lost webhooks', () => {
  it('brings a dashboard edit in by polling when every webhook delivery is dropped', async () => {
    const { fx, adaId } = await pollingFixture();
    let watch: Watch | undefined;
    try {
      watch = await startWatch(fx);
      fx.emulator.setWebhooks([{ url: `${watch.url}/webhooks/butter`, headers: { [HEADER]: SECRET } }]);
      fx.emulator.setFaults({ webhookDropRate: 1 });
      fx.emulator.editItem('team_members', adaId, { role: 'Arrived by polling' });
      await waitUntil('the polled role in the file', async () =>
        (await fx.read(MEMBER)).includes('Arrived by polling'),
      );
      await waitUntil('the pull commit', async () =>
        (await git(fx.repoDir, 'log', '-1', '--format=%B')).includes('Butter-Sync: pull'),
      );
    } finally {
      if (watch) expect(await watch.stop()).toBe(143);
      await fx.cleanup();
    }
  });
});

describe('watch: the monthly call budget', () => {
  it("stops polling once the month's calls reach monthlyCallBudget", async () => {
    const { fx, adaId } = await pollingFixture();
    let watch: Watch | undefined;
    try {
      // The start-up sync alone spends more than this budget.
      const config = JSON.parse(await fx.read('sync.config.json')) as Record<string, Record<string, unknown>>;
      config.rate = { ...config.rate, monthlyCallBudget: 5 };
      await fx.write('sync.config.json', `${JSON.stringify(config, null, 2)}\n`);
      watch = await startWatch(fx);
      fx.emulator.clearLog();
      fx.emulator.editItem('team_members', adaId, { role: 'Not polled' });
      await waitUntil('the budget warning', () =>
        watch?.output().includes('monthly call budget reached') ? true : undefined,
      );
      // Two more poll ticks pass: still no read, and the file keeps its value.
      await new Promise((r) => setTimeout(r, 2_200));
      expect(fx.emulator.requestLog()).toEqual([]);
      expect(await fx.read(MEMBER)).not.toContain('Not polled');
    } finally {
      if (watch) expect(await watch.stop()).toBe(143);
      await fx.cleanup();
    }
  });
});
