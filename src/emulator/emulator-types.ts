import type { SyncConfig } from '../config/schema.js';

/** Fault injection knobs; every share is 0..1 and applies per API request (admin routes are exempt). */
export interface EmulatorFaults {
  /** Share of API requests answered 500/502/503 before doing anything. */
  errorRate: number;
  /** Share of requests whose socket is destroyed without an answer. */
  resetRate: number;
  /** Added latency per request. */
  latencyMs: number;
  /** Plus a random 0..jitter ms. */
  latencyJitterMs: number;
  /** Share of accepted writes (202/204) that are then silently not applied (butter-api.md §9.2). */
  failAfterAcceptRate: number;
  /** The next N API requests answer 429 {"detail":"API Calls limit reached."} + Retry-After. */
  burst429: number;
  /** Value of Retry-After for 429s. */
  retryAfterSeconds: number;
  /** Share of webhook deliveries never sent (Butter tries once and only logs a failure, butter-api.md §4). */
  webhookDropRate: number;
  /** Share of webhook deliveries sent twice (the docs warn duplicates happen, §4). */
  webhookDuplicateRate: number;
  /** After each accepted POST, the next N API requests answer 429 (e.g. a quota running out right after a create). */
  burst429AfterPost: number;
}

/** A dashboard-configured webhook (butter-api.md §4); `events` like ['page.all','collectionitem.all'], default all. */
export interface WebhookTarget {
  url: string;
  headers?: Record<string, string>;
  events?: string[];
}

/** How to start an emulator; the content model comes from the same config the daemon uses (§7). */
export interface EmulatorOptions {
  config: SyncConfig;
  readToken: string;
  writeToken: string;
  /** Default 0 (random); the host is always 127.0.0.1. */
  port?: number;
  /** Loaded at start if it exists; saved atomically (debounced) after changes. */
  dataFile?: string;
  /** Default 0: writes are still applied asynchronously, after this delay. */
  applyDelayMs?: number;
  faults?: Partial<EmulatorFaults>;
  /** Total API calls allowed; beyond that every API call answers 429 (§5). */
  quota?: number;
  /** What a slash-less write gets (§0.2); default '301'. */
  slashlessWrites?: '301' | '404';
  webhooks?: WebhookTarget[];
  logRequests?: boolean;
}

/** One API request as seen by the emulator; `path` has the auth_token value replaced by `***`. */
export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  at: number;
  /** The request body as text (bodies up to 64 KiB). */
  body?: string;
  /** Which configured token the request presented (header first, then `?auth_token=`), never the token itself. */
  auth?: 'read' | 'write' | 'none' | 'invalid';
}

/** A seeded page, stored the way the Write API would store it. `pageType` '*' means a single page. */
export interface SeedPage {
  pageType: string;
  slug: string;
  title: string;
  locale?: string;
  status?: 'draft' | 'published';
  fields: Record<string, unknown>;
  /** Skip the API's slug check: hostile remote data (`../x`, NUL, 1,000 characters) for the daemon's tests. */
  anySlug?: boolean;
}

/** A seeded item; `fields` is either flat or keyed by locale slug. */
export interface SeedItem {
  collection: string;
  status?: 'draft' | 'published';
  fields: Record<string, unknown> | Record<string, Record<string, unknown>>;
}

/** A blog author as an editor makes one in the dashboard (authors cannot be created through the API, §0.1). */
export interface SeedAuthor {
  slug: string;
  first_name?: string;
  last_name?: string;
  email?: string;
  bio?: string;
  title?: string;
  profile_image?: string;
}

/** A seeded blog post, in the Write API's terms (§3.8); `author` is an author slug, default the org owner. */
export interface SeedPost {
  slug: string;
  title: string;
  locale?: string;
  status?: 'draft' | 'published';
  author?: string;
  tags?: string[];
  categories?: string[];
  body?: string;
  summary?: string;
  seo_title?: string;
  meta_description?: string;
  featured_image?: string;
  featured_image_alt?: string;
  published?: string;
}

/** A running emulator. Seed/edit methods act like an editor in the dashboard: applied at once, webhooks fired. */
export interface EmulatorHandle {
  /** API base, e.g. http://127.0.0.1:41234/v2 */
  url: string;
  /** http://127.0.0.1:41234 */
  origin: string;
  port: number;
  setFaults(faults: Partial<EmulatorFaults>): void;
  setWebhooks(targets: WebhookTarget[]): void;
  /** Answer by another content model from now on (an edited config); stored content stays. */
  setModel(config: SyncConfig): void;
  /** API requests only (not /__emulator/ admin requests). */
  requestLog(): RequestLogEntry[];
  clearLog(): void;
  /** Empty content, log and faults. */
  reset(): void;
  /** Resolves when every accepted write job has been applied (or dropped) and its webhooks sent. */
  settle(): Promise<void>;
  seedPage(p: SeedPage): void;
  /** Returns the new item id. */
  seedItem(i: SeedItem): number;
  editItem(collection: string, id: number, fields: Record<string, unknown>, locale?: string): void;
  editPage(
    pageType: string,
    slug: string,
    fields: Record<string, unknown>,
    opts?: { locale?: string; status?: 'draft' | 'published' },
  ): void;
  deleteItem(collection: string, id: number): void;
  seedAuthor(a: SeedAuthor): void;
  /** Returns the post id (the `_id` of its webhooks). */
  seedPost(p: SeedPost): number;
  /** A dashboard edit of one locale's version; the post keeps its status unless `status` is given. */
  editPost(slug: string, changes: Omit<Partial<SeedPost>, 'slug' | 'locale'>, locale?: string): void;
  deletePost(slug: string): void;
  close(): Promise<void>;
}
