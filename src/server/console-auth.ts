import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The console's session cookie: a random id, never the token itself, so a stolen page or log holds no secret. */
export const SESSION_COOKIE = 'butter_sync_console';

const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 1_000;

export interface ConsoleSession {
  id: string;
  /** Sent back with every action (form field `csrf` or header `X-CSRF-Token`). */
  csrf: string;
  expiresAt: number;
  /** One message for the next page view (e.g. "Resolved 1 conflict"), shown once. */
  flash?: string | undefined;
}

/** Who is asking, as the console sees it. */
export type Caller =
  | { kind: 'session'; session: ConsoleSession }
  | { kind: 'bearer' }
  | { kind: 'anonymous'; reason: 'login-required' | 'not-loopback' };

/**
 * Authentication for the console: with `BUTTER_SYNC_CONSOLE_TOKEN` set, a session cookie (from `POST /login`)
 * or `Authorization: Bearer <token>`; without it, loopback clients only (a session is opened on first visit,
 * so actions still carry a CSRF token).
 */
export class ConsoleAuth {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly key = randomBytes(32);
  private readonly expected: Buffer | null;

  constructor(token: string | undefined) {
    this.expected = token ? this.mac(token) : null;
  }

  get tokenRequired(): boolean {
    return this.expected !== null;
  }

  /**
   * Compares HMACs under a per-process key: equal lengths for timingSafeEqual whatever was sent, and nothing
   * about the token's length leaks through timing.
   */
  checkToken(presented: string | undefined): boolean {
    if (this.expected === null || presented === undefined || presented === '') return false;
    return timingSafeEqual(this.mac(presented), this.expected);
  }

  identify(req: IncomingMessage): Caller {
    const bearer = bearerOf(req);
    if (this.expected !== null && bearer !== undefined) {
      return this.checkToken(bearer) ? { kind: 'bearer' } : { kind: 'anonymous', reason: 'login-required' };
    }
    const session = this.sessionOf(req);
    if (this.expected !== null) {
      return session ? { kind: 'session', session } : { kind: 'anonymous', reason: 'login-required' };
    }
    // No token: loopback only. The Host check stops DNS rebinding (a web page whose name now points at
    // 127.0.0.1 would otherwise read the console from the user's own browser).
    if (!isLoopbackAddress(req.socket.remoteAddress) || !isLoopbackHost(req.headers.host)) {
      return { kind: 'anonymous', reason: 'not-loopback' };
    }
    return { kind: 'session', session: session ?? this.openSession() };
  }

  openSession(): ConsoleSession {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.expiresAt <= now || this.sessions.size >= MAX_SESSIONS) this.sessions.delete(id);
    }
    const session: ConsoleSession = {
      id: randomBytes(24).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: now + SESSION_TTL_MS,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** False once the session logged out or expired: an open event stream of it must end. */
  isOpen(session: ConsoleSession): boolean {
    return this.sessions.get(session.id) === session && session.expiresAt > Date.now();
  }

  closeSession(session: ConsoleSession): void {
    this.sessions.delete(session.id);
  }

  /** Constant-time check of an action's CSRF token against the session's. */
  checkCsrf(session: ConsoleSession, presented: string | undefined): boolean {
    if (!presented) return false;
    return timingSafeEqual(this.mac(presented), this.mac(session.csrf));
  }

  private sessionOf(req: IncomingMessage): ConsoleSession | undefined {
    const id = cookieOf(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  private mac(value: string): Buffer {
    return createHmac('sha256', this.key).update(value).digest();
  }
}

/**
 * `Set-Cookie` for a session: HttpOnly (no script reads it) and SameSite=Strict (no cross-site request carries
 * it); Secure when the page came through an HTTPS proxy (`X-Forwarded-Proto: https`). A forged header only
 * gets its sender a cookie that their browser keeps off plain HTTP.
 */
export function sessionCookie(session: ConsoleSession, req: IncomingMessage): string {
  const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}
