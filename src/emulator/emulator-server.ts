import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, detailError } from './api-error.js';
import {
  acceptCreatePost,
  acceptDeletePost,
  acceptUpdatePost,
  findPostForWrite,
  listAuthors,
  listPosts,
  listTerms,
  readAuthorEntry,
  readPost,
  readTerm,
  searchPosts,
} from './blog-handlers.js';
import { ORG_OWNER, type TermKind } from './blog-store.js';
import { ContentStore } from './content-store.js';
import type {
  EmulatorHandle,
  EmulatorOptions,
  RequestLogEntry,
  SeedAuthor,
  SeedPost,
  WebhookTarget,
} from './emulator-types.js';
import { FaultState, NO_FAULTS } from './faults.js';
import { blankFields, isPlainObject } from './field-values.js';
import {
  listCollection,
  listPages,
  readContentKeys,
  readItem,
  readPage,
  searchPages,
} from './read-render.js';
import {
  type AcceptedWrite,
  acceptCreateItem,
  acceptCreatePage,
  acceptDeleteItem,
  acceptUpdateItem,
  acceptUpdatePage,
  findItemForWrite,
  findPageForWrite,
} from './write-handlers.js';
import { WriteJobs } from './write-jobs.js';

/**
 * A ButterCMS-compatible server on node:http (butter-api.md §8): DRF-style routing, auth, trailing-slash
 * redirects, quota and faults in front; reads rendered from the store; writes queued as jobs.
 */

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const COMMON_HEADERS: Record<string, string> = {
  vary: 'Accept, Origin',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'access-control-allow-origin': '*',
};

