import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebflowClient } from 'webflow-api';
import { type CliHandle, runCli, startCli } from '../helpers/cli-process.js';
import { PROJECT_ROOT } from '../helpers/sync-fixture.js';
import { freePort, waitUntil } from '../helpers/wait.js';

// `butter-sync emulator --cms webflow --config FILE` (issue 12): the model from the config, the SDK works against it.

const env = { ...process.env, WEBFLOW_TOKEN: 'emu-webflow-token' };

describe('butter-sync emulator --cms webflow', () => {
  let dir: string;
  let config: string;
  let running: CliHandle | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-wf-emulator-'));
    config = path.join(dir, 'model.json');
    const example = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'sync.config.json'), 'utf8'));
    delete example.$schema;
    await writeFile(config, `${JSON.stringify(example, null, 2)}\n`);
  });
  afterEach(async () => {
    running?.child.kill('SIGTERM');
    await running?.done;
    running = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the config collections as Webflow collections, with the rate limit asked for, to the SDK', async () => {
    const port = await freePort();
    running = startCli(
      ['emulator', '--cms', 'webflow', '--port', String(port), '--rate-limit', '120', '--config', config],
      env,
      dir,
    );
    let out = '';
    running.child.stdout?.on('data', (d) => {
      out += String(d);
    });
    await waitUntil('the emulator banner', () => out.includes('listening at'));
    expect(out).toContain(`export WEBFLOW_API_URL=http://127.0.0.1:${port}/v2`);
    expect(out).not.toContain('emu-webflow-token');
    const siteId = /site: ([0-9a-f]{24})/.exec(out)?.[1];
    expect(siteId).toBeDefined();
    const client = new WebflowClient({
      accessToken: 'emu-webflow-token',
      baseUrl: `http://127.0.0.1:${port}/v2`,
      maxRetries: 0,
    });
    const { collections } = await client.collections.list(siteId!);
    expect(collections?.map((c) => c.slug)).toEqual(['tags', 'team_members']);
    const tags = collections!.find((c) => c.slug === 'tags')!;
    const made = await client.collections.items.createItem(tags.id, {
      fieldData: { name: 'Red', slug: 'red' },
    });
    const raw = await client.collections.items.getItem(tags.id, made.id!).withRawResponse();
    expect(raw.data.fieldData).toMatchObject({ name: 'Red', slug: 'red' });
    expect(raw.rawResponse.headers.get('x-ratelimit-limit')).toBe('120');
    const admin = await fetch(`http://127.0.0.1:${port}/__emulator/log`);
    expect(((await admin.json()) as unknown[]).length).toBe(3);
  });

  it('push, pull and plan refuse a Webflow config with exit code 2 instead of calling ButterCMS', async () => {
    const example = JSON.parse(await readFile(config, 'utf8'));
    await writeFile(config, JSON.stringify({ ...example, cms: { kind: 'webflow', siteId: 'a'.repeat(24) } }));
    // A ButterCMS URL that would fail loudly if it were called.
    const noButter = {
      ...env,
      BUTTER_API_URL: 'http://127.0.0.1:9/v2',
      BUTTER_READ_TOKEN: 'r',
      BUTTER_WRITE_TOKEN: 'w',
    };
    for (const command of ['push', 'pull', 'plan']) {
      const result = await runCli([command, '--config', config, '--repo', dir], noButter, dir);
      expect(result.code, `${command}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('not yet supported by this version');
    }
    await writeFile(config, JSON.stringify({ ...example, cms: { kind: 'webflow' } }));
    const missing = await runCli(['push', '--config', config, '--repo', dir], noButter, dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cms.siteId');
  });

  it('refuses an unknown --cms with exit code 2', async () => {
    const result = await runCli(['emulator', '--cms', 'contentful', '--config', config], env, dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown --cms "contentful"');
  });
});
