import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeFor, SyncError } from '../../src/core/errors.js';
import { readManifest } from '../../src/state/manifest-file.js';
import { lockManifest, manifestLockPath } from '../../src/state/manifest-lock.js';
import { type CliFixture, type FixtureTemplate, inStepTemplate } from '../helpers/cli-fixture.js';
import { type CliRun, runCli, runCliOn, startCli } from '../helpers/cli-process.js';
import { git } from '../helpers/sync-fixture.js';
import { waitUntil } from '../helpers/wait.js';

// README "Exit codes", command by command: every cell either runs the CLI into that code or says why the
// command cannot end that way. `busy` is the code of a held manifest lock (whatever exitCodeFor maps it to).

const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';
const TAG = 'content-example/collections/tags/engineering.json';
const CODES = ['0', '1', '2', '3', '4', '75', 'busy', '130/143'] as const;
type Code = (typeof CODES)[number];
const BUSY = exitCodeFor(new SyncError('MANIFEST_LOCKED', 'held'));

type Scenario = (fx: CliFixture) => Promise<CliRun>;
/**
 * `from: 'conflict'` starts the cell from a copy of a repo where `recordConflict` already ran (once per file, not
 * once per cell: the cell's own command is what it checks).
 */
type Cell = { code: number; run: Scenario; from?: 'conflict' } | { na: string };

const cli = runCliOn;

async function editMember(fx: CliFixture, role = 'Edited in git'): Promise<void> {
  await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', JSON.stringify(role)));
}

async function memberId(fx: CliFixture): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const manifest = await readManifest(fx.repoDir, 'x');
  return Number(manifest.entities['item:team_members:ada-lovelace']?.remoteId);
}

/** Git and the dashboard change the same field differently: a conflict for any two-way run. */
async function bothSidesEdit(fx: CliFixture): Promise<void> {
  await editMember(fx, 'Git side');
  fx.emulator.editItem('team_members', await memberId(fx), { role: 'Dashboard side' });
}

async function recordConflict(fx: CliFixture): Promise<void> {
  await bothSidesEdit(fx);
  const run = await cli(fx, ['reconcile']);
  if (run.code !== 3) throw new Error(`setup: reconcile exited ${run.code}: ${run.stderr}`);
}

const breakFile = (fx: CliFixture) => fx.write(TAG, '{ "slug": "engineering", \n');
// Port 1 (tcpmux) refuses the connection and is never handed out by bind(0): the cells run concurrently, and a
// port freePort() found free a moment ago could be taken by another cell's emulator before this cell connects.
const unreachable = async (fx: CliFixture) => ({ ...fx.env(), BUTTER_API_URL: 'http://127.0.0.1:1/v2' });
const quotaUsedUp = (fx: CliFixture) => fx.emulator.setFaults({ burst429: 1_000, retryAfterSeconds: 3_600 });

/** Run a command while another process holds the manifest lock. */
async function whileLocked(fx: CliFixture, args: string[]): Promise<CliRun> {
  const lock = await lockManifest(fx.repoDir);
  try {
    return await cli(fx, args);
  } finally {
    await lock.release();
  }
}

