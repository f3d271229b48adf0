import { cp, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { ConfigInput, SyncConfig } from '../../src/config/schema.js';
import type { LocalEntity } from '../../src/core/types.js';
import { emptyManifest } from '../../src/state/manifest-store.js';
import { scanLocal } from '../../src/sync/local-scan.js';
import {
  isRacy,
  RACY_WINDOW_MS,
  ScanCache,
  scanCachePath,
  scanRecentPath,
  scanValuesPath,
  stampOf,
} from '../../src/sync/scan-cache.js';
import { loadExampleConfig } from '../helpers/emulator.js';

const EXAMPLE = new URL('../../content-example/', import.meta.url);
const SHIPPING = 'content-example/pages/faq/shipping.md';
const ADA = 'content-example/collections/team_members/ada-lovelace.json';
const GRACE = 'content-example/collections/team_members/grace-hopper.json';
const TOML_PAGE = 'content-example/pages/article/toml-dated.md';

interface CacheFile {
  files: Record<string, Record<string, unknown>>;
}

interface ValuesFile {
  files: Record<string, { variant: { fields: Record<string, unknown> } }>;
}

async function readCache(repoDir: string): Promise<CacheFile> {
  return JSON.parse(await readFile(scanCachePath(repoDir), 'utf8')) as CacheFile;
}

/** The parsed values beside the index: the values file with the recent values over it, as the cache reads them. */
async function readValues(repoDir: string): Promise<ValuesFile> {
  const files: ValuesFile['files'] = {};
  for (const file of [scanValuesPath(repoDir), scanRecentPath(repoDir)]) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) Object.assign(files, (JSON.parse(text) as ValuesFile).files);
  }
  return { files };
}

/** Change the cached values of `rel` in whichever of the two files the cache reads them from. */
async function editValue(repoDir: string, rel: string, edit: (fields: Record<string, unknown>) => void) {
  for (const file of [scanRecentPath(repoDir), scanValuesPath(repoDir)]) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const data = text === undefined ? undefined : (JSON.parse(text) as ValuesFile);
    const entry = data?.files[rel];
    if (!entry) continue;
    edit(entry.variant.fields);
    await writeFile(file, JSON.stringify(data));
    return;
  }
  throw new Error(`${rel} is not cached`);
}

/** Both values files unreadable: every value is parsed again from its file. */
async function corruptValues(repoDir: string): Promise<void> {
  for (const file of [scanValuesPath(repoDir), scanRecentPath(repoDir)]) await writeFile(file, '{ not json');
}

