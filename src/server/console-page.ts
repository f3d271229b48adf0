import { type ShownFailure, writeLabel } from '../core/types.js';
import type { BaseLookup } from './conflict-base.js';
import { html, type SafeHtml } from './console-html.js';
import type { ActivityEntry, ConsoleConflict, ConsoleSnapshot } from './console-state.js';

/** What a page needs besides the snapshot: the session's CSRF token and whether a logout makes sense. */
export interface PageContext {
  csrf: string;
  canLogout: boolean;
  flash?: string | undefined;
}

/** The whole console page; `#live` is replaced in place by `/console/events` when JavaScript runs. */
export function renderConsolePage(snapshot: ConsoleSnapshot, page: PageContext): string {
  const body = html`<header>
  <h1>butter-sync console</h1>
  ${
    page.canLogout
      ? html`<form method="post" action="/logout"><input type="hidden" name="csrf" value="${page.csrf}"><button type="submit">Log out</button></form>`
      : html`<span class="note">open to this machine only (no BUTTER_SYNC_CONSOLE_TOKEN set)</span>`
  }
</header>
<p id="flash" role="status"${page.flash ? '' : html` hidden`}>${page.flash ?? ''}</p>
<main id="live" data-now="${snapshot.now}">${renderLive(snapshot, page.csrf)}</main>`;
  return document('butter-sync console', body);
}

export function renderLoginPage(message?: string): string {
  return document(
    'butter-sync console: log in',
    html`<main class="login">
  <h1>butter-sync console</h1>
  <p>Enter the console token (the value of <code>BUTTER_SYNC_CONSOLE_TOKEN</code> where the daemon runs).</p>
  ${message ? html`<p class="error" role="alert">${message}</p>` : ''}
  <form method="post" action="/login">
    <label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
    <button type="submit">Log in</button>
  </form>
</main>`,
  );
}

/** The part of the page that changes: also what the event stream sends. */
export function renderLive(s: ConsoleSnapshot, csrf: string): SafeHtml {
  return renderLiveAt(s, csrf, Date.parse(s.now));
}

/** The live part with absolute times: equal for two snapshots that differ only in their clock. */
export function renderLiveState(s: ConsoleSnapshot, csrf: string): string {
  return renderLiveAt(s, csrf, Number.NaN).value;
}

function renderLiveAt(s: ConsoleSnapshot, csrf: string, now: number): SafeHtml {
  return html`
<section id="daemon"><h2>Daemon</h2>
  <dl>
    <dt>Last push</dt><dd>${when(s.daemon.lastPush, now)}</dd>
    <dt>Last pull</dt><dd>${when(s.daemon.lastPull, now)}</dd>
    <dt>Next poll</dt><dd>${s.daemon.nextPoll ? when(s.daemon.nextPoll, now) : (s.daemon.pollNote ?? 'polling is off')}</dd>
    <dt>Queue</dt><dd>${s.daemon.queueDepth === 0 ? 'idle' : `${s.daemon.queueDepth} waiting or running`}</dd>
    <dt>Rate-limit pauses</dt><dd>${s.daemon.rateLimitPauses === 0 ? 'none' : html`${s.daemon.rateLimitPauses}, last ${when(s.daemon.lastRateLimitAt, now)}`}</dd>
  </dl>
</section>
${renderConflicts(s.conflicts, csrf)}
<section id="pending"><h2>Pending writes (${s.pending.length})</h2>
  ${
    s.pending.length === 0
      ? html`<p class="empty">None: every write sent has been read back.</p>`
      : html`<table><thead><tr><th>File</th><th>Write</th><th>State</th><th>Age</th><th>Deadline</th></tr></thead><tbody>
    ${firstRows(s.pending).map(
      (p) =>
        html`<tr><td>${p.path ?? p.entity}</td><td>${writeLabel(p.kind, p.entity)}</td><td>${p.state === 'sent' ? 'sent, waiting for read-back' : 'about to be sent'}</td><td>${age(p.createdAt, now)}</td><td>${when(p.deadline, now)}</td></tr>`,
    )}${moreRows(s.pending.length, 5)}</tbody></table>`
  }
</section>
${renderFailures(s.failed, s.problems)}
${renderActivity(s.activity, now)}
${renderCalls(s.calls)}`;
}

