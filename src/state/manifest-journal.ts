import { open, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SyncError } from '../core/errors.js';
import { writeFileAtomic } from './atomic-file.js';

/**
 * The manifest's append-only journal (issue 14, "state that scales"): `manifest.json` is a snapshot, and each
 * save after it appends one line holding only what changed, so a save costs O(what changed) instead of
 * re-serialising every entity. Now and then the store compacts: it writes a new snapshot and starts a new
 * journal.
 *
 * Format, one JSON value a line:
 *   line 1  `{"journal":1,"snapshot":"<crc32 hex>-<byte length>"}`: the snapshot the records apply to;
 *   line n  `<crc32 hex of the JSON> <JSON of a JournalRecord>`.
 * A journal whose header names another snapshot is stale (a compaction replaced the snapshot and was killed
 * before it reset the journal): its records are already in the snapshot, so it is ignored. One save is one
 * line written by one `write` and fsynced before the save resolves; a line cut short by a kill (no newline,
 * or a checksum that does not match) is the torn tail of a save that never completed: it is ignored, never
 * half-applied. A bad line followed by a good one is not a torn tail: that journal is refused.
 */
export const JOURNAL_VERSION = 1;
export const JOURNAL_FILE = 'manifest.journal';

/** One save: keyed collections by key (`null`: removed), and the rest of the manifest whole when it changed. */
export interface JournalRecord {
  /** e.g. `{ entities: { "page:faq:x": {...}, "item:tags:y": null }, media: {...} }` */
  set?: Record<string, Record<string, unknown>>;
  /** Every other top-level key (conflicts, calls, ...) but the id-keyed lists; with it always comes `lists`. */
  head?: Record<string, unknown>;
  /** Lists of records with unique ids (pending, failed): the order of ids and the items that changed. */
  lists?: Record<string, { ids: string[]; set: Record<string, unknown> }>;
}

export interface JournalReplay {
  records: JournalRecord[];
  /** Bytes of the journal that are whole and belong to this snapshot (where the next append goes). */
  goodBytes: number;
  /** The file had bytes past `goodBytes` (a torn tail) that the lock holder should cut off. */
  tornTail: boolean;
  /** The journal belongs to the snapshot on disk (false: none, or a stale one to replace). */
  current: boolean;
}

export function journalPath(stateDir: string): string {
  return join(stateDir, JOURNAL_FILE);
}

/** The identity a journal header names: cheap to compute, and any rewrite of the snapshot changes it. */
export function snapshotId(bytes: Buffer | undefined): string {
  if (bytes === undefined) return 'none';
  return `${crc32(bytes).toString(16).padStart(8, '0')}-${bytes.length}`;
}

function headerLine(snapshot: string): string {
  return `${JSON.stringify({ journal: JOURNAL_VERSION, snapshot })}\n`;
}

/** Read the records that apply to the snapshot `snapshot`; a missing or stale journal has none. */
export async function readJournal(file: string, snapshot: string): Promise<JournalReplay> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { records: [], goodBytes: 0, tornTail: false, current: false };
    }
    throw new SyncError('MANIFEST_CORRUPT', `cannot read the manifest journal: ${(error as Error).message}`, {
      file,
      cause: error,
    });
  }
  const firstNewline = bytes.indexOf(0x0a);
  const header = firstNewline < 0 ? undefined : parseHeader(bytes.subarray(0, firstNewline).toString('utf8'));
  if (header === undefined) {
    // The header is written atomically with the journal's creation, so a bad one is not a torn tail.
    throw new SyncError('MANIFEST_CORRUPT', 'the manifest journal has no valid header (line 1)', {
      file,
      hint: journalHint(),
    });
  }
  if (header.version > JOURNAL_VERSION) {
    throw new SyncError(
      'MANIFEST_CORRUPT',
      `the manifest journal has version ${header.version}; this butter-sync reads version ${JOURNAL_VERSION}`,
      { file, hint: 'A newer butter-sync wrote it: upgrade butter-sync.' },
    );
  }
  if (header.snapshot !== snapshot) {
    return { records: [], goodBytes: 0, tornTail: false, current: false };
  }
  const records: JournalRecord[] = [];
  let offset = firstNewline + 1;
  let line = 2;
  let badLine: number | undefined;
  let goodBytes = offset;
  while (offset < bytes.length) {
    const end = bytes.indexOf(0x0a, offset);
    if (end < 0) {
      // No newline: the last append was cut short.
      badLine ??= line;
      break;
    }
    const record = parseRecord(bytes.subarray(offset, end));
    if (record === undefined) badLine ??= line;
    else if (badLine !== undefined) {
      throw new SyncError(
        'MANIFEST_CORRUPT',
        `the manifest journal is damaged at line ${badLine} (a later line is whole, so it is not a save cut short)`,
        { file: `${file}:${badLine}`, hint: journalHint() },
      );
    } else {
      records.push(record);
      goodBytes = end + 1;
    }
    offset = end + 1;
    line += 1;
  }
  return { records, goodBytes, tornTail: goodBytes < bytes.length, current: true };
}

function journalHint(): string {
  return 'Nothing of it was applied. Move .butter-sync/manifest.journal aside and run `butter-sync reconcile`: it rebuilds what the journal held from both sides.';
}

function parseHeader(text: string): { version: number; snapshot: string } | undefined {
  try {
    const data = JSON.parse(text) as { journal?: unknown; snapshot?: unknown };
    if (typeof data.journal !== 'number' || typeof data.snapshot !== 'string') return undefined;
    return { version: data.journal, snapshot: data.snapshot };
  } catch {
    return undefined;
  }
}

function parseRecord(line: Buffer): JournalRecord | undefined {
  const space = line.indexOf(0x20);
  if (space !== 8) return undefined;
  const json = line.subarray(space + 1);
  if (crc32(json).toString(16).padStart(8, '0') !== line.subarray(0, 8).toString('latin1')) return undefined;
  try {
    const data = JSON.parse(json.toString('utf8')) as unknown;
    return data !== null && typeof data === 'object' && !Array.isArray(data)
      ? (data as JournalRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A new, empty journal for the snapshot just written (atomic: a kill leaves the old journal or this one). */
export async function resetJournal(file: string, snapshot: string): Promise<number> {
  const header = headerLine(snapshot);
  await writeFileAtomic(file, header);
  return Buffer.byteLength(header);
}

/** Cut a torn tail off, so the next append starts on a line of its own. */
export async function cutJournal(file: string, goodBytes: number): Promise<void> {
  await truncate(file, goodBytes);
}

/** Append one save as one line and fsync it: when this resolves, the save survives a crash. */
export async function appendJournal(file: string, record: JournalRecord): Promise<number> {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  const line = Buffer.concat([
    Buffer.from(`${crc32(json).toString(16).padStart(8, '0')} `, 'latin1'),
    json,
    Buffer.from('\n'),
  ]);
  const handle = await open(file, 'a');
  try {
    await handle.write(line);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return line.length;
}
