import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSyncError, type SyncError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/types.js';
import {
  emptyManifest,
  lockManifest,
  MANIFEST_VERSION,
  ManifestStore,
  manifestLockPath,
  manifestPath,
  readManifest,
  writeManifest,
} from '../../src/state/manifest-store.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

async function caught(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    if (isSyncError(error)) return error;
    throw error;
  }
  throw new Error('expected a SyncError');
}

function sampleManifest(): Manifest {
  const manifest = emptyManifest('cfg-1');
  // Inserted out of order on purpose: the file must come out sorted.
  manifest.entities['page:faq:zeta'] = {
    locales: { en: { base: { title: 'b', $status: 'a' }, path: 'z.md' } },
  };
  manifest.entities['item:tags:alpha'] = { remoteId: '7', locales: { en: { base: { name: 'x' } } } };
  manifest.media['https://cdn.buttercms.com/abc'] = 'https://example.com/a.png';
  manifest.calls['2025-01'] = 12;
  manifest.lastPush = '2025-01-02T03:04:05Z';
  return manifest;
}

describe('manifest file', () => {
  let repo: string;
  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'bs-manifest-'));
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('reads a missing manifest as a fresh empty one', async () => {
    expect(await readManifest(repo, 'cfg-9')).toEqual(emptyManifest('cfg-9'));
  });

  it('round-trips, with sorted keys, 2-space indent and a trailing newline', async () => {
    const manifest = sampleManifest();
    expect(await writeManifest(repo, manifest)).toBe(true);
    expect(await readManifest(repo, 'other')).toEqual(manifest);

    const text = await readFile(manifestPath(repo), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "calls": {\n    "2025-01": 12\n  },');
    expect(text.indexOf('"item:tags:alpha"')).toBeLessThan(text.indexOf('"page:faq:zeta"'));
    expect(text.indexOf('"$status"')).toBeLessThan(text.indexOf('"title"'));
  });

  it('skips the write when the bytes would be identical', async () => {
    await writeManifest(repo, sampleManifest());
    const before = await stat(manifestPath(repo));
    const reordered = sampleManifest();
    reordered.entities = Object.fromEntries(Object.entries(reordered.entities).reverse());
    expect(await writeManifest(repo, reordered)).toBe(false);
    const after = await stat(manifestPath(repo));
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
  });

  it('refuses a corrupt manifest without replacing it', async () => {
    await mkdir(dirname(manifestPath(repo)), { recursive: true });
    await writeFile(manifestPath(repo), '{"version": 1, "configDigest": "x", "entities": {');
    const error = await caught(readManifest(repo, 'cfg'));
    expect(error.code).toBe('MANIFEST_CORRUPT');
    expect(error.file).toBe(manifestPath(repo));
    expect(await readFile(manifestPath(repo), 'utf8')).toBe(
      '{"version": 1, "configDigest": "x", "entities": {',
    );

    await writeFile(manifestPath(repo), '{"version": 1, "configDigest": "x", "pending": {}}');
    expect((await caught(readManifest(repo, 'cfg'))).message).toContain('"pending"');
    await writeFile(manifestPath(repo), '[]');
    expect((await caught(readManifest(repo, 'cfg'))).code).toBe('MANIFEST_CORRUPT');
  });

  it('refuses garbage entries with the corruption error naming the entry, not a TypeError later (issue 15)', async () => {
    const garbage: Array<[string, Record<string, unknown>]> = [
      ['pending[0]', { pending: [{ id: 5 }] }],
      ['entities', { entities: { 'item:tags:a': { locales: { en: { base: 'x' } } } } }],
      ['failed[0]', { failed: ['oops'] }],
      ['conflicts[0]', { conflicts: [{ entity: 'item:tags:a' }] }],
      ['media', { media: { 'https://cdn/x': 3 } }],
    ];
    for (const [where, body] of garbage) {
      await writeManifest(repo, { ...emptyManifest('cfg'), ...body } as unknown as Manifest);
      const error = await caught(readManifest(repo, 'cfg'));
      expect(error.code, where).toBe('MANIFEST_CORRUPT');
      expect(error.message, where).toContain(where);
      expect(error.file).toBe(manifestPath(repo));
    }
  });

  it('refuses garbage inside an entity (checked without zod since issue 14) naming the entry', async () => {
    const slot = (extra: Record<string, unknown>) => ({
      entities: { 'item:tags:a': { remoteId: 1, locales: { en: { base: { name: 'd1' }, ...extra } } } },
    });
    const garbage: Array<[string, Record<string, unknown>]> = [
      ['entities.item:tags:a.remoteId', { entities: { 'item:tags:a': { remoteId: 1.5, locales: {} } } }],
      [
        'entities.item:tags:a.locales.en.base.name',
        { entities: { 'item:tags:a': { locales: { en: { base: { name: 7 } } } } } },
      ],
      ['entities.item:tags:a.locales.en.path', slot({ path: 3 })],
      ['entities.item:tags:a.locales.en.pulled.next', slot({ pulled: { prior: {}, next: 'x' } })],
      [
        'entities.item:tags:a.locales.en.pulled.written',
        slot({ pulled: { prior: {}, next: {}, written: 'yes' } }),
      ],
      ['entities.item:tags:a.locales.en', { entities: { 'item:tags:a': { locales: { en: 'x' } } } }],
    ];
    for (const [where, body] of garbage) {
      await writeManifest(repo, { ...emptyManifest('cfg'), ...body } as unknown as Manifest);
      const error = await caught(readManifest(repo, 'cfg'));
      expect(error.code, where).toBe('MANIFEST_CORRUPT');
      expect(error.message, where).toContain(where);
    }
    // Unknown keys (a newer writer's additions) are kept, as before.
    await writeManifest(repo, {
      ...emptyManifest('cfg'),
      ...slot({ later: { x: 1 }, pulled: { prior: {}, next: { name: 'd2' }, written: true, commit: 'abc' } }),
    } as unknown as Manifest);
    const read = await readManifest(repo, 'cfg');
    expect(read.entities['item:tags:a']?.locales.en).toMatchObject({
      later: { x: 1 },
      pulled: { commit: 'abc' },
    });
  });

  it('refuses a manifest written by a newer version, with a hint to upgrade', async () => {
    await writeManifest(repo, { ...emptyManifest('cfg'), version: MANIFEST_VERSION + 1 });
    const error = await caught(readManifest(repo, 'cfg'));
    expect(error.code).toBe('MANIFEST_CORRUPT');
    expect(error.hint).toMatch(/upgrade/i);
  });

  it('loads a state written before the neutral port: kinds mapped, held-back writes in their own list, numeric ids as text', async () => {
    // Version 1 named writes after ButterCMS endpoints and kept held-back writes among the failures.
    const write = (id: string, entity: string, kind: string) => ({
      id,
      entity,
      kind,
      state: 'sent',
      expect: {},
      createdAt: '2026-11-30T10:00:00Z',
      deadline: '2026-11-30T10:10:00Z',
    });
    const v1 = {
      version: 1,
      configDigest: 'cfg',
      // Written before ids were opaque: ButterCMS's numeric meta.id.
      entities: { 'item:tags:d': { remoteId: 12, locales: { en: { base: { name: 'd' } } } } },
      media: {},
      calls: {},
      conflicts: [],
      pending: [
        write('p1', 'page:faq:a', 'create-page'),
        write('p2', 'page:faq:b', 'update-page'),
        write('p3', 'item:tags:c', 'create-item'),
        write('p4', 'item:tags:d', 'patch-item'),
        write('p5', 'item:tags:e', 'put-item'),
        write('p6', 'item:tags:f', 'delete-item'),
      ],
      failed: [
        {
          id: 'f1',
          entity: 'item:tags:g',
          kind: 'patch-item',
          reason: 'refused',
          at: '2026-11-30T10:00:00Z',
          refused: true,
        },
        {
          id: 'f2',
          entity: 'page:faq:h',
          kind: 'update-page',
          reason: 'not sent: it references page "x", which is not in ButterCMS yet',
          at: '2026-11-30T10:00:00Z',
          path: 'content/pages/faq/h.md',
          heldBack: true,
        },
      ],
    };
    await mkdir(dirname(manifestPath(repo)), { recursive: true });
    await writeFile(manifestPath(repo), `${JSON.stringify(v1)}\n`);
    const loaded = await readManifest(repo, 'cfg');
    // Both migrations apply to one v1 state: the neutral kinds below, and the numeric id made text.
    expect(loaded.entities['item:tags:d']?.remoteId).toBe('12');
    expect(loaded.pending.map((p) => [p.id, p.kind])).toEqual([
      ['p1', 'create'],
      ['p2', 'update'],
      ['p3', 'create'],
      ['p4', 'update'],
      ['p5', 'replace'],
      ['p6', 'delete'],
    ]);
    expect(loaded.failed).toEqual([
      {
        id: 'f1',
        entity: 'item:tags:g',
        kind: 'update',
        reason: 'refused',
        at: '2026-11-30T10:00:00Z',
        refused: true,
      },
    ]);
    expect(loaded.heldBack).toEqual([
      {
        id: 'f2',
        entity: 'page:faq:h',
        kind: 'update',
        reason: 'not sent: it references page "x", which is not in ButterCMS yet',
        at: '2026-11-30T10:00:00Z',
        path: 'content/pages/faq/h.md',
      },
    ]);
    // Saved again, it is the current version: an older butter-sync then refuses it instead of misreading it.
    await writeManifest(repo, loaded);
    expect(JSON.parse(await readFile(manifestPath(repo), 'utf8')).version).toBe(MANIFEST_VERSION);
  });
});

