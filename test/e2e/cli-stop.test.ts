import { subscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/errors.js';
import { readManifest } from '../../src/state/manifest-store.js';
import { type CliFixture, enginePushedTemplate, templatePerFile } from '../helpers/cli-fixture.js';
import { startCli } from '../helpers/cli-process.js';
import { waitUntil } from '../helpers/wait.js';

// Issue 15 item 6: a stop takes seconds, not the rest of the run (docker stop gives 10 s before SIGKILL).
const LATENCY_MS = 3_000;
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';

// Requests that reached an HTTP server in this process (the test's emulator) since the file started: the
// emulator logs a request only when it answers, 3 s later.
let serverRequests = 0;
subscribe('http.server.request.start', () => {
  serverRequests += 1;
});

describe('SIGTERM under a slow API', () => {
  let fx: CliFixture;
  // The first push runs once (in-process); each test gets its own copy of the result.
  const pushed = templatePerFile(() => enginePushedTemplate());

  beforeEach(async () => {
    fx = await pushed.fresh();
    fx.emulator.setFaults({ latencyMs: LATENCY_MS });
  });
  afterEach(async () => {
    fx.emulator.setFaults({ latencyMs: 0 });
    await fx.cleanup();
  });

  /** Start `args`, send SIGTERM once the CLI has a request in flight, and time how long it takes to exit. */
  async function stopMidRun(args: string[]) {
    const cli = startCli([...args, '--repo', fx.repoDir, '--json'], fx.env());
    // The emulator logs a request when it answers; with 3 s latency, 1.5 s after start one is in flight. On a
    // loaded machine the CLI can still be loading its modules then (no handler yet: node's default exit, code
    // null), so the signal also waits for the CLI's first request to reach the emulator.
    const started = serverRequests;
    await Promise.all([
      new Promise((resolve) => setTimeout(resolve, 1_500)),
      waitUntil('the CLI to send its first request', () => serverRequests > started),
    ]);
    const sent = Date.now();
    cli.child.kill('SIGTERM');
    const run = await cli.done;
    return { run, stopMs: Date.now() - sent };
  }

  it('reconcile exits 143 within 5 s, and the state stays valid', async () => {
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Ada Lovelace"', '"Ada, Stopped"'));
    const { run, stopMs } = await stopMidRun(['reconcile']);
    expect(run.code, run.stderr).toBe(EXIT.sigterm);
    expect(stopMs).toBeLessThan(5_000);
    await expect(readManifest(fx.repoDir, 'test')).resolves.toBeDefined();
    process.stdout.write(
      `SIGTERM reconcile under ${LATENCY_MS} ms latency: exited ${stopMs} ms after the signal\n`,
    );
  });

  it('plan stops at once', async () => {
    const { run, stopMs } = await stopMidRun(['plan']);
    expect(run.code, run.stderr).toBe(EXIT.sigterm);
    expect(stopMs).toBeLessThan(5_000);
    process.stdout.write(
      `SIGTERM plan under ${LATENCY_MS} ms latency: exited ${stopMs} ms after the signal\n`,
    );
  });

  it('a write on the wire when SIGTERM comes is let finish and recorded as accepted; nothing after it is sent', async () => {
    // One CLI run first records the CLI's content-model digest, so the push below stays a push.
    fx.emulator.setFaults({ latencyMs: 0 });
    expect((await startCli(['reconcile', '--repo', fx.repoDir], fx.env()).done).code).toBe(0);
    fx.emulator.setFaults({ latencyMs: LATENCY_MS });
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Ada Lovelace"', '"Ada, Sent Before The Stop"'));
    fx.emulator.clearLog();
    const cli = startCli(['push', '--repo', fx.repoDir, '--json'], fx.env());
    // The push reads the item before it writes, in the one locale it writes (issue 10's call floor: one GET,
    // answered after 3 s); a second after that answer its PATCH is on the wire.
    const answered = () =>
      fx.emulator.requestLog().filter((r) => r.method === 'GET' && r.path.includes('team_members')).length >=
      1;
    while (!answered()) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sent = Date.now();
    cli.child.kill('SIGTERM');
    const run = await cli.done;
    const stopMs = Date.now() - sent;
    expect(run.code, run.stderr).toBe(EXIT.sigterm);
    expect(stopMs).toBeLessThan(5_000);
    const manifest = await readManifest(fx.repoDir, 'test');
    console.log(
      JSON.stringify(fx.emulator.requestLog().map((r) => [r.method, r.path, r.status])),
      run.stderr,
    );
    expect(manifest.pending.map((p) => [p.entity, p.state])).toEqual([
      ['item:team_members:ada-lovelace', 'sent'],
    ]);
    process.stdout.write(`SIGTERM push with a PATCH in flight: exited ${stopMs} ms after the signal\n`);
  });
});
