import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../api-error.js';
import { isPlainObject } from '../field-values.js';
import { RateWindow } from './rate-window.js';
import {
  badRequest,
  internalError,
  notFound,
  tooManyRequests,
  validationError,
  webflowError,
} from './webflow-errors.js';
import { WebflowFaultState } from './webflow-faults.js';
import { buildSiteSchema, derivedHexId, fixtureFromConfig, type SiteSchema } from './webflow-schema.js';
import {
  type CreateEntry,
  type ItemEvent,
  type LocaleTarget,
  type UpdateEntry,
  WebflowStore,
} from './webflow-store.js';
import {
  ALL_SCOPES,
  type WebflowEmulatorHandle,
  type WebflowEmulatorOptions,
  type WebflowRequestLogEntry,
  type WebflowScope,
  type WebflowSeedItem,
  type WebflowWebhookTarget,
} from './webflow-types.js';
import { type RegisteredWebhook, WebhookSender } from './webflow-webhooks.js';

/**
 * A Webflow Data API v2 server for tests and the demo (webflow-api.md §12 "Emulator must"): the `/v2` routes of
 * §2.1 with their codes, Bearer auth with scopes, per-token rate limits, staged and live item copies, signed
 * webhooks, the ButterCMS emulator's fault injection and admin routes, and a request log. It keeps its own
 * knowledge of the wire and imports nothing of `cms/` or `sync/` (DESIGN §4).
 */

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Ctx {
  method: string;
  params: string[];
  query: URLSearchParams;
  body: () => Record<string, unknown>;
}

interface Handled {
  answer: Answer;
  events?: ItemEvent[];
}

interface Route {
  method: string;
  pattern: RegExp;
  scope: WebflowScope;
  handle(ctx: Ctx): Handled;
}

const ADMIN_ROUTES = [
  { route: 'GET /__emulator/', does: 'this list' },
  {
    route: 'GET /__emulator/log',
    does: 'the API requests received (method, path, status, body, token label)',
  },
  { route: 'DELETE /__emulator/log', does: 'empty the request log (and the webhook log)' },
  { route: 'GET /__emulator/webhook-log', does: 'the webhook delivery attempts' },
  { route: 'POST /__emulator/reset', does: 'empty the content, the logs, the faults and the rate windows' },
  { route: 'GET /__emulator/faults', does: 'the injected faults now in force' },
  { route: 'POST /__emulator/faults', does: 'change some faults, e.g. {"errorRate": 0.2, "failNthCall": 3}' },
  {
    route: 'POST /__emulator/webhooks',
    does: 'set webhook targets (replaces the list): [{"url", "secretKey"?, "triggerTypes"?}]',
  },
  { route: 'POST /__emulator/settle', does: 'wait until every webhook delivery (retries included) is done' },
  { route: 'POST /__emulator/schema-changed', does: 'make live PATCHes 409 until the next site publish' },
  {
    route: 'POST /__emulator/items',
    does: 'an editor creates an item: {"collection", "fieldData", "locale"?, "live"?}',
  },
  { route: 'GET /__emulator/state', does: 'the schema ids, every item copy, the call count and the faults' },
];

function parseBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  if (raw.length === 0) return {};
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType.trim())) throw badRequest();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest();
  }
  if (!isPlainObject(parsed)) throw badRequest();
  return parsed;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw webflowError(413, 'payload_too_large', 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function queryFlag(query: URLSearchParams, name: string, fallback: boolean): boolean {
  const v = query.get(name);
  return v === null ? fallback : v !== 'false';
}

function asArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) throw validationError([{ param, description: 'Expected an array' }]);
  return value;
}

function idsOf(value: unknown, param: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = asArray(value, param);
  if (!list.every((v) => typeof v === 'string'))
    throw validationError([{ param, description: 'Expected ids' }]);
  return list as string[];
}

function targetsOf(body: Record<string, unknown>): LocaleTarget[] {
  return asArray(body.items, 'items').map((entry, i) => {
    if (!isPlainObject(entry) || typeof entry.id !== 'string') {
      throw validationError([{ param: `items[${i}].id`, description: 'Expected an item id' }]);
    }
    return { id: entry.id, cmsLocaleIds: idsOf(entry.cmsLocaleIds, `items[${i}].cmsLocaleIds`) };
  });
}

