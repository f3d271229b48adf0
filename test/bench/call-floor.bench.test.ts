/**
 * Call-floor benchmark (issue 10, "The call floor"; not part of `npm test`). ButterCMS bills every call,
 * reads included, so this counts the API requests the emulator logs — by method — and the wall time of a
 * real `butter-sync` process for: the initial push of N new entities into an empty account, an unchanged
 * tree, one one-field edit, 20 one-field edits in one collection, and a pull of an unchanged account. Each
 * figure is printed beside the issue's target for it. Black-box (the CLI and the emulator's log only), so it
 * measures whatever the engine's internals are. Writes test/bench/results/call-floor.json.
 * N: BENCH_CALL_FLOOR_N (default 1,000; the issue's "today" figure for 1,000 is 3,007 calls).
 * Run: npm run build && npx vitest run --config test/bench.config.ts test/bench/call-floor.bench.test.ts
 */

import { afterAll, expect, it } from 'vitest';
import type { SyncConfig } from '../../src/config/schema.js';
import type { EmulatorHandle, RequestLogEntry } from '../../src/emulator/index.js';
import { runCli } from '../helpers/cli-process.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { writeResult } from './bench-results.js';
import { type BenchTree, editOneField, generateTree, type TreeEntity } from './bench-tree.js';

const N = Number(process.env.BENCH_CALL_FLOOR_N ?? 1_000);
/** A list page holds at most 100 entries (butter-api.md §2: `page_size` 1..100). */
const PAGE = 100;
const EDITS = 20;
const EDITED_COLLECTION = 'team_members';

interface Measured {
  scenario: string;
  calls: number;
  byMethod: Record<string, number>;
  wallMs: number;
  exitCode: number | null;
  /** The most calls the issue allows for this scenario. */
  target: number;
  /** How the target is made up, e.g. "≤ 1,000 writes + 2 × 14 list pages". */
  targetRule: string;
  /** The issue's measurement before the work, where it gives one. */
  issueToday?: number;
  met: boolean;
  /** `plan.totalCalls` of the same command run with `--dry-run --json` just before (issue 10: = calls). */
  predicted?: number;
  /** API requests that dry run made itself. */
  dryRunSpent: number;
  /** Method and path of each request, for the small scenarios: where the calls beyond the target go. */
  requests?: string[];
}

const measured: Measured[] = [];
let setup: Record<string, unknown> = {};

afterAll(async () => {
  if (measured.length === 0) return;
  await writeResult('call-floor', { entities: N, ...setup, scenarios: measured });
});

/** The locale a content file is in: `name.es.md` → es, otherwise the default locale. */
function localeOf(file: string, config: SyncConfig): string {
  const match = /\.([^./]+)\.(md|mdx|markdown|json)$/.exec(file);
  return match && config.locales.all.includes(match[1]!) ? match[1]! : config.locales.default;
}