/** Start a command against a slow ButterCMS and stop it with `signal` once it holds the lock (mid-run). */
async function interrupted(
  fx: CliFixture,
  args: string[],
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<CliRun> {
  fx.emulator.setFaults({ latencyMs: 300 });
  const handle = startCli([...args, '--repo', fx.repoDir], fx.env());
  await waitUntil('the command to take the manifest lock', () => existsSync(manifestLockPath(fx.repoDir)));
  handle.child.kill(signal);
  return handle.done;
}

/** The CLI in a fresh directory with no repository (init, emulator). */
async function inEmptyDir(run: (dir: string) => Promise<CliRun>): Promise<CliRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-codes-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function emulatorStopped(fx: CliFixture, signal: NodeJS.Signals): Promise<CliRun> {
  const handle = startCli(['emulator', '--port', '0', '--repo', fx.repoDir], fx.env());
  let out = '';
  handle.child.stdout?.on('data', (d) => {
    out += String(d);
  });
  await waitUntil('the emulator banner', () => out.includes('listening at'));
  handle.child.kill(signal);
  return handle.done;
}

const syncCommand = (args: string[], conflict: Scenario, extra: Partial<Record<Code, Cell>> = {}) =>
  ({
    '0': {
      code: 0,
      run: async (fx) => {
        await editMember(fx);
        return cli(fx, args);
      },
    },
    '1': {
      code: 1,
      run: async (fx) => {
        await editMember(fx);
        return cli(fx, args, await unreachable(fx));
      },
    },
    '2': { code: 2, run: (fx) => cli(fx, [...args, '--no-such-option']) },
    '3': { code: 3, run: conflict },
    '4': {
      code: 4,
      run: async (fx) => {
        await breakFile(fx);
        return cli(fx, args);
      },
    },
    '75': {
      code: 75,
      run: async (fx) => {
        await editMember(fx);
        quotaUsedUp(fx);
        return cli(fx, args);
      },
    },
    busy: { code: BUSY, run: (fx) => whileLocked(fx, args) },
    '130/143': {
      code: 143,
      run: async (fx) => {
        await editMember(fx);
        return interrupted(fx, args);
      },
    },
    ...extra,
  }) satisfies Record<Code, Cell>;

const NOT_A_DAEMON_OUTCOME = 'a daemon keeps running: conflicts and failures go to status and /metrics';
const HOOK_NEVER_FAILS = 'the hook never fails a commit: every outcome of post-commit is 0';

const TABLE: Record<string, Record<Code, Cell>> = {
  push: syncCommand(['push'], async (fx) => {
    await bothSidesEdit(fx);
    return cli(fx, ['push']);
  }),
  pull: syncCommand(['pull'], async (fx) => {
    await bothSidesEdit(fx);
    return cli(fx, ['pull']);
  }),
  reconcile: syncCommand(['reconcile'], async (fx) => {
    await bothSidesEdit(fx);
    return cli(fx, ['reconcile']);
  }),
  plan: syncCommand(
    ['plan'],
    async (fx) => {
      await bothSidesEdit(fx);
      return cli(fx, ['plan']);
    },
    {
      // plan reads the manifest without the lock, so it runs beside a daemon holding it (issue 15, item 7).
      busy: {
        na: 'plan reads the manifest without taking the lock: it runs (and exits 0) while another process holds it',
      },
      '130/143': {
        code: 143,
        run: async (fx) => {
          // plan takes no lock to wait for: it is stopped once its first read of ButterCMS has come back.
          fx.emulator.setFaults({ latencyMs: 300 });
          fx.emulator.clearLog();
          const handle = startCli(['plan', '--repo', fx.repoDir], fx.env());
          await waitUntil('the first read of plan', () => fx.emulator.requestLog().length > 0);
          handle.child.kill('SIGTERM');
          return handle.done;
        },
      },
    },
  ),
  status: {
    '0': { code: 0, run: (fx) => cli(fx, ['status']) },
    '1': {
      code: 1,
      run: async (fx) => {
        await writeFile(path.join(fx.repoDir, '.butter-sync/manifest.json'), '{ not json');
        return cli(fx, ['status']);
      },
    },
    '2': { code: 2, run: (fx) => cli(fx, ['status', '--no-such-option']) },
    '3': { code: 3, from: 'conflict', run: (fx) => cli(fx, ['status']) },
    '4': {
      code: 4,
      run: async (fx) => {
        // A page referencing a new page that is not pushed: held back, listed as failed until it can go.
        const text = (await fx.read('content-example/pages/faq/returns.md')).replace(
          'related: ""',
          'related: wrapping',
        );
        await fx.write('content-example/pages/faq/gifts.md', text);
        await fx.write(
          'content-example/pages/faq/wrapping.md',
          text.replace('related: wrapping', 'related: ""'),
        );
        await cli(fx, ['push', 'content-example/pages/faq/gifts.md']);
        return cli(fx, ['status']);
      },
    },
    '75': { na: 'status makes no API call' },
    busy: { na: 'status reads the manifest without taking the lock' },
    '130/143': { na: 'status reads one file and exits: there is nothing to interrupt' },
  },
  resolve: {
    '0': {
      code: 0,
      run: async (fx) => {
        // Another file keeps a conflict: resolve exits by the file it was asked about.
        await fx.write(TAG, (await fx.read(TAG)).replace('"Engineering"', '"Git tag"'));
        const { readFile } = await import('node:fs/promises');
        const manifest = await readManifest(fx.repoDir, 'x');
        fx.emulator.editItem('tags', Number(manifest.entities['item:tags:engineering']?.remoteId), {
          name: 'CMS tag',
        });
        await recordConflict(fx);
        return cli(fx, ['resolve', MEMBER, '--take', 'cms']);
      },
    },
    '1': {
      code: 1,
      from: 'conflict',
      run: async (fx) => cli(fx, ['resolve', MEMBER, '--take', 'cms'], await unreachable(fx)),
    },
    '2': { code: 2, run: (fx) => cli(fx, ['resolve', MEMBER, '--take', 'both']) },
    '3': { na: 'resolve settles every conflict of the file it names; others do not change its code (see 0)' },
    '4': {
      code: 4,
      from: 'conflict',
      run: async (fx) => {
        // The file breaks before git's side is taken: it cannot be pushed, which the code says.
        await fx.write(MEMBER, '{ "slug": "ada-lovelace", \n');
        return cli(fx, ['resolve', MEMBER, '--take', 'git']);
      },
    },
    '75': {
      code: 75,
      from: 'conflict',
      run: async (fx) => {
        quotaUsedUp(fx);
        return cli(fx, ['resolve', MEMBER, '--take', 'cms']);
      },
    },
    busy: {
      code: BUSY,
      from: 'conflict',
      run: (fx) => whileLocked(fx, ['resolve', MEMBER, '--take', 'cms']),
    },
    '130/143': {
      code: 143,
      from: 'conflict',
      run: (fx) => interrupted(fx, ['resolve', MEMBER, '--take', 'cms']),
    },
  },
  watch: {
    '0': { na: 'watch runs until it is stopped (130/143)' },
    '1': { na: 'watch keeps running through ButterCMS and git errors and logs them' },
    '2': {
      code: 2,
      run: (fx) => cli(fx, ['watch', '--no-fetch'], { ...fx.env(), BUTTER_WEBHOOK_SECRET: '' }),
    },
    '3': { na: NOT_A_DAEMON_OUTCOME },
    '4': { na: NOT_A_DAEMON_OUTCOME },
    '75': { na: 'watch pauses polling when the budget is used up and keeps running' },
    busy: {
      code: BUSY,
      run: (fx) => whileLocked(fx, ['watch', '--no-webhook', '--no-fetch', '--port', '0']),
    },
    '130/143': {
      code: 130,
      run: (fx) => interrupted(fx, ['watch', '--no-webhook', '--no-fetch', '--port', '0'], 'SIGINT'),
    },
  },
  hook: {
    '0': {
      code: 0,
      run: async (fx) => {
        const install = await cli(fx, ['hook', 'install']);
        if (install.code !== 0) return install;
        await editMember(fx);
        await git(fx.repoDir, 'commit', '-qam', 'edit');
        // ButterCMS cannot be reached: the hook's run still ends 0.
        const post = await cli(fx, ['hook', 'post-commit'], await unreachable(fx));
        return post.code !== 0 ? post : cli(fx, ['hook', 'uninstall']);
      },
    },
    '1': {
      code: 1,
      run: () => inEmptyDir((dir) => runCli(['hook', 'install', '--repo', dir], process.env)), // not a git repository
    },
    '2': { code: 2, run: (fx) => cli(fx, ['hook', 'install', '--no-such-option']) },
    '3': { na: HOOK_NEVER_FAILS },
    '4': { na: HOOK_NEVER_FAILS },
    '75': { na: HOOK_NEVER_FAILS },
    busy: { na: `${HOOK_NEVER_FAILS} (it leaves the work to the daemon holding the lock)` },
    '130/143': { na: 'install and uninstall write one file and exit' },
  },
  emulator: {
    '0': { na: 'the emulator runs until it is stopped (130/143)' },
    '1': {
      code: 1,
      run: (fx) =>
        inEmptyDir(async (dir) => {
          const data = path.join(dir, 'data.json');
          await writeFile(data, '{"not": "emulator data"}');
          return runCli(['emulator', '--port', '0', '--data', data, '--repo', fx.repoDir], fx.env());
        }),
    },
    '2': {
      code: 2,
      run: async (fx) => {
        const blocker = createServer();
        await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
        try {
          const port = String((blocker.address() as { port: number }).port);
          return await cli(fx, ['emulator', '--port', port]);
        } finally {
          await new Promise((resolve) => blocker.close(resolve));
        }
      },
    },
    '3': { na: 'the emulator syncs nothing' },
    '4': { na: 'the emulator syncs nothing' },
    '75': { na: 'the emulator answers 429 to its clients; it does not exit' },
    busy: { na: 'the emulator takes no manifest lock' },
    '130/143': { code: 143, run: (fx) => emulatorStopped(fx, 'SIGTERM') },
  },
  dismiss: {
    '0': { code: 0, run: (fx) => cli(fx, ['dismiss', '--all']) },
    '1': { na: 'dismiss rewrites one local file' },
    '2': { code: 2, run: (fx) => cli(fx, ['dismiss', 'deadbeef']) },
    '3': { na: 'dismiss syncs nothing' },
    '4': { na: 'dismiss syncs nothing' },
    '75': { na: 'dismiss makes no API call' },
    busy: { na: 'dismiss takes no manifest lock' },
    '130/143': { na: 'dismiss writes one file and exits' },
  },
  init: {
    '0': { code: 0, run: () => inEmptyDir((dir) => runCli(['init', '--repo', dir], process.env)) },
    '1': {
      code: 1,
      run: () =>
        inEmptyDir(async (dir) => {
          await mkdir(path.join(dir, 'sync.config.json')); // a folder where the config should go
          return runCli(['init', '--repo', dir], process.env);
        }),
    },
    '2': {
      code: 2,
      run: () => inEmptyDir((dir) => runCli(['init', '--no-such-option', '--repo', dir], process.env)),
    },
    '3': { na: 'init syncs nothing' },
    '4': { na: 'init syncs nothing' },
    '75': { na: 'init makes no API call' },
    busy: { na: 'init takes no manifest lock' },
    '130/143': { na: 'init writes two files and exits' },
  },
};

describe.concurrent('exit codes: every command × every code of the README', () => {
  // Every cell starts in step: the first push runs once, in-process, and each cell gets its own copy of the result
  // (repo and emulator data), so no cell sees what another one did. That independence is also why the cells run
  // concurrently: most of a cell's time is a CLI process starting and waiting on its emulator, not CPU.
  let inStep: FixtureTemplate;
  let conflicted: FixtureTemplate;
  beforeAll(async () => {
    inStep = await inStepTemplate();
    conflicted = await inStep.derive(recordConflict);
  }, 60_000);
  afterAll(async () => {
    await conflicted?.close();
    await inStep?.close();
  });

  for (const [command, row] of Object.entries(TABLE)) {
    for (const code of CODES) {
      const cell = row[code];
      if ('na' in cell) {
        it.skip(`${command} → ${code}: not applicable (${cell.na})`, () => undefined);
        continue;
      }
      it(`${command} → ${code}`, async () => {
        const fx = await (cell.from === 'conflict' ? conflicted : inStep).fresh();
        try {
          const run = await cell.run(fx);
          expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(cell.code);
          // Whatever the code, a person never sees a stack trace.
          expect(run.stderr).not.toMatch(/^\s+at .*\.js:\d+/m);
        } finally {
          await fx.cleanup();
        }
      });
    }
  }
});
