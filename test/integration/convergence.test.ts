import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../../src/cli/wiring.js';
import { editContentFile, renderContentFile } from '../../src/content/index.js';
import { runGit } from '../../src/git/run-git.js';
import { readManifest } from '../../src/state/manifest-file.js';
import { readState } from '../../src/sync/context.js';
import { scanLocal } from '../../src/sync/local-scan.js';
import { exitCodeForReport } from '../../src/sync/report.js';
import { TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { baseSeed, makeRandom, type Random } from '../helpers/prng.js';
import { diffSides } from '../helpers/sides-diff.js';
import { type Fixture, git, makeFixture, type Opened } from '../helpers/sync-fixture.js';

// Issue "Prove it" §5: seeded random interleavings of edits on both sides with syncs in between. The test
// keeps its own three-way model of every tracked field (local value, remote value, last agreed value):
// a field edited on one side only must end on both sides with that value; edited on both to different
// values it must be a recorded conflict. BUTTER_SYNC_CONVERGENCE=10000 runs that many scenarios.
const SCENARIOS = Number(process.env.BUTTER_SYNC_CONVERGENCE) || 200;
const STEPS = 10;
const C = 'content-example';
const LOCALES = ['en', 'es'] as const;

type Value = string | number | boolean | undefined;
interface Slot {
  local: Value;
  remote: Value;
  base: Value;
}
interface ModelEntity {
  key: string;
  kind: 'tags' | 'team_members' | 'faq';
  name: string;
  /** locale → field → slot */
  slots: Record<string, Record<string, Slot>>;
  id?: number;
}

const TRACKED: Record<ModelEntity['kind'], string[]> = {
  tags: ['name', 'color'],
  team_members: ['name', 'role', 'years', 'active'],
  faq: ['headline'],
};

function fileOf(e: ModelEntity, locale: string): string {
  const suffix = locale === 'en' ? '' : `.${locale}`;
  return e.kind === 'faq'
    ? `${C}/pages/faq/${e.name}${suffix}.md`
    : `${C}/collections/${e.kind}/${e.name}${suffix}.json`;
}

function entityKeyOf(e: ModelEntity): string {
  return e.kind === 'faq' ? `page:faq:${e.name}` : `item:${e.kind}:${e.name}`;
}

class Scenario {
  readonly entities = new Map<string, ModelEntity>();
  readonly trace: string[] = [];
  /** Deleted on one side since the last sync: not edited again until then (delete-vs-edit is its own rule). */
  private readonly deleted = new Set<string>();
  private counter = 0;
  /** The variable that replays this mode with one scenario (the multi-machine mode sets its own). */
  replayEnv = 'BUTTER_SYNC_CONVERGENCE=1';

  constructor(
    readonly seed: number,
    readonly random: Random,
    readonly fx: Fixture,
    readonly s: Opened,
  ) {}

  value(kind: ModelEntity['kind'], field: string): Value {
    this.counter += 1;
    if (field === 'years') return 1 + this.random.int(60);
    if (field === 'active') return this.random.chance(0.5);
    if (field === 'color') return `#${(0x100000 + this.random.int(0xefffff)).toString(16)}`;
    return `${kind}-${field}-${this.seed}-${this.counter}`;
  }

  freshValues(kind: ModelEntity['kind']): Record<string, Value> {
    return Object.fromEntries(TRACKED[kind].map((f) => [f, this.value(kind, f)]));
  }

  fullFields(e: ModelEntity, values: Record<string, Value>): Record<string, unknown> {
    if (e.kind === 'tags') return { slug: e.name, ...values };
    if (e.kind === 'team_members') return { slug: e.name, photo: '', tags: [], ...values };
    return values;
  }

  async writeLocal(e: ModelEntity, locale: string, values: Record<string, Value>): Promise<void> {
    const rel = fileOf(e, locale);
    const config = this.fx.config;
    const text =
      e.kind === 'faq'
        ? renderContentFile(
            rel,
            { fields: { ...values, body: 'Body.\n' }, meta: { title: e.name, status: 'published' } },
            config,
          )
        : renderContentFile(rel, { fields: this.fullFields(e, values), meta: {} }, config);
    await mkdir(path.dirname(path.join(this.fx.repoDir, rel)), { recursive: true });
    await writeFile(path.join(this.fx.repoDir, rel), text);
  }

  /** A new entity on one side; `locales` holds its starting values per locale. */
  async create(kind: ModelEntity['kind'], side: 'local' | 'remote', locales: string[]): Promise<ModelEntity> {
    this.counter += 1;
    const e: ModelEntity = { key: '', kind, name: `${kind.slice(0, 1)}${this.counter}`, slots: {} };
    e.key = entityKeyOf(e);
    const perLocale: Record<string, Record<string, Value>> = {};
    for (const locale of locales) {
      const values = this.freshValues(kind);
      perLocale[locale] = values;
      e.slots[locale] = Object.fromEntries(
        Object.entries(values).map(([f, v]) => [
          f,
          {
            local: side === 'local' ? v : undefined,
            remote: side === 'remote' ? v : undefined,
            base: undefined,
          },
        ]),
      );
    }
    if (side === 'local') {
      for (const locale of locales) await this.writeLocal(e, locale, perLocale[locale] ?? {});
    } else if (kind === 'faq') {
      for (const locale of locales) {
        this.fx.emulator.seedPage({
          pageType: 'faq',
          slug: e.name,
          title: e.name,
          locale,
          status: 'published',
          fields: { ...perLocale[locale], body: 'Body.\n' },
        });
      }
    } else {
      const fields =
        locales.length === 1
          ? this.fullFields(e, perLocale.en ?? {})
          : Object.fromEntries(locales.map((l) => [l, this.fullFields(e, perLocale[l] ?? {})]));
      e.id = this.fx.emulator.seedItem({ collection: kind, fields });
    }
    this.entities.set(e.key, e);
    this.trace.push(`${side} create ${e.key} [${locales.join(',')}]`);
    return e;
  }

  existsOn(e: ModelEntity, side: 'local' | 'remote'): boolean {
    return Object.values(e.slots.en ?? {}).some((slot) => slot[side] !== undefined);
  }

  isClean(e: ModelEntity): boolean {
    return Object.values(e.slots).every((fields) =>
      Object.values(fields).every((s) => s.local === s.base && s.remote === s.base && s.base !== undefined),
    );
  }

  async editField(side: 'local' | 'remote'): Promise<void> {
    const candidates = [...this.entities.values()].filter(
      (e) => this.existsOn(e, side) && !this.deleted.has(e.key),
    );
    if (candidates.length === 0) return;
    const e = this.random.pick(candidates);
    const locale = this.random.pick(Object.keys(e.slots));
    const field = this.random.pick(TRACKED[e.kind]);
    const slot = e.slots[locale]?.[field];
    if (!slot) return;
    const other = side === 'local' ? slot.remote : slot.local;
    // Now and then both sides make the same change: that must be adopted, not reported.
    const value =
      other !== undefined && other !== slot.base && this.random.chance(0.3)
        ? other
        : this.value(e.kind, field);
    slot[side] = value;
    this.trace.push(`${side} edit ${e.key} ${locale}.${field}=${JSON.stringify(value)}`);
    if (side === 'local') {
      const rel = fileOf(e, locale);
      const abs = path.join(this.fx.repoDir, rel);
      const text = await readFile(abs, 'utf8');
      await writeFile(abs, editContentFile(rel, text, { [field]: value }, this.fx.config));
    } else if (e.kind === 'faq') {
      this.fx.emulator.editPage('faq', e.name, { [field]: value }, { locale });
    } else {
      this.fx.emulator.editItem(e.kind, e.id as number, { [field]: value }, locale);
    }
  }

  async deleteEntity(side: 'local' | 'remote'): Promise<void> {
    // Deletes are exercised on entities both sides agree on (a delete racing an edit is a separate rule).
    const candidates = [...this.entities.values()].filter(
      (e) => e.kind !== 'faq' && this.isClean(e) && e.id !== undefined,
    );
    if (candidates.length === 0) return;
    const e = this.random.pick(candidates);
    for (const fields of Object.values(e.slots))
      for (const slot of Object.values(fields)) slot[side] = undefined;
    this.trace.push(`${side} delete ${e.key}`);
    this.deleted.add(e.key);
    if (side === 'local') {
      for (const locale of Object.keys(e.slots)) await rm(path.join(this.fx.repoDir, fileOf(e, locale)));
    } else {
      this.fx.emulator.deleteItem(e.kind, e.id as number);
    }
  }

  /** The three-way rule per field, as DESIGN.md §3 states it. */
  expectAfterSync(): void {
    for (const e of this.entities.values()) {
      for (const fields of Object.values(e.slots)) {
        for (const slot of Object.values(fields)) {
          const localChanged = slot.local !== slot.base;
          const remoteChanged = slot.remote !== slot.base;
          if (localChanged && !remoteChanged) slot.remote = slot.local;
          else if (!localChanged && remoteChanged) slot.local = slot.remote;
          if (slot.local === slot.remote) slot.base = slot.local;
        }
      }
    }
  }

  async sync(label: string): Promise<void> {
    const { report } = await this.s.engine.reconcile({ verifyWaitMs: 3_000 });
    this.trace.push(`sync ${label}: exit ${exitCodeForReport(report)}, ${report.operations.length} ops`);
    expect(report.errors, this.where('file errors')).toEqual([]);
    expect(report.failures, this.where('failed writes')).toEqual([]);
    expect(report.pending, this.where('writes left pending')).toBe(0);
    this.expectAfterSync();
    this.deleted.clear();
    for (const e of [...this.entities.values()]) {
      if (!this.existsOn(e, 'local') && !this.existsOn(e, 'remote')) this.entities.delete(e.key);
      const id = this.s.store.manifest.entities[e.key]?.remoteId;
      if (id !== undefined) e.id = Number(id);
    }
    await this.check();
  }

  where(what: string): string {
    return `convergence seed=${this.seed} (replay: BUTTER_SYNC_SEED=${this.seed} ${this.replayEnv}): ${what}\n${this.trace.join('\n')}`;
  }

  /** Both sides equal except recorded conflicts; every tracked field where the model says it must be. */
  async check(): Promise<void> {
    const { config } = this.fx;
    const manifest = this.s.store.manifest;
    const conflicts = new Set(manifest.conflicts.map((c) => `${c.entity}|${c.locale}|${c.field}`));
    const differences = (await diffSides(this.s, this.fx.repoDir)).filter(
      (d) => !conflicts.has(`${d.entity}|${d.locale}|${d.field}`),
    );
    expect(differences, this.where('sides differ outside recorded conflicts')).toEqual([]);

    const local = (await scanLocal(this.fx.repoDir, config, manifest)).local;
    const remote = (await this.s.backend.readScope({}, readState(manifest))).remote;
    const wrong: string[] = [];
    const expectedConflicts = new Set<string>();
    for (const e of this.entities.values()) {
      for (const [locale, fields] of Object.entries(e.slots)) {
        for (const [field, slot] of Object.entries(fields)) {
          const id = `${e.key}|${locale}|${field}`;
          const l = local.get(e.key)?.locales[locale]?.fields[field] as Value;
          const r = remote.get(e.key)?.locales[locale]?.fields[field] as Value;
          if (l !== slot.local || r !== slot.remote) {
            wrong.push(
              `${id}: files ${JSON.stringify(l)} cms ${JSON.stringify(r)}, expected ${JSON.stringify(slot)}`,
            );
          }
          if (slot.local !== slot.remote) expectedConflicts.add(id);
        }
      }
    }
    expect(wrong, this.where('an edit was lost or misplaced')).toEqual([]);
    expect([...conflicts].sort(), this.where('recorded conflicts')).toEqual([...expectedConflicts].sort());
    const extra = [...new Set([...local.keys(), ...remote.keys()])].filter((k) => !this.entities.has(k));
    expect(extra, this.where('entities the model does not know')).toEqual([]);
  }
}

describe('convergence under random interleaved edits', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await makeFixture({
      withContent: false,
      config: {
        maxDeletePercent: 100,
        pull: { intervalSeconds: 300, commit: false, push: false },
        verify: { deadlineSeconds: 5 },
        rate: { requestsPerSecond: 1_000, concurrency: 4, timeoutMs: 5_000, maxRetries: 2 },
      },
    });
  });
  afterAll(async () => {
    await fx.cleanup();
  });

  async function runScenario(seed: number): Promise<{ conflicts: number; steps: string[] }> {
    fx.emulator.reset();
    await rm(path.join(fx.repoDir, C), { recursive: true, force: true });
    await rm(path.join(fx.repoDir, '.butter-sync'), { recursive: true, force: true });
    const s = await fx.open();
    const scenario = new Scenario(seed, makeRandom(seed), fx, s);
    try {
      await scenario.create('tags', 'local', ['en', 'es']);
      await scenario.create('tags', 'local', ['en']);
      await scenario.create('team_members', 'local', ['en']);
      await scenario.create('faq', 'local', [...LOCALES]);
      await scenario.create('tags', 'remote', ['en']);
      await scenario.sync('initial');
      for (let step = 0; step < STEPS; step++) {
        const roll = scenario.random.next();
        if (roll < 0.27) await scenario.editField('local');
        else if (roll < 0.54) await scenario.editField('remote');
        else if (roll < 0.6)
          await scenario.create(scenario.random.pick(['tags', 'team_members', 'faq']), 'local', ['en']);
        else if (roll < 0.66)
          await scenario.create(scenario.random.pick(['tags', 'team_members']), 'remote', ['en']);
        else if (roll < 0.71) await scenario.deleteEntity('local');
        else if (roll < 0.76) await scenario.deleteEntity('remote');
        else await scenario.sync(`step ${step}`);
      }
      await scenario.sync('final');
      await scenario.sync('settled');
      return { conflicts: s.store.manifest.conflicts.length, steps: scenario.trace };
    } finally {
      await s.done();
    }
  }

  it(`${SCENARIOS} seeded scenarios end equal on both sides except recorded conflicts`, {
    timeout: Math.max(120_000, SCENARIOS * 2_000),
  }, async () => {
    const first = baseSeed();
    let conflicts = 0;
    let syncs = 0;
    for (let i = 0; i < SCENARIOS; i++) {
      const result = await runScenario((first + i) >>> 0);
      conflicts += result.conflicts;
      syncs += result.steps.filter((line) => line.startsWith('sync')).length;
    }
    process.stdout.write(
      `convergence: ${SCENARIOS} scenarios from seed ${first}, ${syncs} syncs, ${conflicts} conflicts recorded at the end\n`,
    );
  });
});

