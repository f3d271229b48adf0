/**
 * Global teardown of `npm run bench`: after every bench file has run, turn test/bench/results/*.json
 * into one Markdown report, test/bench/REPORT.md (a globalSetup's returned function runs once, last,
 * whatever order vitest picked for the files). Results the run did not produce are read as left by
 * an earlier run, and marked with their own date.
 */

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { machineInfo } from './bench-results.js';

const RESULTS_DIR = new URL('./results/', import.meta.url);
const REPORT = new URL('./REPORT.md', import.meta.url);

type Json = Record<string, unknown>;

async function readResults(): Promise<Map<string, Json>> {
  const out = new Map<string, Json>();
  const names = await readdir(RESULTS_DIR).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    try {
      out.set(name.slice(0, -5), JSON.parse(await readFile(new URL(name, RESULTS_DIR), 'utf8')) as Json);
    } catch {
      // A half-written or foreign file is left out of the report rather than failing the run.
    }
  }
  return out;
}

function get(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Json)[key];
  }
  return current;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '–';
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en') : String(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replaceAll('|', '\\|');
}

function table(header: string[], rows: unknown[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

function when(result: Json): string {
  const at = result.at ?? result.measuredAt;
  return typeof at === 'string' ? ` (measured ${at.slice(0, 16).replace('T', ' ')} UTC)` : '';
}

function goal(ok: boolean): string {
  return ok ? 'met' : '**missed**';
}

function pushSection(push: Json): string {
  const sizes = (push.sizes as Json[] | undefined) ?? [];
  const parts = [`## Push${when(push)}`, ''];
  if (sizes.length > 0) {
    parts.push(
      'No-change runs must make no API call (asserted on the client stats and the emulator log). ' +
        '"scan+plan" is `push --dry-run` in-process with the scan cache warm (median of 5); "full push" adds ' +
        'the no-op apply and the manifest save; "CLI" is a fresh `butter-sync push` process, wall clock.',
      '',
      table(
        [
          'entities',
          'files',
          'MB',
          'manifest from',
          'cold scan+plan+save ms',
          'scan+plan ms (median)',
          'scan / plan ms',
          'full push ms',
          'CLI push ms',
          'peak RSS MB',
          'API calls',
          'ms per 1k entities',
        ],
        sizes.map((s) => [
          s.entities,
          s.files,
          s.megabytes,
          String(s.manifestSource ?? '').startsWith('real') ? 'real push' : 'direct digests',
          get(s, 'noChangeCold.ms'),
          get(s, 'noChange.msMedian'),
          `${cell(get(s, 'noChange.scanMs'))} / ${cell(get(s, 'noChange.planMs'))}`,
          get(s, 'noChangeFullPush.msMedian'),
          get(s, 'noChangeCliPush.wallMs'),
          get(s, 'noChangeFullPush.peakRssMb'),
          (Number(get(s, 'noChangeFullPush.apiCalls')) || 0) + (Number(get(s, 'noChangeCold.apiCalls')) || 0),
          get(s, 'noChange.msPer1kEntities'),
        ]),
      ),
      '',
      table(
        [
          'entities',
          '1% changed entities',
          'plan ms',
          'planned calls',
          'API calls while planning',
          'peak RSS MB',
        ],
        sizes.map((s) => [
          s.entities,
          get(s, 'onePercentChanged.changedEntities'),
          get(s, 'onePercentChanged.ms'),
          get(s, 'onePercentChanged.plannedCalls'),
          get(s, 'onePercentChanged.apiCallsWhilePlanning'),
          get(s, 'onePercentChanged.peakRssMb'),
        ]),
      ),
      '',
    );
    const at10k = sizes.find((s) => s.entities === 10_000);
    if (at10k) {
      const noChange = Number(get(at10k, 'noChange.msMedian'));
      const onePercent = Number(get(at10k, 'onePercentChanged.ms'));
      parts.push(
        `Goals at 10k: no-change scan+plan < 1 s — ${goal(noChange < 1_000)} (${cell(noChange)} ms); ` +
          `1% changed < 2 s — ${goal(onePercent < 2_000)} (${cell(onePercent)} ms).`,
        '',
      );
    }
    const initial = sizes.find((s) => s.initialPush);
    if (initial) {
      parts.push(
        `Initial push of ${cell(initial.entities)} entities against the emulator: ${cell(get(initial, 'initialPush.ms'))} ms, ` +
          `${cell(get(initial, 'initialPush.calls'))} API calls; the direct-digest manifest used for larger sizes ` +
          `agrees with it on ${cell(initial.directManifestAgreesWithPush)}.`,
        '',
      );
    }
  }
  const edits = push.edits as Json | null | undefined;
  if (edits) {
    const requestsOk = get(edits, 'butterSync.requests') === edits.edits;
    const ratio = Number(edits.bytesVsChangedFields);
    parts.push(
      `### ${cell(edits.edits)} single-field edits (emulator)`,
      '',
      `Edited fields: ${cell(edits.editedKinds)}. "Changed fields' JSON" = Σ \`JSON.stringify({field: newValue})\` = ${cell(edits.changedFieldsJsonBytes)} bytes.`,
      '',
      table(
        [
          '',
          'write requests',
          'methods',
          'body bytes',
          'bytes inside `fields`',
          'reads (one per locale before each write, then batched verify)',
        ],
        [
          [
            'butter-sync',
            get(edits, 'butterSync.requests'),
            get(edits, 'butterSync.byMethod'),
            get(edits, 'butterSync.bodyBytes'),
            get(edits, 'butterSync.fieldsBytes'),
            get(edits, 'butterSync.verifyReads'),
          ],
          [
            'whole item each (sent)',
            get(edits, 'wholeItem.requests'),
            get(edits, 'wholeItem.byMethod'),
            get(edits, 'wholeItem.bodyBytes'),
            get(edits, 'wholeItem.fieldsBytes'),
            '–',
          ],
        ],
      ),
      '',
      `Requests = changed entities — ${goal(requestsOk)}. Body bytes / changed fields' JSON = ${cell(ratio)} ` +
        `(goal ≤ 1.2 — ${goal(ratio <= 1.2)}); inside \`fields\` the ratio is ${cell(edits.fieldsBytesVsChangedFields)}, ` +
        `the rest is the envelope the API requires (${cell(edits.envelopeBytesPerRequest)} bytes per request on average: ` +
        '`{"fields":…}`, plus the explicit `"status"` every page update must carry, butter-api.md §3.2). ' +
        `Versus whole-item writes: ${cell(edits.bytesVsWholeItem)}× the bytes.`,
      '',
    );
  }
  return parts.join('\n');
}

function watchSection(watch: Json): string {
  return [
    `## Watch: save → request latency${when(watch)}`,
    '',
    `\`butter-sync watch --no-fetch --no-webhook\` as a child process, ${cell(watch.entities)} entities, one page file ` +
      `saved ${cell(watch.edits)} times (${cell(watch.spacingMs)} ms after each PATCH arrived); measured from the write ` +
      `to the emulator's arrival time of the matching PATCH. Watcher defaults: ${cell(watch.watcherDefaults)}.`,
    '',
    table(
      ['p50 ms', 'p95 ms', 'min ms', 'max ms', 'mean ms', 'PATCH requests'],
      [
        [
          get(watch, 'latencyMs.p50'),
          get(watch, 'latencyMs.p95'),
          get(watch, 'latencyMs.min'),
          get(watch, 'latencyMs.max'),
          get(watch, 'latencyMs.mean'),
          watch.patchRequests,
        ],
      ],
    ),
    '',
  ].join('\n');
}

function pipelineSection(pipeline: Json): string {
  const row = (name: string, r: unknown) => [
    name,
    get(r, 'requests'),
    get(r, 'failed'),
    get(r, 'seconds'),
    get(r, 'achievedRate'),
    get(r, 'steadyRate'),
    get(r, 'maxIn1sWindow'),
    get(r, 'serverCalls'),
    get(r, 'status429'),
  ];
  return [
    `## Request pipeline${when(pipeline)}`,
    '',
    `Configured: ${cell(pipeline.configured)}.`,
    '',
    table(
      [
        'run',
        'requests',
        'failed',
        's',
        'achieved req/s',
        'steady req/s',
        'max in 1 s',
        'server calls',
        '429s',
      ],
      [row('steady', pipeline.steady), row('429 burst', pipeline.burst429)],
    ),
    '',
  ].join('\n');
}

/** Issue 10's call floor: each scenario's API calls beside the issue's target (and its "today" figure). */
function callFloorSection(floor: Json): string {
  const scenarios = (floor.scenarios as Json[] | undefined) ?? [];
  return [
    `## Call floor${when(floor)}`,
    '',
    `A real \`butter-sync\` process per row against the emulator, ${cell(floor.entities)} generated entities ` +
      `(${cell(floor.files)} files); calls are the API requests the emulator logged, reads included (ButterCMS ` +
      'bills every call). Each row first runs the same command with `--dry-run --json`: its `plan.totalCalls` ' +
      'must equal the calls (issue 10, plan = run). Targets from issue 10, "The call floor".',
    '',
    table(
      [
        'scenario',
        'API calls',
        'by method',
        'wall ms',
        'dry run predicted',
        'dry run spent',
        'target',
        'issue: today',
        'goal',
      ],
      scenarios.map((s) => [
        s.scenario,
        s.calls,
        s.byMethod,
        s.wallMs,
        s.predicted,
        s.dryRunSpent,
        `${cell(s.targetRule)} = ${cell(s.target)}`,
        s.issueToday,
        goal(s.met === true),
      ]),
    ),
    '',
  ].join('\n');
}

/** Any other result (e.g. pull.json): its numbers, flattened one level deep. */
function genericSection(name: string, result: Json): string {
  const rows: unknown[][] = [];
  for (const [key, value] of Object.entries(result)) {
    if (['node', 'at', 'measuredAt', 'machine'].includes(key)) continue;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value as Json)) rows.push([`${key}.${inner}`, v]);
    } else {
      rows.push([key, value]);
    }
  }
  const title = name.charAt(0).toUpperCase() + name.slice(1);
  return [`## ${title}${when(result)}`, '', table(['measure', 'value'], rows), ''].join('\n');
}

