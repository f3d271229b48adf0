import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSession } from '../../src/cli/wiring.js';
import { writeLabel } from '../../src/core/types.js';
import { runGit } from '../../src/git/run-git.js';
import { ManifestStore, manifestPath, readManifest } from '../../src/state/manifest-store.js';
import { STATE_BASE_FILE, STATE_REF } from '../../src/state/state-ref.js';
import { TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { type Fixture, git, makeFixture, writesIn } from '../helpers/sync-fixture.js';

// Issue 14: the sync state shared by every clone on refs/butter-sync/state of a bare remote. The laptop is
// the fixture repo; other clones are `git clone`s of the bare remote with no .butter-sync/ cache.

describe('shared state on a git ref', () => {
  let fx: Fixture;
  let bare: string;
  let clones: string[];
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    fx = await makeFixture({ config: { state: 'git' } });
    bare = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-bare-'));
    await git(bare, 'init', '-q', '--bare', '-b', 'main');
    await git(fx.repoDir, 'remote', 'add', 'origin', bare);
    await git(fx.repoDir, 'push', '-q', 'origin', 'main');
    clones = [];
    Object.assign(process.env, {
      BUTTER_API_URL: fx.emulator.url,
      BUTTER_READ_TOKEN: TEST_READ_TOKEN,
      BUTTER_WRITE_TOKEN: TEST_WRITE_TOKEN,
    });
  });
  afterEach(async () => {
    process.env = { ...savedEnv };
    await fx.cleanup();
    for (const dir of [bare, ...clones]) await rm(dir, { recursive: true, force: true });
  });

  async function cloneRepo(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-clone-'));
    clones.push(dir);
    await git(dir, 'clone', '-q', bare, '.');
    await git(dir, 'config', 'user.email', 'ci@example.com');
    await git(dir, 'config', 'user.name', 'CI');
    return dir;
  }

  async function session(repo: string) {
    return openSession(
      { repo, config: path.join(repo, 'sync.config.json'), logLevel: 'silent' },
      {
        needsWrite: true,
      },
    );
  }

  /** The local cache as files: the snapshot and its journal (the journal may not exist). */
  async function cacheFiles(repo: string): Promise<string[]> {
    const journal = path.join(path.dirname(manifestPath(repo)), 'manifest.journal');
    return [await readFile(manifestPath(repo), 'utf8'), await readFile(journal, 'utf8').catch(() => '')];
  }

  async function sharedText(): Promise<string> {
    return (await runGit(bare, ['cat-file', 'blob', `${STATE_REF}:manifest.json`])).stdout;
  }

  it('hands ids, bases and media to a clone without a cache, holds no secret, and never commits to a branch', async () => {
    const laptop = await session(fx.repoDir);
    const pushed = await laptop.engine.push();
    expect(pushed.report.errors).toEqual([]);
    await laptop.close();
    const published = await sharedText();
    expect(published).not.toContain(TEST_READ_TOKEN);
    expect(published).not.toContain(TEST_WRITE_TOKEN);
    expect(published).not.toContain(fx.emulator.url);
    // The content branch has only the writer's commit.
    expect((await git(bare, 'rev-list', '--count', 'main')).trim()).toBe('1');

    const ci = await cloneRepo();
    const writesBefore = writesIn(fx.emulator).length;
    const run = await session(ci);
    const laptopState = await readManifest(fx.repoDir, 'x');
    expect(Object.keys(run.store.manifest.entities).sort()).toEqual(Object.keys(laptopState.entities).sort());
    const reconciled = await run.engine.reconcile();
    await run.close();
    expect(reconciled.report.errors).toEqual([]);
    expect(run.store.manifest.conflicts).toEqual([]);
    expect(writesIn(fx.emulator).length).toBe(writesBefore);
  });

  it('keeps a page deleted in Git deleted on a clone with no cache', async () => {
    const laptop = await session(fx.repoDir);
    await laptop.engine.push();
    await laptop.close();
    await rm(path.join(fx.repoDir, 'content-example/pages/faq/returns.md'));
    await fx.commitAll('remove the returns page');
    await git(fx.repoDir, 'push', '-q', 'origin', 'main');
    const again = await session(fx.repoDir);
    await again.engine.push();
    await again.close();

    const ci = await cloneRepo();
    const run = await session(ci);
    const pulled = await run.engine.reconcile();
    await run.close();
    expect(pulled.report.errors).toEqual([]);
    await expect(readFile(path.join(ci, 'content-example/pages/faq/returns.md'), 'utf8')).rejects.toThrow();
    expect(run.store.manifest.conflicts).toEqual([]);
  });

  it('merges two clones that published in a race: no media mapping or pending write is lost', async () => {
    const laptop = await session(fx.repoDir);
    await laptop.engine.push();
    await laptop.close();
    const a = await cloneRepo();
    const b = await cloneRepo();
    const first = await session(a);
    const second = await session(b);
    first.store.manifest.media['https://cdn.example/a.png'] = 'img/a.png';
    second.store.manifest.media['https://cdn.example/b.png'] = 'img/b.png';
    second.store.manifest.pending.push({
      id: 'w-from-b',
      entity: 'page:faq:shipping' as never,
      kind: 'update',
      state: 'sent',
      expect: {},
      createdAt: new Date().toISOString(),
      deadline: new Date(Date.now() + 60_000).toISOString(),
    });
    await first.close();
    await second.close(); // loses the compare-and-swap, fetches, merges, publishes
    const shared = JSON.parse(await sharedText());
    expect(shared.media).toMatchObject({
      'https://cdn.example/a.png': 'img/a.png',
      'https://cdn.example/b.png': 'img/b.png',
    });
    expect(shared.pending.map((w: { id: string }) => w.id)).toContain('w-from-b');
    // The first clone picks the merge up on its next run.
    const next = await session(a);
    expect(next.store.manifest.media['https://cdn.example/b.png']).toBe('img/b.png');
    await next.close();
  });

  // The lost-cache bug of the multi-machine convergence mode (issue 14): the clone's local state ref survived the
  // deleted .butter-sync/, so the run took the ref for what the empty cache included. With the shared state
  // unchanged the cache stayed empty (a run with no base: rich-text bodies and every difference as conflicts);
  // with the shared state moved on, the merge read everything missing from the empty cache as removed.
  it('a clone that lost its cache but kept its state ref starts from the shared state, not from nothing', async () => {
    const laptop = await session(fx.repoDir);
    expect((await laptop.engine.push()).report.errors).toEqual([]);
    await laptop.close();
    const published = await readManifest(fx.repoDir, 'x');
    expect(Object.keys(published.entities).length).toBeGreaterThan(3);

    await rm(path.dirname(manifestPath(fx.repoDir)), { recursive: true, force: true });
    const writesBefore = writesIn(fx.emulator).length;
    const again = await session(fx.repoDir);
    expect(again.store.manifest.entities).toEqual(published.entities);
    const reconciled = await again.engine.reconcile();
    await again.close();
    expect(reconciled.report.errors).toEqual([]);
    expect(reconciled.report.operations).toEqual([]);
    expect(again.store.manifest.conflicts).toEqual([]);
    expect(writesIn(fx.emulator).length).toBe(writesBefore);

    // Another clone publishes meanwhile; the next cache loss merges its news into the state, dropping nothing.
    const other = await session(await cloneRepo());
    other.store.manifest.media['https://cdn.example/other.png'] = 'img/other.png';
    await other.close();
    await rm(path.dirname(manifestPath(fx.repoDir)), { recursive: true, force: true });
    const third = await session(fx.repoDir);
    expect(third.store.manifest.entities).toEqual(published.entities);
    expect(third.store.manifest.media['https://cdn.example/other.png']).toBe('img/other.png');
    await third.close();
  });

  // A clone whose branch is behind the remote's (a laptop that has not pulled) holds files older than the bases
  // the shared state says were pushed: they are not edits, and sending them would revert the newer content.
  it('a clone behind the remote branch does not push its older files over newer content; after git pull it is in step', async () => {
    const file = 'content-example/collections/tags/engineering.json';
    const laptop = await session(fx.repoDir);
    expect((await laptop.engine.push()).report.errors).toEqual([]);
    await laptop.close();
    const behind = await cloneRepo();

    const edited = (await readFile(path.join(fx.repoDir, file), 'utf8')).replace(
      '"Engineering"',
      '"Platform"',
    );
    await writeFile(path.join(fx.repoDir, file), edited);
    await fx.commitAll('rename the engineering tag');
    await git(fx.repoDir, 'push', '-q', 'origin', 'main');
    const again = await session(fx.repoDir);
    expect((await again.engine.push()).report.errors).toEqual([]);
    await again.close();
    const cmsName = async () => {
      const r = await fetch(`${fx.emulator.url}/content/tags/?auth_token=${TEST_READ_TOKEN}&preview=1`);
      const body = (await r.json()) as { data: { tags: Array<{ slug: string; name: string }> } };
      return body.data.tags.find((t) => t.slug === 'engineering')?.name;
    };
    expect(await cmsName()).toBe('Platform');

    // The behind clone runs a reconcile and a push: neither sends its old name, and it is told why.
    const writesBefore = writesIn(fx.emulator).length;
    for (const run of ['reconcile', 'push'] as const) {
      const stale = await session(behind);
      const { report } = await stale.engine[run]();
      await stale.close();
      expect(report.errors, run).toEqual([]);
      expect(report.conflicts, run).toEqual([]);
      const notice = report.notices.find((n) => n.reason === 'behind-remote');
      expect(notice?.message, run).toMatch(/engineering\.json/);
      expect(notice?.message, run).toMatch(/git pull/);
    }
    expect(writesIn(fx.emulator).slice(writesBefore)).toEqual([]);
    expect(await cmsName()).toBe('Platform');
    expect(await readFile(path.join(behind, file), 'utf8')).toContain('"Engineering"');

    // Once it pulls, it is in step: nothing to send, nothing to report.
    await git(behind, 'pull', '-q', '--rebase', 'origin', 'main');
    const caught = await session(behind);
    const { report } = await caught.engine.reconcile();
    await caught.close();
    expect(report.operations).toEqual([]);
    expect(report.notices.filter((n) => n.reason === 'behind-remote')).toEqual([]);
    expect(writesIn(fx.emulator).slice(writesBefore)).toEqual([]);
  });

  // A CI job that restores `.butter-sync/` from its cache into a fresh checkout (no local state ref): the cache is
  // older than the shared state, which moved on since (a laptop pushed an edit, verified). The ref's verified base
  // wins over the cache's older one, so an editor's later change is pulled, not reported as a conflict; what only
  // the cache holds (here a media mapping) is kept. The cache names the shared state it includes (a three-way
  // merge); without that record (a cache written before it) the two merge with the ref winning every clash.
  it.each(['with', 'without'])(
    'a CI cache older than the state ref merges into it (%s its record): the ref wins for verified bases, nothing lost',
    async (record) => {
      const file = 'content-example/collections/tags/engineering.json';
      const key = 'item:tags:engineering';
      const laptop = await session(fx.repoDir);
      expect((await laptop.engine.push()).report.errors).toEqual([]);
      await laptop.close();
      // The first CI run; its cache is saved at the end of the job (actions/cache). It also holds a mapping the
      // job learned and saved but never published (killed before its publish).
      const firstCi = await cloneRepo();
      const first = await session(firstCi);
      expect((await first.engine.reconcile()).report.errors).toEqual([]);
      await first.close();
      const savedCache = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-ci-cache-'));
      clones.push(savedCache);
      await cp(path.join(firstCi, '.butter-sync'), path.join(savedCache, '.butter-sync'), {
        recursive: true,
      });
      const unpublished = await ManifestStore.open(savedCache, 'x');
      unpublished.manifest.media['https://cdn.example/ci-only.png'] = 'img/ci-only.png';
      await unpublished.close();

      // The laptop renames the tag and pushes it (verified: the shared base moves on); then an editor changes it.
      await writeFile(
        path.join(fx.repoDir, file),
        (await readFile(path.join(fx.repoDir, file), 'utf8')).replace('"Engineering"', '"Platform"'),
      );
      await fx.commitAll('rename the engineering tag');
      await git(fx.repoDir, 'push', '-q', 'origin', 'main');
      const again = await session(fx.repoDir);
      expect((await again.engine.push({ verifyWaitMs: 5_000 })).report.errors).toEqual([]);
      await again.close();
      const shared = JSON.parse(await sharedText());
      expect(shared.pending).toEqual([]);
      const id = Number(shared.entities[key].remoteId);
      fx.emulator.editItem('tags', id, { name: 'Platform team' });

      // The next CI run: a fresh checkout, the old cache restored into it.
      const ci = await cloneRepo();
      await cp(path.join(savedCache, '.butter-sync'), path.join(ci, '.butter-sync'), { recursive: true });
      const recordFile = path.join(ci, '.butter-sync', STATE_BASE_FILE);
      expect(await readFile(recordFile, 'utf8')).toMatch(/^[0-9a-f]{40}\n$/);
      if (record === 'without') await rm(recordFile);
      const run = await session(ci);
      expect(run.store.manifest.entities[key]?.locales.en?.base).toEqual(
        shared.entities[key].locales.en.base,
      );
      expect(run.store.manifest.media['https://cdn.example/ci-only.png']).toBe('img/ci-only.png');
      const writesBefore = writesIn(fx.emulator).length;
      const { report } = await run.engine.reconcile();
      await run.close();
      expect(report.errors).toEqual([]);
      expect(report.conflicts).toEqual([]);
      expect(writesIn(fx.emulator).slice(writesBefore)).toEqual([]);
      expect(await readFile(path.join(ci, file), 'utf8')).toContain('"Platform team"');
      const after = JSON.parse(await sharedText());
      expect(after.media['https://cdn.example/ci-only.png']).toBe('img/ci-only.png');
      expect(after.conflicts).toEqual([]);
    },
  );

  it('refuses a shared state from a newer version without touching the local cache', async () => {
    const laptop = await session(fx.repoDir);
    await laptop.engine.push();
    await laptop.close();
    const before = await cacheFiles(fx.repoDir);
    const ci = await cloneRepo();
    const future = JSON.stringify({ version: 99, configDigest: 'x', entities: {} });
    const blob = (await runGit(ci, ['hash-object', '-w', '--stdin'], { input: future })).stdout.trim();
    const tree = (
      await runGit(ci, ['mktree'], { input: `100644 blob ${blob}\tmanifest.json\n` })
    ).stdout.trim();
    const commit = (await runGit(ci, ['commit-tree', tree, '-m', 'future'])).stdout.trim();
    await runGit(ci, ['push', '-q', '--force', 'origin', `${commit}:${STATE_REF}`]);

    await expect(session(fx.repoDir)).rejects.toThrow(/version 99/);
    expect(await cacheFiles(fx.repoDir)).toEqual(before);
  });
  it('refuses a shared state that does not parse or holds a malformed entry, naming the ref, applying none of it', async () => {
    const laptop = await session(fx.repoDir);
    await laptop.engine.push();
    await laptop.close();
    const before = await cacheFiles(fx.repoDir);
    const ci = await cloneRepo();
    const good = JSON.parse(await sharedText()) as Record<string, unknown>;
    const bad = [
      '{"version": 1, "entities": {', // cut off
      // Valid JSON and mostly a good state: one entity entry is not an object (nothing of the rest is taken).
      JSON.stringify({
        ...good,
        media: { 'https://cdn.example/new.png': 'img/new.png' },
        entities: { ...(good.entities as object), 'item:tags:x': 5 },
      }),
    ];
    for (const text of bad) {
      const blob = (await runGit(ci, ['hash-object', '-w', '--stdin'], { input: text })).stdout.trim();
      const tree = (
        await runGit(ci, ['mktree'], { input: `100644 blob ${blob}\tmanifest.json\n` })
      ).stdout.trim();
      const commit = (await runGit(ci, ['commit-tree', tree, '-m', 'bad'])).stdout.trim();
      await runGit(ci, ['push', '-q', '--force', 'origin', `${commit}:${STATE_REF}`]);
      const refused = await session(fx.repoDir).then(
        () => undefined,
        (error: Error & { code?: string; file?: string }) => error,
      );
      expect(refused?.code, text).toBe('MANIFEST_CORRUPT');
      expect(`${refused?.message} ${refused?.file}`, text).toContain(STATE_REF);
      expect(await cacheFiles(fx.repoDir), text).toEqual(before);
    }
  });

  it('offline, works from the local copy and publishes on the next run that reaches the remote', async () => {
    await git(fx.repoDir, 'remote', 'set-url', 'origin', path.join(bare, 'gone'));
    const offline = await session(fx.repoDir);
    const pushed = await offline.engine.push();
    await offline.close();
    expect(pushed.report.errors).toEqual([]);
    const none = await runGit(bare, ['rev-parse', '--verify', '--quiet', STATE_REF], { allowFailure: true });
    expect(none.code).not.toBe(0);

    await git(fx.repoDir, 'remote', 'set-url', 'origin', bare);
    const online = await session(fx.repoDir);
    await online.close();
    expect(JSON.parse(await sharedText()).entities).toEqual((await readManifest(fx.repoDir, 'x')).entities);
  });
});