function updatesOf(body: Record<string, unknown>): UpdateEntry[] {
  return asArray(body.items, 'items').map((entry, i) => {
    if (!isPlainObject(entry) || typeof entry.id !== 'string') {
      throw validationError([{ param: `items[${i}].id`, description: 'Expected an item id' }]);
    }
    return entry as unknown as UpdateEntry;
  });
}

class WebflowEmulator {
  readonly schema: SiteSchema;
  readonly store: WebflowStore;
  readonly faults: WebflowFaultState;
  readonly webhooks: WebhookSender;
  readonly rate: RateWindow;
  private targets: WebflowWebhookTarget[];
  private registered: RegisteredWebhook[] = [];
  private log: WebflowRequestLogEntry[] = [];
  private callCount = 0;
  private lastSitePublish: number | undefined;
  private webhookCounter = 0;
  private readonly now: () => number;
  private readonly routes: Route[];

  constructor(private readonly options: WebflowEmulatorOptions) {
    this.now = options.now ?? Date.now;
    const fixture = options.schema ?? (options.config ? fixtureFromConfig(options.config) : undefined);
    if (!fixture) throw new Error('Webflow emulator: give a config or a schema fixture');
    this.schema = buildSiteSchema(fixture, new Date(this.now()).toISOString());
    this.store = new WebflowStore(this.schema, {
      now: this.now,
      seed: options.seed ?? 'butter-sync',
      clearedFields: options.clearedFields ?? 'omit',
      liveWriteAlsoStages: options.liveWriteAlsoStages ?? false,
      keepDeletedUntilSitePublish: options.keepDeletedUntilSitePublish ?? false,
    });
    this.faults = new WebflowFaultState(options.faults);
    this.targets = options.webhooks ?? [];
    this.rate = new RateWindow(() => options.rateLimitPerMinute ?? 60, this.now);
    this.webhooks = new WebhookSender({
      now: this.now,
      retryDelayMs: () => options.webhookRetryDelayMs ?? 600_000,
      faults: () => ({
        dropRate: this.faults.current.webhookDropRate,
        duplicateRate: this.faults.current.webhookDuplicateRate,
        staleRate: this.faults.current.webhookStaleRate,
      }),
      targets: () => [...this.targets, ...this.registered],
      siteId: this.schema.siteId,
      workspaceId: this.schema.workspaceId,
    });
    this.routes = this.buildRoutes();
  }

  setWebhooks(targets: WebflowWebhookTarget[]): void {
    this.targets = targets.map((t) => ({ ...t }));
  }

  requestLog(): WebflowRequestLogEntry[] {
    return this.log.map((e) => ({ ...e }));
  }

  clearLog(): void {
    this.log = [];
    this.webhooks.clearLog();
  }

  reset(): void {
    this.webhooks.cancelRetries();
    this.store.clear();
    this.clearLog();
    this.faults.reset();
    this.rate.clear();
    this.registered = [];
    this.callCount = 0;
    this.lastSitePublish = undefined;
  }

  /** An editor's change (dashboard): fires webhooks like any change. */
  fire(events: ItemEvent[]): void {
    this.webhooks.fire(events);
  }

  state(): Record<string, unknown> {
    return {
      calls: this.callCount,
      faults: this.faults.current,
      siteId: this.schema.siteId,
      locales: this.schema.locales.map((l) => ({ tag: l.tag, cmsLocaleId: l.cmsLocaleId })),
      collections: this.schema.collections.map((c) => ({
        slug: c.slug,
        id: c.id,
        fields: Object.fromEntries(c.fields.map((f) => [f.slug, f.id])),
      })),
      items: this.store.dump(),
    };
  }

  private collectionSummary(c: SiteSchema['collections'][number]) {
    return {
      id: c.id,
      displayName: c.displayName,
      singularName: c.singularName,
      slug: c.slug,
      createdOn: c.createdOn,
      lastUpdated: c.lastUpdated,
    };
  }