function stateSection(state: Json): string {
  const sizes = (state.sizes as Json[] | undefined) ?? [];
  const before = (state.beforeAt10k as Json | undefined) ?? {};
  const rows: unknown[][] = [
    [
      `10,000 (before, ${cell(before.commit)})`,
      '–',
      cell(before.noChangeCliPushMsMedian),
      '–',
      cell(before.noChangeCliPushPeakRssMb),
      cell(before.hundredCreatesStateSaveMs),
      '–',
      '–',
      '–',
    ],
  ];
  const last = state.beforeSettledSkipAt10k as Json | undefined;
  if (last) {
    rows.push([
      `10,000 (before, ${cell(last.commit)})`,
      cell(last.loadAverage1m),
      cell(last.noChangeCliPushMsMedian),
      '–',
      cell(last.noChangeCliPushPeakRssMb),
      cell(last.hundredCreatesStateSaveMs),
      cell(last.hundredCreateSaveCyclesMs),
      '–',
      '–',
    ]);
  }
  const lean = state.beforeLeanCacheAt10k as Json | undefined;
  if (lean) {
    rows.push([
      `10,000 (before, ${cell(lean.commit)})`,
      cell(lean.loadAverage1m),
      cell(lean.noChangeCliPushMsMedian),
      cell(lean.noChangeCliPushCpuMsMedian),
      cell(lean.noChangeCliPushPeakRssMb),
      '–',
      '–',
      '–',
      '–',
    ]);
    const after = lean.after as Json | undefined;
    if (after) {
      rows.push([
        `10,000 (after, interleaved with ${cell(lean.commit)})`,
        cell(lean.loadAverage1m),
        cell(after.noChangeCliPushMsMedian),
        cell(after.noChangeCliPushCpuMsMedian),
        cell(after.noChangeCliPushPeakRssMb),
        '–',
        '–',
        '–',
        '–',
      ]);
    }
  }
  for (const s of sizes) {
    rows.push([
      cell(s.entities),
      cell(s.loadAverage1m),
      cell(get(s, 'noChangeCliPush.msMedian')),
      cell(get(s, 'noChangeCliPush.cpuMsMedian')),
      cell(get(s, 'noChangeCliPush.peakRssMb')),
      cell(get(s, 'hundredCreates.stateSaveMs')),
      cell(get(s, 'hundredCreateSaveCycles.ms')),
      `${cell(get(s, 'hundredCreates.appends'))} / ${cell(get(s, 'hundredCreates.appendedBytes'))}`,
      cell(get(s, 'hundredCreates.compactions')),
    ]);
  }
  return [
    `## State${when(state)}`,
    '',
    '"CLI" is a fresh `butter-sync push` process with nothing changed (wall clock and user + system CPU, median of 5; peak RSS of that process from GNU time). ' +
      '"state ms in push" is the time the engine spent awaiting manifest saves while pushing 100 new items against the emulator; ' +
      '"save cycles" is the same write-ahead pattern (intent, sent, verified) without the emulator. The machine is shared: the load average is printed with each row.',
    '',
    table(
      [
        'entities',
        'load (1 min)',
        'CLI no-change push ms',
        'CLI CPU ms',
        'peak RSS MB',
        '100 creates: state ms in push',
        '100 create save cycles ms',
        'journal appends / bytes',
        'compactions',
      ],
      rows,
    ),
    '',
    stateGoals(sizes),
    '',
  ].join('\n');
}