describe('manifest lock and store', () => {
  let repo: string;
  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'bs-store-'));
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('lets one writer in; a second one gets MANIFEST_LOCKED, also after waiting', async () => {
    const store = await ManifestStore.open(repo, 'cfg');
    expect(store.isLockHeld()).toBe(true);
    expect((await caught(lockManifest(repo))).code).toBe('MANIFEST_LOCKED');
    expect((await caught(ManifestStore.open(repo, 'cfg', { waitMs: 250 }))).code).toBe('MANIFEST_LOCKED');
    await store.close();
    expect(store.isLockHeld()).toBe(false);

    const lock = await lockManifest(repo);
    expect(lock.isHeld()).toBe(true);
    await lock.release();
    await lock.release();
    expect(lock.isHeld()).toBe(false);
  });

  it('a waiting writer gets the lock once the holder releases it', async () => {
    const first = await lockManifest(repo);
    const second = lockManifest(repo, { waitMs: 20_000 });
    await first.release();
    const lock = await second;
    expect(lock.isHeld()).toBe(true);
    await lock.release();
  });

  it('saves debounced changes, serialises saves and persists on close', async () => {
    const store = await ManifestStore.open(repo, 'cfg', { debounceMs: 20 });
    expect(store.manifest).toEqual(emptyManifest('cfg'));
    store.manifest.calls['2025-02'] = 1;
    store.markDirty();
    store.manifest.calls['2025-02'] = 2;
    store.markDirty();
    await store.waitUntilSaveComplete();
    expect((await readManifest(repo, 'x')).calls['2025-02']).toBe(2);

    store.manifest.lastPull = '2025-02-03T00:00:00Z';
    await Promise.all([store.save(), store.save()]);
    expect((await readManifest(repo, 'x')).lastPull).toBe('2025-02-03T00:00:00Z');

    store.manifest.calls['2025-02'] = 3;
    store.markDirty();
    await store.close();
    expect((await readManifest(repo, 'x')).calls['2025-02']).toBe(3);
    // Nothing but the snapshot and its journal (no temp file left behind).
    expect(await readdir(dirname(manifestPath(repo)))).toEqual(['manifest.journal', 'manifest.json']);
  });

  it('does not take the lock over a corrupt manifest', async () => {
    await mkdir(dirname(manifestPath(repo)), { recursive: true });
    await writeFile(manifestPath(repo), 'not json');
    expect((await caught(ManifestStore.open(repo, 'cfg'))).code).toBe('MANIFEST_CORRUPT');
    const lock = await lockManifest(repo);
    await lock.release();
  });
});