  private site() {
    const [primary, ...secondary] = this.schema.locales;
    return {
      id: this.schema.siteId,
      workspaceId: this.schema.workspaceId,
      createdOn: this.schema.collections[0]?.createdOn ?? new Date(this.now()).toISOString(),
      displayName: this.schema.displayName,
      shortName: 'butter-sync-emulator',
      lastPublished: this.lastSitePublish === undefined ? null : new Date(this.lastSitePublish).toISOString(),
      lastUpdated: new Date(this.now()).toISOString(),
      previewUrl: null,
      timeZone: 'UTC',
      parentFolderId: null,
      customDomains: [],
      locales: { primary, secondary },
    };
  }

  private checkSite(siteId: string): void {
    if (siteId !== this.schema.siteId) throw notFound();
  }

  private buildRoutes(): Route[] {
    const s = this.store;
    const id = '([0-9A-Za-z]+)';
    const r = (method: string, path: string, scope: WebflowScope, handle: Route['handle']): Route => ({
      method,
      pattern: new RegExp(`^/v2/${path}$`),
      scope,
      handle,
    });
    const ok = (body: unknown, status = 200): Handled => ({ answer: { status, body } });
    const skip = (c: Ctx) => queryFlag(c.query, 'skipInvalidFiles', true);
    const list = (c: Ctx, live: boolean) => ok(this.listItems(c.params[0]!, c.query, live));
    const createForm = (c: Ctx, live: boolean): Handled => {
      const body = c.body();
      // §2.5: `{items:[…]}` answers `{items}` (O7); a single body answers the item.
      const many = Array.isArray(body.items);
      const entries = many ? (body.items as CreateEntry[]) : [body as CreateEntry];
      if (!entries.every(isPlainObject))
        throw validationError([{ param: 'items', description: 'Expected objects' }]);
      const created = s.create(c.params[0]!, entries, {
        live,
        locales: s.localeKeys(undefined),
        skipInvalidFiles: skip(c),
      });
      return {
        answer: { status: 202, body: many ? { items: created.items } : created.items[0] },
        events: created.events,
      };
    };
    const patchOne = (c: Ctx, live: boolean): Handled => {
      const body = c.body();
      const updated = s.update(c.params[0]!, [{ ...(body as object), id: c.params[1]! } as UpdateEntry], {
        live,
        skipInvalidFiles: skip(c),
      });
      return { answer: { status: 200, body: updated.items[0] }, events: updated.events };
    };
    const patchMany = (c: Ctx, live: boolean): Handled => {
      const updated = s.update(c.params[0]!, updatesOf(c.body()), { live, skipInvalidFiles: skip(c) });
      const body = live
        ? { items: updated.items }
        : { items: updated.items, pagination: { limit: 100, offset: 0, total: updated.items.length } };
      return { answer: { status: 200, body }, events: updated.events };
    };
    const oneTarget = (c: Ctx): LocaleTarget[] => {
      const locale = c.query.get('cmsLocaleId');
      return [{ id: c.params[1]!, cmsLocaleIds: locale ? [locale] : undefined }];
    };
    const noContent = (events: ItemEvent[]): Handled => ({ answer: { status: 204 }, events });
    const C = `collections/${id}`;
    return [
      r('GET', 'sites', 'sites:read', () => ok({ sites: [this.site()] })),
      r('GET', `sites/${id}`, 'sites:read', (c) => {
        this.checkSite(c.params[0]!);
        return ok(this.site());
      }),
      r('GET', `sites/${id}/collections`, 'cms:read', (c) => {
        this.checkSite(c.params[0]!);
        return ok({ collections: this.schema.collections.map((col) => this.collectionSummary(col)) });
      }),
      r('POST', `sites/${id}/publish`, 'sites:write', (c) => {
        this.checkSite(c.params[0]!);
        // §2.8, D16: one successful site publish per minute; a second gets 429.
        const interval = this.options.sitePublishIntervalMs ?? 60_000;
        const now = this.now();
        if (this.lastSitePublish !== undefined && now - this.lastSitePublish < interval) {
          throw tooManyRequests(Math.max(1, Math.ceil((this.lastSitePublish + interval - now) / 1000)));
        }
        this.lastSitePublish = now;
        const events = s.publishSite();
        const body = c.body();
        return {
          answer: {
            status: 202,
            body: { customDomains: [], publishToWebflowSubdomain: body.publishToWebflowSubdomain === true },
          },
          events,
        };
      }),
      r('GET', `sites/${id}/webhooks`, 'sites:read', (c) => {
        this.checkSite(c.params[0]!);
        const webhooks = this.registered.map((w) => this.renderWebhook(w, false));
        return ok({ webhooks, pagination: { limit: 100, offset: 0, total: webhooks.length } });
      }),
      r('POST', `sites/${id}/webhooks`, 'sites:write', (c) => {
        this.checkSite(c.params[0]!);
        const body = c.body();
        if (typeof body.triggerType !== 'string' || typeof body.url !== 'string') {
          throw validationError([{ param: 'triggerType', description: 'triggerType and url are required' }]);
        }
        const hook: RegisteredWebhook = {
          id: derivedHexId(`webhook:${this.schema.siteId}:${++this.webhookCounter}`, 24),
          url: body.url,
          triggerTypes: [body.triggerType],
          // §8: site-token webhooks made after 2025-04-14 carry their own signing key.
          secretKey: derivedHexId(`webhook-secret:${this.options.seed ?? ''}:${this.webhookCounter}`, 32),
          siteId: this.schema.siteId,
          workspaceId: this.schema.workspaceId,
          createdOn: new Date(this.now()).toISOString(),
          lastTriggered: null,
          filter: body.filter ?? null,
        };
        this.registered.push(hook);
        return ok(this.renderWebhook(hook, true), 201);
      }),
      r('GET', `webhooks/${id}`, 'sites:read', (c) => {
        const hook = this.registered.find((w) => w.id === c.params[0]);
        if (!hook) throw notFound();
        return ok(this.renderWebhook(hook, false));
      }),
      r('DELETE', `webhooks/${id}`, 'sites:write', (c) => {
        const before = this.registered.length;
        this.registered = this.registered.filter((w) => w.id !== c.params[0]);
        if (this.registered.length === before) throw notFound();
        return { answer: { status: 204 } };
      }),
      r('GET', C, 'cms:read', (c) => {
        const col = s.collection(c.params[0]!);
        if (col.id !== c.params[0]) throw notFound();
        return ok({ ...this.collectionSummary(col), fields: col.fields });
      }),
      // Fixed words before `{item_id}`.
      r('GET', `${C}/items/live`, 'cms:read', (c) => list(c, true)),
      r('POST', `${C}/items/live`, 'cms:write', (c) => createForm(c, true)),
      r('PATCH', `${C}/items/live`, 'cms:write', (c) => patchMany(c, true)),
      r('DELETE', `${C}/items/live`, 'cms:write', (c) =>
        noContent(s.unpublish(c.params[0]!, targetsOf(c.body()))),
      ),
      r('POST', `${C}/items/bulk`, 'cms:write', (c) => {
        const body = c.body();
        const data = Array.isArray(body.fieldData) ? body.fieldData : [body.fieldData];
        const entries = data.map((fieldData) => ({
          isArchived: body.isArchived,
          isDraft: body.isDraft,
          fieldData,
        }));
        const locales = s.localeKeys(idsOf(body.cmsLocaleIds, 'cmsLocaleIds'), 'cmsLocaleIds');
        // D8: `{items}`, one entry per locale sharing one id (open question 1: the emulator follows D8).
        const created = s.create(c.params[0]!, entries, { live: false, locales, skipInvalidFiles: skip(c) });
        return { answer: { status: 202, body: { items: created.items } }, events: created.events };
      }),
      r('POST', `${C}/items/publish`, 'cms:write', (c) => {
        const body = c.body();
        const itemIds = idsOf(body.itemIds, 'itemIds');
        const targets: LocaleTarget[] = itemIds ? itemIds.map((i) => ({ id: i })) : targetsOf(body);
        const result = s.publish(c.params[0]!, targets);
        return {
          answer: { status: 202, body: { publishedItemIds: result.publishedItemIds, errors: result.errors } },
          events: result.events,
        };
      }),
      r('GET', `${C}/items`, 'cms:read', (c) => list(c, false)),
      r('POST', `${C}/items`, 'cms:write', (c) => createForm(c, false)),
      r('PATCH', `${C}/items`, 'cms:write', (c) => patchMany(c, false)),
      r('DELETE', `${C}/items`, 'cms:write', (c) => noContent(s.remove(c.params[0]!, targetsOf(c.body())))),
      r('GET', `${C}/items/${id}/live`, 'cms:read', (c) =>
        ok(s.getItem(c.params[0]!, c.params[1]!, true, c.query.get('cmsLocaleId'))),
      ),
      r('PATCH', `${C}/items/${id}/live`, 'cms:write', (c) => patchOne(c, true)),
      r('DELETE', `${C}/items/${id}/live`, 'cms:write', (c) =>
        noContent(s.unpublish(c.params[0]!, oneTarget(c))),
      ),
      r('GET', `${C}/items/${id}`, 'cms:read', (c) =>
        ok(s.getItem(c.params[0]!, c.params[1]!, false, c.query.get('cmsLocaleId'))),
      ),
      r('PATCH', `${C}/items/${id}`, 'cms:write', (c) => patchOne(c, false)),
      r('DELETE', `${C}/items/${id}`, 'cms:write', (c) => noContent(s.remove(c.params[0]!, oneTarget(c)))),
    ];
  }

