import { type Operation, parseEntityKey, type ReadStep, type SyncPlan, writeLabel } from '../core/types.js';
import { makeRedactor } from '../redact.js';
import type { SyncProgress } from '../sync/context.js';
import type { AppliedOperation, SyncReport } from '../sync/report.js';
import { readSecrets } from './secrets.js';

/** Reports carry server error texts, and a proxy's error page may echo a URL: scrub secrets from stdout too. */
export function scrubSecrets(text: string): string {
  const secrets = readSecrets();
  return makeRedactor([secrets.readToken, secrets.writeToken, secrets.webhookSecret, secrets.webflowToken])(
    text,
  );
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

/**
 * A create must carry every field of the model (butter-api.md §3.1), so the ones the file does not have go as
 * empty values: the column names the fields with a value and counts the empty ones, rather than listing the
 * whole model as if the file held it.
 */
function createdFields(perLocale: Array<Record<string, unknown>>): string {
  const isEmpty = (v: unknown) => v === '' || v === null || (Array.isArray(v) && v.length === 0);
  const filled = new Set<string>();
  const all = new Set<string>();
  for (const fields of perLocale) {
    for (const [name, value] of Object.entries(fields)) {
      all.add(name);
      if (!isEmpty(value)) filled.add(name);
    }
  }
  const empty = all.size - filled.size;
  const named = [...filled].join(', ') || 'no field with a value';
  return empty > 0 ? `${named} (+${empty} empty: a create sends every field of the model)` : named;
}

/** The verb a write is shown with, whatever the CMS: the HTTP method it stands for. */
const INTENT_VERB = { create: 'POST', update: 'PATCH', replace: 'PUT', delete: 'DELETE' } as const;

function describeOperation(op: Operation): { what: string; detail: string } {
  switch (op.kind) {
    case 'write': {
      const { intent } = op;
      const what = `${INTENT_VERB[intent.kind]} ${intent.ref.kind}`;
      const perLocale = Object.values(intent.locales).map((change) => change.fields);
      if (intent.kind === 'create') return { what, detail: createdFields(perLocale) };
      if (intent.kind === 'delete')
        return { what, detail: intent.remoteId === undefined ? '' : `id ${intent.remoteId}` };
      return { what, detail: [...new Set(perLocale.flatMap((fields) => Object.keys(fields)))].join(', ') };
    }
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

/**
 * The plan as a table. "Nothing to do" only when that is the whole truth: files that could not be read or
 * writes held back mean the sides are not in step, whatever the table holds.
 */
export function renderPlan(plan: SyncPlan, report?: SyncReport): string {
  const visible = plan.operations.filter((op) => op.kind !== 'adopt');
  const unreadable = report?.errors.length ?? 0;
  const reads = plan.reads ?? { before: [], verify: [] };
  // A pull or reconcile reads whole lists (their scope) rather than planned steps: one row says so, so the table
  // accounts for every read the total counts.
  const listed = reads.before.reduce((sum, step) => sum + step.calls, 0);
  const scopeReads = (plan.breakdown?.reads ?? 0) - listed;
  const scopeRow =
    scopeReads > 0
      ? [['READ', 'every configured list', String(scopeReads), 'list pages of 100, in every locale']]
      : [];
  const readRows = (steps: ReadStep[], phase: string) =>
    steps.map((step) => [
      phase,
      `${step.what} (${step.locale})`,
      String(step.calls),
      step.how === 'list'
        ? `list of ${step.entities.length === 1 ? '1 entity' : `${step.entities.length} entities`} at 100 a page`
        : `${step.calls} GET${step.calls === 1 ? '' : 's'}`,
    ]);
  if (visible.length === 0) {
    const spent = plan.totalCalls;
    const calls = `${spent} API call${spent === 1 ? '' : 's'}`;
    const lists =
      reads.before.length > 0 || scopeRow.length > 0
        ? `\n\n${renderTable(['operation', 'entity', 'calls', 'fields / detail'], [...scopeRow, ...readRows(reads.before, 'READ')])}`
        : '';
    return unreadable === 0
      ? `Nothing to do: both sides are in sync. (${calls}${spent > 0 ? ', to read it' : ''})${lists}`
      : `Nothing to send or write for the files that could be read (${calls}); ${unreadable} file problem(s) listed on stderr.${lists}`;
  }
  const rows = visible.map((op) => {
    const { what, detail } =
      'unresolved' in op && op.unresolved !== undefined
        ? { what: 'HELD BACK', detail: `it ${op.unresolved}` }
        : describeOperation(op);
    return [what, op.entity, String(op.cost), detail];
  });
  const all = [...scopeRow, ...readRows(reads.before, 'READ'), ...rows, ...readRows(reads.verify, 'VERIFY')];
  const b = plan.breakdown;
  const split = b
    ? ` (${b.reads} read${b.reads === 1 ? '' : 's'}, ${b.writes} write${b.writes === 1 ? '' : 's'}, ${b.verify} verification read${b.verify === 1 ? '' : 's'})`
    : '';
  return `${renderTable(['operation', 'entity', 'calls', 'fields / detail'], all)}\n\nTotal API calls: ${plan.totalCalls}${split}`;
}

/** `faq/shipping` for page:faq:shipping, `_single/home` for a Single Page, `tags/news` for an item. */
export function entityLabel(entity: string): string {
  try {
    const ref = parseEntityKey(entity);
    if (ref.kind === 'item') return `item ${ref.collection}/${ref.key}`;
    if (ref.kind === 'post') return `post ${ref.slug}`;
    return `page ${ref.pageType === '*' ? '_single' : ref.pageType}/${ref.slug}`;
  } catch {
    return entity; // not an entity (the config, a collection as a whole)
  }
}

const WRITE_VERB: Partial<Record<AppliedOperation['kind'], string>> = {
  'create-page': 'POST',
  'update-page': 'PATCH',
  'replace-page': 'PATCH',
  'delete-page': 'DELETE',
  'create-item': 'POST',
  'update-item': 'PATCH',
  'replace-item': 'PUT',
  'delete-item': 'DELETE',
};

/** One line per change a run made: `PATCH page faq/shipping: headline`, `write file content/…: title`. */
export function changeLines(report: SyncReport): string[] {
  const lines: string[] = [];
  for (const op of report.operations) {
    const fields = op.fields?.length ? `: ${op.fields.join(', ')}` : '';
    const locale = op.locale ? ` [${op.locale}]` : '';
    if (op.status === 'sent')
      lines.push(`${WRITE_VERB[op.kind] ?? op.kind} ${entityLabel(op.entity)}${locale}${fields}`);
    else if (op.status === 'written') lines.push(`write file ${op.path ?? op.entity}${fields}`);
    else if (op.status === 'deleted') lines.push(`remove file ${op.path ?? op.entity}`);
  }
  return lines;
}

/** The run in numbers, as a one-row table (the change lines above it carry the detail). */
export function summaryTable(report: SyncReport): string {
  const sent = report.operations.filter((o) => o.status === 'sent').length;
  const written = report.operations.filter((o) => o.status === 'written' || o.status === 'deleted').length;
  return renderTable(
    ['run', 'writes sent', 'files changed', 'API calls', 'pending', 'conflicts', 'failed', 'file errors'],
    [
      [
        report.mode,
        String(sent),
        String(written),
        String(report.calls),
        String(report.pending),
        String(report.conflicts.length),
        String(report.failures.length),
        String(report.errors.length),
      ],
    ],
  );
}

/** `a, b, c and 4 more`: a group of entities on one line. */
function listOf(names: string[], max = 5): string {
  const unique = [...new Set(names)];
  const shown = unique.slice(0, max).join(', ');
  return unique.length > max ? `${shown} and ${unique.length - max} more` : shown;
}

const NOTICE_HINT: Record<string, string> = {
  'delete-guard':
    'nothing was deleted. To go ahead, run the command again with --allow-delete, or raise maxDeletePercent in the config.',
};

/**
 * What a person must look at, each said once: file errors, failed and unsent writes, conflicts, notices.
 * Notices and unsent writes with one cause (a delete refused for a whole collection, calls stopped after a
 * 401) share one line that names every entity.
 */
export function problemLines(report: SyncReport): string[] {
  const lines: string[] = [];
  for (const error of report.errors) {
    const where = error.file ? `${error.file}${error.line ? `:${error.line}` : ''}: ` : '';
    lines.push(`ERROR ${where}${error.message}\n  hint: ${error.hint}`);
  }
  for (const failure of report.failures) {
    lines.push(
      `FAILED ${failure.path ?? failure.entity} (${writeLabel(failure.kind, failure.entity)}): ${failure.reason}`,
    );
  }
  const noticed = new Set(report.notices.map((n) => n.path ?? n.entity));
  const unsent = new Map<string, string[]>();
  for (const op of report.operations) {
    if (op.status !== 'skipped' || !op.message || noticed.has(op.path ?? op.entity)) continue;
    unsent.set(op.message, [...(unsent.get(op.message) ?? []), entityLabel(op.entity)]);
  }
  for (const [message, entities] of unsent) lines.push(`SKIPPED ${listOf(entities)}: ${message}`);
  for (const conflict of report.conflicts) {
    lines.push(
      `CONFLICT ${conflict.path ?? conflict.entity} [${conflict.locale}] field "${conflict.field}": git=${JSON.stringify(conflict.git)} cms=${JSON.stringify(conflict.cms)}`,
    );
  }
  if (report.conflicts.length > 0) lines.push('Settle each with: butter-sync resolve <path> --take git|cms');
  const notices = new Map<string, { reason: string; names: string[] }>();
  for (const notice of report.notices) {
    const key = `${notice.reason}\u0000${notice.message}`;
    const group = notices.get(key) ?? { reason: notice.reason, names: [] };
    group.names.push(notice.path ?? entityLabel(notice.entity));
    notices.set(key, group);
  }
  for (const [key, { reason, names }] of notices) {
    const message = key.slice(key.indexOf('\u0000') + 1);
    const hint = NOTICE_HINT[reason];
    lines.push(`NOTICE ${listOf(names)}: ${message}${hint ? `\n  hint: ${hint}` : ''}`);
  }
  if (report.gitNote) lines.push(`GIT ${report.gitNote}`);
  if (report.rateLimited)
    lines.push('ButterCMS refused calls for quota or rate; the rest will be sent on the next run.');
  return lines;
}

/** The whole human report as text (the hook log, tests): change lines, summary, commit, then problems. */
export function renderReport(report: SyncReport): string {
  const out = [...changeLines(report), ...(report.operations.length ? [''] : []), summaryTable(report)];
  if (report.commit) out.push(`Committed ${report.commit.slice(0, 12)}.`);
  return scrubSecrets([...out, ...problemLines(report)].join('\n'));
}

/**
 * Print a run for a person: change lines and the summary on stdout (what happened), problems on stderr
 * (what needs a look), so a script can keep the one and a person still sees the other.
 */
export function emitReport(report: SyncReport, options: { summary: boolean; standing?: number }): void {
  if (options.summary) {
    const changes = changeLines(report);
    const out = [...changes, ...(changes.length ? [''] : []), summaryTable(report)];
    if (report.commit) out.push(`Committed ${report.commit.slice(0, 12)}.`);
    process.stdout.write(scrubSecrets(`${out.join('\n')}\n`));
  }
  const problems = problemLines(report);
  if (options.standing) {
    problems.push(
      `${options.standing} standing notice(s) not repeated: \`butter-sync status\` lists them, \`butter-sync dismiss ID\` silences one.`,
    );
  }
  if (problems.length) process.stderr.write(scrubSecrets(`${problems.join('\n')}\n`));
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
