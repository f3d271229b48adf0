import { mkdir, readdir, readFile, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestLockPath, manifestPath } from '../../src/state/manifest-store.js';
import { exitCodeForReport } from '../../src/sync/report.js';
import { startCli } from '../helpers/cli-process.js';
import { baseSeed, makeRandom } from '../helpers/prng.js';
import { type Fixture, git, makeFixture } from '../helpers/sync-fixture.js';

// Issue "Prove it" §2: 500 changes, 100 of them creates, per trial. 8 trials by default keep the suite within its
// time; BUTTER_SYNC_CRASH_TRIALS=20 runs the full size (about 70 s alone on a quiet machine).
const TRIALS = Number(process.env.BUTTER_SYNC_CRASH_TRIALS ?? 8);
const EDITS = 400;
const CREATES = 100;
const TAGS_DIR = 'content-example/collections/tags';
const DEADLINE_SECONDS = 1;

interface Tag {
  slug: string;
  name: string;
  color: string;
}

const tagFile = (slug: string) => `${TAGS_DIR}/${slug}.json`;
const render = (tag: Tag) => `${JSON.stringify(tag, null, 2)}\n`;

/** A repo and CMS that agree on EDITS tags (seeded like a dashboard, adopted by one reconcile), then 500 local changes. */
async function prepareTrial(trial: number): Promise<{ fx: Fixture; expected: Map<string, Tag> }> {
  const fx = await makeFixture({
    withContent: false,
    config: {
      verify: { deadlineSeconds: DEADLINE_SECONDS },
      rate: { requestsPerSecond: 1_000, concurrency: 8, timeoutMs: 10_000, maxRetries: 3 },
    },
    emulator: { applyDelayMs: 2 },
  });
  await mkdir(path.join(fx.repoDir, TAGS_DIR), { recursive: true });
  const expected = new Map<string, Tag>();
  for (let i = 0; i < EDITS; i++) {
    const tag: Tag = { slug: `t${trial}-${i}`, name: `Tag ${i}`, color: '#000000' };
    fx.emulator.seedItem({ collection: 'tags', fields: { ...tag } });
    await fx.write(tagFile(tag.slug), render(tag));
  }
  await fx.commitAll('base tags');
  const s = await fx.open();
  const { report } = await s.engine.reconcile({ verifyWaitMs: 2_000 });
  const adopted = Object.keys(s.store.manifest.entities).length;
  await s.done();
  expect(exitCodeForReport(report), JSON.stringify(report.errors)).toBe(0);
  expect(adopted).toBe(EDITS);

  for (let i = 0; i < EDITS; i++) {
    const tag: Tag = { slug: `t${trial}-${i}`, name: `Tag ${i} edited`, color: '#000000' };
    expected.set(tag.slug, tag);
    await fx.write(tagFile(tag.slug), render(tag));
  }
  for (let i = 0; i < CREATES; i++) {
    const tag: Tag = { slug: `n${trial}-${i}`, name: `New ${i}`, color: '#ffffff' };
    expected.set(tag.slug, tag);
    await fx.write(tagFile(tag.slug), render(tag));
  }
  return { fx, expected };
}

/** A SIGKILLed holder stops refreshing the lock; age it past `stale` so the next run takes it over (as after 10 s). */
async function ageStaleLock(repoDir: string): Promise<void> {
  const lock = manifestLockPath(repoDir);
  const exists = await stat(lock).then(
    () => true,
    () => false,
  );
  if (!exists) return;
  const old = new Date(Date.now() - 60_000);
  await utimes(lock, old, old);
}

/** Reconcile (in process) until a run reports nothing left to do; an unsent create intent needs its deadline to pass. */
async function reconcileUntilClean(fx: Fixture): Promise<number> {
  for (let run = 1; run <= 6; run++) {
    const s = await fx.open();
    const { report } = await s.engine.reconcile({ verifyWaitMs: (DEADLINE_SECONDS + 1) * 1000 });
    const pending = s.store.manifest.pending.length;
    await s.done();
    if (exitCodeForReport(report) === 0 && pending === 0) return run;
  }
  throw new Error('reconcile did not reach a clean run in 6 tries');
}