interface Route {
  /** The `Allow` header, as recorded on the real API (§0.1). */
  allow: string;
  handle(ctx: RequestContext): Answer | Promise<Answer>;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RequestContext {
  method: string;
  query: URLSearchParams;
  params: string[];
  body: () => Record<string, unknown>;
}

const ok = (body: unknown): Answer => ({ status: 200, body });

/** Mask the read token in logged paths; tokens never reach a log. */
function maskPath(pathAndQuery: string): string {
  return pathAndQuery.replace(/([?&]auth_token=)[^&#]*/gi, '$1***');
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function parseJsonBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  // DRF rejects non-JSON media types with 415 (the docs say to send application/json, §0).
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType.trim())) {
    throw new ApiError(415, { detail: `Unsupported media type "${contentType}" in request.` });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw detailError(400, `JSON parse error - ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) {
    const got = Array.isArray(parsed) ? 'list' : parsed === null ? 'null' : typeof parsed;
    throw new ApiError(400, { non_field_errors: [`Invalid data. Expected a dictionary, but got ${got}.`] });
  }
  return parsed;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw detailError(413, 'Request body too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The admin routes, as `GET /__emulator/` lists them (a person finds them without reading the source). */
const ADMIN_ROUTES = [
  { route: 'GET /__emulator/', does: 'this list' },
  { route: 'GET /__emulator/log', does: 'the API requests received (method, path, status, body)' },
  { route: 'DELETE /__emulator/log', does: 'empty the request log' },
  { route: 'POST /__emulator/reset', does: 'empty the content, the log and the faults' },
  { route: 'GET /__emulator/faults', does: 'the injected faults now in force' },
  {
    route: 'POST /__emulator/faults',
    does: `change some faults, e.g. {"errorRate": 0.2}; the keys: ${Object.keys(NO_FAULTS).join(', ')}`,
  },
  {
    route: 'POST /__emulator/webhooks',
    does: 'register webhook targets (replaces the list): [{"url", "headers"?, "events"?: ["page.all", "collectionitem.all", "post.all"]}]',
  },
  {
    route: 'POST /__emulator/authors',
    does: 'add or replace blog authors: {"slug", "first_name"?, "last_name"?, "email"?, ...} or a list of them',
  },
  {
    route: 'POST /__emulator/posts',
    does: 'store a blog post as an editor would, applied at once: {"slug", "title", "author"?: slug, "tags"?, ...}',
  },
  {
    route: 'POST /__emulator/settle',
    does: 'wait until every accepted write is applied and its webhooks sent',
  },
  { route: 'GET /__emulator/state', does: 'the stored pages and items, the call count and the faults' },
];

class Emulator {
  readonly store: ContentStore;
  readonly faults: FaultState;
  readonly jobs: WriteJobs;
  private webhooks: WebhookTarget[];
  private log: RequestLogEntry[] = [];
  private callCount = 0;
  private readonly routes: Array<{ pattern: RegExp; route: Route }>;

  constructor(private readonly options: EmulatorOptions) {
    this.store = new ContentStore(options.config, options.dataFile);
    this.faults = new FaultState(options.faults);
    this.webhooks = options.webhooks ?? [];
    this.jobs = new WriteJobs({
      applyDelayMs: options.applyDelayMs ?? 0,
      failAfterAcceptRate: () => this.faults.current.failAfterAcceptRate,
      webhookFaults: () => ({
        dropRate: this.faults.current.webhookDropRate,
        duplicateRate: this.faults.current.webhookDuplicateRate,
      }),
      targets: () => this.webhooks,
    });
    this.routes = this.buildRoutes();
  }

  setWebhooks(targets: WebhookTarget[]): void {
    this.webhooks = targets.map((t) => ({ ...t }));
  }

  requestLog(): RequestLogEntry[] {
    return this.log.map((e) => ({ ...e }));
  }

  clearLog(): void {
    this.log = [];
  }

  reset(): void {
    this.jobs.cancelAll();
    this.store.clear();
    this.log = [];
    this.faults.reset();
    this.callCount = 0;
  }

  /** Apply a job now and send its webhooks: what an editor in the dashboard does. */
  applyNow(accepted: AcceptedWrite): void {
    this.jobs.fire(accepted.apply());
  }

  seedAuthor(a: SeedAuthor): void {
    this.store.blog.putAuthor({
      ...ORG_OWNER,
      first_name: '',
      last_name: '',
      email: '',
      ...Object.fromEntries(Object.entries(a).filter(([k, v]) => k in ORG_OWNER && typeof v === 'string')),
      slug: a.slug,
    });
  }

  /** A post as an editor stores it: the Write API's checks, applied at once, webhooks sent (default: published). */
  seedPost(p: SeedPost): number {
    const { locale, author, ...rest } = p;
    const query = new URLSearchParams(locale ? { locale } : {});
    const body = { status: 'published', ...rest, ...(author ? { author: { slug: author } } : {}) };
    const existing = this.store.blog.findPost(p.slug);
    this.applyNow(
      existing
        ? acceptUpdatePost(this.store, existing, body, query)
        : acceptCreatePost(this.store, body, query),
    );
    const post = this.store.blog.findPost(p.slug);
    if (!post) throw new Error(`seedPost ${p.slug}: not stored`);
    return post.id;
  }

  private buildRoutes(): Array<{ pattern: RegExp; route: Route }> {
    const s = this.store;
    const seg = '([^/]+)';
    const route = (path: string, allow: string, handle: Route['handle']) => ({
      pattern: new RegExp(`^/v2/${path}/$`),
      route: { allow, handle },
    });
    const GET = 'GET, HEAD, OPTIONS';
    return [
      route('pages', 'POST, OPTIONS', (c) => this.accept(acceptCreatePage(s, c.body(), c.query))),
      route('pages/search', GET, (c) => ok(searchPages(s, c.query))),
      route(`pages/${seg}`, GET, (c) => ok(listPages(s, c.params[0]!, c.query))),
      route(`pages/${seg}/${seg}`, 'GET, PUT, PATCH, HEAD, OPTIONS', (c) => {
        const [type, slug] = c.params as [string, string];
        if (c.method === 'GET' || c.method === 'HEAD') return ok(readPage(s, type, slug, c.query));
        return this.accept(acceptUpdatePage(s, findPageForWrite(s, type, slug), c.body(), c.query));
      }),
      route('content', 'GET, POST, HEAD, OPTIONS', (c) =>
        c.method === 'POST'
          ? this.accept(acceptCreateItem(s, c.body(), c.query))
          : ok(readContentKeys(s, c.query)),
      ),
      route(`content/${seg}`, GET, (c) => {
        const keys = c.params[0]!;
        // The JS SDK v3 puts several keys in the path (`/content/a,b/`); treated like `?keys=a,b` (unverified).
        if (!keys.includes(',')) return ok(listCollection(s, keys, c.query));
        const query = new URLSearchParams(c.query);
        query.set('keys', keys);
        return ok(readContentKeys(s, query));
      }),
      route(`content/${seg}/${seg}`, 'GET, PUT, PATCH, DELETE, HEAD, OPTIONS', (c) => {
        const [key, id] = c.params as [string, string];
        if (c.method === 'GET' || c.method === 'HEAD') {
          if (!/^\d+$/.test(id)) throw detailError(404, 'Not found.');
          return ok(readItem(s, key, Number(id), c.query));
        }
        const item = findItemForWrite(s, key, id);
        if (c.method === 'DELETE') return this.accept(acceptDeleteItem(s, item));
        return this.accept(acceptUpdateItem(s, item, c.body(), c.query, c.method === 'PUT'));
      }),
      route('posts', 'GET, POST, HEAD, OPTIONS', (c) =>
        c.method === 'POST' ? this.accept(acceptCreatePost(s, c.body(), c.query)) : ok(listPosts(s, c.query)),
      ),
      route('posts/search', GET, (c) => ok(searchPosts(s, c.query))),
      route(`posts/${seg}`, 'GET, PUT, PATCH, DELETE, HEAD, OPTIONS', (c) => {
        const slug = c.params[0]!;
        if (c.method === 'GET' || c.method === 'HEAD') return ok(readPost(s, slug, c.query));
        const post = findPostForWrite(s, slug);
        if (c.method === 'DELETE') return this.accept(acceptDeletePost(s, post));
        return this.accept(acceptUpdatePost(s, post, c.body(), c.query));
      }),
      route('authors', GET, (c) => ok(listAuthors(s, c.query))),
      route(`authors/${seg}`, GET, (c) => ok(readAuthorEntry(s, c.params[0]!, c.query))),
      route('(categories|tags)', GET, (c) => ok(listTerms(s, c.params[0] as TermKind, c.query))),
      route(`(categories|tags)/${seg}`, GET, (c) =>
        ok(readTerm(s, c.params[0] as TermKind, c.params[1]!, c.query)),
      ),
      route(`feeds/${seg}`, GET, () =>
        ok({ data: '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"/>' }),
      ),
    ];
  }

  private accept(accepted: AcceptedWrite): Answer {
    this.jobs.accept(accepted.apply);
    return { status: accepted.status, body: accepted.body };
  }

  /** Token from `?auth_token=` or `Authorization: Token x`; writes take the write token from the header only (§1). */
  private authenticate(req: IncomingMessage, query: URLSearchParams, isWrite: boolean): void {
    const header = /^Token\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = header ?? (isWrite ? undefined : (query.get('auth_token') ?? undefined));
    const challenge = { 'www-authenticate': 'Token' };
    if (!token)
      throw new ApiError(401, { detail: 'Authentication credentials were not provided.' }, challenge);
    if (token !== this.options.readToken && token !== this.options.writeToken) {
      throw new ApiError(401, { detail: 'Invalid token.' }, challenge);
    }
    // A read token on a write: 401 with the credentials text, as two docs pages say (§1.2).
    if (isWrite && token !== this.options.writeToken) {
      throw new ApiError(401, { detail: 'Authentication credentials were not provided.' }, challenge);
    }
  }

  /** Which token a request presented, for the request log (tests check the read token never writes). */
  private presentedToken(req: IncomingMessage, query: URLSearchParams): RequestLogEntry['auth'] {
    const token =
      /^Token\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ??
      query.get('auth_token') ??
      undefined;
    if (token === undefined) return 'none';
    if (token === this.options.writeToken) return 'write';
    if (token === this.options.readToken) return 'read';
    return 'invalid';
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${HOST}`);
    } catch {
      this.send(res, method, { status: 400, body: { detail: 'Bad request.' } });
      return;
    }
    if (url.pathname === '/__emulator' || url.pathname.startsWith('/__emulator/')) {
      await this.handleAdmin(req, res, method, url);
      return;
    }
    const at = Date.now();
    let bytesIn = 0;
    let bodyText: string | undefined;
    let answer: Answer;
    try {
      const raw = await readBody(req);
      bytesIn = raw.length;
      // Write bodies are kept (capped) so tests can check the exact bytes a client sent.
      if (raw.length > 0 && raw.length <= 64 * 1024) bodyText = raw.toString('utf8');
      const delay = this.faults.delayMs();
      if (delay > 0) await sleep(delay);
      const fault = this.faults.decide();
      if (fault.kind === 'reset') {
        this.record({
          method,
          path: maskPath(url.pathname + url.search),
          status: 0,
          bytesIn,
          bytesOut: 0,
          at,
          auth: this.presentedToken(req, url.searchParams),
        });
        req.socket.destroy();
        return;
      }
      answer = await this.route(req, method, url, raw, fault.kind === 'status' ? fault.status : undefined);
    } catch (error) {
      answer = this.errorAnswer(error);
    }
    const bytesOut = this.send(res, method, answer);
    if (method === 'POST' && answer.status === 202 && this.faults.current.burst429AfterPost > 0) {
      this.faults.set({ burst429: this.faults.current.burst429 + this.faults.current.burst429AfterPost });
    }
    this.record({
      method,
      path: maskPath(url.pathname + url.search),
      status: answer.status,
      bytesIn,
      bytesOut,
      at,
      ...(bodyText !== undefined ? { body: bodyText } : {}),
      auth: this.presentedToken(req, url.searchParams),
    });
  }

