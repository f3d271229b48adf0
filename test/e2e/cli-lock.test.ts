import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/errors.js';
import { lockManifest, type ManifestLock } from '../../src/state/manifest-store.js';
import { runCli } from '../helpers/cli-process.js';
import { type Fixture, makeFixture } from '../helpers/sync-fixture.js';

// Issue 15 item 7: "busy" has its own exit code, and the read-only commands run beside a lock holder.
describe('the repository lock from the command line', () => {
  let fx: Fixture;
  let held: ManifestLock;

  beforeEach(async () => {
    fx = await makeFixture();
    const s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    await s.done();
    held = await lockManifest(fx.repoDir); // what a running `watch` daemon holds
  });
  afterEach(async () => {
    await held.release();
    await fx.cleanup();
  });

  it('a writing command exits 5 (busy), naming the holder; plan, --dry-run and status still run', async () => {
    const pull = await runCli(['pull', '--repo', fx.repoDir], fx.env());
    expect(pull.code, pull.stderr).toBe(EXIT.busy);
    expect(pull.stderr).toContain(`pid ${process.pid}`);

    for (const args of [['plan'], ['push', '--dry-run'], ['pull', '--dry-run'], ['status']]) {
      const run = await runCli([...args, '--repo', fx.repoDir], fx.env());
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    }
    expect(held.isHeld()).toBe(true);
  });
});