function plain(local: Map<string, LocalEntity>): unknown {
  return [...local.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** Ages a file out of the racy window (ctime still moves; see the cache's stamp). */
async function ageOut(): Promise<void> {
  await sleep(RACY_WINDOW_MS + 150);
}

describe('scan cache (full scans)', () => {
  let repoDir: string;
  let config: SyncConfig;
  const manifest = emptyManifest('test');

  beforeAll(async () => {
    repoDir = await mkdtemp(path.join(tmpdir(), 'bs-scan-cache-'));
    config = await loadExampleConfig();
    await cp(EXAMPLE, path.join(repoDir, config.contentDir), { recursive: true });
    await writeFile(
      path.join(repoDir, TOML_PAGE),
      '+++\ntitle = "Dated"\nstatus = "published"\nheadline = "TOML"\npublished_on = 2024-05-06T07:08:09Z\n+++\nBody.\n',
    );
    // One pass while everything is racy (nothing may be cached), then age the files out.
    const first = await scanLocal(repoDir, config, manifest);
    expect(first.errors).toEqual([]);
    const early = await readCache(repoDir).catch(() => ({ files: {} }));
    expect(Object.keys(early.files)).toEqual([]);
    await ageOut();
  });

  afterAll(async () => {
    await rm(repoDir, { recursive: true, force: true });
  });

  it('returns the same entities from the cache as from the files (YAML, TOML, JSON)', async () => {
    const fresh = await scanLocal(repoDir, config, manifest);
    const cache = await readCache(repoDir);
    expect(Object.keys(cache.files)).toContain(SHIPPING);
    expect(Object.keys(cache.files)).toContain(TOML_PAGE);
    const cached = await scanLocal(repoDir, config, manifest);
    expect(plain(cached.local)).toEqual(plain(fresh.local));
    expect(cached.filesRead).toBe(fresh.filesRead);
  });

  it('uses a cached entry only while the stamp matches', async () => {
    await scanLocal(repoDir, config, manifest);
    await editValue(repoDir, ADA, (fields) => {
      fields.name = 'From the cache';
    });
    const fromCache = await scanLocal(repoDir, config, manifest);
    expect(fromCache.local.get('item:team_members:ada-lovelace')?.locales.en?.fields.name).toBe(
      'From the cache',
    );

    // Same size, mtime put back: ctime still moves, so the file is read again.
    const abs = path.join(repoDir, ADA);
    const before = await stat(abs);
    const text = await readFile(abs, 'utf8');
    const edited = text.replace('Ada Lovelace', 'Ada Lovelacx');
    expect(edited.length).toBe(text.length);
    await writeFile(abs, edited);
    await utimes(abs, before.atime, before.mtime);
    const again = await scanLocal(repoDir, config, manifest);
    expect(again.local.get('item:team_members:ada-lovelace')?.locales.en?.fields.name).toBe('Ada Lovelacx');
  });

  it('re-reads a file edited again within the racy window, even with an identical stamp', async () => {
    const abs = path.join(repoDir, SHIPPING);
    const text = await readFile(abs, 'utf8');
    await writeFile(abs, text.replace('Everything about shipping', 'Everything about shippinG'));
    const seen = await scanLocal(repoDir, config, manifest);
    expect(seen.local.get('page:faq:shipping')?.locales.en?.fields.headline).toBe(
      'Everything about shippinG',
    );
    expect(Object.keys((await readCache(repoDir)).files)).not.toContain(SHIPPING);
    // A second same-size write in the same tick would keep every stamp field; it is still seen.
    await writeFile(abs, text.replace('Everything about shipping', 'Everything about shippinQ'));
    const again = await scanLocal(repoDir, config, manifest);
    expect(again.local.get('page:faq:shipping')?.locales.en?.fields.headline).toBe(
      'Everything about shippinQ',
    );
  });

  it('drops removed files, picks up new ones and survives a corrupt cache file', async () => {
    await rm(path.join(repoDir, 'content-example/collections/tags/engineering.json'));
    await mkdir(path.join(repoDir, 'content-example/collections/tags'), { recursive: true });
    await writeFile(
      path.join(repoDir, 'content-example/collections/tags/design.json'),
      '{ "slug": "design", "name": "Design", "color": "" }\n',
    );
    const scan = await scanLocal(repoDir, config, manifest);
    expect(scan.local.has('item:tags:engineering')).toBe(false);
    expect(scan.local.get('item:tags:design')?.locales.en?.fields.name).toBe('Design');
    expect(Object.keys((await readCache(repoDir)).files)).not.toContain(
      'content-example/collections/tags/engineering.json',
    );

    await writeFile(scanCachePath(repoDir), '{ not json');
    const recovered = await scanLocal(repoDir, config, manifest);
    expect(plain(recovered.local)).toEqual(plain(scan.local));
    await expect(readCache(repoDir)).resolves.toHaveProperty('format', 2);
  });

  it('ignores a cache written under another content model', async () => {
    await scanLocal(repoDir, config, manifest);
    await editValue(repoDir, GRACE, (fields) => {
      fields.role = 'Stale';
    });
    const input = JSON.parse(
      await readFile(new URL('../../sync.config.json', import.meta.url), 'utf8'),
    ) as ConfigInput & { $schema?: string };
    delete input.$schema;
    const other = parseConfig({ ...input, defaultStatus: 'draft' }).config!;
    const scan = await scanLocal(repoDir, other, manifest);
    expect(scan.local.get('item:team_members:grace-hopper')?.locales.en?.fields.role).not.toBe('Stale');
  });
});

describe('scan cache: values read only when used', () => {
  let repoDir: string;
  let config: SyncConfig;
  const manifest = emptyManifest('test');
  const ADA_KEY = 'item:team_members:ada-lovelace';

  beforeAll(async () => {
    repoDir = await mkdtemp(path.join(tmpdir(), 'bs-scan-values-'));
    config = await loadExampleConfig();
    await cp(EXAMPLE, path.join(repoDir, config.contentDir), { recursive: true });
    await ageOut();
    expect((await scanLocal(repoDir, config, manifest)).errors).toEqual([]);
  });

  afterAll(async () => {
    await rm(repoDir, { recursive: true, force: true });
  });

  it('keeps only stamps, locations and digests in the index, the values beside it', async () => {
    const index = await readCache(repoDir);
    expect(index.files[ADA]).toMatchObject({ location: { locale: 'en' }, digests: {} });
    expect(index.files[ADA]).not.toHaveProperty('variant');
    expect((await readValues(repoDir)).files[ADA]?.variant.fields.name).toBe('Ada Lovelace');
  });

  it('reads the values file when a cached value is first used, not during the scan', async () => {
    const scan = await scanLocal(repoDir, config, manifest);
    // Changed after the scan returned: what the variant then shows proves when the values were read.
    await editValue(repoDir, ADA, (fields) => {
      fields.name = 'Read on first use';
    });
    const ada = scan.local.get(ADA_KEY)?.locales.en;
    expect(ada?.fields.name).toBe('Read on first use');
    expect({ ...ada }).toMatchObject({ path: ADA, fields: { name: 'Read on first use' }, meta: {} });
    // Restore the truth for the next tests (a corrupt values file is only a re-read).
    await corruptValues(repoDir);
    expect((await scanLocal(repoDir, config, manifest)).local.get(ADA_KEY)?.locales.en?.fields.name).toBe(
      'Ada Lovelace',
    );
  });

  it('parses a file again when the values file lost it, and gives the same entities', async () => {
    const fresh = await scanLocal(repoDir, config, manifest, [ADA, SHIPPING, GRACE]);
    await corruptValues(repoDir);
    const scan = await scanLocal(repoDir, config, manifest);
    for (const key of fresh.local.keys()) expect(scan.local.get(key)).toEqual(fresh.local.get(key));
  });

  it('writes the few files a scan re-read beside the values file, leaving that file as it was', async () => {
    await scanLocal(repoDir, config, manifest);
    const bulk = await readFile(scanValuesPath(repoDir), 'utf8');
    const abs = path.join(repoDir, GRACE);
    await writeFile(abs, (await readFile(abs, 'utf8')).replace('Grace Hopper', 'Grace B. Hopper'));
    await ageOut();
    await scanLocal(repoDir, config, manifest);
    expect(await readFile(scanValuesPath(repoDir), 'utf8')).toBe(bulk);
    const recent = JSON.parse(await readFile(scanRecentPath(repoDir), 'utf8')) as ValuesFile;
    expect(Object.keys(recent.files)).toEqual([GRACE]);
    const again = await scanLocal(repoDir, config, manifest);
    expect(again.local.get('item:team_members:grace-hopper')?.locales.en?.fields.name).toBe(
      'Grace B. Hopper',
    );
  });

  it('refuses, naming the file, a value it would have to read from a file changed since the scan', async () => {
    const scan = await scanLocal(repoDir, config, manifest);
    await corruptValues(repoDir);
    const abs = path.join(repoDir, ADA);
    await writeFile(abs, (await readFile(abs, 'utf8')).replace('Ada Lovelace', 'Ada Byron'));
    const ada = scan.local.get(ADA_KEY)?.locales.en;
    expect(() => ada?.fields).toThrow(expect.objectContaining({ code: 'CONTENT_PARSE', file: ADA }));
    const again = await scanLocal(repoDir, config, manifest);
    expect(again.local.get(ADA_KEY)?.locales.en?.fields.name).toBe('Ada Byron');
  });
});

describe('ScanCache', () => {
  it('never stores a racy stamp, and looks up only exact stamps', async () => {
    const repoDir = await mkdtemp(path.join(tmpdir(), 'bs-scan-cache-unit-'));
    try {
      const config = await loadExampleConfig();
      const file = path.join(repoDir, 'x.json');
      await writeFile(file, '{}');
      const stamp = stampOf(await stat(file));
      const now = Date.now();
      expect(isRacy(stamp, now)).toBe(true);
      expect(isRacy(stamp, now + RACY_WINDOW_MS + 10)).toBe(false);

      const cache = await ScanCache.load(repoDir, config);
      const variant = { path: 'x.json', fields: { a: 'b' }, meta: {} };
      cache.remember('x.json', stamp, now, variant);
      expect(cache.lookup('x.json', stamp)).toBeUndefined();
      cache.remember('x.json', stamp, now + RACY_WINDOW_MS + 10, variant);
      expect(cache.lookup('x.json', stamp)).toEqual(variant);
      expect(cache.lookup('x.json', { ...stamp, ctimeMs: stamp.ctimeMs + 1 })).toBeUndefined();
      expect(cache.lookup('x.json', { ...stamp, size: stamp.size + 1 })).toBeUndefined();
      expect(await cache.save()).toBe(true);
      const reloaded = await ScanCache.load(repoDir, config);
      expect(reloaded.lookup('x.json', stamp)).toEqual(variant);
      expect(await reloaded.save()).toBe(false);

      // Values JSON would not give back unchanged are never cached.
      for (const odd of [new Date(0), Number.NaN, -0, 10n]) {
        reloaded.remember('y.json', stamp, now + RACY_WINDOW_MS + 10, { ...variant, fields: { a: odd } });
        expect(reloaded.lookup('y.json', stamp)).toBeUndefined();
      }
    } finally {
      await rm(repoDir, { recursive: true, force: true });
    }
  });
});
