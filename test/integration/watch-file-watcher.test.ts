import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import writeFileAtomic from 'write-file-atomic';
import {
  type FileWatcher,
  type FileWatcherOptions,
  isIgnoredPath,
  startFileWatcher,
  type WatchBatch,
} from '../../src/watch/file-watcher.js';

let repoDir: string;
let watcher: FileWatcher | undefined;

beforeEach(async () => {
  repoDir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-watch-'));
  await mkdir(path.join(repoDir, 'content/pages/faq'), { recursive: true });
  await mkdir(path.join(repoDir, 'content/collections/tags'), { recursive: true });
});

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await rm(repoDir, { recursive: true, force: true });
});

/** Polls until `condition` holds; fails after `timeoutMs` with `what` in the message. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function startRecording(
  overrides: Partial<FileWatcherOptions> = {},
): Promise<{ batches: WatchBatch[]; errors: Error[]; seen: string[] }> {
  const batches: WatchBatch[] = [];
  const errors: Error[] = [];
  const seen: string[] = [];
  const isRelevant = overrides.isRelevant;
  watcher = startFileWatcher({
    repoDir,
    contentDir: 'content',
    debounceMs: 150,
    onBatch: (batch) => {
      batches.push(batch);
    },
    onError: (error) => errors.push(error),
    ...overrides,
    // Records every event the watcher accepted, so tests can wait for "seen" without guessing at timing.
    isRelevant: (relPath) => {
      seen.push(relPath);
      return isRelevant ? isRelevant(relPath) : true;
    },
  });
  await watcher.ready;
  return { batches, errors, seen };
}

const allPaths = (batches: WatchBatch[]) => batches.flatMap((batch) => batch.paths);
const write = (rel: string, text = `${rel}\n`) => writeFile(path.join(repoDir, rel), text);

describe('startFileWatcher', () => {
  it('reports a saved file once, by its repo-relative POSIX path', async () => {
    const { batches } = await startRecording();
    await write('content/pages/faq/shipping.md', '---\ntitle: Shipping\n---\nBody\n');
    await waitFor(() => batches.length >= 1, 'the first batch');
    expect(batches[0]).toEqual({ paths: ['content/pages/faq/shipping.md'] });

    // A later sentinel proves no second report of the first file was still on its way.
    await write('content/collections/tags/news.json', '{"slug":"news"}\n');
    await waitFor(() => allPaths(batches).includes('content/collections/tags/news.json'), 'the sentinel');
    expect(allPaths(batches).filter((p) => p === 'content/pages/faq/shipping.md')).toHaveLength(1);
  });

  it('coalesces many quick saves of several files into few batches holding every path', async () => {
    const { batches } = await startRecording();
    const files = ['a', 'b', 'c', 'd', 'e'].map((name) => `content/pages/faq/${name}.md`);
    for (let round = 0; round < 10; round++) {
      for (const file of files) await write(file, `round ${round}\n`);
    }
    await waitFor(() => files.every((file) => allPaths(batches).includes(file)), 'all five files');
    expect(batches.length).toBeLessThanOrEqual(5);
    for (const batch of batches) {
      expect(batch.paths).toEqual([...new Set(batch.paths)].sort());
    }
  });

  it('reports a deleted file, also when its folder is removed', async () => {
    await write('content/pages/faq/old.md');
    await mkdir(path.join(repoDir, 'content/collections/team_members'));
    await write('content/collections/team_members/ada.json', '{}\n');
    const { batches } = await startRecording();

    await unlink(path.join(repoDir, 'content/pages/faq/old.md'));
    await waitFor(() => allPaths(batches).includes('content/pages/faq/old.md'), 'the deleted file');

    await rm(path.join(repoDir, 'content/collections/team_members'), { recursive: true });
    await waitFor(
      () => allPaths(batches).includes('content/collections/team_members/ada.json'),
      'the file of the removed folder',
    );
  });

  it('never reports VCS, state, dependency, editor or atomic-write temp files', async () => {
    for (const dir of ['.git/objects', '.butter-sync', 'node_modules/x']) {
      await mkdir(path.join(repoDir, 'content', dir), { recursive: true });
    }
    const { batches, seen } = await startRecording();
    const noise = [
      'content/.git/objects/ab12',
      'content/.butter-sync/manifest.json',
      'content/node_modules/x/index.js',
      'content/pages/faq/.shipping.md.tmp-4821-1',
      'content/pages/faq/shipping.md.swp',
      'content/pages/faq/.shipping.md.swx',
      'content/pages/faq/shipping.md~',
      'content/pages/faq/.#shipping.md',
      'content/pages/faq/#shipping.md#',
      'content/pages/faq/4913',
      'content/pages/faq/shipping.md.3456789012',
      'content/pages/faq/.DS_Store',
    ];
    for (const rel of noise) await write(rel);
    // write-file-atomic writes `<name>.<uint32>` and renames it over the target: only the target counts.
    await writeFileAtomic(path.join(repoDir, 'content/collections/tags/news.json'), '{"slug":"news"}\n');
    await write('content/pages/faq/sentinel.md');

    await waitFor(() => allPaths(batches).includes('content/pages/faq/sentinel.md'), 'the sentinel');
    await waitFor(() => allPaths(batches).includes('content/collections/tags/news.json'), 'the atomic write');
    expect(allPaths(batches).sort()).toEqual([
      'content/collections/tags/news.json',
      'content/pages/faq/sentinel.md',
    ]);
    expect(seen.filter((p) => noise.includes(p))).toEqual([]);
  });

  it('passes only paths the isRelevant filter accepts', async () => {
    const { batches } = await startRecording({ isRelevant: (relPath) => relPath.endsWith('.md') });
    await write('content/pages/faq/notes.txt');
    await write('content/pages/faq/real.md');
    await waitFor(() => batches.length >= 1, 'a batch');
    await write('content/pages/faq/sentinel.md');
    await waitFor(() => allPaths(batches).includes('content/pages/faq/sentinel.md'), 'the sentinel');
    expect(allPaths(batches)).not.toContain('content/pages/faq/notes.txt');
    expect(allPaths(batches)).toContain('content/pages/faq/real.md');
  });

  it('holds the next batch until the previous onBatch promise settles, accumulating events', async () => {
    const batches: WatchBatch[] = [];
    let release: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { seen } = await startRecording({
      debounceMs: 100,
      maxBatchWaitMs: 300,
      onBatch: async (batch) => {
        batches.push(batch);
        if (batches.length === 1) await firstHeld;
      },
    });

    await write('content/pages/faq/first.md');
    await waitFor(() => batches.length === 1, 'the first batch');
    await write('content/pages/faq/second.md');
    await write('content/collections/tags/third.json', '{}\n');
    await waitFor(
      () =>
        seen.includes('content/pages/faq/second.md') && seen.includes('content/collections/tags/third.json'),
      'the watcher to see both later files',
    );
    // Well past debounce and max wait: had the watcher not waited, a second batch would be out by now.
    await delay(600);
    expect(batches).toHaveLength(1);

    release();
    await waitFor(() => batches.length === 2, 'the accumulated batch');
    expect(batches[1]).toEqual({
      paths: ['content/collections/tags/third.json', 'content/pages/faq/second.md'],
    });
  });

  it('keeps delivering after onBatch throws, reporting the error to onError', async () => {
    let calls = 0;
    const { errors } = await startRecording({
      onBatch: () => {
        calls++;
        if (calls === 1) throw new Error('engine failed');
      },
    });
    await write('content/pages/faq/one.md');
    await waitFor(() => errors.length === 1, 'the reported error');
    expect(errors[0]?.message).toBe('engine failed');
    await write('content/pages/faq/two.md');
    await waitFor(() => calls === 2, 'the next batch');
  });

  it('suppress() hides the engine’s own writes but not other files', async () => {
    const { batches } = await startRecording();
    watcher?.suppress(['content/pages/faq/pulled.md']);
    await write('content/pages/faq/pulled.md', 'written by a pull\n');
    await write('content/pages/faq/edited.md', 'written by a person\n');
    await waitFor(() => allPaths(batches).includes('content/pages/faq/edited.md'), 'the edited file');
    await write('content/pages/faq/sentinel.md');
    await waitFor(() => allPaths(batches).includes('content/pages/faq/sentinel.md'), 'the sentinel');
    expect(allPaths(batches)).not.toContain('content/pages/faq/pulled.md');
  });

  it('suppression expires: a later edit of the same file is reported', async () => {
    const { batches } = await startRecording();
    watcher?.suppress(['content/pages/faq/pulled.md'], 1);
    await delay(5);
    await write('content/pages/faq/pulled.md');
    await waitFor(() => allPaths(batches).includes('content/pages/faq/pulled.md'), 'the edit after expiry');
  });

  it('close() drops undelivered events and leaves no timers or fs watchers behind', async () => {
    const count = (type: string) => process.getActiveResourcesInfo().filter((t) => t === type).length;
    await delay(50);
    const baseline = { timers: count('Timeout'), fsWatchers: count('FSEventWrap') };
    const { batches, seen } = await startRecording({ debounceMs: 20_000, maxBatchWaitMs: 30_000 });
    expect(count('FSEventWrap')).toBeGreaterThan(baseline.fsWatchers);

    await write('content/pages/faq/late.md');
    await waitFor(() => seen.includes('content/pages/faq/late.md'), 'the event to be seen');
    await watcher?.close();
    await watcher?.close();
    await waitFor(
      () => count('Timeout') <= baseline.timers && count('FSEventWrap') <= baseline.fsWatchers,
      'timers and fs watchers to be released',
    );
    expect(batches).toEqual([]);
  });
});

describe('isIgnoredPath', () => {
  it.each([
    ['.git/HEAD', true],
    ['pages/.butter-sync/x', true],
    ['node_modules/a/b.json', true],
    ['pages/faq/.a.md.tmp-1-2', true],
    ['pages/faq/a.md.tmp.123', true],
    ['pages/faq/a.md.swp', true],
    ['pages/faq/a.md~', true],
    ['pages/faq/4913', true],
    ['pages/faq/a.json.2898457615', true],
    ['', false],
    ['pages/faq/a.md', false],
    ['pages/faq/a.es.md', false],
    ['collections/team_members/ada-lovelace.fr.json', false],
    ['pages/release-2024.10/a.md', false],
  ])('%s → %s', (relPath, ignored) => {
    expect(isIgnoredPath(relPath)).toBe(ignored);
  });
});
