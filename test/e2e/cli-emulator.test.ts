import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliHandle, runCli, startCli } from '../helpers/cli-process.js';
import { PROJECT_ROOT } from '../helpers/sync-fixture.js';
import { freePort, waitUntil } from '../helpers/wait.js';

// `butter-sync emulator` as the trial met it (trial-real-content.md F14, F20): --config in its help, the
// admin index, an edited model picked up without a restart, a taken port said plainly.

const env = { ...process.env, BUTTER_READ_TOKEN: 'emu-read-token', BUTTER_WRITE_TOKEN: 'emu-write-token' };

async function get(url: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, { headers: { authorization: 'Token emu-read-token' } });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

describe('butter-sync emulator', () => {
  let dir: string;
  let config: string;
  let running: CliHandle | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-emulator-'));
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

  async function startOn(port: number): Promise<string> {
    running = startCli(['emulator', '--port', String(port), '--config', config], env, dir);
    let out = '';
    running.child.stdout?.on('data', (d) => {
      out += String(d);
    });
    await waitUntil('the emulator banner', () => out.includes('listening at'));
    return `http://127.0.0.1:${port}`;
  }

  it('documents --config and webhook registration in its help', async () => {
    const help = await runCli(['emulator', '--help'], env, dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--config <file>');
    expect(help.stdout).toContain('/__emulator/webhooks');
    expect(help.stdout).toContain('/__emulator/');
  });

  it('answers GET /__emulator/ with its admin routes, and serves a collection added to the config while running', async () => {
    const origin = await startOn(await freePort());
    const index = await get(`${origin}/__emulator/`);
    expect(index.status).toBe(200);
    const routes = (index.json as { routes: Array<{ route: string }> }).routes.map((r) => r.route);
    for (const route of ['GET /__emulator/log', 'POST /__emulator/webhooks', 'POST /__emulator/faults']) {
      expect(routes).toContain(route);
    }
    expect((await get(`${origin}/v2/content/authors/?auth_token=emu-read-token`)).status).toBe(404);

    const edited = JSON.parse(await readFile(config, 'utf8'));
    edited.collections.authors = { keyField: 'slug', fields: { slug: 'text', name: 'text' } };
    await writeFile(config, `${JSON.stringify(edited, null, 2)}\n`);
    const answer = await waitUntil('the edited model to be served', async () => {
      const r = await get(`${origin}/v2/content/authors/?auth_token=emu-read-token`);
      return r.status === 200 ? r : undefined;
    });
    expect(answer.json).toMatchObject({ data: { authors: [] } });

    // A broken edit keeps the last good model and says so on stderr.
    let err = '';
    running?.child.stderr?.on('data', (d) => {
      err += String(d);
    });
    await writeFile(config, '{ "contentDir": 3 }\n');
    await waitUntil('the refusal of the broken config', () =>
      err.includes('keeps the previous content model'),
    );
    expect((await get(`${origin}/v2/content/authors/?auth_token=emu-read-token`)).status).toBe(200);
  });

  it('says plainly that a taken port is taken (exit 2, no stack trace)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = await runCli(['emulator', '--port', String(port), '--config', config], env, dir);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(run.stderr).toContain('--port');
      expect(run.stderr).not.toMatch(/at .*\.js:\d+/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