  private renderWebhook(w: RegisteredWebhook, withSecret: boolean) {
    return {
      id: w.id,
      triggerType: w.triggerTypes?.[0],
      url: w.url,
      workspaceId: w.workspaceId,
      siteId: w.siteId,
      filter: w.filter,
      lastTriggered: w.lastTriggered,
      createdOn: w.createdOn,
      ...(withSecret ? { secretKey: w.secretKey } : {}),
    };
  }

  /** §2.4, "Emulator must" 12: filters, sort, offset/limit and `pagination{limit,offset,total}`. */
  private listItems(collectionId: string, query: URLSearchParams, live: boolean) {
    const intParam = (name: string, fallback: number): number => {
      const raw = query.get(name);
      if (raw === null) return fallback;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0)
        throw validationError([{ param: name, description: 'Expected an integer ≥ 0' }]);
      return n;
    };
    const offset = intParam('offset', 0);
    let limit = intParam('limit', 100);
    if (limit > 100) {
      if (this.options.strictLimit)
        throw validationError([{ param: 'limit', description: 'Maximum is 100' }]);
      limit = 100;
    }
    if (limit === 0) limit = 100;
    const localeParam = query.get('cmsLocaleId');
    const locales = this.store.localeKeys(
      localeParam ? localeParam.split(',').map((l) => l.trim()) : undefined,
    );
    let copies = this.store.listCopies(collectionId, live, locales);
    const name = query.get('name');
    const slug = query.get('slug');
    if (name !== null) copies = copies.filter((c) => c.copy.fieldData.name === name);
    if (slug !== null) copies = copies.filter((c) => c.copy.fieldData.slug === slug);
    const gte = query.get('lastPublished[gte]');
    const lte = query.get('lastPublished[lte]');
    const instant = (v: string, param: string) => {
      const t = Date.parse(v);
      if (Number.isNaN(t)) throw validationError([{ param, description: 'Expected an ISO-8601 date' }]);
      return t;
    };
    if (gte !== null) {
      const t = instant(gte, 'lastPublished[gte]');
      copies = copies.filter((c) => c.copy.lastPublished !== null && Date.parse(c.copy.lastPublished) >= t);
    }
    if (lte !== null) {
      const t = instant(lte, 'lastPublished[lte]');
      copies = copies.filter((c) => c.copy.lastPublished !== null && Date.parse(c.copy.lastPublished) <= t);
    }
    const sortBy = query.get('sortBy');
    const order = query.get('sortOrder') === 'desc' ? -1 : 1;
    if (sortBy !== null && !['lastPublished', 'name', 'slug'].includes(sortBy)) {
      throw validationError([{ param: 'sortBy', description: 'One of lastPublished, name, slug' }]);
    }
    const key = (c: (typeof copies)[number]): string =>
      sortBy === 'name' || sortBy === 'slug'
        ? String(c.copy.fieldData[sortBy] ?? '')
        : sortBy === 'lastPublished'
          ? (c.copy.lastPublished ?? '')
          : c.copy.createdOn;
    // The default order is unverified (§2.4): createdOn ascending, creation order as the tiebreak.
    copies.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      if (ka !== kb) return (ka < kb ? -1 : 1) * order;
      return (a.seq - b.seq) * (sortBy === null ? 1 : order);
    });
    return {
      items: copies.slice(offset, offset + limit).map((c) => this.store.render(c.id, c.copy)),
      pagination: { limit, offset, total: copies.length },
    };
  }

  private authenticate(req: IncomingMessage): { label: string; scopes: readonly WebflowScope[] } | undefined {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return undefined;
    const found = this.options.tokens.find((t) => t.token === token);
    if (!found) return undefined;
    const index = this.options.tokens.indexOf(found);
    return { label: found.label ?? `token-${index + 1}`, scopes: found.scopes ?? ALL_SCOPES };
  }

  private labelOf(req: IncomingMessage): string {
    if (!req.headers.authorization) return 'none';
    return this.authenticate(req)?.label ?? 'invalid';
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://${HOST}`);
    } catch {
      this.send(res, method, this.errorAnswer(badRequest()));
      return;
    }
    if (url.pathname === '/__emulator' || url.pathname.startsWith('/__emulator/')) {
      await this.handleAdmin(req, res, method, url);
      return;
    }
    const at = this.now();
    let bytesIn = 0;
    let bodyText: string | undefined;
    let answer: Answer;
    let events: ItemEvent[] = [];
    try {
      const raw = await readBody(req);
      bytesIn = raw.length;
      if (raw.length > 0 && raw.length <= 64 * 1024) bodyText = raw.toString('utf8');
      const result = await this.route(req, res, method, url, raw);
      if (result === 'reset') {
        this.record({
          method,
          path: url.pathname + url.search,
          status: 0,
          bytesIn,
          bytesOut: 0,
          at,
          auth: this.labelOf(req),
        });
        return;
      }
      answer = result.answer;
      events = result.events ?? [];
    } catch (error) {
      answer = this.errorAnswer(error);
    }
    const bytesOut = this.send(res, method, answer);
    this.webhooks.fire(events);
    this.record({
      method,
      path: url.pathname + url.search,
      status: answer.status,
      bytesIn,
      bytesOut,
      at,
      ...(bodyText !== undefined ? { body: bodyText } : {}),
      auth: this.labelOf(req),
    });
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    raw: Buffer,
  ): Promise<Handled | 'reset'> {
    const found = this.match(method, url.pathname);
    // "Emulator must" 2: Bearer only, 401 not_authorized in the §6 body shape.
    const auth = this.authenticate(req);
    if (!auth) throw webflowError(401, 'not_authorized', 'Request not authorized');
    // §5: counted per token; a refused request is not counted, every answer carries the budget.
    const budget = this.rate.take(auth.label);
    const rateHeaders = {
      'x-ratelimit-limit': String(budget.limit),
      'x-ratelimit-remaining': String(budget.remaining),
    };
    const withRate = (h: Handled): Handled => ({
      ...h,
      answer: { ...h.answer, headers: { ...rateHeaders, ...h.answer.headers } },
    });
    try {
      if (!budget.allowed) throw tooManyRequests(budget.retryAfterSeconds);
      this.callCount++;
      if (this.options.quota !== undefined && this.callCount > this.options.quota) {
        throw tooManyRequests(this.faults.current.retryAfterSeconds);
      }
      const delay = this.faults.delayMs();
      if (delay > 0) await sleep(delay);
      const fault = this.faults.decide();
      if (fault.kind === 'reset') {
        res.socket?.destroy();
        return 'reset';
      }
      if (fault.kind === 'status') {
        if (fault.status === 429) throw tooManyRequests(this.faults.current.retryAfterSeconds);
        throw webflowError(fault.status, 'internal_error', 'An Internal Error occurred');
      }
      if (this.faults.current.failNthCall > 0 && this.callCount === this.faults.current.failNthCall) {
        throw internalError();
      }
      if (!found) throw notFound();
      const { route, params } = found;
      if (!auth.scopes.includes(route.scope)) {
        throw webflowError(
          403,
          'missing_scopes',
          `OAuthForbidden: You are missing the following scopes - ${route.scope}`,
        );
      }
      const lossRate = this.faults.current.failAfterAcceptRate;
      const before = lossRate > 0 && method === 'POST' ? this.store.snapshot() : undefined;
      const handled = route.handle({
        method,
        params,
        query: url.searchParams,
        body: () => parseBody(raw, req.headers['content-type']),
      });
      if (handled.answer.status === 202 && method === 'POST') {
        // The ButterCMS emulator's "accepted, then silently not applied" fault, for Webflow's 202 answers.
        if (before !== undefined && Math.random() < lossRate) {
          this.store.restore(before);
          handled.events = [];
        }
        if (this.faults.current.burst429AfterPost > 0)
          this.faults.addBurst429(this.faults.current.burst429AfterPost);
      }
      if (this.options.apiWritesFireWebhooks === false) handled.events = [];
      return withRate(handled);
    } catch (error) {
      return withRate({ answer: this.errorAnswer(error) });
    }
  }

  private match(method: string, path: string): { route: Route; params: string[] } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (m) return { route, params: m.slice(1) };
    }
    return undefined;
  }

  private errorAnswer(error: unknown): Answer {
    if (error instanceof ApiError) return { status: error.status, body: error.body, headers: error.headers };
    process.emitWarning(`webflow emulator: unexpected error: ${(error as Error)?.stack ?? String(error)}`);
    const e = internalError();
    return { status: e.status, body: e.body };
  }

  private send(res: ServerResponse, method: string, answer: Answer): number {
    // §2.1: a 204 has an empty body.
    const text = answer.status === 204 || answer.body === undefined ? '' : JSON.stringify(answer.body);
    const headers: Record<string, string> = { ...answer.headers };
    if (answer.status !== 204) {
      headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = String(Buffer.byteLength(text));
    }
    res.writeHead(answer.status, headers);
    res.end(method === 'HEAD' ? undefined : text);
    return method === 'HEAD' ? 0 : Buffer.byteLength(text);
  }

  private record(entry: WebflowRequestLogEntry): void {
    this.log.push(entry);
    if (this.options.logRequests) {
      process.stderr.write(
        `webflow-emulator ${entry.method} ${entry.path} ${entry.status} ${entry.bytesOut}B\n`,
      );
    }
  }

  /** `/__emulator/*`: loopback only, no auth, not counted, not logged. */
  private async handleAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
  ): Promise<void> {
    let answer: Answer;
    const ok = (body: unknown): Answer => ({ status: 200, body });
    try {
      if (!isLoopback(req.socket.remoteAddress)) throw webflowError(403, 'forbidden', 'Loopback only');
      const raw = await readBody(req);
      const json = (): unknown => {
        try {
          return JSON.parse(raw.toString('utf8') || 'null');
        } catch {
          throw badRequest('Malformed JSON');
        }
      };
      switch (`${method} ${url.pathname.replace(/\/$/, '')}`) {
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
        case 'GET /__emulator/webhook-log':
          answer = ok(this.webhooks.deliveries());
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
          if (!isPlainObject(patch)) throw badRequest('Expected a JSON object of faults');
          try {
            this.faults.set(patch);
          } catch (error) {
            throw badRequest((error as Error).message);
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
            throw badRequest('Expected a JSON array of {url, secretKey?, triggerTypes?}');
          }
          this.setWebhooks(targets as unknown as WebflowWebhookTarget[]);
          answer = ok({ webhooks: targets.length });
          break;
        }
        case 'POST /__emulator/settle':
          await this.webhooks.settle();
          answer = ok({ settled: true });
          break;
        case 'POST /__emulator/schema-changed':
          this.store.structureChanged = true;
          answer = ok({ structureChanged: true });
          break;
        case 'POST /__emulator/items': {
          const body = json();
          if (!isPlainObject(body) || typeof body.collection !== 'string' || !isPlainObject(body.fieldData)) {
            throw badRequest('Expected {"collection", "fieldData", "locale"?, "live"?}');
          }
          const created = this.seedItem({
            collection: body.collection,
            fieldData: body.fieldData,
            ...(typeof body.locale === 'string' ? { locale: body.locale } : {}),
            ...(typeof body.live === 'boolean' ? { live: body.live } : {}),
          });
          answer = ok({ id: created });
          break;
        }
        case 'GET /__emulator/state':
          answer = ok(this.state());
          break;
        default:
          answer = { status: 404, body: { message: 'Not found', routes: '/__emulator/' } };
      }
    } catch (error) {
      answer = this.errorAnswer(error);
    }
    this.send(res, method, answer);
  }

  cmsLocaleIdOf(locale: string | undefined): string | undefined {
    if (locale === undefined || !this.schema.localized) return undefined;
    const found = this.schema.locales.find((l) => l.tag === locale);
    if (!found) throw new Error(`Webflow emulator: unknown locale "${locale}"`);
    return found.cmsLocaleId;
  }

  seedItem(i: WebflowSeedItem): string {
    const collection = this.store.collection(i.collection);
    const locale = this.cmsLocaleIdOf(i.locale);
    const created = this.store.create(
      collection.id,
      [{ fieldData: i.fieldData, isDraft: i.isDraft ?? false, isArchived: i.isArchived ?? false }],
      {
        live: i.live ?? true,
        locales: this.store.localeKeys(locale ? [locale] : undefined),
        skipInvalidFiles: false,
      },
    );
    this.fire(created.events);
    return created.items[0]!.id;
  }
}