  private async route(
    req: IncomingMessage,
    method: string,
    url: URL,
    raw: Buffer,
    faultStatus: number | undefined,
  ): Promise<Answer> {
    this.callCount++;
    const tooMany = (): Answer => ({
      status: 429,
      body: { detail: 'API Calls limit reached.' },
      headers: { 'retry-after': String(this.faults.current.retryAfterSeconds) },
    });
    if (this.options.quota !== undefined && this.callCount > this.options.quota) return tooMany();
    if (faultStatus === 429) return tooMany();
    if (faultStatus !== undefined) return { status: faultStatus, body: { detail: 'Server error.' } };

    let path = url.pathname;
    if (!path.endsWith('/')) {
      // §0.2: pages/content routes redirect (a write then gets lost by most clients); the rest answer directly.
      if (/^\/v2\/(pages|content)(\/|$)/.test(path)) {
        if (!READ_METHODS.has(method) && this.options.slashlessWrites === '404') {
          return { status: 404, body: { detail: 'Not found.' } };
        }
        return { status: 301, headers: { location: `${path}/${url.search}` } };
      }
      path += '/';
    }
    const found = this.matchRoute(path);
    if (!found) return { status: 404, body: { detail: 'Not found.' } };
    const { route, params } = found;
    const withAllow = (a: Answer): Answer => ({ ...a, headers: { allow: route.allow, ...a.headers } });
    try {
      this.authenticate(req, url.searchParams, !READ_METHODS.has(method));
      if (!route.allow.split(', ').includes(method)) {
        return withAllow({ status: 405, body: { detail: `Method "${method}" not allowed.` } });
      }
      if (method === 'OPTIONS') {
        return withAllow(
          ok({
            name: 'ButterCMS emulator',
            description: '',
            renders: ['application/json'],
            parses: ['application/json'],
          }),
        );
      }
      const body = () => parseJsonBody(raw, req.headers['content-type']);
      return withAllow(await route.handle({ method, query: url.searchParams, params, body }));
    } catch (error) {
      return withAllow(this.errorAnswer(error));
    }
  }

