import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../state/atomic-file.js';
import type { SyncReport } from '../sync/report.js';

/**
 * Standing notices ("page file removed", "title changed"): said when they arise, kept for `status`, silenced
 * by `butter-sync dismiss`, so a person is not told the same thing on every run (issue 13). The file is the
 * CLI's own (.butter-sync/notices.json, beside the manifest): presentation, not sync state.
 */

type Notice = SyncReport['notices'][number];

export interface StandingNotice extends Notice {
  id: string;
  firstSeen: string;
  dismissed?: boolean;
}

interface NoticeFile {
  version: 1;
  notices: StandingNotice[];
}

/** Notices that must be seen on every run: a refusal that makes the run exit 4 until a person acts. */
const SAID_EVERY_TIME = new Set(['delete-guard']);

function fileOf(repoDir: string): string {
  return path.join(repoDir, '.butter-sync', 'notices.json');
}

export function noticeId(notice: Notice): string {
  return createHash('sha256')
    .update([notice.reason, notice.entity, notice.path ?? '', notice.message].join('\u0000'))
    .digest('hex')
    .slice(0, 8);
}

export async function readNotices(repoDir: string): Promise<StandingNotice[]> {
  try {
    const data = JSON.parse(await readFile(fileOf(repoDir), 'utf8')) as NoticeFile;
    return data.version === 1 && Array.isArray(data.notices) ? data.notices : [];
  } catch {
    return []; // missing or unreadable: every notice is new again, which loses nothing
  }
}

async function writeNotices(repoDir: string, notices: StandingNotice[]): Promise<void> {
  const data: NoticeFile = { version: 1, notices };
  await mkdir(path.dirname(fileOf(repoDir)), { recursive: true });
  await writeFileAtomic(fileOf(repoDir), `${JSON.stringify(data, null, 2)}\n`);
}

/**
 * Sort a run's notices: `fresh` ones are printed (and remembered), `standing` ones were said before and are
 * only counted. A full two-way run (reconcile) forgets the notices it no longer meets: their cause is gone.
 */
export async function sortNotices(
  repoDir: string,
  report: SyncReport,
): Promise<{ fresh: Notice[]; standing: number }> {
  const known = await readNotices(repoDir);
  const byId = new Map(known.map((n) => [n.id, n]));
  const fresh: Notice[] = [];
  const seen = new Set<string>();
  let standing = 0;
  for (const notice of report.notices) {
    if (SAID_EVERY_TIME.has(notice.reason)) {
      fresh.push(notice);
      continue;
    }
    const id = noticeId(notice);
    seen.add(id);
    const old = byId.get(id);
    if (!old) {
      fresh.push(notice);
      byId.set(id, { ...notice, id, firstSeen: report.finishedAt });
    } else if (!old.dismissed) {
      standing += 1;
    }
  }
  const full = report.mode === 'reconcile' && !report.dryRun;
  const kept = [...byId.values()].filter((n) => !full || seen.has(n.id) || n.entity === SAID_ONCE_ENTITY);
  const changed = kept.length !== known.length || kept.some((n) => !known.includes(n));
  if (changed) await writeNotices(repoDir, kept).catch(() => undefined); // unwritable: said again next time
  return { fresh, standing };
}

/** Notices about this clone's runs, not about an entity: a full reconcile does not forget them. */
const SAID_ONCE_ENTITY = 'this clone';

/**
 * A warning said once (the shared state is unreachable: offline, no push rights), then kept for `status`
 * until `forgetSaid` says its cause is gone. True when it is news and should be said now.
 */
export async function sayOnce(repoDir: string, reason: string, message: string): Promise<boolean> {
  const notices = await readNotices(repoDir);
  if (notices.some((n) => n.reason === reason && n.entity === SAID_ONCE_ENTITY)) return false;
  const notice = { entity: SAID_ONCE_ENTITY, reason, message };
  notices.push({ ...notice, id: noticeId(notice), firstSeen: new Date().toISOString() });
  await writeNotices(repoDir, notices).catch(() => undefined); // unwritable: said again next time
  return true;
}

/** The cause of a `sayOnce` warning is gone: the next occurrence is news again. */
export async function forgetSaid(repoDir: string, reason: string): Promise<void> {
  const notices = await readNotices(repoDir);
  const kept = notices.filter((n) => !(n.reason === reason && n.entity === SAID_ONCE_ENTITY));
  if (kept.length !== notices.length) await writeNotices(repoDir, kept).catch(() => undefined);
}

/** `dismiss`: silence the given notices (or all); returns the ids that matched nothing. */
export async function dismissNotices(repoDir: string, ids: string[], all: boolean): Promise<string[]> {
  const notices = await readNotices(repoDir);
  const unknown = ids.filter((id) => !notices.some((n) => n.id === id));
  const next = notices.map((n) => (all || ids.includes(n.id) ? { ...n, dismissed: true } : n));
  await writeNotices(repoDir, next);
  return unknown;
}
