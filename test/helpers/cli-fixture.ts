import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { configDigest } from '../../src/cli/wiring.js';
import type { ConfigInput, SyncConfig } from '../../src/config/schema.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { runCli } from './cli-process.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from './emulator.js';
import { type Fixture, git, makeFixture } from './sync-fixture.js';

/** What a CLI test needs of a fixture: the repo, its emulator and the environment the CLI runs in (no engine). */
export type CliFixture = Omit<Fixture, 'open'>;

/**
 * A saved starting point: a repo (with its .git and .butter-sync) and the emulator's data file, copied for each
 * test. Copying costs a few ms where building the state again (git init, the first full push, its verify reads)
 * costs a second or more per test; each copy is still a separate repo and a separate emulator on its own port,
 * so no test sees what another one did.
 */
export interface FixtureTemplate {
  config: SyncConfig;
  configInput: ConfigInput;
  /** A private copy: its own temp repo and its own emulator loaded from the template's data. */
  fresh(): Promise<CliFixture>;
  /** A new template: a fresh copy after `setup` ran on it (setup's CLI runs happen once, not per test). */
  derive(setup: (fx: CliFixture) => Promise<void>): Promise<FixtureTemplate>;
  close(): Promise<void>;
}

const EMULATOR_DATA = 'emulator-data.json';
type EmulatorStart = NonNullable<NonNullable<Parameters<typeof makeFixture>[0]>['emulator']>;

/**
 * makeFixture(options), then `setup` on it once (a first push, by the CLI or in-process, as the test file did per
 * test), saved as a template. What setup leaves in the repo, its .butter-sync state and the emulator's content is
 * what every copy starts from; the emulator's request log and faults are not kept (each copy's emulator is new).
 */
export async function fixtureTemplate(
  options: Parameters<typeof makeFixture>[0],
  setup: (fx: Fixture) => Promise<void>,
): Promise<FixtureTemplate> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-template-'));
  const dataFile = path.join(home, EMULATOR_DATA);
  const fx = await makeFixture({ ...options, emulator: { ...options?.emulator, dataFile } });
  try {
    await setup(fx);
  } catch (error) {
    await fx.cleanup();
    await rm(home, { recursive: true, force: true });
    throw error;
  }
  await saveAsTemplate(fx, home);
  return templateAt(home, fx.config, fx.configInput, options?.emulator ?? {});
}

/**
 * Every entity pushed and verified in-process (a first `reconcile`). `configDigest` is the CLI's, so a CLI run on
 * a copy sees the config it was synced with and does not ask for a reconcile.
 */
export function inStepTemplate(options: Parameters<typeof makeFixture>[0] = {}): Promise<FixtureTemplate> {
  return fixtureTemplate(options, async (fx) => {
    const opened = await fx.open({ configDigest: configDigest(fx.config) });
    try {
      await opened.engine.reconcile({ verifyWaitMs: 10_000 });
    } finally {
      await opened.done();
    }
  });
}

/** Stop the fixture's emulator (its close writes the data file) and move the repo under `home/repo`. */
async function saveAsTemplate(fx: CliFixture, home: string): Promise<void> {
  await fx.emulator.settle();
  await fx.emulator.close();
  await rename(fx.repoDir, path.join(home, 'repo'));
}

function templateAt(
  home: string,
  config: SyncConfig,
  configInput: ConfigInput,
  emulatorOptions: EmulatorStart,
): FixtureTemplate {
  const fresh = async (): Promise<CliFixture> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-copy-'));
    const repoDir = path.join(dir, 'repo');
    const dataFile = path.join(dir, EMULATOR_DATA);
    await cp(path.join(home, 'repo'), repoDir, { recursive: true, preserveTimestamps: true });
    // No data file when setup changed nothing in the emulator (it saves only after a change): the copy starts empty.
    await cp(path.join(home, EMULATOR_DATA), dataFile).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    const emulator = await startTestEmulator({ config, ...emulatorOptions, dataFile });
    return fixtureAt(dir, repoDir, config, configInput, emulator);
  };
  return {
    config,
    configInput,
    fresh,
    async derive(setup) {
      const fx = await fresh();
      try {
        await setup(fx);
      } catch (error) {
        await fx.cleanup();
        throw error;
      }
      // A copy already has the template layout (repo/ and the data file side by side): it becomes the template.
      await fx.emulator.settle();
      await fx.emulator.close();
      return templateAt(path.dirname(fx.repoDir), config, configInput, emulatorOptions);
    },
    close: () => rm(home, { recursive: true, force: true }),
  };
}

function fixtureAt(
  dir: string,
  repoDir: string,
  config: SyncConfig,
  configInput: ConfigInput,
  emulator: EmulatorHandle,
): CliFixture {
  return {
    repoDir,
    config,
    configInput,
    emulator,
    write: (rel, text) => writeFile(path.join(repoDir, rel), text),
    read: (rel) => readFile(path.join(repoDir, rel), 'utf8'),
    async commitAll(message) {
      await git(repoDir, 'add', '-A');
      await git(repoDir, 'commit', '-q', '-m', message);
      return git(repoDir, 'rev-parse', 'HEAD');
    },
    env: () => ({
      ...process.env,
      BUTTER_API_URL: emulator.url,
      BUTTER_READ_TOKEN: TEST_READ_TOKEN,
      BUTTER_WRITE_TOKEN: TEST_WRITE_TOKEN,
    }),
    async cleanup() {
      await emulator.close();
      // Retried: a post-commit hook's CLI, started in the background by a test's commit, can still be writing its
      // log or manifest in the repo while it is removed (ENOTEMPTY).
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** makeFixture(options), `before` on it, then a first `push ...args` by the CLI, which must exit 0. */
export function cliPushedTemplate(
  options: Parameters<typeof makeFixture>[0] = {},
  steps: { args?: string[]; before?: (fx: Fixture) => Promise<void> } = {},
): Promise<FixtureTemplate> {
  return fixtureTemplate(options, async (fx) => {
    await steps.before?.(fx);
    const first = await runCli(['push', ...(steps.args ?? []), '--repo', fx.repoDir], fx.env());
    if (first.code !== 0) throw new Error(`setup: the first push exited ${first.code}:\n${first.stderr}`);
  });
}

/** makeFixture(options) and a first push in-process (engine.push; no CLI config digest is recorded). */
export function enginePushedTemplate(
  options: Parameters<typeof makeFixture>[0] = {},
): Promise<FixtureTemplate> {
  return fixtureTemplate(options, async (fx) => {
    const s = await fx.open();
    try {
      await s.engine.push({ verifyWaitMs: 5_000 });
    } finally {
      await s.done();
    }
  });
}

/**
 * One template for the whole test file, built in beforeAll and removed in afterAll: `fresh()` in a beforeEach
 * gives each test its own copy where the file used to build the same state again before every test.
 */
export function templatePerFile(build: () => Promise<FixtureTemplate>): { fresh(): Promise<CliFixture> } {
  let template: FixtureTemplate | undefined;
  // Building it is a first push on a machine shared with the other worker: more than one test's worth of time.
  beforeAll(async () => {
    template = await build();
  }, 60_000);
  afterAll(() => template?.close());
  return {
    fresh() {
      if (!template) throw new Error('the file template was not built (its beforeAll failed)');
      return template.fresh();
    },
  };
}