describe('tombstones in the shared state', () => {
  let fx: Fixture;
  let bare: string;
  let clone: string;
  const savedEnv = { ...process.env };

  beforeEach(async () => {
    fx = await makeFixture({ config: { pull: { commit: true }, maxDeletePercent: 100 } });
    bare = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-bare-'));
    clone = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-clone-'));
    await git(bare, 'init', '-q', '--bare', '-b', 'main');
    await git(fx.repoDir, 'remote', 'add', 'origin', bare);
    await git(fx.repoDir, 'push', '-q', 'origin', 'main');
    Object.assign(process.env, {
      BUTTER_API_URL: fx.emulator.url,
      BUTTER_READ_TOKEN: TEST_READ_TOKEN,
      BUTTER_WRITE_TOKEN: TEST_WRITE_TOKEN,
    });
  });
  afterEach(async () => {
    process.env = { ...savedEnv };
    await fx.cleanup();
    for (const dir of [bare, clone]) await rm(dir, { recursive: true, force: true });
  });

  const open = (repo: string) =>
    openSession(
      { repo, config: path.join(repo, 'sync.config.json'), logLevel: 'silent' },
      { needsWrite: true },
    );

  it('an item deleted in the dashboard is not created again by a clone whose checkout still has its file', async () => {
    const laptop = await open(fx.repoDir);
    await laptop.engine.push();
    await laptop.close();
    await git(clone, 'clone', '-q', bare, '.');
    const id = Number(laptop.store.manifest.entities['item:tags:engineering']?.remoteId);
    fx.emulator.deleteItem('tags', id);
    const logAtDeletion = fx.emulator.requestLog().length;

    // The laptop sees the deletion first: removes the file (a commit not pushed yet) and publishes the state.
    const seen = await open(fx.repoDir);
    const pulled = await seen.engine.reconcile();
    await seen.close();
    expect(pulled.report.errors).toEqual([]);
    await expect(
      readFile(path.join(fx.repoDir, 'content-example/collections/tags/engineering.json')),
    ).rejects.toThrow();

    // The next laptop run settles the pull (Git holds the removal): the entity leaves the state.
    const settle = await open(fx.repoDir);
    await settle.engine.push();
    await settle.close();

    // The other clone still has the file and no cache: it must not send it as a new item.
    const other = await open(clone);
    const pushed = await other.engine.push();
    await other.close();
    expect(pushed.report.errors).toEqual([]);
    const posts = fx.emulator
      .requestLog()
      .slice(logAtDeletion)
      .filter((r) => r.method === 'POST' && (r.body ?? '').includes('engineering'));
    expect(posts).toEqual([]);
    expect(pushed.report.notices.map((n) => `${n.reason} ${n.entity}`)).toContain(
      'deleted-elsewhere item:tags:engineering',
    );
  });
  it('an item deleted in Git is not created again by a clone whose checkout still has its file', async () => {
    const file = 'content-example/collections/tags/engineering.json';
    const laptop = await open(fx.repoDir);
    await laptop.engine.push();
    await laptop.close();
    await git(clone, 'clone', '-q', bare, '.');
    // The laptop deletes the file; its commit has not reached the remote yet, the deletion has reached ButterCMS.
    await rm(path.join(fx.repoDir, file));
    await fx.commitAll('drop the engineering tag');
    const deleting = await open(fx.repoDir);
    const deleted = await deleting.engine.push({ verifyWaitMs: 3_000 });
    await deleting.close();
    expect(deleted.report.errors).toEqual([]);
    expect(
      deleted.plan.operations.map(
        (op) => `${op.kind === 'write' ? writeLabel(op.intent.kind, op.entity) : op.kind} ${op.entity}`,
      ),
    ).toContain('delete-item item:tags:engineering');
    const settle = await open(fx.repoDir);
    await settle.engine.push();
    await settle.close();
    const logAtDeletion = fx.emulator.requestLog().length;

    const other = await open(clone);
    const pushed = await other.engine.push();
    await other.close();
    expect(pushed.report.errors).toEqual([]);
    const posts = fx.emulator
      .requestLog()
      .slice(logAtDeletion)
      .filter((r) => r.method === 'POST' && (r.body ?? '').includes('engineering'));
    expect(posts).toEqual([]);
    expect(pushed.report.notices.map((n) => `${n.reason} ${n.entity}`)).toContain(
      'deleted-elsewhere item:tags:engineering',
    );
  });
});
