import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncDaemon } from '../../src/sync/daemon-loop.js';
import { type Fixture, makeFixture, type Opened } from '../helpers/sync-fixture.js';

// The console's "Keep Git" / "Keep CMS" run the engine's resolve as a job in the daemon's one line of work.
const SHIPPING = 'content-example/pages/faq/shipping.md';

describe('SyncDaemon.enqueueResolve', () => {
  let fx: Fixture;
  let s: Opened;

  beforeEach(async () => {
    fx = await makeFixture({ config: { pull: { intervalSeconds: 0, commit: true } } });
    s = await fx.open();
    await s.engine.push({ verifyWaitMs: 5_000 });
    await fx.write(SHIPPING, (await fx.read(SHIPPING)).replace('Everything about shipping', 'From Git'));
    await fx.commitAll('writer edit');
    fx.emulator.editPage('faq', 'shipping', { headline: 'From the dashboard' }, { status: 'published' });
    await fx.emulator.settle();
    await s.engine.push({ verifyWaitMs: 5_000 });
    expect(s.store.manifest.conflicts).toHaveLength(1);
  }, 60_000);
  afterEach(async () => {
    await s?.done();
    await fx?.cleanup();
  });

  it('settles a conflict after the job ahead of it, and reports it like any run', async () => {
    const reports: string[] = [];
    const daemon = new SyncDaemon(s.engine, { onReport: (r) => reports.push(r.mode) });
    daemon.enqueuePull();
    const result = await daemon.enqueueResolve(SHIPPING, 'cms');
    expect(result.resolved).toBe(1);
    expect(reports).toEqual(['pull', 'pull']); // the queued pull, then the resolve's own pull
    expect(s.store.manifest.conflicts).toEqual([]);
    expect(await fx.read(SHIPPING)).toContain('headline: From the dashboard\n');
    await daemon.stop();
  });

  it('rejects with the engine error for a file without a conflict, and a queued resolve when it stops', async () => {
    const errors: string[] = [];
    const daemon = new SyncDaemon(s.engine, { onError: (_e, job) => errors.push(job) });
    await expect(daemon.enqueueResolve('content-example/pages/faq/returns.md', 'git')).rejects.toThrow(
      /no recorded conflict for content-example\/pages\/faq\/returns\.md/,
    );
    expect(errors).toEqual(['resolve']);

    daemon.enqueuePush(); // running now
    const queued = daemon.enqueueResolve(SHIPPING, 'git');
    const stopping = daemon.stop();
    await expect(queued).rejects.toThrow('the daemon stopped');
    await stopping;
    await expect(daemon.enqueueResolve(SHIPPING, 'git')).rejects.toThrow('the daemon is stopping');
    expect(s.store.manifest.conflicts).toHaveLength(1);
  });
});