  private matchRoute(path: string): { route: Route; params: string[] } | undefined {
    for (const { pattern, route } of this.routes) {
      const match = pattern.exec(path);
      if (match) {
        try {
          return { route, params: match.slice(1).map((p) => decodeURIComponent(p ?? '')) };
        } catch {
          return undefined;
        }
      }
    }
    return undefined;
  }

  private errorAnswer(error: unknown): Answer {
    if (error instanceof ApiError) return { status: error.status, body: error.body, headers: error.headers };
    process.emitWarning(`emulator: unexpected error: ${(error as Error)?.stack ?? String(error)}`);
    return { status: 500, body: { detail: 'Server error.' } };
  }

  private send(res: ServerResponse, method: string, answer: Answer): number {
    const text = answer.status === 204 || answer.body === undefined ? '' : JSON.stringify(answer.body);
    const headers: Record<string, string> = { ...COMMON_HEADERS, ...answer.headers };
    if (answer.status !== 204) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(text));
    }
    res.writeHead(answer.status, headers);
    res.end(method === 'HEAD' ? undefined : text);
    return method === 'HEAD' ? 0 : Buffer.byteLength(text);
  }

  private record(entry: RequestLogEntry): void {
    this.log.push(entry);
    if (this.options.logRequests) {
      process.stderr.write(`emulator ${entry.method} ${entry.path} ${entry.status} ${entry.bytesOut}B\n`);
    }
  }

  /** `/__emulator/*`: test and demo controls; loopback only, no auth, not counted, not logged. */
  private async handleAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
  ): Promise<void> {
    let answer: Answer;
    try {
      if (!isLoopback(req.socket.remoteAddress)) throw detailError(403, 'Loopback only.');
      const raw = await readBody(req);
      const json = (): unknown => {
        try {
          return JSON.parse(raw.toString('utf8') || 'null');
        } catch {
          throw detailError(400, 'Malformed JSON.');
        }
      };
      const key = `${method} ${url.pathname.replace(/\/$/, '')}`;
      switch (key) {
        case 'GET /__emulator':
          answer = ok({ routes: ADMIN_ROUTES });
          break;
        case 'GET /__emulator/log':
          answer = ok(this.requestLog());
          break;
        case 'DELETE /__emulator/log':
          this.clearLog();
          answer = { status: 204 };
          break;
        case 'POST /__emulator/reset':
          this.reset();
          answer = ok({ reset: true });
          break;
        case 'GET /__emulator/faults':
          answer = ok(this.faults.current);
          break;
        case 'POST /__emulator/faults': {
          const patch = json();
          if (!isPlainObject(patch)) throw detailError(400, 'Expected a JSON object of faults.');
          try {
            this.faults.set(patch);
          } catch (error) {
            throw detailError(400, (error as Error).message);
          }
          answer = ok(this.faults.current);
          break;
        }
        case 'POST /__emulator/webhooks': {
          const targets = json();
          if (
            !Array.isArray(targets) ||
            !targets.every((t) => isPlainObject(t) && typeof t.url === 'string')
          ) {
            throw detailError(400, 'Expected a JSON array of {url, headers?, events?}.');
          }
          this.setWebhooks(targets as unknown as WebhookTarget[]);
          answer = ok({ webhooks: targets.length });
          break;
        }
        case 'POST /__emulator/authors': {
          const authors = json();
          const list = Array.isArray(authors) ? authors : [authors];
          if (!list.every((a) => isPlainObject(a) && typeof a.slug === 'string' && a.slug !== '')) {
            throw detailError(400, 'Expected an author {"slug", ...} or a list of them.');
          }
          for (const author of list) this.seedAuthor(author as unknown as SeedAuthor);
          answer = ok({ authors: list.length });
          break;
        }
        case 'POST /__emulator/posts': {
          const post = json();
          if (!isPlainObject(post)) throw detailError(400, 'Expected a post {"slug", "title", ...}.');
          answer = ok({ id: this.seedPost(post as unknown as SeedPost) });
          break;
        }
        case 'POST /__emulator/settle':
          await this.jobs.settle();
          answer = ok({ settled: true });
          break;
        case 'GET /__emulator/state':
          answer = ok({ calls: this.callCount, faults: this.faults.current, ...this.store.snapshot() });
          break;
        default:
          answer = { status: 404, body: { detail: 'Not found.' } };
      }
    } catch (error) {
      answer = this.errorAnswer(error);
    }
    this.send(res, method, answer);
  }
}