function renderConflicts(conflicts: ConsoleConflict[], csrf: string): SafeHtml {
  if (conflicts.length === 0) {
    return html`<section id="conflicts"><h2>Conflicts (0)</h2><p class="empty">None.</p></section>`;
  }
  const byFile = new Map<string, ConsoleConflict[]>();
  for (const c of conflicts) byFile.set(c.path ?? c.entity, [...(byFile.get(c.path ?? c.entity) ?? []), c]);
  return html`<section id="conflicts"><h2>Conflicts (${conflicts.length})</h2>
  <p class="note">Both sides changed these fields since they last agreed on the base value (found in the file's git history).</p>
  ${[...byFile].slice(0, CONFLICT_FILES_SHOWN).map(
    ([file, list]) => html`<article class="conflict" data-path="${file}">
    <h3>${file}</h3>
    <table><thead><tr><th>Field</th><th>Base</th><th>Git (the file)</th><th>CMS</th></tr></thead><tbody>
    ${list.map(
      (c) =>
        html`<tr><th scope="row">${c.field}${c.locale ? html` <small>${c.locale}</small>` : ''}</th><td class="base">${renderBase(c.base)}</td><td class="git"><pre>${showValue(c.git)}</pre></td><td class="cms"><pre>${showValue(c.cms)}</pre></td></tr>`,
    )}</tbody></table>
    ${
      list[0]?.path
        ? html`<form method="post" action="/console/resolve" class="resolve">
      <input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="path" value="${list[0].path}">
      <button type="submit" name="take" value="git">Keep Git</button>
      <button type="submit" name="take" value="cms">Keep CMS</button>
    </form>`
        : html`<p class="note">No file is recorded for this entity: settle it with <code>butter-sync resolve</code>.</p>`
    }
  </article>`,
  )}
  ${
    byFile.size > CONFLICT_FILES_SHOWN
      ? html`<p class="note">and ${byFile.size - CONFLICT_FILES_SHOWN} more files: settle these first, or run <code>butter-sync status</code> for the full list.</p>`
      : ''
  }
</section>`;
}

function renderBase(base: BaseLookup): SafeHtml {
  switch (base.state) {
    case 'found':
      return html`<pre>${showValue(base.value)}</pre><small>as of commit ${base.commit.slice(0, 8)}</small>`;
    case 'searching':
      return html`<span class="note">looking in git history…</span>`;
    case 'none':
      return html`<span class="note">none: the field is new on both sides</span>`;
    default:
      return html`<span class="note">not in the file's recent git history (the manifest keeps only a digest)</span>`;
  }
}

function renderFailures(failed: ShownFailure[], problems: ConsoleSnapshot['problems']): SafeHtml {
  const total = failed.length + problems.length;
  return html`<section id="failures"><h2>Failures (${total})</h2>
  ${
    total === 0
      ? html`<p class="empty">None.</p>`
      : html`<table><thead><tr><th>File</th><th>What</th><th>Reason</th><th>What to do</th></tr></thead><tbody>
    ${firstRows(failed).map((f) => {
      const { reason, hint } = splitReason(f);
      return html`<tr><td>${f.path ?? f.entity}</td><td>${f.heldBack ? 'held back' : writeLabel(f.kind, f.entity)}</td><td>${reason}</td><td>${hint}</td></tr>`;
    })}
    ${firstRows(problems).map(
      (p) =>
        html`<tr><td>${p.file ?? '(no file)'}${p.line === undefined ? '' : `:${p.line}`}</td><td>${p.code}</td><td>${p.message}</td><td>${p.hint}</td></tr>`,
    )}${moreRows(failed.length, 4)}${moreRows(problems.length, 4)}</tbody></table>`
  }
</section>`;
}

function renderActivity(activity: ActivityEntry[], now: number): SafeHtml {
  return html`<section id="activity"><h2>Recent activity</h2>
  ${
    activity.length === 0
      ? html`<p class="empty">Nothing yet.</p>`
      : html`<ol>${activity.map(
          (
            a,
          ) => html`<li><strong>${a.mode}</strong> ${age(a.at, now)}: ${a.changes.length} change(s)${a.conflicts > 0 ? `, ${a.conflicts} conflict(s) for a person` : ''}, ${a.calls} API call(s)
      ${
        a.changes.length === 0
          ? ''
          : html`<ul>${a.changes.map(
              (c) =>
                html`<li>${c.kind} ${c.path ?? c.entity}${c.fields.length ? `: ${c.fields.join(', ')}` : ''} <span class="status">${c.status}</span> <span class="calls">${c.calls} call(s)</span></li>`,
            )}${a.sharedCalls > 0 ? html`<li class="note">${a.sharedCalls} call(s) for reads shared by the run</li>` : ''}</ul>`
      }</li>`,
        )}</ol>`
  }
</section>`;
}