/** Entities per (page type or collection) × locale that have a file in that locale. */
function countsByListAndLocale(entities: TreeEntity[], config: SyncConfig): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entity of entities) {
    for (const locale of new Set(entity.files.map((f) => localeOf(f, config)))) {
      const key = `${entity.kind}|${locale}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

const pages = (n: number) => Math.ceil(n / PAGE);

/**
 * Initial push target: N writes (a create carries every locale, butter-api.md §3.1/§3.3 multi-locale
 * shape), plus one existence list and one verification list per (collection or page type) × locale,
 * ⌈n/100⌉ pages each, for the n entities written in that locale.
 */
function initialPushTarget(tree: BenchTree): { target: number; rule: string; lists: number } {
  let lists = 0;
  for (const n of countsByListAndLocale(tree.entities, tree.config).values()) lists += pages(n);
  return {
    target: tree.entities.length + 2 * lists,
    rule: `≤ ${tree.entities.length} writes + 2 × ${lists} list pages`,
    lists,
  };
}

/**
 * Pull of an unchanged account: the list pages only. Every configured page type and collection is read
 * in every locale (at least one page each, even when empty); single pages are one `*` list per locale.
 * Items are listed in every locale (a locale never written reads back blank, butter-api.md §2.2); a page
 * only in the locales it has content in (§2.6).
 */
function pullTarget(tree: BenchTree): { target: number; rule: string } {
  const { config } = tree;
  const counts = countsByListAndLocale(tree.entities, config);
  let total = 0;
  for (const locale of config.locales.all) {
    for (const type of Object.keys(config.pageTypes))
      total += Math.max(1, pages(counts.get(`${type}|${locale}`) ?? 0));
    if (Object.keys(config.singlePages).length > 0) total += 1;
    for (const collection of Object.keys(config.collections)) {
      const n = tree.entities.filter((e) => e.kind === collection).length;
      total += Math.max(1, pages(n));
    }
  }
  return { target: total, rule: `${total} list pages (every list × locale, ⌈n/100⌉, at least 1)` };
}

function byMethod(entries: RequestLogEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of entries) counts[e.method] = (counts[e.method] ?? 0) + 1;
  return counts;
}

/** One real CLI run against the emulator: its API requests (from the emulator's log) and wall time. */
async function measureRun(
  tree: BenchTree,
  emulator: EmulatorHandle,
  scenario: string,
  args: string[],
  target: { target: number; rule: string },
  issueToday?: number,
): Promise<Measured> {
  await emulator.settle();
  const env = {
    ...process.env,
    BUTTER_API_URL: emulator.url,
    BUTTER_READ_TOKEN: TEST_READ_TOKEN,
    BUTTER_WRITE_TOKEN: TEST_WRITE_TOKEN,
  };
  const cli = (more: string[]) => runCli([...more, '--repo', tree.repoDir, '--log-level', 'error'], env);
  // The same command as a dry run first: plan = run at this scale too (issue 10), and what the dry run spent.
  const beforeDryRun = emulator.requestLog().length;
  const dry = await cli([...args, '--dry-run', '--json']);
  const dryRunSpent = emulator.requestLog().length - beforeDryRun;
  let predicted: number | undefined;
  try {
    const total = (JSON.parse(dry.stdout) as { plan?: { totalCalls?: unknown } }).plan?.totalCalls;
    if (typeof total === 'number') predicted = total;
  } catch {
    // no JSON: the row says "–" and the run's own figures still count
  }
  const mark = emulator.requestLog().length;
  const run = await cli(args);
  await emulator.settle();
  const entries = emulator.requestLog().slice(mark);
  const result: Measured = {
    scenario,
    calls: entries.length,
    byMethod: byMethod(entries),
    wallMs: run.ms,
    exitCode: run.code,
    ...(predicted !== undefined ? { predicted } : {}),
    dryRunSpent,
    target: target.target,
    targetRule: target.rule,
    ...(issueToday !== undefined ? { issueToday } : {}),
    met: entries.length <= target.target,
    ...(entries.length <= 80 ? { requests: entries.map((e) => `${e.method} ${e.path}`) } : {}),
  };
  measured.push(result);
  console.log(
    `${scenario}: ${result.calls} calls ${JSON.stringify(result.byMethod)} in ${result.wallMs} ms (dry run predicted ${predicted ?? '–'}, spent ${dryRunSpent}) — target ${target.rule} = ${target.target}${issueToday !== undefined ? ` (issue: today ${issueToday})` : ''} — ${result.met ? 'met' : 'MISSED'}`,
  );
  // The figures are the point; a run that failed outright would make them meaningless.
  expect(run.code, `butter-sync ${args.join(' ')}:\n${run.stdout}\n${run.stderr}`).toBe(0);
  return result;
}

it(`call floor at ${N.toLocaleString('en')} entities`, async () => {
  const tree = await generateTree(N);
  const emulator = await startTestEmulator({ config: tree.config });
  try {
    const initial = initialPushTarget(tree);
    setup = { files: tree.fileCount, listPagesPerPass: initial.lists };

    await measureRun(
      tree,
      emulator,
      `initial push of ${N} entities`,
      ['push', '--wait', '120'],
      initial,
      N === 1_000 ? 3_007 : undefined,
    );
    // The push after a create records what a create could not (page titles); it must cost nothing.
    await measureRun(tree, emulator, 'settling push after the initial push', ['push'], {
      target: 0,
      rule: '0',
    });
    await measureRun(tree, emulator, 'unchanged tree (push)', ['push'], { target: 0, rule: '0' }, 0);

    // One edit in a collection of ≤ 100 items (the issue's "today 5") and in one of more: a collection's
    // verification list then takes more than one page per locale today.
    const tags = tree.entities.filter((e) => e.kind === 'tags');
    await editOneField(tree, tags[0]!, 1);
    await measureRun(
      tree,
      emulator,
      `one one-field edit (tags, ${tags.length} items)`,
      ['push'],
      { target: 3, rule: '≤ 3' },
      5,
    );
    const members = tree.entities.filter((e) => e.kind === EDITED_COLLECTION);
    await editOneField(tree, members[0]!, 1);
    await measureRun(
      tree,
      emulator,
      `one one-field edit (${EDITED_COLLECTION}, ${members.length} items)`,
      ['push'],
      { target: 3, rule: '≤ 3' },
      5,
    );

    const size = members.length;
    for (const member of members.slice(1, 1 + EDITS)) await editOneField(tree, member, 2);
    await measureRun(
      tree,
      emulator,
      `${EDITS} one-field edits in ${EDITED_COLLECTION} (${size} items)`,
      ['push'],
      { target: EDITS + 2 * pages(size), rule: `≤ ${EDITS} writes + 2 × ⌈${size}/100⌉ reads` },
      62,
    );

    await measureRun(tree, emulator, 'pull of an unchanged account', ['pull'], pullTarget(tree));
  } finally {
    await emulator.close();
    await tree.cleanup();
  }
});
