/**
 * Generated content trees for the benchmarks: a realistic mix of Markdown pages (YAML frontmatter of a
 * page type, some with a Spanish locale file) and JSON collection items, in a temp git repo with a
 * matching sync.config.json. Deterministic for a given size (seeded PRNG).
 */

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ConfigInput, SyncConfig } from '../../src/config/schema.js';
import { digestVariant } from '../../src/core/digest.js';
import { modelFor } from '../../src/core/model.js';
import { normalizeVariant } from '../../src/core/normalize.js';
import type { Manifest, ManifestEntity } from '../../src/core/types.js';
import { emptyManifest, writeManifest } from '../../src/state/manifest-store.js';
import { scanLocal } from '../../src/sync/local-scan.js';
import { scanCachePath, scanRecentPath, scanValuesPath } from '../../src/sync/scan-cache.js';
import { makeRandom, type Random } from '../helpers/prng.js';
import { PROJECT_ROOT } from '../helpers/sync-fixture.js';
import { validConfig } from '../helpers/valid-config.js';

const exec = promisify(execFile);

export const CONTENT_DIR = 'content';

/** One generated entity: its locale files (repo-relative) and what an edit of one field looks like. */
export interface TreeEntity {
  key: string;
  kind: 'article' | 'faq' | 'tags' | 'team_members';
  files: string[];
}

export interface BenchTree {
  repoDir: string;
  config: SyncConfig;
  configInput: ConfigInput;
  entities: TreeEntity[];
  fileCount: number;
  bytes: number;
  cleanup(): Promise<void>;
}

const WORDS =
  'the quick content team ships every page through git while editors polish drafts in the dashboard and readers never notice which side wrote a sentence first because both agree'.split(
    ' ',
  );

function sentence(random: Random, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(random.pick(WORDS));
  const text = out.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function paragraphs(random: Random, count: number): string {
  return Array.from({ length: count }, () =>
    Array.from({ length: 3 + random.int(4) }, () => sentence(random, 8 + random.int(10))).join(' '),
  ).join('\n\n');
}

function pad(n: number, width = 5): string {
  return String(n).padStart(width, '0');
}

/** The example content model with the bench's content dir and a fast, generous rate. */
export async function benchConfigInput(): Promise<ConfigInput> {
  const base = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'sync.config.json'), 'utf8')) as ConfigInput;
  delete (base as { $schema?: string }).$schema;
  return {
    ...base,
    contentDir: CONTENT_DIR,
    maxDeletePercent: 100,
    verify: { deadlineSeconds: 120 },
    rate: { requestsPerSecond: 1_000, concurrency: 16, timeoutMs: 30_000, maxRetries: 3 },
  } as ConfigInput;
}

/**
 * Write `count` entities: 2% tags, 18% team members (JSON, references to tags), 45% articles and 35%
 * FAQs (Markdown + YAML frontmatter, references to members / other FAQs); every tenth page also has
 * an `.es.md` locale file. Commits everything.
 */
