import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createButterClient, makeButterBackend } from '../../src/cms/butter/index.js';
import type { CmsClient } from '../../src/cms/butter/wire-types.js';
import type { CmsBackend } from '../../src/cms/port.js';
import type { ConfigInput, SyncConfig } from '../../src/config/schema.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { openContentRepo } from '../../src/git/index.js';
import { createLogger, type Logger } from '../../src/log.js';
import { ManifestStore } from '../../src/state/manifest-store.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from './emulator.js';
import { validConfig } from './valid-config.js';

const exec = promisify(execFile);

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = path.join(PROJECT_ROOT, 'dist/cli/main.js');

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd });
  return stdout.trim();
}

export interface Fixture {
  repoDir: string;
  config: SyncConfig;
  configInput: ConfigInput;
  emulator: EmulatorHandle;
  /** A fresh engine over a fresh client and store (like a new process); close it with `done()`. */
  open(overrides?: { config?: Partial<ConfigInput>; configDigest?: string }): Promise<Opened>;
  write(rel: string, text: string): Promise<void>;
  read(rel: string): Promise<string>;
  commitAll(message: string): Promise<string>;
  env(): NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export interface Opened {
  engine: SyncEngine;
  backend: CmsBackend;
  cms: CmsClient;
  store: ManifestStore;
  done(): Promise<void>;
}

/** Git commit identity for test repos, so CI machines without a global one still commit. */
async function initRepo(dir: string): Promise<void> {
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'config', 'user.email', 'writer@example.com');
  await git(dir, 'config', 'user.name', 'Writer');
  await git(dir, 'config', 'commit.gpgsign', 'false');
}

export function quietLogger(): Logger {
  return createLogger({ level: 'silent' });
}

/**
 * A real temp git repo holding a copy of content-example/ and sync.config.json, plus an emulator on
 * 127.0.0.1. `withContent: false` starts with an empty content dir.
 */
export async function makeFixture(
  options: {
    withContent?: boolean;
    config?: Partial<ConfigInput>;
    emulator?: Parameters<typeof startTestEmulator>[0];
  } = {},
): Promise<Fixture> {
  const repoDir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-test-'));
  const base = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'sync.config.json'), 'utf8')) as ConfigInput;
  delete (base as { $schema?: string }).$schema;
  const configInput: ConfigInput = {
    ...base,
    verify: { deadlineSeconds: 30 },
    rate: { requestsPerSecond: 200, concurrency: 8, timeoutMs: 10_000, maxRetries: 3 },
    ...options.config,
  };
  const config = validConfig(configInput);
  await initRepo(repoDir);
  await writeFile(path.join(repoDir, 'sync.config.json'), `${JSON.stringify(configInput, null, 2)}\n`);
  await writeFile(path.join(repoDir, '.gitignore'), '.butter-sync/\n');
  if (options.withContent !== false) {
    await cp(path.join(PROJECT_ROOT, 'content-example'), path.join(repoDir, config.contentDir), {
      recursive: true,
    });
  }
  await git(repoDir, 'add', '-A');
  await git(repoDir, 'commit', '-q', '-m', 'initial content');
  const emulator = await startTestEmulator({ config, ...options.emulator });

  const open = async (
    overrides: { config?: Partial<ConfigInput>; configDigest?: string } = {},
  ): Promise<Opened> => {
    const cfg = overrides.config ? validConfig({ ...configInput, ...overrides.config }) : config;
    const cms = createButterClient({
      baseUrl: emulator.url,
      readToken: TEST_READ_TOKEN,
      writeToken: TEST_WRITE_TOKEN,
      requestsPerSecond: cfg.rate.requestsPerSecond,
      concurrency: cfg.rate.concurrency,
      timeoutMs: cfg.rate.timeoutMs,
      maxRetries: cfg.rate.maxRetries,
      retryBaseMs: 20,
    });
    const backend = makeButterBackend(cms, cfg);
    const store = await ManifestStore.open(repoDir, 'test', { waitMs: 2_000 });
    const engine = new SyncEngine({
      repoDir,
      repo: openContentRepo(repoDir),
      config: cfg,
      backend,
      store,
      logger: quietLogger(),
      ...(overrides.configDigest ? { configDigest: overrides.configDigest } : {}),
    });
    return {
      engine,
      backend,
      cms,
      store,
      async done() {
        await cms.close(1_000);
        await store.close();
      },
    };
  };

  return {
    repoDir,
    config,
    configInput,
    emulator,
    open,
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
      await rm(repoDir, { recursive: true, force: true });
    },
  };
}

/** API requests the emulator saw that write (POST/PUT/PATCH/DELETE). */
export function writesIn(emulator: EmulatorHandle) {
  return emulator.requestLog().filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
}
