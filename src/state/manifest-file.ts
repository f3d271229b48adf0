import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SyncError } from '../core/errors.js';
import { isRecord } from '../core/is-record.js';
import type { FailedWrite, HeldBackWrite, Manifest, PendingKind } from '../core/types.js';
import { writeFileAtomic } from './atomic-file.js';
import {
  JOURNAL_FILE,
  type JournalRecord,
  type JournalReplay,
  journalPath,
  readJournal,
  snapshotId,
} from './manifest-journal.js';
import { KEYED_COLLECTIONS } from './manifest-tracking.js';

/**
 * Bumped when the manifest's shape changes; an older binary refuses a newer file instead of mangling it.
 * 2: neutral write kinds (create/update/replace/delete) and the `heldBack` list (issue 10); 1 is read and moved on.
 */
export const MANIFEST_VERSION = 2;

/** The folder of per-clone state (git-ignored): manifest, lock, hook log. */
export function stateDir(repoDir: string): string {
  return join(repoDir, '.butter-sync');
}

/** Temp files of content writes (same filesystem as the repo, outside the content folder); emptied at start. */
export function stateTempDir(repoDir: string): string {
  return join(stateDir(repoDir), 'tmp');
}

/** `<repo>/.butter-sync/manifest.json`. */
export function manifestPath(repoDir: string): string {
  return join(stateDir(repoDir), 'manifest.json');
}

/** The manifest of a clone that has never synced: no base, so nothing is overwritten (DESIGN.md §3). */
export function emptyManifest(configDigest: string): Manifest {
  return {
    version: MANIFEST_VERSION,
    configDigest,
    entities: {},
    media: {},
    pending: [],
    failed: [],
    heldBack: [],
    conflicts: [],
    calls: {},
  };
}

/**
 * Read the manifest: the snapshot `manifest.json` with the journal's saves applied (manifest-journal.ts); a
 * missing file is a fresh empty one. The stored `configDigest` is kept as read so the caller can compare it
 * with the current one and force a full reconcile. A file that cannot be trusted is never silently replaced:
 * it raises MANIFEST_CORRUPT naming the file.
 */
export async function readManifest(repoDir: string, configDigest: string): Promise<Manifest> {
  return (await loadManifest(repoDir, configDigest)).manifest;
}

/** What the store needs besides the manifest: which snapshot is on disk, and where the journal ends. */
export interface LoadedManifest {
  manifest: Manifest;
  /** `snapshotId` of manifest.json as read ('none' when there is none). */
  snapshot: string;
  snapshotBytes: number;
  journal: JournalReplay;
}

export async function loadManifest(repoDir: string, configDigest: string): Promise<LoadedManifest> {
  const file = manifestPath(repoDir);
  let bytes: Buffer | undefined;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SyncError('MANIFEST_CORRUPT', `cannot read the manifest: ${(error as Error).message}`, {
        file,
        cause: error,
      });
    }
  }
  const snapshot = snapshotId(bytes);
  const journal = await readJournal(journalPath(stateDir(repoDir)), snapshot);
  if (bytes === undefined && journal.records.length === 0) {
    return { manifest: emptyManifest(configDigest), snapshot, snapshotBytes: 0, journal };
  }
  let data: unknown;
  if (bytes === undefined) data = emptyManifest(configDigest);
  else {
    try {
      data = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new SyncError('MANIFEST_CORRUPT', `the manifest is not valid JSON: ${(error as Error).message}`, {
        file,
        cause: error,
      });
    }
  }
  // The snapshot's version is checked before any record is applied: a newer one is refused as it stands.
  const checkedSnapshot = isRecord(data) ? data : undefined;
  if (
    checkedSnapshot &&
    typeof checkedSnapshot.version === 'number' &&
    checkedSnapshot.version > MANIFEST_VERSION
  ) {
    return { manifest: validateManifest(data, file), snapshot, snapshotBytes: 0, journal };
  }
  if (checkedSnapshot) for (const record of journal.records) applyJournalRecord(checkedSnapshot, record);
  return {
    manifest: validateManifest(data, journal.records.length > 0 ? `${file} (with ${JOURNAL_FILE})` : file),
    snapshot,
    snapshotBytes: bytes?.length ?? 0,
    journal,
  };
}