export async function generateTree(count: number, seed = 20_261_123): Promise<BenchTree> {
  const random = makeRandom(seed + count);
  const repoDir = await mkdtemp(path.join(os.tmpdir(), `butter-sync-bench-${count}-`));
  const configInput = await benchConfigInput();
  const config = validConfig(configInput);

  const tagCount = Math.max(5, Math.round(count * 0.02));
  const memberCount = Math.round(count * 0.18);
  const articleCount = Math.round(count * 0.45);
  const faqCount = count - tagCount - memberCount - articleCount;
  const entities: TreeEntity[] = [];
  const files = new Map<string, string>();
  const add = (kind: TreeEntity['kind'], key: string, rel: Record<string, string>) => {
    for (const [file, text] of Object.entries(rel)) files.set(file, text);
    entities.push({ key, kind, files: Object.keys(rel) });
  };
  const root = CONTENT_DIR;

  const tagSlugs = Array.from({ length: tagCount }, (_, i) => `tag-${pad(i)}`);
  for (const slug of tagSlugs) {
    const text = `${JSON.stringify({ slug, name: `Tag ${slug.slice(4)}`, color: `#${pad(random.int(999_999), 6)}` }, null, 2)}\n`;
    add('tags', `item:tags:${slug}`, { [`${root}/collections/tags/${slug}.json`]: text });
  }
  const memberSlugs = Array.from({ length: memberCount }, (_, i) => `member-${pad(i)}`);
  for (const slug of memberSlugs) {
    const fields = {
      slug,
      name: `Member ${slug.slice(7)}`,
      role: sentence(random, 3),
      photo: `https://images.example.com/team/${slug}.jpg`,
      years: random.int(30),
      active: random.chance(0.8),
      tags: [...new Set([random.pick(tagSlugs), random.pick(tagSlugs)])],
    };
    add('team_members', `item:team_members:${slug}`, {
      [`${root}/collections/team_members/${slug}.json`]: `${JSON.stringify(fields, null, 2)}\n`,
    });
  }
  for (let i = 0; i < articleCount; i++) {
    const slug = `article-${pad(i)}`;
    const page = (locale: string) =>
      [
        '---',
        `title: ${locale === 'en' ? 'Article' : 'Artículo'} ${i}`,
        'status: published',
        `headline: ${sentence(random, 6)}`,
        `summary: ${sentence(random, 14)}`,
        `published_on: 2025-${pad(1 + random.int(12), 2)}-${pad(1 + random.int(28), 2)}`,
        `author: ${memberSlugs.length > 0 ? random.pick(memberSlugs) : '""'}`,
        '---',
        paragraphs(random, 2 + random.int(3)),
        '',
      ].join('\n');
    const rel: Record<string, string> = { [`${root}/pages/article/${slug}.md`]: page('en') };
    if (i % 10 === 0) rel[`${root}/pages/article/${slug}.es.md`] = page('es');
    add('article', `page:article:${slug}`, rel);
  }
  for (let i = 0; i < faqCount; i++) {
    const slug = `faq-${pad(i)}`;
    // Only FAQs that have an es file are referenced, so the reference resolves in both locales.
    const related = i >= 10 && random.chance(0.5) ? `faq-${pad(10 * random.int(Math.floor(i / 10)))}` : '""';
    const page = (locale: string) => {
      const questions = Array.from({ length: 2 + random.int(3) }, () => [
        `  - question: ${sentence(random, 6).replace('.', '?')}`,
        `    answer: ${sentence(random, 12)}`,
      ]).flat();
      return [
        '---',
        `title: FAQ ${i}${locale === 'es' ? ' (es)' : ''}`,
        'status: published',
        `headline: ${sentence(random, 5)}`,
        `hero_image: https://images.example.com/faq/${slug}.jpg`,
        'questions:',
        ...questions,
        `related: ${related}`,
        '---',
        paragraphs(random, 1 + random.int(2)),
        '',
      ].join('\n');
    };
    const rel: Record<string, string> = { [`${root}/pages/faq/${slug}.md`]: page('en') };
    if (i % 10 === 0) rel[`${root}/pages/faq/${slug}.es.md`] = page('es');
    add('faq', `page:faq:${slug}`, rel);
  }

  let bytes = 0;
  const dirs = new Set([...files.keys()].map((f) => path.dirname(path.join(repoDir, f))));
  for (const dir of dirs) await mkdir(dir, { recursive: true });
  const entries = [...files];
  for (let i = 0; i < entries.length; i += 256) {
    await Promise.all(
      entries.slice(i, i + 256).map(([file, text]) => {
        bytes += Buffer.byteLength(text);
        return writeFile(path.join(repoDir, file), text);
      }),
    );
  }
  await writeFile(path.join(repoDir, 'sync.config.json'), `${JSON.stringify(configInput, null, 2)}\n`);
  await writeFile(path.join(repoDir, '.gitignore'), '.butter-sync/\n');
  await initRepo(repoDir);

  return {
    repoDir,
    config,
    configInput,
    entities,
    fileCount: files.size,
    bytes,
    cleanup: () => rm(repoDir, { recursive: true, force: true, maxRetries: 5 }),
  };
}