// Issue 14: the same model with two or three machines, each with its own checkout and cache, sharing the
// sync state on refs/butter-sync/state of a bare remote. Every local edit is made on one machine, committed
// and pushed (after a pull, as a writer does), so "local" in the model is the branch head; each sync runs on
// a random machine, which pulls first and pushes what it pulled; now and then a machine loses its cache (a
// CI run with none). Real git (clones of a bare remote), real sessions (openSession: shared state on).
// A scenario runs real git: about 490 git processes (clones are copied from a template; a clone at the tip is
// not pulled; nothing is pushed when nothing was committed), 2.4 s of them inside git, and 10-14 sessions; about
// 5-7.5 s in all on this shared 2-core machine at load 2-6 (10 s at load 9). 200 do not fit in a minute of
// `npm test`, so it runs BUTTER_SYNC_CONVERGENCE_MACHINES (default 6) of them; set it to 200 or 10000 for the
// issue's sizes.
const MACHINE_SCENARIOS = Number(process.env.BUTTER_SYNC_CONVERGENCE_MACHINES) || 6;

describe('convergence with several machines sharing the state', () => {
  let fx: Fixture;
  const savedEnv = { ...process.env };
  /**
   * A bare remote holding the fixture's branch and MAX_MACHINES configured clones of it, made once with git;
   * each scenario copies it (files only, no git process) instead of cloning. The clones name their remote
   * `../origin.git`, so a copy pushes to its own bare remote.
   */
  const MAX_MACHINES = 3;
  let template: string;
  beforeAll(async () => {
    fx = await makeFixture({
      withContent: false,
      config: {
        maxDeletePercent: 100,
        pull: { intervalSeconds: 300, commit: false, push: false },
        verify: { deadlineSeconds: 5 },
        rate: { requestsPerSecond: 1_000, concurrency: 4, timeoutMs: 5_000, maxRetries: 2 },
      },
    });
    Object.assign(process.env, {
      BUTTER_API_URL: fx.emulator.url,
      BUTTER_READ_TOKEN: TEST_READ_TOKEN,
      BUTTER_WRITE_TOKEN: TEST_WRITE_TOKEN,
    });
    template = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-machines-template-'));
    const bare = path.join(template, 'origin.git');
    await git(template, 'init', '-q', '--bare', '-b', 'main', bare);
    await git(bare, 'config', 'receive.autogc', 'false');
    await git(fx.repoDir, 'push', '-q', '--force', bare, 'HEAD:main');
    for (let m = 0; m < MAX_MACHINES; m++) {
      const dir = path.join(template, `machine-${m}`);
      await git(template, 'clone', '-q', bare, dir);
      await git(dir, 'remote', 'set-url', 'origin', '../origin.git');
      await git(dir, 'config', 'user.email', `m${m}@example.com`);
      await git(dir, 'config', 'user.name', `Machine ${m}`);
      // Auto gc/maintenance after each fetch, push and commit was a fifth of the git processes of a scenario.
      await git(dir, 'config', 'gc.auto', '0');
      await git(dir, 'config', 'maintenance.auto', 'false');
    }
  });
  afterAll(async () => {
    process.env = { ...savedEnv };
    await fx.cleanup();
    await rm(template, { recursive: true, force: true });
  });

  async function runMachines(seed: number): Promise<{ syncs: number; conflicts: number }> {
    fx.emulator.reset();
    const random = makeRandom(seed);
    const root = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-machines-'));
    try {
      await cp(path.join(template, 'origin.git'), path.join(root, 'origin.git'), { recursive: true });
      const machines: string[] = [];
      for (let m = 0; m < 2 + random.int(2); m++) {
        const dir = path.join(root, `machine-${m}`);
        await cp(path.join(template, `machine-${m}`), dir, { recursive: true });
        machines.push(dir);
      }
      // Pushes of the content branch so far, and the one each clone last has: a clone already at the tip needs
      // no pull (sequential machines never diverge, so a pull is only ever a fast-forward).
      let pushes = 0;
      const seen = new Map<string, number>(machines.map((m) => [m, 0]));
      let current = machines[0]!;
      const view = Object.create(fx) as Fixture;
      Object.defineProperty(view, 'repoDir', { get: () => current });
      const scenario = new Scenario(seed, random, view, undefined as unknown as Opened);
      scenario.replayEnv = 'BUTTER_SYNC_CONVERGENCE_MACHINES=1';
      const on = async (m: string) => {
        current = m;
        if (seen.get(m) === pushes) return;
        await git(m, 'pull', '-q', '--ff-only', 'origin', 'main');
        seen.set(m, pushes);
      };
      // Commit and push what changed; nothing changed, nothing to push.
      const publishGit = async (message: string) => {
        await git(current, 'add', '-A');
        const committed = await runGit(current, ['commit', '-q', '-m', message], { allowFailure: true });
        if (committed.code !== 0) {
          expect(`${committed.stdout}${committed.stderr}`, 'git commit').toMatch(
            /nothing (added )?to commit/,
          );
          return;
        }
        await git(current, 'push', '-q', 'origin', 'main');
        pushes += 1;
        seen.set(current, pushes);
      };
      let syncs = 0;
      const sync = async (label: string) => {
        await on(random.pick(machines));
        if (random.chance(0.2)) {
          await rm(path.join(current, '.butter-sync'), { recursive: true, force: true });
          scenario.trace.push(`${path.basename(current)} loses its cache`);
        }
        const session = await openSession(
          { repo: current, config: path.join(current, 'sync.config.json'), logLevel: 'silent' },
          { needsWrite: true },
        );
        (scenario as unknown as { s: Opened }).s = { ...session, done: () => session.close() };
        try {
          await scenario.sync(`${label} on ${path.basename(current)}`);
        } finally {
          await session.close();
        }
        await publishGit('pulled');
        syncs += 1;
      };
      const local = async (act: () => Promise<unknown>) => {
        await on(random.pick(machines));
        await act();
        scenario.trace.push(`  (on ${path.basename(current)})`);
        await publishGit('edit');
      };

      await local(async () => {
        await scenario.create('tags', 'local', ['en', 'es']);
        await scenario.create('team_members', 'local', ['en']);
        await scenario.create('faq', 'local', [...LOCALES]);
      });
      await scenario.create('tags', 'remote', ['en']);
      await sync('initial');
      for (let step = 0; step < STEPS; step++) {
        const roll = random.next();
        if (roll < 0.27) await local(() => scenario.editField('local'));
        else if (roll < 0.5) await scenario.editField('remote');
        else if (roll < 0.56)
          await local(() => scenario.create(random.pick(['tags', 'team_members', 'faq']), 'local', ['en']));
        else if (roll < 0.62) await scenario.create(random.pick(['tags', 'team_members']), 'remote', ['en']);
        else if (roll < 0.67) await local(() => scenario.deleteEntity('local'));
        else if (roll < 0.72) await scenario.deleteEntity('remote');
        else await sync(`step ${step}`);
      }
      await sync('final');
      // Every machine takes the shared state in and ends in it: same ids and bases everywhere.
      const states: string[] = [];
      // Two rounds: the first machine of a round takes in what the later ones published on the next one.
      for (const m of [...machines, ...machines]) {
        await on(m);
        const session = await openSession(
          { repo: m, config: path.join(m, 'sync.config.json'), logLevel: 'silent' },
          { needsWrite: true },
        );
        (scenario as unknown as { s: Opened }).s = { ...session, done: () => session.close() };
        try {
          await scenario.sync(`settle on ${path.basename(m)}`);
        } finally {
          await session.close();
        }
        await publishGit('pulled');
      }
      for (const m of machines) {
        await on(m);
        const manifest = await readManifest(m, 'x');
        states.push(
          JSON.stringify(
            Object.entries(manifest.entities)
              .map(([k, e]) => [k, e.remoteId, Object.entries(e.locales).map(([l, s]) => [l, s.base])])
              .sort(),
          ),
        );
        expect(manifest.pending, scenario.where(`${m}: pending left`)).toEqual([]);
      }
      for (const state of states)
        expect(state, scenario.where('machines disagree on the state')).toBe(states[0]);
      return { syncs, conflicts: (await readManifest(machines[0]!, 'x')).conflicts.length };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }

  // The lost-cache bug (issue 14, fixed in state/state-ref.ts): a clone that lost .butter-sync/ but kept its
  // local state ref took the ref for what its empty cache included, so its next sync ran with no base (rich-text
  // bodies and edits as conflicts) or merged everything away. Seed 1 hit it at its 7th step.
  it('seed 1 converges after a clone loses its cache', { timeout: 120_000 }, async () => {
    await runMachines(1);
  });

  it(`${MACHINE_SCENARIOS} seeded multi-machine scenarios converge to one state, nothing lost or duplicated`, {
    timeout: Math.max(120_000, MACHINE_SCENARIOS * 20_000),
  }, async () => {
    // Random seeds (printed on failure; BUTTER_SYNC_SEED replays one): seeds 1-100 pass since the lost-cache fix.
    const first = baseSeed();
    let syncs = 0;
    let conflicts = 0;
    for (let i = 0; i < MACHINE_SCENARIOS; i++) {
      const result = await runMachines((first + i) >>> 0);
      syncs += result.syncs;
      conflicts += result.conflicts;
    }
    process.stdout.write(
      `convergence (machines): ${MACHINE_SCENARIOS} scenarios from seed ${first}, ${syncs} syncs, ${conflicts} conflicts at the end\n`,
    );
  });
});
