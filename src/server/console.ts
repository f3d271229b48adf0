import type { IncomingMessage, ServerResponse } from 'node:http';
import { SyncError } from '../core/errors.js';
import { CONSOLE_CSS, CONSOLE_ICON, CONSOLE_JS } from './console-assets.js';
import { ConsoleAuth, type ConsoleSession, clearedSessionCookie, sessionCookie } from './console-auth.js';
import { renderConsolePage, renderLive, renderLiveState, renderLoginPage } from './console-page.js';
import type { ConsoleBackend } from './console-state.js';

export type { ConsoleBackend, ConsoleSnapshot } from './console-state.js';

export interface ConsoleOptions {
  backend: ConsoleBackend;
  /** BUTTER_SYNC_CONSOLE_TOKEN; unset or empty = loopback clients only. */
  token: string | undefined;
  /** How often the event stream re-renders and sends the live part when it changed. */
  refreshMs?: number;
}

/** The console's routes on the daemon's server; `handle` answers false for a path that is not the console's. */
export interface ConsoleRoutes {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** Ends the open event streams (the server cannot close while they last). */
  close(): void;
}

const FORM_LIMIT = 16 * 1024;
const HEARTBEAT_MS = 15_000;
const RESOLVE_ANSWER_MS = 20_000;

// The page loads only its own script and stylesheet: an injected <script> or inline handler would not run.
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** Creates the console served at `/` by `watch`. */
export function createConsole(options: ConsoleOptions): ConsoleRoutes {
  const auth = new ConsoleAuth(options.token);
  const streams = new Set<ServerResponse>();
  const refreshMs = options.refreshMs ?? 1_000;

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    switch (path) {
      case '/console/console.css':
        if (!isRead) return methodNotAllowed(res, 'GET, HEAD');
        return sendText(res, 200, 'text/css; charset=utf-8', CONSOLE_CSS);
      case '/console/console.js':
        if (!isRead) return methodNotAllowed(res, 'GET, HEAD');
        return sendText(res, 200, 'text/javascript; charset=utf-8', CONSOLE_JS);
      case '/console/icon.svg':
        if (!isRead) return methodNotAllowed(res, 'GET, HEAD');
        return sendText(res, 200, 'image/svg+xml', CONSOLE_ICON);
      case '/login':
        if (req.method !== 'POST') return redirect(res, '/');
        return login(req, res);
      case '/':
      case '/console/state.json':
      case '/console/events':
      case '/console/resolve':
      case '/logout':
        break;
      default:
        return false;
    }

    const caller = auth.identify(req);
    if (caller.kind === 'anonymous') return refuse(req, res, caller.reason, path);
    const session = caller.kind === 'session' ? caller.session : undefined;

    if (path === '/') {
      if (!isRead) return methodNotAllowed(res, 'GET, HEAD');
      const snapshot = options.backend.snapshot();
      const flash = session?.flash;
      if (session) session.flash = undefined;
      const page = renderConsolePage(snapshot, {
        csrf: session?.csrf ?? '',
        canLogout: auth.tokenRequired && session !== undefined,
        flash,
      });
      return sendText(
        res,
        200,
        'text/html; charset=utf-8',
        page,
        session ? sessionCookie(session, req) : undefined,
      );
    }
    if (path === '/console/state.json') {
      if (!isRead) return methodNotAllowed(res, 'GET, HEAD');
      return sendJson(res, 200, options.backend.snapshot());
    }
    if (path === '/console/events') {
      if (!isRead) return methodNotAllowed(res, 'GET, HEAD');
      return openStream(res, session?.csrf ?? '', () => !session || auth.isOpen(session));
    }

    // Actions: POST only, and a cookie session must present its CSRF token. A Bearer caller needs none:
    // a browser never attaches that header to a cross-site request, so it cannot be forged that way.
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    const form = await readForm(req);
    if (form === null) return sendJson(res, 413, { error: 'form too large' }, true);
    if (session && !auth.checkCsrf(session, form.get('csrf') ?? headerOf(req, 'x-csrf-token'))) {
      return answer(
        req,
        res,
        session,
        403,
        'The form was stale or not from this console: reload the page and try again.',
      );
    }
    if (path === '/logout') {
      if (session) auth.closeSession(session);
      res.writeHead(303, { Location: '/', 'Set-Cookie': clearedSessionCookie(), ...SECURITY_HEADERS });
      res.end();
      return true;
    }
    return resolveConflict(req, res, session, form);
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!auth.tokenRequired) return redirect(res, '/');
    const form = await readForm(req);
    if (form === null) return sendJson(res, 413, { error: 'form too large' }, true);
    if (!auth.checkToken(form.get('token') ?? undefined)) {
      return sendText(
        res,
        401,
        'text/html; charset=utf-8',
        renderLoginPage('That is not the console token.'),
      );
    }
    const session = auth.openSession();
    res.writeHead(303, { Location: '/', 'Set-Cookie': sessionCookie(session, req), ...SECURITY_HEADERS });
    res.end();
    return true;
  }

  async function resolveConflict(
    req: IncomingMessage,
    res: ServerResponse,
    session: ConsoleSession | undefined,
    form: URLSearchParams,
  ): Promise<boolean> {
    const file = form.get('path') ?? '';
    const take = form.get('take');
    if (!file || (take !== 'git' && take !== 'cms')) {
      return answer(req, res, session, 400, 'A resolve needs a file (path) and take=git or take=cms.');
    }
    const running = options.backend.resolve(file, take);
    const late = new Promise<'late'>((resolve) =>
      setTimeout(() => resolve('late'), RESOLVE_ANSWER_MS).unref(),
    );
    try {
      const result = await Promise.race([running, late]);
      if (result === 'late') {
        running.catch(() => {}); // its outcome still reaches the page through the live view
        return answer(
          req,
          res,
          session,
          202,
          `Resolving ${file} is taking a while; the page updates when it is done.`,
        );
      }
      const side = take === 'git' ? 'the file (Git)' : 'the CMS';
      const open = result.report.conflicts.filter((c) => c.path === file).length;
      const message =
        open > 0
          ? `Resolved ${result.resolved} conflict(s) in ${file} keeping ${side}, but ${open} came back: both sides changed again.`
          : `Resolved ${result.resolved} conflict(s) in ${file} keeping ${side}.`;
      return answer(req, res, session, 200, message);
    } catch (error) {
      const message =
        error instanceof SyncError ? `${error.message}. ${error.hint}` : (error as Error).message;
      return answer(
        req,
        res,
        session,
        error instanceof SyncError && error.code === 'USAGE' ? 409 : 500,
        message,
      );
    }
  }

  function openStream(res: ServerResponse, csrf: string, allowed: () => boolean): boolean {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    let quietFor = 0;
    const send = () => {
      const snapshot = options.backend.snapshot();
      const state = renderLiveState(snapshot, csrf);
      quietFor += refreshMs;
      if (state !== last) {
        last = state;
        quietFor = 0;
        const live = renderLive(snapshot, csrf).value;
        res.write(`event: state\ndata: ${JSON.stringify({ html: live, now: snapshot.now })}\n\n`);
      } else if (quietFor >= HEARTBEAT_MS) {
        quietFor = 0;
        res.write(': still here\n\n'); // keeps proxies from closing an idle stream
      }
    };
    // The page was rendered a moment ago; the first event only goes out if something moved since.
    let last = renderLiveState(options.backend.snapshot(), csrf);
    const timer = setInterval(() => {
      if (!allowed()) {
        stop();
        res.end();
        return;
      }
      try {
        send();
      } catch {
        stop();
      }
    }, refreshMs);
    const stop = () => {
      clearInterval(timer);
      streams.delete(res);
    };
    streams.add(res);
    res.once('close', stop);
    return true;
  }

  return {
    handle,
    close() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}