describe('crash test: SIGKILL during a push, then reconcile', () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it(`${TRIALS} kills at random moments lose nothing and duplicate nothing`, {
    timeout: 600_000,
  }, async () => {
    const seed = baseSeed();
    const random = makeRandom(seed);
    const context = `seed=${seed} (replay with BUTTER_SYNC_SEED=${seed})`;

    // Measure one uninterrupted push so the kills spread over its whole duration.
    const probe = await prepareTrial(99);
    fx = probe.fx;
    const run = await startCli(['push', '--repo', fx.repoDir, '--json', '--wait', '5'], fx.env()).done;
    expect(run.code, `${context}\n${run.stderr}`).toBe(0);
    const pushMs = run.ms;
    await fx.cleanup();
    fx = undefined;

    const totals = {
      trials: 0,
      changes: 0,
      creates: 0,
      killedMidway: 0,
      duplicates: 0,
      lost: 0,
      reconcileRuns: 0,
    };
    for (let trial = 0; trial < TRIALS; trial++) {
      const prepared = await prepareTrial(trial);
      fx = prepared.fx;
      const delay = Math.floor(random.next() * pushMs);
      const cli = startCli(['push', '--repo', fx.repoDir, '--json', '--wait', '5'], fx.env());
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), delay);
      const result = await cli.done;
      clearTimeout(timer);
      if (result.signal === 'SIGKILL') totals.killedMidway += 1;
      const where = `${context} trial=${trial} killAfterMs=${delay}`;

      // The manifest is written atomically: whatever moment the kill hit, it parses.
      const text = await readFile(manifestPath(fx.repoDir), 'utf8');
      expect(() => JSON.parse(text), where).not.toThrow();

      await ageStaleLock(fx.repoDir);
      totals.reconcileRuns += await reconcileUntilClean(fx);
      await fx.emulator.settle();

      const s = await fx.open();
      const items = await s.cms.listItems('tags', { preview: true });
      const { plan } = await s.engine.reconcile({ dryRun: true });
      await s.done();

      const bySlug = new Map<string, number>();
      for (const item of items) {
        const slug = String(item.fields.slug);
        bySlug.set(slug, (bySlug.get(slug) ?? 0) + 1);
      }
      const duplicates = [...bySlug.values()].reduce((sum, n) => sum + (n - 1), 0);
      let lost = 0;
      for (const [slug, tag] of prepared.expected) {
        const item = items.find((i) => i.fields.slug === slug);
        const file = JSON.parse(await fx.read(tagFile(slug))) as Tag;
        if (!item || item.fields.name !== tag.name || file.name !== tag.name) lost += 1;
      }
      totals.trials += 1;
      totals.changes += prepared.expected.size;
      totals.creates += CREATES;
      totals.duplicates += duplicates;
      totals.lost += lost;
      expect(duplicates, `${where}: duplicated items`).toBe(0);
      expect(lost, `${where}: lost changes`).toBe(0);
      expect(items).toHaveLength(prepared.expected.size);
      expect(
        plan.operations.filter((op) => op.cost > 0 || op.kind === 'write-file' || op.kind === 'conflict'),
        `${where}: plan after recovery`,
      ).toEqual([]);
      await fx.cleanup();
      fx = undefined;
    }
    process.stdout.write(
      `crash test ${context}: push took ${pushMs} ms uninterrupted; ${JSON.stringify(totals)}\n`,
    );
    expect(totals.trials).toBe(TRIALS);
  });
});

// Issue 15 "Proof": the pull side. The default keeps the suite well under a minute on a busy machine;
// BUTTER_SYNC_PULL_CRASH_TRIALS=20 (or more) runs the full size.
const PULL_TRIALS = Number(process.env.BUTTER_SYNC_PULL_CRASH_TRIALS ?? 8);
const PULL_EDITS = 30;

