import type { Operation, SyncPlan } from '../core/types.js';
import { makeRedactor } from '../log.js';
import type { SyncProgress } from '../sync/context.js';
import type { SyncReport } from '../sync/report.js';
import { readSecrets } from './wiring.js';

/** Reports carry server error texts, and a proxy's error page may echo a URL: scrub secrets from stdout too. */
export function scrubSecrets(text: string): string {
  const secrets = readSecrets();
  return makeRedactor([secrets.readToken, secrets.writeToken, secrets.webhookSecret])(text);
}

/** Text for people (tables) or `--json` for machines; both go to stdout, logs go to stderr. */
export function printJson(value: unknown): void {
  process.stdout.write(scrubSecrets(`${JSON.stringify(value, null, 2)}\n`));
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** Aligned columns, each at most 60 characters wide; the last one is never cut, as nothing follows it. */
export function renderTable(headers: string[], rows: string[][]): string {
  const last = headers.length - 1;
  const widths = headers.map((h, i) =>
    Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === last ? c : pad(c.length > 60 ? `${c.slice(0, 57)}...` : c, widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function describeOperation(op: Operation): { what: string; detail: string } {
  switch (op.kind) {
    case 'create-page':
      return { what: 'POST page', detail: Object.keys(op.body.fields).join(', ') };
    case 'update-page':
      return { what: 'PATCH page', detail: Object.keys(op.body.fields).join(', ') };
    case 'create-item':
      return { what: 'POST item', detail: Object.keys(op.body.fields[0] ?? {}).join(', ') };
    case 'patch-item':
      return { what: 'PATCH item', detail: Object.keys(op.body.fields ?? {}).join(', ') };
    case 'put-item':
      return { what: 'PUT item', detail: Object.keys(op.body.fields ?? {}).join(', ') };
    case 'delete-item':
      return { what: 'DELETE item', detail: `id ${op.id}` };
    case 'write-file':
      return {
        what: op.create ? 'new file' : 'edit file',
        detail: `${op.path}: ${Object.keys(op.set).join(', ')}`,
      };
    case 'delete-file':
      return { what: 'remove file', detail: op.path };
    case 'adopt':
      return { what: 'adopt', detail: 'both sides already agree' };
    case 'conflict':
      return { what: 'CONFLICT', detail: `${op.locale} ${op.field}` };
    case 'report':
      return { what: 'NOTICE', detail: op.message };
  }
}

export function renderPlan(plan: SyncPlan): string {
  const visible = plan.operations.filter((op) => op.kind !== 'adopt');
  if (visible.length === 0) return 'Nothing to do: both sides are in sync. (0 API calls)';
  const rows = visible.map((op) => {
    const { what, detail } =
      'unresolved' in op && op.unresolved !== undefined
        ? { what: 'HELD BACK', detail: `it ${op.unresolved}` }
        : describeOperation(op);
    return [what, op.entity, String(op.cost), detail];
  });
  return `${renderTable(['operation', 'entity', 'calls', 'fields / detail'], rows)}\n\nTotal API calls: ${plan.totalCalls}`;
}

export function renderReport(report: SyncReport): string {
  return scrubSecrets(renderReportText(report));
}

function renderReportText(report: SyncReport): string {
  const lines: string[] = [];
  const sent = report.operations.filter((o) => o.status === 'sent').length;
  const written = report.operations.filter((o) => o.status === 'written' || o.status === 'deleted').length;
  lines.push(
    `${report.mode}: ${sent} write(s) sent, ${written} file(s) changed, ${report.calls} API call(s), ${report.pending} pending.`,
  );
  if (report.commit) lines.push(`Committed ${report.commit.slice(0, 12)}.`);
  if (report.gitNote) lines.push(`Git: ${report.gitNote}`);
  for (const error of report.errors) {
    lines.push(
      `ERROR ${error.file ?? ''}${error.line ? `:${error.line}` : ''}: ${error.message}\n  hint: ${error.hint}`,
    );
  }
  for (const failure of report.failures) {
    lines.push(`FAILED ${failure.path ?? failure.entity} (${failure.kind}): ${failure.reason}`);
  }
  for (const conflict of report.conflicts) {
    lines.push(
      `CONFLICT ${conflict.path ?? conflict.entity} [${conflict.locale}] field "${conflict.field}": git=${JSON.stringify(conflict.git)} cms=${JSON.stringify(conflict.cms)}`,
    );
  }
  if (report.conflicts.length > 0) {
    lines.push('Settle each with: butter-sync resolve <path> --take git|cms');
  }
  for (const notice of report.notices)
    lines.push(`NOTICE ${notice.path ?? notice.entity}: ${notice.message}`);
  if (report.rateLimited)
    lines.push('ButterCMS refused calls for quota or rate; the rest will be sent on the next run.');
  return lines.join('\n');
}

const PHASE_LABEL: Record<SyncProgress['phase'], string> = {
  scan: 'reading files',
  'read-cms': 'reading ButterCMS',
  apply: 'applying',
  verify: 'verifying pending writes',
  commit: 'committing',
};

/**
 * A one-line progress display on stderr, only when stderr is a TTY and output is not `--json`
 * (DESIGN.md §2); returns the callback for the engine and a `done()` that clears the line.
 */
export function startProgress(json: boolean | undefined): {
  onProgress?: (progress: SyncProgress) => void;
  done(): void;
} {
  const stream = process.stderr;
  if (!stream.isTTY || json) return { done() {} };
  let shown = false;
  let last = '';
  return {
    onProgress(progress) {
      const count = progress.total ? ` ${progress.done ?? 0}/${progress.total}` : '';
      const line = `${PHASE_LABEL[progress.phase]}${count}…`;
      if (line === last) return;
      last = line;
      shown = true;
      stream.write(`\r\x1b[K${line}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