/** Issue 14's targets, judged on the latest 10k (and 50k) rows. */
function stateGoals(sizes: Json[]): string {
  const at = (n: number) => sizes.find((s) => s.entities === n);
  const ten = at(10_000);
  if (!ten) return '';
  const met = (ok: boolean) => (ok ? 'met' : '**missed**');
  const ms = Number(get(ten, 'noChangeCliPush.msMedian'));
  const rss = Number(get(ten, 'noChangeCliPush.peakRssMb'));
  const state = Number(get(ten, 'hundredCreates.stateSaveMs'));
  const parts = [
    `no-change CLI push < 500 ms — ${met(ms < 500)} (${cell(ms)} ms at load ${cell(ten.loadAverage1m)})`,
    `< 150 MB peak RSS — ${met(rss < 150)} (${cell(rss)} MB)`,
    `100 creates < 1 s on state — ${met(state < 1_000)} (${cell(state)} ms)`,
  ];
  const fifty = at(50_000);
  if (fifty) {
    const ratio = Number(get(fifty, 'noChangeCliPush.msMedian')) / ms;
    parts.push(`50k within 5× of 10k — ${met(ratio <= 5)} (${cell(Math.round(ratio * 10) / 10)}×)`);
  }
  return `Goals at 10k (issue 14): ${parts.join('; ')}.`;
}

