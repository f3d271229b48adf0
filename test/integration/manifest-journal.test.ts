import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSyncError, type SyncError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/types.js';
import { journalPath } from '../../src/state/manifest-journal.js';
import {
  emptyManifest,
  ManifestStore,
  manifestPath,
  readManifest,
  serializeManifest,
  writeManifest,
} from '../../src/state/manifest-store.js';

async function caught(promise: Promise<unknown>): Promise<SyncError> {
  try {
    await promise;
  } catch (error) {
    if (isSyncError(error)) return error;
    throw error;
  }
  throw new Error('expected a SyncError');
}

/** A manifest of `count` collection items and as many media mappings, like a real 10k-entity repo in miniature. */
function bigManifest(count: number): Manifest {
  const manifest = emptyManifest('cfg');
  for (let i = 0; i < count; i++) {
    manifest.entities[`item:tags:t${i}`] = {
      remoteId: String(i + 1),
      locales: { en: { base: { name: `n${i}`, slug: `s${i}` }, path: `content/tags/t${i}.json` } },
    };
    manifest.media[`https://cdn.example/${i}.png`] = `img/${i}.png`;
  }
  return manifest;
}

describe('manifest journal: saves cost what changed', () => {
  let repo: string;
  let journal: string;
  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'bs-journal-'));
    journal = journalPath(dirname(manifestPath(repo)));
  });
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it('a save with no change writes nothing; one changed entity appends one short line', async () => {
    await writeManifest(repo, bigManifest(3_000));
    const snapshot = await stat(manifestPath(repo));
    const store = await ManifestStore.open(repo, 'cfg');
    await store.save();
    await store.save();
    expect(store.stats).toMatchObject({ skipped: 2, appends: 0, compactions: 0 });
    await expect(stat(journal)).rejects.toThrow(/ENOENT/);

    const slot = store.manifest.entities['item:tags:t17']!.locales.en!;
    slot.base = { ...slot.base, name: 'renamed' };
    await store.save();
    expect(store.stats.appends).toBe(1);
    // One entity's worth of bytes, not 3,000 entities' (the snapshot is about 700 KB).
    expect(store.stats.appendedBytes).toBeLessThan(400);
    expect(snapshot.size).toBeGreaterThan(300_000);
    expect((await stat(manifestPath(repo))).mtimeMs).toBe(snapshot.mtimeMs);
    await store.close();

    const read = await readManifest(repo, 'cfg');
    expect(read.entities['item:tags:t17']?.locales.en?.base.name).toBe('renamed');
    expect(serializeManifest(read)).toBe(serializeManifest(store.plainManifest));
  });

  it('replays entities, media and the head (pending, removals) in order, and compacts once the journal grows', async () => {
    await writeManifest(repo, bigManifest(50));
    const store = await ManifestStore.open(repo, 'cfg');
    delete store.manifest.entities['item:tags:t3'];
    store.manifest.media['https://cdn.example/new.png'] = 'img/new.png';
    store.manifest.pending.push({
      id: 'w1',
      entity: 'item:tags:t4',
      kind: 'create',
      state: 'intent',
      expect: {},
      createdAt: '2026-01-01T00:00:00Z',
      deadline: '2026-01-01T01:00:00Z',
    });
    store.manifest.entities['item:tags:fresh'] = { locales: { en: { base: { name: 'f' } } } };
    await store.save();
    store.manifest.entities['item:tags:fresh']!.remoteId = '99';
    store.manifest.pending.splice(0, 1);
    await store.save();
    expect(store.stats).toMatchObject({ appends: 2, compactions: 0 });
    const replayed = await readManifest(repo, 'cfg');
    expect(replayed.entities['item:tags:t3']).toBeUndefined();
    expect(replayed.entities['item:tags:fresh']?.remoteId).toBe('99');
    expect(replayed.media['https://cdn.example/new.png']).toBe('img/new.png');
    expect(replayed.pending).toEqual([]);

    // Past the threshold (256 KiB) the next save writes a new snapshot and an empty journal.
    const entity = store.manifest.entities['item:tags:t1']!;
    for (let i = 0; i < 70; i++) {
      entity.locales.en!.base = { name: `${'x'.repeat(4_000)}${i}` };
      await store.save();
    }
    expect(store.stats.compactions).toBe(1);
    expect((await readFile(journal, 'utf8')).split('\n').length).toBeLessThan(40);
    await store.close();
    expect(serializeManifest(await readManifest(repo, 'cfg'))).toBe(serializeManifest(store.plainManifest));
  });

  it('a save that adds one pending write to a hundred journals that one write (and the order of ids)', async () => {
    await writeManifest(repo, bigManifest(10));
    const store = await ManifestStore.open(repo, 'cfg');
    const write = (i: number) => ({
      id: `w${i}`,
      entity: `item:tags:t${i % 10}`,
      kind: 'create' as const,
      state: 'sent' as const,
      expect: { en: { name: `${'n'.repeat(200)}${i}` } },
      createdAt: '2026-01-01T00:00:00Z',
      deadline: '2026-01-01T01:00:00Z',
    });
    for (let i = 0; i < 100; i++) store.manifest.pending.push(write(i));
    await store.save();
    const before = store.stats.appendedBytes;
    store.manifest.pending.push(write(100));
    store.manifest.pending.splice(3, 1);
    await store.save();
    // One item of ~300 bytes and 100 ids, not 100 items of ~300 bytes.
    expect(store.stats.appendedBytes - before).toBeLessThan(1_500);
    await store.close();
    const read = await readManifest(repo, 'cfg');
    expect(read.pending.map((w) => w.id)).toEqual(store.plainManifest.pending.map((w) => w.id));
    expect(read.pending).toHaveLength(100);
  });

  it('ignores a torn last line and cuts it off; refuses a damaged line followed by a whole one, naming the line', async () => {
    await writeManifest(repo, bigManifest(5));
    const store = await ManifestStore.open(repo, 'cfg');
    store.manifest.entities['item:tags:t1']!.remoteId = '101';
    await store.save();
    store.manifest.entities['item:tags:t2']!.remoteId = '102';
    await store.save();
    await store.close();
    const whole = await readFile(journal, 'utf8');
    const lines = whole.split('\n');

    // A kill in the middle of the third save: part of a line, no newline.
    await appendFile(journal, lines[2]!.slice(0, 30));
    expect((await readManifest(repo, 'cfg')).entities['item:tags:t2']?.remoteId).toBe('102');
    const reopened = await ManifestStore.open(repo, 'cfg');
    expect(await readFile(journal, 'utf8')).toBe(whole);
    reopened.manifest.entities['item:tags:t3']!.remoteId = '103';
    await reopened.close();
    expect((await readManifest(repo, 'cfg')).entities['item:tags:t3']?.remoteId).toBe('103');

    // The second record damaged (a flipped byte), the third whole: not a torn tail.
    const damaged = await readFile(journal, 'utf8');
    const parts = damaged.split('\n');
    parts[2] = parts[2]!.replace('102', '902');
    await writeFile(journal, parts.join('\n'));
    const error = await caught(readManifest(repo, 'cfg'));
    expect(error.code).toBe('MANIFEST_CORRUPT');
    expect(error.file).toBe(`${journal}:3`);
    expect(error.message).toContain('line 3');
  });

  it('a journal left by a compaction that was killed before the reset (stale snapshot id) is ignored', async () => {
    await writeManifest(repo, bigManifest(5));
    const store = await ManifestStore.open(repo, 'cfg');
    store.manifest.entities['item:tags:t1']!.remoteId = '500';
    await store.close();
    // The snapshot is rewritten (as a compaction does) with the change in it, the old journal stays.
    const current = await readManifest(repo, 'cfg');
    current.entities['item:tags:t1']!.remoteId = '600';
    await writeManifest(repo, current);
    expect((await readManifest(repo, 'cfg')).entities['item:tags:t1']?.remoteId).toBe('600');
  });

  it('test mode catches a write made behind the tracking (a reference kept from before an assignment)', async () => {
    expect(process.env.BUTTER_SYNC_CHECK_JOURNAL).toBe('1');
    await writeManifest(repo, bigManifest(3));
    const store = await ManifestStore.open(repo, 'cfg');
    const kept = { locales: { en: { base: { name: 'a' } } } } as Manifest['entities'][string];
    store.manifest.entities['item:tags:kept'] = kept;
    await store.save();
    kept.remoteId = '7'; // not through store.manifest: the tracking cannot see it
    store.manifest.calls['2026-01'] = 1;
    const error = await caught(store.save());
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain('item:tags:kept');
    await store.close().catch(() => undefined);
  });
});
