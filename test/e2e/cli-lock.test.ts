import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/errors.js';
import { lockManifest, type ManifestLock } from '../../src/state/manifest-store.js';
import { type CliFixture, enginePushedTemplate, templatePerFile } from '../helpers/cli-fixture.js';
import { runCli } from '../helpers/cli-process.js';

// Issue 15 item 7: "busy" has its own exit code, and the read-only commands run beside a lock holder.
describe('the repository lock from the command line', () => {
  let fx: CliFixture;
  let held: ManifestLock;
  // The first push runs once (in-process); each test gets its own copy of the result.
  const pushed = templatePerFile(() => enginePushedTemplate());

  beforeEach(async () => {
    fx = await pushed.fresh();
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