async function initRepo(dir: string): Promise<void> {
  const git = (...args: string[]) => exec('git', args, { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  await git('init', '-q', '-b', 'main');
  await git('config', 'user.email', 'bench@example.com');
  await git('config', 'user.name', 'Bench');
  await git('config', 'commit.gpgsign', 'false');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'generated content');
}

/**
 * A manifest that already matches the files, built with the project's own scan → normalise → digest
 * functions (what a push leaves behind once settled: the push after a create adopts the page titles a
 * create does not record); items get made-up ids 1..n. Saves a real initial
 * push of 10k/50k entities against the emulator. Leaves no scan cache behind.
 */
export async function buildMatchingManifest(tree: BenchTree, configDigest: string): Promise<Manifest> {
  const { config, repoDir } = tree;
  const manifest = emptyManifest(configDigest);
  const scan = await scanLocal(repoDir, config, manifest);
  if (scan.errors.length > 0) throw new Error(`generated tree has errors: ${scan.errors[0]?.message}`);
  await rm(scanCachePath(repoDir), { force: true });
  await rm(scanValuesPath(repoDir), { force: true });
  await rm(scanRecentPath(repoDir), { force: true });
  let nextId = 1;
  for (const entity of [...scan.local.values()].sort((a, b) => a.key.localeCompare(b.key))) {
    const model = modelFor(entity.ref, config);
    const slot: ManifestEntity = {
      ...(entity.ref.kind === 'item' ? { remoteId: String(nextId++) } : {}),
      locales: {},
    };
    for (const [locale, variant] of Object.entries(entity.locales)) {
      const normalized = normalizeVariant(variant, model, { media: manifest.media });
      slot.locales[locale] = {
        base: digestVariant(normalized, model, { media: manifest.media }),
        path: variant.path,
      };
    }
    manifest.entities[entity.key] = slot;
  }
  return manifest;
}

/** buildMatchingManifest, written to `.butter-sync/manifest.json`. */
export async function writeMatchingManifest(tree: BenchTree, configDigest: string): Promise<Manifest> {
  const manifest = await buildMatchingManifest(tree, configDigest);
  await writeManifest(tree.repoDir, manifest);
  return manifest;
}

/** The field a single-field edit changes, per kind: realistic one-line edits a writer makes. */
const EDITED_FIELD: Record<TreeEntity['kind'], string> = {
  article: 'summary',
  faq: 'headline',
  team_members: 'role',
  tags: 'name',
};

/** One single-field edit as written to a file: what changed and its new (file-form) value. */
export interface FieldEdit {
  entity: TreeEntity;
  file: string;
  field: string;
  value: string;
}

/** Rewrite one field of the entity's default-locale file (YAML line or JSON key), nothing else. */
export async function editOneField(tree: BenchTree, entity: TreeEntity, round: number): Promise<FieldEdit> {
  const file = entity.files[0]!;
  const abs = path.join(tree.repoDir, file);
  const field = EDITED_FIELD[entity.kind];
  const random = makeRandom(round * 7919 + entity.key.length * 31 + file.length);
  const value = `Revised ${round} ${sentence(random, 6 + random.int(8)).toLowerCase()}`;
  const text = await readFile(abs, 'utf8');
  let next: string;
  if (file.endsWith('.json')) {
    const data = JSON.parse(text) as Record<string, unknown>;
    data[field] = value;
    next = `${JSON.stringify(data, null, 2)}\n`;
  } else {
    const pattern = new RegExp(`^${field}: .*$`, 'm');
    if (!pattern.test(text)) throw new Error(`${file} has no ${field} line`);
    next = text.replace(pattern, `${field}: ${value}`);
  }
  await writeFile(abs, next);
  return { entity, file, field, value };
}

/** Every `step`-th entity, so edits are spread over kinds and directories. */
export function spreadPick(entities: TreeEntity[], count: number): TreeEntity[] {
  const step = Math.max(1, Math.floor(entities.length / count));
  const out: TreeEntity[] = [];
  for (let i = 0; out.length < count && i < entities.length; i += step) out.push(entities[i]!);
  return out;
}