/** One save replayed: keyed collections entry by entry, the head (every other top-level key) whole. */
export function applyJournalRecord(manifest: Record<string, unknown>, record: JournalRecord): void {
  for (const [name, entries] of Object.entries(record.set ?? {})) {
    const current = manifest[name];
    const collection = isRecord(current) ? current : {};
    manifest[name] = collection;
    for (const [key, value] of Object.entries(entries)) {
      if (value === null) delete collection[key];
      else collection[key] = value;
    }
  }
  if (record.head === undefined) return;
  const lists = record.lists ?? {};
  for (const key of Object.keys(manifest)) {
    if (!KEYED_COLLECTIONS.includes(key) && !(key in record.head) && !(key in lists)) delete manifest[key];
  }
  for (const [key, value] of Object.entries(record.head)) {
    if (!KEYED_COLLECTIONS.includes(key)) manifest[key] = value;
  }
  for (const [key, { ids, set }] of Object.entries(lists)) {
    const previous = Array.isArray(manifest[key]) ? (manifest[key] as Array<{ id?: unknown }>) : [];
    const byId = new Map(previous.map((item) => [item?.id, item]));
    manifest[key] = ids.map((id) => {
      const item = id in set ? set[id] : byId.get(id);
      // An id with no item: the journal was not written by this format; refuse rather than guess.
      if (item === undefined)
        throw new SyncError(
          'MANIFEST_CORRUPT',
          `the manifest journal lists "${id}" in "${key}" but holds no such item`,
        );
      return item;
    });
  }
}

/**
 * Fail before anything is sent or written when the manifest cannot be saved (a read-only or immutable file, a
 * read-only folder): a run that wrote to ButterCMS or the files and then could not record it would leave the
 * state behind both sides.
 */
export async function assertStateWritable(repoDir: string): Promise<void> {
  const file = manifestPath(repoDir);
  const refuse = (error: unknown, what: string) =>
    new SyncError(
      'STATE_UNWRITABLE',
      `cannot write ${what}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      {
        file,
        cause: error,
      },
    );
  try {
    const handle = await open(file, 'r+');
    await handle.close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw refuse(error, 'the manifest');
  }
  const probe = join(stateDir(repoDir), `.write-probe.${process.pid}.tmp`);
  try {
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    throw refuse(error, `into ${stateDir(repoDir)}`);
  }
}

/** Write the manifest atomically and deterministically; false when the bytes on disk are already these. */
export async function writeManifest(repoDir: string, manifest: Manifest): Promise<boolean> {
  return writeFileAtomic(manifestPath(repoDir), serializeManifest(manifest));
}

/** Sorted keys at every depth, 2-space indent, trailing newline: the same manifest is always the same bytes. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(sortKeys(manifest), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const child = (value as Record<string, unknown>)[key];
    if (child !== undefined) sorted[key] = sortKeys(child);
  }
  return sorted;
}

const RECORD_KEYS = ['entities', 'media', 'calls'] as const;
const LIST_KEYS = ['pending', 'failed', 'heldBack', 'conflicts'] as const;

/** Shape check of the top level; collections missing from an older writer default to empty. */
export function validateManifest(data: unknown, file: string): Manifest {
  if (!isRecord(data)) {
    throw new SyncError('MANIFEST_CORRUPT', 'the manifest is not a JSON object', { file });
  }
  const version = data.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new SyncError('MANIFEST_CORRUPT', 'the manifest has no valid "version"', { file });
  }
  if (version > MANIFEST_VERSION) {
    throw new SyncError(
      'MANIFEST_CORRUPT',
      `the manifest has version ${version}; this butter-sync reads version ${MANIFEST_VERSION}`,
      {
        file,
        hint: 'A newer butter-sync wrote it: upgrade butter-sync, or move the manifest aside and run `butter-sync reconcile` to rebuild it.',
      },
    );
  }
  if (typeof data.configDigest !== 'string') {
    throw new SyncError('MANIFEST_CORRUPT', 'the manifest has no "configDigest"', { file });
  }
  const manifest: Record<string, unknown> = { ...data };
  for (const key of RECORD_KEYS) {
    if (manifest[key] === undefined) manifest[key] = {};
    else if (!isRecord(manifest[key])) {
      throw new SyncError('MANIFEST_CORRUPT', `the manifest's "${key}" is not an object`, { file });
    }
  }
  for (const key of LIST_KEYS) {
    if (manifest[key] === undefined) manifest[key] = [];
    else if (!Array.isArray(manifest[key])) {
      throw new SyncError('MANIFEST_CORRUPT', `the manifest's "${key}" is not a list`, { file });
    }
  }
  for (const [key, entity] of Object.entries(manifest.entities as Record<string, unknown>)) {
    if (!isRecord(entity) || !isRecord(entity.locales)) {
      throw new SyncError('MANIFEST_CORRUPT', `the manifest entry "${key}" has no "locales" object`, {
        file,
      });
    }
  }
  migrateNumericIds(manifest.entities as Record<string, Record<string, unknown>>);
  // Every entry the engine reads is checked too: a garbage entry is this error, never a TypeError mid-run.
  const problem = entitiesProblem(manifest.entities as Record<string, unknown>);
  const checked = problem ? undefined : ENTRIES.safeParse(manifest);
  if (problem || !checked?.success) {
    const issue = problem ?? checked?.error?.issues[0];
    const where = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
    throw new SyncError(
      'MANIFEST_CORRUPT',
      `the manifest entry ${where.replace(/^\./, '')} is not valid: ${issue?.message}`,
      {
        file,
      },
    );
  }
  return migrateWrites(manifest as unknown as Manifest);
}