describe('crash test: SIGKILL during a pull, then one more pull, then `git checkout -- .` and reconcile', () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it(`${PULL_TRIALS} kills at random moments of a ${PULL_EDITS}-file pull lose no dashboard edit`, {
    timeout: 300_000,
  }, async () => {
    const seed = baseSeed();
    const random = makeRandom(seed);
    const context = `seed=${seed} (replay with BUTTER_SYNC_SEED=${seed})`;
    fx = await makeFixture({
      withContent: false,
      config: {
        pull: { commit: true },
        rate: { requestsPerSecond: 1_000, concurrency: 8, timeoutMs: 10_000, maxRetries: 3 },
      },
    });
    const repo = fx.repoDir;
    await mkdir(path.join(repo, TAGS_DIR), { recursive: true });
    const ids = new Map<string, number>();
    for (let i = 0; i < PULL_EDITS; i++) {
      const tag: Tag = { slug: `p${i}`, name: `Tag ${i}`, color: '#000000' };
      ids.set(tag.slug, fx.emulator.seedItem({ collection: 'tags', fields: { ...tag } }));
      await fx.write(tagFile(tag.slug), render(tag));
    }
    await fx.commitAll('base tags');
    const s = await fx.open();
    await s.engine.reconcile({ verifyWaitMs: 2_000 });
    await s.done();

    const cli = (args: string[]) => startCli([...args, '--repo', repo, '--json'], fx!.env());
    const editDashboard = (trial: number) => {
      for (const [slug, id] of ids) fx!.emulator.editItem('tags', id, { name: `${slug} edit ${trial}` });
    };
    // One uninterrupted pull, so the kills spread over its whole duration (files, then the commit).
    editDashboard(-1);
    const probe = await cli(['pull']).done;
    expect(probe.code, probe.stderr).toBe(0);
    const pullMs = probe.ms;
    // Node's start-up is spent before the pull touches anything: kills are spread over the rest.
    const startupMs = (await cli(['status']).done).ms;

    const totals = { trials: 0, killedMidway: 0, finishedBeforeKill: 0, lost: 0 };
    for (let trial = 0; trial < PULL_TRIALS; trial++) {
      editDashboard(trial);
      const delay = Math.floor(startupMs * 0.8 + random.next() * Math.max(pullMs - startupMs * 0.8, 1) * 1.1);
      const where = `${context} trial=${trial} killAfterMs=${delay}`;
      const run = cli(['pull']);
      const timer = setTimeout(() => run.child.kill('SIGKILL'), delay);
      const result = await run.done;
      clearTimeout(timer);
      if (result.signal === 'SIGKILL') totals.killedMidway += 1;
      else totals.finishedBeforeKill += 1;

      // At once (no waiting out a stale lock): one more pull, then a person throws the work tree away.
      const again = await cli(['pull']).done;
      expect(again.code, `${where}: second pull\n${again.stderr}`).toBe(0);
      await git(repo, 'checkout', '--', '.');
      const r = await fx.open();
      const { report } = await r.engine.reconcile({ verifyWaitMs: 2_000 });
      await r.done();
      expect(exitCodeForReport(report), `${where}: reconcile ${JSON.stringify(report.errors)}`).toBe(0);

      expect(await git(repo, 'status', '--porcelain', '--untracked-files=all'), `${where}: git status`).toBe(
        '',
      );
      const stray = (await readdir(path.join(repo, TAGS_DIR))).filter((f) => !f.endsWith('.json'));
      expect(stray, `${where}: stray files`).toEqual([]);
      const o = await fx.open();
      const items = await o.cms.listItems('tags', { preview: true });
      await o.done();
      expect(
        report.operations.filter((op) => op.status === 'sent'),
        `${where}: reconcile pushed`,
      ).toEqual([]);
      for (const [slug] of ids) {
        const expected = `${slug} edit ${trial}`;
        const inCms = items.find((i) => i.fields.slug === slug)?.fields.name;
        const inHead = (JSON.parse(await git(repo, 'show', `HEAD:${tagFile(slug)}`)) as Tag).name;
        if (inCms !== expected || inHead !== expected) totals.lost += 1;
        expect({ slug, inCms, inHead }, where).toEqual({ slug, inCms: expected, inHead: expected });
      }
      totals.trials += 1;
    }
    process.stdout.write(
      `pull crash test ${context}: pull took ${pullMs} ms uninterrupted (start-up ${startupMs} ms); ${JSON.stringify(totals)}\n`,
    );
    expect(totals.trials).toBe(PULL_TRIALS);
  });
});