function seedError(what: string, error: unknown): never {
  if (error instanceof ApiError) throw new Error(`${what}: ${error.status} ${JSON.stringify(error.body)}`);
  throw error;
}

/** Start the Webflow emulator on 127.0.0.1; the model is the daemon's own config or a schema fixture. */
export async function startWebflowEmulator(options: WebflowEmulatorOptions): Promise<WebflowEmulatorHandle> {
  const emulator = new WebflowEmulator(options);
  const server = createServer((req, res) => {
    emulator.handle(req, res).catch((error: unknown) => {
      process.emitWarning(`webflow emulator: request failed: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(internalError().body));
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
  return {
    url: `${origin}/v2`,
    origin,
    port,
    siteId: emulator.schema.siteId,
    collectionId: (slug) => store.collection(slug).id,
    fieldId(collection, fieldSlug) {
      const field = store.collection(collection).fields.find((f) => f.slug === fieldSlug);
      if (!field) throw new Error(`Webflow emulator: collection "${collection}" has no field "${fieldSlug}"`);
      return field.id;
    },
    cmsLocaleId: (locale) => emulator.cmsLocaleIdOf(locale) ?? null,
    setFaults: (faults) => emulator.faults.set(faults),
    setWebhooks: (targets) => emulator.setWebhooks(targets),
    requestLog: () => emulator.requestLog(),
    clearLog: () => emulator.clearLog(),
    webhookLog: () => emulator.webhooks.deliveries(),
    reset: () => emulator.reset(),
    settle: () => emulator.webhooks.settle(),
    seedItem(item) {
      try {
        return emulator.seedItem(item);
      } catch (error) {
        seedError(`seedItem ${item.collection}`, error);
      }
    },
    editItem(collection, id, fieldData, opts = {}) {
      try {
        const locale = emulator.cmsLocaleIdOf(opts.locale);
        const cid = store.collection(collection).id;
        const changed = store.update(cid, [{ id, cmsLocaleId: locale, fieldData }], {
          live: false,
          skipInvalidFiles: false,
        });
        emulator.fire(changed.events);
        if (opts.publish) {
          emulator.fire(store.publish(cid, [{ id, cmsLocaleIds: locale ? [locale] : undefined }]).events);
        }
      } catch (error) {
        seedError(`editItem ${collection}/${id}`, error);
      }
    },
    deleteItem(collection, id) {
      try {
        const cid = store.collection(collection).id;
        emulator.fire([...store.unpublish(cid, [{ id }]), ...store.remove(cid, [{ id }])]);
      } catch (error) {
        seedError(`deleteItem ${collection}/${id}`, error);
      }
    },
    async close() {
      await emulator.webhooks.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