/** Write kinds of states written before issue 10: ButterCMS endpoint names → what the write does. */
const LEGACY_KINDS: Record<string, PendingKind> = {
  'create-page': 'create',
  'create-item': 'create',
  'update-page': 'update',
  'patch-item': 'update',
  'put-item': 'replace',
  'delete-item': 'delete',
};

/**
 * A state written before issue 10 (version 1) still loads: its write kinds become the neutral ones, and its
 * held-back writes (`failed` entries with `heldBack: true`) move to their own list. What `status` shows for
 * them does not change.
 */
function migrateWrites(manifest: Manifest): Manifest {
  // Saved again it is the current version: an older binary then refuses it rather than misreading the kinds.
  manifest.version = MANIFEST_VERSION;
  const kindOf = (kind: string): PendingKind => LEGACY_KINDS[kind] ?? (kind as PendingKind);
  for (const write of manifest.pending) write.kind = kindOf(write.kind);
  const failed: FailedWrite[] = [];
  for (const entry of manifest.failed as Array<FailedWrite & { heldBack?: true }>) {
    const { heldBack, ...write } = entry;
    write.kind = kindOf(write.kind);
    if (heldBack !== true) {
      failed.push(write);
      continue;
    }
    const held: HeldBackWrite = {
      id: write.id,
      entity: write.entity,
      kind: write.kind,
      reason: write.reason,
      at: write.at,
      ...(write.path !== undefined ? { path: write.path } : {}),
    };
    manifest.heldBack = [...manifest.heldBack.filter((h) => h.entity !== held.entity), held];
  }
  manifest.failed = failed;
  for (const write of manifest.heldBack) write.kind = kindOf(write.kind);
  return manifest;
}

/**
 * Remote ids were ButterCMS's numbers until issue 10 made them opaque text: a state written before (a cache, the
 * shared state ref or a journal) loads with each whole-number id as its text. Anything else is left for the
 * shape check to name.
 */
function migrateNumericIds(entities: Record<string, Record<string, unknown>>): void {
  for (const entity of Object.values(entities)) {
    if (isRecord(entity) && typeof entity.remoteId === 'number' && Number.isSafeInteger(entity.remoteId))
      entity.remoteId = String(entity.remoteId);
  }
}

