import { SyncError } from '../../core/errors.js';
import { writeLabel } from '../../core/types.js';
import { shownFailures } from '../../state/manifest-edits.js';
import { readManifest } from '../../state/manifest-store.js';
import { dismissNotices, readNotices } from '../notice-store.js';
import { printJson, renderTable } from '../output.js';
import { configDigest, type GlobalOptions, loadProjectConfig, makeLogger, repoDirOf } from '../project.js';

/** `status`: what the manifest holds — no API call, no lock (a read of a file that is always whole). */
export async function runStatus(options: GlobalOptions): Promise<{ exitCode: number }> {
  const logger = makeLogger(options);
  const config = await loadProjectConfig(options, logger);
  const manifest = await readManifest(repoDirOf(options), configDigest(config));
  const month = new Date().toISOString().slice(0, 7);
  const failed = shownFailures(manifest);
  const notices = (await readNotices(repoDirOf(options))).filter((n) => !n.dismissed);
  const summary = {
    entities: Object.keys(manifest.entities).length,
    pending: manifest.pending,
    failed,
    conflicts: manifest.conflicts,
    lastPush: manifest.lastPush ?? null,
    lastPull: manifest.lastPull ?? null,
    callsThisMonth: manifest.calls[month] ?? 0,
    monthlyCallBudget: config.rate.monthlyCallBudget ?? null,
    notices,
  };
  if (options.json) {
    printJson(summary);
  } else {
    const out: string[] = [
      `Tracked entities: ${summary.entities}`,
      `Last push: ${summary.lastPush ?? 'never'}   Last pull: ${summary.lastPull ?? 'never'}`,
      `API calls this month: ${summary.callsThisMonth}${summary.monthlyCallBudget ? ` of ${summary.monthlyCallBudget}` : ''}`,
    ];
    if (manifest.pending.length) {
      out.push(
        '',
        'Pending (accepted by ButterCMS, not yet seen applied):',
        renderTable(
          ['entity', 'write', 'sent', 'deadline'],
          manifest.pending.map((p) => [
            p.entity,
            writeLabel(p.kind, p.entity),
            p.sentAt ?? '(intent)',
            p.deadline,
          ]),
        ),
      );
    }
    if (failed.length) {
      out.push(
        '',
        'Failed writes:',
        renderTable(
          ['file', 'write', 'reason'],
          failed.map((f) => [f.path ?? f.entity, writeLabel(f.kind, f.entity), f.reason]),
        ),
      );
    }
    if (manifest.conflicts.length) {
      out.push(
        '',
        'Conflicts (settle with `butter-sync resolve <file> --take git|cms`):',
        renderTable(
          ['file', 'locale', 'field', 'git', 'cms'],
          manifest.conflicts.map((c) => [
            c.path ?? c.entity,
            c.locale,
            c.field,
            JSON.stringify(c.git) ?? '',
            JSON.stringify(c.cms) ?? '',
          ]),
        ),
      );
    }
    if (notices.length) {
      out.push(
        '',
        'Notices (said once when they arose; `butter-sync dismiss ID` or `--all` silences them):',
        renderTable(
          ['id', 'file', 'notice'],
          notices.map((n) => [n.id, n.path ?? n.entity, n.message]),
        ),
      );
    }
    if (!manifest.pending.length && !failed.length && !manifest.conflicts.length) {
      out.push('No pending writes, failures or conflicts.');
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return { exitCode: manifest.conflicts.length ? 3 : failed.length ? 4 : 0 };
}

/** `dismiss ID… | --all`: silence standing notices (status stops listing them; a new cause is said again). */
export async function runDismiss(
  options: GlobalOptions,
  ids: string[],
  flags: { all?: boolean },
): Promise<{ exitCode: number }> {
  if (ids.length === 0 && !flags.all) {
    throw new SyncError('USAGE', 'dismiss needs notice ids (as `butter-sync status` lists them) or --all');
  }
  const unknown = await dismissNotices(repoDirOf(options), ids, flags.all === true);
  if (unknown.length > 0) {
    throw new SyncError('USAGE', `no standing notice with id ${unknown.join(', ')}`, {
      hint: 'Run `butter-sync status` to list the notices and their ids.',
    });
  }
  process.stdout.write(flags.all ? 'Dismissed every standing notice.\n' : `Dismissed ${ids.join(', ')}.\n`);
  return { exitCode: 0 };
}