/** A small bar chart of the last months' calls, with the budget as a line. */
function renderCalls(calls: ConsoleSnapshot['calls']): SafeHtml {
  const width = 360;
  const height = 120;
  const top = Math.max(calls.budget ?? 0, ...calls.byMonth.map(([, n]) => n), 1);
  const barWidth = width / calls.byMonth.length;
  const y = (n: number) => height - (n / top) * (height - 20);
  const bars = calls.byMonth.map(
    ([month, n], i) =>
      html`<rect x="${i * barWidth + 6}" y="${y(n)}" width="${barWidth - 12}" height="${height - y(n)}" class="${month === calls.month ? 'bar current' : 'bar'}"><title>${month}: ${n} calls</title></rect><text x="${i * barWidth + barWidth / 2}" y="${height + 14}" text-anchor="middle">${month.slice(5)}</text>`,
  );
  const budgetLine =
    calls.budget === undefined
      ? ''
      : html`<line x1="0" x2="${width}" y1="${y(calls.budget)}" y2="${y(calls.budget)}" class="budget"></line>`;
  const share =
    calls.budget === undefined
      ? 'no monthlyCallBudget is set'
      : `${Math.round((calls.used / calls.budget) * 100)}% of the ${calls.budget} budget`;
  return html`<section id="calls"><h2>API calls this month</h2>
  <p><strong>${calls.used}</strong> in ${calls.month} (${share})</p>
  <svg viewBox="0 0 ${width} ${height + 20}" width="${width}" height="${height + 20}" role="img" aria-label="API calls per month">${bars}${budgetLine}</svg>
</section>`;
}

/**
 * A big push can leave thousands of pending writes: the page (re-rendered every second per open tab) lists
 * the first ROW_LIMIT of each kind and says how many more there are.
 */
const ROW_LIMIT = 200;

function firstRows<T>(rows: T[]): T[] {
  return rows.slice(0, ROW_LIMIT);
}

function moreRows(total: number, columns: number): SafeHtml | '' {
  if (total <= ROW_LIMIT) return '';
  return html`<tr><td colspan="${columns}" class="note">and ${total - ROW_LIMIT} more: run <code>butter-sync status</code> for the full list</td></tr>`;
}

/** The reason a failed write carries is "what happened — what to do" (apply-plan.ts); split it for the two columns. */
function splitReason(f: ShownFailure): { reason: string; hint: string } {
  const at = f.reason.indexOf(' — ');
  if (at > 0) return { reason: f.reason.slice(0, at), hint: f.reason.slice(at + 3) };
  return {
    reason: f.reason,
    hint: 'Check the entry in the CMS, then save the file again (or run `butter-sync push` on it) to send it again.',
  };
}

/** Conflicts carry whole field values (a Markdown body can be long): each cell shows this much of one. */
const VALUE_CHARS_SHOWN = 4_000;
const CONFLICT_FILES_SHOWN = 50;

function showValue(value: unknown): string {
  if (value === undefined || value === null) return '(empty)';
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  if (text.length <= VALUE_CHARS_SHOWN) return text;
  return `${text.slice(0, VALUE_CHARS_SHOWN)}\n… and ${text.length - VALUE_CHARS_SHOWN} more characters (open the file or the dashboard to see it all)`;
}

/**
 * Times are shown relative to the snapshot's `now` ("5 s ago", "in 25 s"); the page's script keeps them
 * ticking from `datetime`, so the live stream only sends when something other than the clock moved.
 * `now` NaN (see renderLiveState) renders the instant itself.
 */
function when(iso: string | null | undefined, now: number): SafeHtml | string {
  if (!iso) return 'not yet';
  const ms = Date.parse(iso) - now;
  const text = Number.isNaN(ms) ? iso : ms >= 0 ? `in ${duration(ms)}` : `${duration(-ms)} ago`;
  return html`<time datetime="${iso}" title="${iso}" data-rel="when">${text}</time>`;
}

function age(iso: string, now: number): SafeHtml {
  const ms = now - Date.parse(iso);
  const text = Number.isNaN(ms) ? iso : `${duration(Math.max(0, ms))} ago`;
  return html`<time datetime="${iso}" title="${iso}" data-rel="age">${text}</time>`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

function document(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="/console/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/console/console.css">
<script src="/console/console.js" defer></script>
</head>
<body>
${body}
</body>
</html>
`.value;
}
