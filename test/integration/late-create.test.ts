import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeForReport } from '../../src/sync/report.js';
import { type Fixture, makeFixture, writesIn } from '../helpers/sync-fixture.js';

// Issue 15 item 4: a create ButterCMS applies after verify.deadlineSeconds is never sent twice, however late.
const TAG = 'content-example/collections/tags/late.json';
const APPLY_DELAY_MS = 3_000;

describe('a create that lands after its deadline', () => {
  let fx: Fixture;

  beforeEach(async () => {
    // Every write is applied 3 s after its 202: past the 0.5 s deadline.
    fx = await makeFixture({
      withContent: false,
      config: { verify: { deadlineSeconds: 0.5 } },
      emulator: { applyDelayMs: APPLY_DELAY_MS },
    });
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  async function run(kind: 'push' | 'reconcile', verifyWaitMs = 1_000) {
    const s = await fx.open();
    try {
      return (
        await (kind === 'push' ? s.engine.push({ verifyWaitMs }) : s.engine.reconcile({ verifyWaitMs }))
      ).report;
    } finally {
      await s.done();
    }
  }

  const posts = () => writesIn(fx.emulator).filter((r) => r.method === 'POST');

  async function lateTags() {
    const s = await fx.open();
    const items = await s.cms.listItems('tags', { preview: true, filters: { slug: 'late' } });
    await s.done();
    return items.filter((i) => i.fields.slug === 'late');
  }

  it('is reported failed at the deadline, never re-sent by later runs, and adopted once it lands: one item', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(fx.repoDir, path.dirname(TAG)), { recursive: true });
    await fx.write(TAG, '{\n  "slug": "late",\n  "name": "Late",\n  "color": "#123456"\n}\n');
    fx.emulator.clearLog();

    const first = await run('push', 2_000);
    expect(posts()).toHaveLength(1);
    expect(exitCodeForReport(first)).toBe(4);
    expect(first.failures.map((f) => f.reason).join('\n')).toMatch(/accepted the create \(202\)/);

    // Runs before it lands look it up, find nothing, and still do not send it again.
    for (const kind of ['push', 'reconcile', 'push'] as const) {
      const report = await run(kind, 200);
      expect(posts(), kind).toHaveLength(1);
      expect(exitCodeForReport(report), kind).toBe(4);
      expect(
        report.operations.some((op) => op.message?.includes('not sent again')),
        kind,
      ).toBe(true);
    }

    await fx.emulator.settle();
    const after = await run('reconcile');
    expect(exitCodeForReport(after), JSON.stringify(after.failures)).toBe(0);
    expect(posts()).toHaveLength(1);
    expect(await lateTags()).toHaveLength(1);
  });
});