function throwSeedError(what: string, error: unknown): never {
  if (error instanceof ApiError) throw new Error(`${what}: ${error.status} ${JSON.stringify(error.body)}`);
  throw error;
}

/** Start the emulator on 127.0.0.1; the content model is the daemon's own config (butter-api.md §7). */
export async function startEmulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  const emulator = new Emulator(options);
  await emulator.store.load();
  const server = createServer((req, res) => {
    emulator.handle(req, res).catch((error: unknown) => {
      process.emitWarning(`emulator: request failed: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"detail":"Server error."}');
    });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${HOST}:${port}`;
  const store = emulator.store;
  const query = (locale?: string) => new URLSearchParams(locale ? { locale } : {});

  return {
    url: `${origin}/v2`,
    origin,
    port,
    setFaults: (faults) => emulator.faults.set(faults),
    setWebhooks: (targets) => emulator.setWebhooks(targets),
    setModel: (config) => emulator.store.setModel(config),
    requestLog: () => emulator.requestLog(),
    clearLog: () => emulator.clearLog(),
    reset: () => emulator.reset(),
    settle: () => emulator.jobs.settle(),
    seedPage(p) {
      try {
        const specs = store.pageSchema(p.pageType, p.slug) ?? {};
        const existing = store.findPages(p.pageType, p.slug).find((page) => page.pageType === p.pageType);
        const status = p.status ?? 'published';
        const accepted = existing
          ? acceptUpdatePage(store, existing, { status, fields: p.fields }, query(p.locale), 'Dashboard')
          : acceptCreatePage(
              store,
              {
                title: p.title,
                slug: p.slug,
                page_type: p.pageType,
                status,
                fields: { ...blankFields(specs), ...p.fields },
              },
              query(p.locale),
              'Dashboard',
              !p.anySlug,
            );
        emulator.applyNow(accepted);
      } catch (error) {
        throwSeedError(`seedPage ${p.pageType}/${p.slug}`, error);
      }
    },
    seedItem(i) {
      try {
        const accepted = acceptCreateItem(
          store,
          { key: i.collection, status: i.status ?? 'published', fields: [i.fields] },
          query(),
          'Dashboard',
        );
        emulator.applyNow(accepted);
        const item = store.liveItems(i.collection).at(-1);
        if (!item) throw new Error(`seedItem ${i.collection}: not stored`);
        return item.id;
      } catch (error) {
        throwSeedError(`seedItem ${i.collection}`, error);
      }
    },
    editItem(collection, id, fields, locale) {
      try {
        const item = findItemForWrite(store, collection, String(id));
        emulator.applyNow(acceptUpdateItem(store, item, { fields }, query(locale), false, 'Dashboard'));
      } catch (error) {
        throwSeedError(`editItem ${collection}/${id}`, error);
      }
    },
    editPage(pageType, slug, fields, opts = {}) {
      try {
        const page = findPageForWrite(store, pageType, slug);
        const versions = page.locales[opts.locale ?? store.defaultLocale];
        // An editor keeps the page's state unless told: a live page stays live, a draft stays a draft.
        const status = opts.status ?? (versions?.published && !versions.draft ? 'published' : 'draft');
        emulator.applyNow(acceptUpdatePage(store, page, { status, fields }, query(opts.locale), 'Dashboard'));
      } catch (error) {
        throwSeedError(`editPage ${pageType}/${slug}`, error);
      }
    },
    deleteItem(collection, id) {
      try {
        emulator.applyNow(
          acceptDeleteItem(store, findItemForWrite(store, collection, String(id)), 'Dashboard'),
        );
      } catch (error) {
        throwSeedError(`deleteItem ${collection}/${id}`, error);
      }
    },
    seedAuthor(a) {
      emulator.seedAuthor(a);
    },
    seedPost(p) {
      try {
        return emulator.seedPost(p);
      } catch (error) {
        throwSeedError(`seedPost ${p.slug}`, error);
      }
    },
    editPost(slug, changes, locale) {
      try {
        const post = findPostForWrite(store, slug);
        const current = post.locales[locale ?? store.defaultLocale];
        const { author, ...rest } = changes;
        const body = {
          status: current?.status ?? 'draft',
          ...rest,
          ...(author ? { author: { slug: author } } : {}),
        };
        emulator.applyNow(acceptUpdatePost(store, post, body, query(locale)));
      } catch (error) {
        throwSeedError(`editPost ${slug}`, error);
      }
    },
    deletePost(slug) {
      try {
        emulator.applyNow(acceptDeletePost(store, findPostForWrite(store, slug)));
      } catch (error) {
        throwSeedError(`deletePost ${slug}`, error);
      }
    },
    async close() {
      emulator.jobs.cancelAll();
      await emulator.jobs.settle();
      await store.flush();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
