/**
 * The console's stylesheet and script, served as files so the Content-Security-Policy can forbid inline code.
 * Plain text in the source: no bundler, nothing to build for the Docker image or CI.
 */
export const CONSOLE_CSS = `
:root { color-scheme: light dark; --line: #8884; --accent: #c46a00; font-family: system-ui, sans-serif; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 3rem; line-height: 1.4; }
header { display: flex; align-items: center; justify-content: space-between; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.8rem; } h3 { font-size: 1rem; font-family: monospace; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: .85rem; max-height: 16rem; overflow: auto; }
td.base small { color: #888; }
.conflict { border: 1px solid var(--accent); border-radius: 6px; padding: .2rem 1rem 1rem; margin: .8rem 0; }
.resolve { margin-top: .6rem; display: flex; gap: .6rem; }
button { font: inherit; padding: .3rem .9rem; cursor: pointer; }
.note, .empty { color: #888; } .calls, .status { color: #888; font-size: .85rem; }
#flash { background: #2a7a2a22; border: 1px solid #2a7a2a88; padding: .4rem .8rem; }
.error { color: #b00020; }
.login { max-width: 28rem; margin: 4rem auto; }
svg text { font-size: 10px; fill: currentColor; }
.bar { fill: #7a8fa6; } .bar.current { fill: var(--accent); } .budget { stroke: #b00020; stroke-dasharray: 4 3; }
`;

/**
 * Progressive enhancement only: the page works as plain forms and reloads. With JavaScript, the live part is
 * replaced from the server-sent event stream (HTML rendered and escaped by the server), and a resolve click
 * is sent with fetch so the page does not reload.
 */
export const CONSOLE_JS = `
'use strict';
(() => {
  const live = document.getElementById('live');
  const flash = document.getElementById('flash');
  if (!live || !('EventSource' in window)) return;
  const say = (text) => { flash.textContent = text; flash.hidden = !text; };
  // Relative times tick here, against the server's clock (the offset is learned with each state).
  let offset = Date.parse(live.dataset.now) - Date.now() || 0;
  const duration = (ms) => {
    const s = Math.round(ms / 1000);
    if (s < 90) return s + ' s';
    if (s < 5400) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.round(s / 3600) + ' h';
    return Math.round(s / 86400) + ' days';
  };
  const tick = () => {
    const now = Date.now() + offset;
    for (const time of live.querySelectorAll('time[data-rel]')) {
      const ms = Date.parse(time.dateTime) - now;
      if (Number.isNaN(ms)) continue;
      time.textContent = time.dataset.rel === 'age' || ms < 0 ? duration(Math.abs(Math.min(ms, 0))) + ' ago' : 'in ' + duration(ms);
    }
  };
  setInterval(tick, 1000);
  const source = new EventSource('/console/events');
  source.addEventListener('state', (event) => {
    const state = JSON.parse(event.data);
    offset = Date.parse(state.now) - Date.now() || 0;
    live.innerHTML = state.html;
    tick();
  });
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains('resolve')) return;
    event.preventDefault();
    const data = new URLSearchParams(new FormData(form, event.submitter));
    for (const button of form.querySelectorAll('button')) button.disabled = true;
    say('Resolving ' + data.get('path') + '…');
    try {
      const response = await fetch(form.action, { method: 'POST', body: data, headers: { Accept: 'application/json' } });
      const answer = await response.json();
      say(answer.message);
    } catch (error) {
      say('The console did not answer: ' + error.message);
    } finally {
      for (const button of form.querySelectorAll('button')) button.disabled = false;
    }
  });
})();
`;

/** A small icon, so browsers do not ask for /favicon.ico (a 404 in every tab's console). */
export const CONSOLE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="4" width="14" height="9" rx="2" fill="#f2c14e"/><rect x="1" y="4" width="14" height="3" rx="1" fill="#c46a00"/></svg>`;