/** Browsers get a page (login form, or 403 off loopback); scripts get JSON. */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  reason: 'login-required' | 'not-loopback',
  path: string,
): boolean {
  if (reason === 'not-loopback') {
    const message =
      'The console answers only on this machine (127.0.0.1) while BUTTER_SYNC_CONSOLE_TOKEN is not set. Set it where the daemon runs to open the console to others.';
    if (path === '/' && req.method === 'GET') return sendText(res, 403, 'text/plain; charset=utf-8', message);
    return sendJson(res, 403, { error: message }, true);
  }
  if (path === '/' && req.method === 'GET') {
    return sendText(res, 401, 'text/html; charset=utf-8', renderLoginPage());
  }
  return sendJson(
    res,
    401,
    { error: 'log in at / or send Authorization: Bearer <BUTTER_SYNC_CONSOLE_TOKEN>' },
    true,
  );
}

/** JSON for the page's fetch (and scripts); a 303 back to the page with a one-time message for a plain form. */
function answer(
  req: IncomingMessage,
  res: ServerResponse,
  session: ConsoleSession | undefined,
  status: number,
  message: string,
): boolean {
  const wantsJson = (headerOf(req, 'accept') ?? '').includes('application/json') || session === undefined;
  if (wantsJson) return sendJson(res, status, { ok: status < 300, message });
  if (session) session.flash = message;
  return redirect(res, '/');
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > FORM_LIMIT) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT) return null;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks, size).toString('utf8'));
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function redirect(res: ServerResponse, location: string): boolean {
  res.writeHead(303, { Location: location, ...SECURITY_HEADERS });
  res.end();
  return true;
}

function methodNotAllowed(res: ServerResponse, allow: string): boolean {
  res.writeHead(405, { Allow: allow, Connection: 'close', ...SECURITY_HEADERS });
  res.end();
  return true;
}

function sendText(res: ServerResponse, status: number, type: string, text: string, cookie?: string): boolean {
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(text),
  };
  if (cookie) headers['Set-Cookie'] = cookie;
  res.writeHead(status, headers);
  res.end(text);
  return true;
}

function sendJson(res: ServerResponse, status: number, body: unknown, close = false): boolean {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(text);
  return true;
}