interface EntryProblem {
  path: Array<string | number>;
  message: string;
}

/**
 * The entities checked as ENTRIES would check them, without zod: they are the bulk of a manifest (10k entities,
 * 5 MB), and zod's parse copies every object it checks (at 10k entities +30 MB and 0.1 s per run for a copy
 * that is thrown away). Unknown keys are kept, as with looseObject.
 */
function entitiesProblem(entities: Record<string, unknown>): EntryProblem | undefined {
  const at = (path: Array<string | number>, message: string): EntryProblem => ({
    path: ['entities', ...path],
    message,
  });
  for (const [key, entity] of Object.entries(entities)) {
    const slotEntity = entity as { remoteId?: unknown; locales: Record<string, unknown> };
    if (slotEntity.remoteId !== undefined && typeof slotEntity.remoteId !== 'string')
      return at([key, 'remoteId'], `expected a string, found ${kindOf(slotEntity.remoteId)}`);
    for (const [locale, slot] of Object.entries(slotEntity.locales)) {
      const where = [key, 'locales', locale];
      if (!isRecord(slot)) return at(where, `expected an object, found ${kindOf(slot)}`);
      const base = digestsProblem(slot.base);
      if (base) return at([...where, 'base', ...base.path], base.message);
      if (slot.path !== undefined && typeof slot.path !== 'string')
        return at([...where, 'path'], `expected a string, found ${kindOf(slot.path)}`);
      const pulled = slot.pulled;
      if (pulled === undefined) continue;
      if (!isRecord(pulled)) return at([...where, 'pulled'], `expected an object, found ${kindOf(pulled)}`);
      for (const name of ['prior', 'next'] as const) {
        const digests = digestsProblem(pulled[name]);
        if (digests) return at([...where, 'pulled', name, ...digests.path], digests.message);
      }
      if (pulled.written !== undefined && pulled.written !== true)
        return at([...where, 'pulled', 'written'], 'expected true');
      if (pulled.commit !== undefined && typeof pulled.commit !== 'string')
        return at([...where, 'pulled', 'commit'], `expected a string, found ${kindOf(pulled.commit)}`);
    }
  }
  return undefined;
}

/** A record of field → digest string. */
function digestsProblem(value: unknown): EntryProblem | undefined {
  if (!isRecord(value)) return { path: [], message: `expected an object of digests, found ${kindOf(value)}` };
  for (const [field, digest] of Object.entries(value)) {
    if (typeof digest !== 'string')
      return { path: [field], message: `expected a string, found ${kindOf(digest)}` };
  }
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

const digests = z.record(z.string(), z.string());
const perLocale = z.record(z.string(), digests);
const text = z.string();
const optionalText = z.string().optional();
/** The shape of what the engine reads from each entry; unknown keys are kept (a newer writer's additions). */
const ENTRIES = z.looseObject({
  // entities: entitiesProblem (the bulk of the manifest, checked without copying it)
  media: z.record(z.string(), z.string()),
  richText: z.record(z.string(), z.string()).optional(),
  tombstones: z
    .record(
      z.string(),
      z.looseObject({ side: z.enum(['git', 'cms']), at: text, locales: z.record(z.string(), digests) }),
    )
    .optional(),
  calls: z.record(z.string(), z.number()),
  pending: z.array(
    z.looseObject({
      id: text,
      entity: text,
      kind: text,
      state: z.enum(['intent', 'sent']),
      expect: perLocale,
      createdAt: text,
      sentAt: optionalText,
      deadline: text,
      path: optionalText,
      media: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    }),
  ),
  failed: z.array(
    z.looseObject({
      id: text,
      entity: text,
      kind: text,
      reason: text,
      at: text,
      path: optionalText,
      expect: perLocale.optional(),
    }),
  ),
  heldBack: z.array(
    z.looseObject({ id: text, entity: text, kind: text, reason: text, at: text, path: optionalText }),
  ),
  conflicts: z.array(
    z.looseObject({ entity: text, locale: text, field: text, path: optionalText, at: optionalText }),
  ),
});