/** Build REPORT.md from whatever results exist. */
export async function writeBenchReport(): Promise<string> {
  const results = await readResults();
  const machine = machineInfo();
  const sections = [
    '# butter-sync benchmarks',
    '',
    `Generated ${new Date().toISOString()} by \`npm run bench\` — Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}, ` +
      `${machine.memoryGb} GB RAM, ${machine.platform}. Raw numbers: \`test/bench/results/*.json\`.`,
    '',
  ];
  const known: Record<string, (r: Json) => string> = {
    push: pushSection,
    'watch-latency': watchSection,
    pipeline: pipelineSection,
    'call-floor': callFloorSection,
    state: stateSection,
  };
  for (const name of ['push', 'watch-latency', 'pull', 'pipeline', 'call-floor', 'state']) {
    const result = results.get(name);
    if (!result) {
      sections.push(`## ${name}`, '', '_No results yet: run `npm run bench`._', '');
      continue;
    }
    sections.push((known[name] ?? ((r: Json) => genericSection(name, r)))(result));
  }
  for (const [name, result] of results) {
    if (!['push', 'watch-latency', 'pull', 'pipeline', 'call-floor', 'state'].includes(name))
      sections.push(genericSection(name, result));
  }
  const text = `${sections.join('\n').trimEnd()}\n`;
  await writeFile(REPORT, text);
  return text;
}

/** vitest globalSetup: nothing to set up; the returned teardown writes the report after the last file. */
export default function setup(): () => Promise<void> {
  return async () => {
    await writeBenchReport();
    console.log(`bench report written to ${REPORT.pathname}`);
  };
}
