import { describe, expect, it } from 'vitest';
import { entityOfCall } from '../../src/cms/butter/index.js';
import type { Manifest } from '../../src/core/types.js';
import { html } from '../../src/server/console-html.js';
import { renderLive, renderLiveState } from '../../src/server/console-page.js';
import { buildSnapshot, ConsoleRecorder } from '../../src/server/console-state.js';
import { newReport, type SyncReport } from '../../src/sync/report.js';

function manifest(overrides: Partial<Manifest> = {}): Manifest {
  return {
    version: 1,
    configDigest: '',
    entities: {},
    media: {},
    pending: [],
    failed: [],
    heldBack: [],
    conflicts: [],
    calls: {},
    ...overrides,
  };
}

function report(mode: SyncReport['mode'], fill: Partial<SyncReport>): SyncReport {
  return { ...newReport(mode, false, new Date('2026-12-01T10:00:00Z')), ...fill };
}

describe('ConsoleRecorder', () => {
  it("charges each change the calls made for its entity, mapping the client's item ids to entity keys", () => {
    const recorder = new ConsoleRecorder();
    const keys = new Map([['tags#12', 'item:tags:engineering']]);
    const keyOfItem = (collection: string, id: number) => keys.get(`${collection}#${id}`);
    for (const [status, name] of [
      [200, 'item:tags#12'],
      [202, 'item:tags#12'],
      [202, 'page:faq:shipping'],
      [200, undefined], // a listing read
      [202, 'items:tags'], // a create: no id yet
    ] as const) {
      recorder.recordCall({ status, entity: entityOfCall(name, keyOfItem) });
    }
    recorder.recordReport(
      report('push', {
        calls: 4,
        operations: [
          { kind: 'patch-item', entity: 'item:tags:engineering', status: 'sent', fields: ['color'] },
          {
            kind: 'update-page',
            entity: 'page:faq:shipping',
            locale: 'en',
            status: 'sent',
            fields: ['headline'],
          },
          {
            kind: 'update-page',
            entity: 'page:faq:shipping',
            locale: 'es',
            status: 'sent',
            fields: ['headline'],
          },
        ],
      }),
    );
    const [entry] = recorder.activity();
    expect(entry?.changes.map((c) => c.calls)).toEqual([2, 1, 0]);
    expect(entry?.sharedCalls).toBe(2);
  });

  it('counts 429 answers as rate-limit pauses, and does not list a run that did nothing', () => {
    const recorder = new ConsoleRecorder();
    recorder.recordCall({ status: 429 }, new Date('2026-12-01T10:00:00Z'));
    recorder.recordReport(report('pull', { calls: 1 }));
    recorder.recordReport(report('pull', { calls: 0 }));
    expect(recorder.rateLimitPauses).toBe(1);
    expect(recorder.lastRateLimitAt).toBe('2026-12-01T10:00:00.000Z');
    expect(recorder.activity()).toHaveLength(1);
  });

  it('keeps a file problem until that file syncs or a reconcile reads everything again', () => {
    const recorder = new ConsoleRecorder();
    const bad = { file: 'content/a.md', line: 3, code: 'PARSE', message: 'bad YAML', hint: 'fix line 3' };
    recorder.recordReport(report('push', { errors: [bad] }));
    recorder.recordReport(report('push', { calls: 1, operations: [] })); // a scoped push of another file
    expect(recorder.problems()).toEqual([bad]);
    recorder.recordReport(
      report('push', {
        calls: 1,
        operations: [{ kind: 'update-page', entity: 'page:faq:a', path: 'content/a.md', status: 'sent' }],
      }),
    );
    expect(recorder.problems()).toEqual([]);
    recorder.recordReport(report('push', { errors: [bad] }));
    recorder.recordReport(report('reconcile', {}));
    expect(recorder.problems()).toEqual([]);
  });
});

describe('console snapshot and markup', () => {
  it('reads the month and the months before it for the chart, with the budget', () => {
    const snapshot = buildSnapshot({
      manifest: manifest({ calls: { '2026-12': 40, '2026-10': 7 } }),
      recorder: new ConsoleRecorder(),
      queueDepth: 0,
      nextPoll: null,
      monthlyCallBudget: 100,
      now: new Date('2026-12-15T00:00:00Z'),
    });
    expect(snapshot.calls.used).toBe(40);
    expect(snapshot.calls.budget).toBe(100);
    expect(snapshot.calls.byMonth.slice(-3)).toEqual([
      ['2026-10', 7],
      ['2026-11', 0],
      ['2026-12', 40],
    ]);
  });

  it('escapes every interpolated value, in text and in attributes', () => {
    const value = `<script>alert("x")</script> & 'quoted'`;
    const out = html`<p title="${value}">${value}</p>${[value]}`.value;
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;</p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;`,
    );
  });

  it('lists at most 200 pending writes and says how many more there are', () => {
    const pending = Array.from({ length: 250 }, (_, i) => ({
      id: `w${i}`,
      entity: `item:tags:t${i}`,
      kind: 'update' as const,
      state: 'sent' as const,
      expect: {},
      createdAt: '2026-12-01T10:00:00Z',
      deadline: '2026-12-01T10:10:00Z',
      path: `content/collections/tags/t${i}.json`,
    }));
    const snapshot = buildSnapshot({
      manifest: manifest({ pending }),
      recorder: new ConsoleRecorder(),
      queueDepth: 0,
      nextPoll: null,
      monthlyCallBudget: undefined,
      now: new Date('2026-12-01T10:01:00Z'),
    });
    const out = renderLive(snapshot, 'csrf').value;
    expect(out).toContain('Pending writes (250)');
    expect(out.match(/tags\/t\d+\.json/g)).toHaveLength(200);
    expect(out).toContain('and 50 more: run <code>butter-sync status</code>');
  });

  it('changes the live state only when something but the clock moved, and cuts long values', () => {
    const long = 'x'.repeat(10_000);
    const conflicts = [
      {
        entity: 'page:faq:a',
        locale: 'en',
        field: 'body',
        path: 'content/a.md',
        git: long,
        cms: 'short',
        at: '2026-12-01T10:00:00Z',
      },
    ];
    const at = (iso: string, lastPush = '2026-12-01T09:59:00Z') =>
      buildSnapshot({
        manifest: manifest({ conflicts, lastPush }),
        recorder: new ConsoleRecorder(),
        queueDepth: 0,
        nextPoll: new Date('2026-12-01T10:05:00Z'),
        monthlyCallBudget: undefined,
        now: new Date(iso),
      });
    expect(renderLive(at('2026-12-01T10:00:00Z'), 'c').value).toContain('data-rel="when">60 s ago</time>');
    expect(renderLiveState(at('2026-12-01T10:00:00Z'), 'c')).toBe(
      renderLiveState(at('2026-12-01T10:00:07Z'), 'c'),
    );
    expect(renderLiveState(at('2026-12-01T10:00:07Z', '2026-12-01T10:00:05Z'), 'c')).not.toBe(
      renderLiveState(at('2026-12-01T10:00:07Z'), 'c'),
    );
    const out = renderLive(at('2026-12-01T10:00:00Z'), 'c').value;
    expect(out).toContain(`${'x'.repeat(4_000)}\n… and 6000 more characters`);
    expect(out).not.toContain('x'.repeat(4_001));
  });
});