/**
 * Child processes need our TypeScript as JavaScript: transpile src/core/errors.ts and src/state/*.ts into a
 * temp folder that resolves packages through a symlinked node_modules.
 */
describe('manifest store across processes', () => {
  let build: string;
  let repo: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    build = await mkdtemp(join(tmpdir(), 'bs-build-'));
    await writeFile(join(build, 'package.json'), '{"type":"module"}');
    await symlink(join(projectRoot, 'node_modules'), join(build, 'node_modules'), 'dir');
    const files = ['core/errors.ts', 'core/types.ts', 'state/atomic-file.ts', 'state/manifest-file.ts'];
    files.push('core/is-record.ts', 'state/manifest-lock.ts', 'state/manifest-store.ts');
    files.push('state/manifest-journal.ts', 'state/manifest-tracking.ts');
    for (const file of files) {
      const source = await readFile(join(projectRoot, 'src', file), 'utf8');
      const output = ts.transpileModule(source, {
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          verbatimModuleSyntax: true,
        },
      }).outputText;
      await mkdir(dirname(join(build, file)), { recursive: true });
      await writeFile(join(build, file.replace(/\.ts$/, '.js')), output);
    }
  });
  afterAll(async () => {
    await rm(build, { recursive: true, force: true });
  });
  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'bs-proc-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(repo, { recursive: true, force: true });
  });

  function runChild(script: string): ChildProcess {
    const storeUrl = pathToFileURL(join(build, 'state', 'manifest-store.js')).href;
    const code = `import * as store from ${JSON.stringify(storeUrl)};\nconst repo = ${JSON.stringify(repo)};\n${script}`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    return child;
  }

  /** Resolve at the first stdout line matching `pattern`; the stream keeps flowing so the child never sees EPIPE. */
  function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
    return new Promise((resolve, reject) => {
      let buffered = '';
      const onData = (chunk: Buffer): void => {
        buffered += String(chunk);
        const line = buffered.split('\n').find((l) => pattern.test(l));
        if (line === undefined) return;
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(line);
      };
      child.stdout!.on('data', onData);
      child.once('exit', () => reject(new Error(`child ended without printing ${pattern}`)));
    });
  }

  it('takes over the lock of a SIGKILLed holder at once: its pid is gone (issue 15 item 7)', async () => {
    const child = runChild(
      `await store.lockManifest(repo); console.log('locked'); setInterval(() => {}, 1000);`,
    );
    await waitForLine(child, /^locked$/);
    const busy = await caught(lockManifest(repo));
    expect(busy.code).toBe('MANIFEST_LOCKED');
    expect(busy.message).toContain(`pid ${child.pid}`);

    child.kill('SIGKILL');
    await once(child, 'exit');
    // The dead holder left its lock behind, fresh (a 10 s stale age has not passed)...
    expect((await stat(manifestLockPath(repo))).isDirectory()).toBe(true);
    // ...and it is taken over without waiting: the owner recorded in it is not running.
    const lock = await lockManifest(repo, { waitMs: 0 });
    expect(lock.isHeld()).toBe(true);
    await lock.release();
    expect(await readdir(dirname(manifestLockPath(repo)))).toEqual([]);
  });

  it('a writer SIGKILLed mid-write leaves the old or the new complete manifest, never a torn one', async () => {
    const writer = `
      const base = store.emptyManifest('cfg');
      for (let i = 0; i < 3000; i++) base.entities['item:tags:t' + i] = { remoteId: i, locales: { en: { base: { name: 'x'.repeat(40) + i } } } };
      for (let n = 1; ; n++) {
        base.calls.n = n;
        base.lastPush = 'write-' + n;
        await store.writeManifest(repo, base);
        console.log('wrote ' + n);
      }`;
    for (let round = 0; round < 6; round++) {
      const child = runChild(writer);
      await waitForLine(child, /^wrote 2$/);
      // A random moment inside the write loop (a plain writeFile here tears the file in ~15% of kills).
      await sleep(Math.random() * 30);
      child.kill('SIGKILL');
      await once(child, 'exit');

      const manifest = await readManifest(repo, 'cfg');
      expect(Object.keys(manifest.entities)).toHaveLength(3000);
      expect(manifest.lastPush).toBe(`write-${manifest.calls.n}`);
    }
    // A store opened afterwards sweeps up temp files a killed writer left.
    const store = await ManifestStore.open(repo, 'cfg');
    await store.close();
    expect(await readdir(dirname(manifestPath(repo)))).toEqual(['manifest.json']);
  });
});
