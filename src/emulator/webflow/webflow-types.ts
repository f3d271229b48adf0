import type { SyncConfig } from '../../config/schema.js';
import type { EmulatorFaults } from '../emulator-types.js';

/** The field types of a Webflow collection (webflow-api.md §2.2). */
export const WEBFLOW_FIELD_TYPES = [
  'PlainText',
  'RichText',
  'Image',
  'MultiImage',
  'VideoLink',
  'Link',
  'Email',
  'Phone',
  'Number',
  'DateTime',
  'Switch',
  'Color',
  'Option',
  'File',
  'Reference',
  'MultiReference',
  'ExtFileRef',
] as const;
export type WebflowFieldType = (typeof WEBFLOW_FIELD_TYPES)[number];

/** OAuth scope strings, lower case (webflow-api.md §1). */
export type WebflowScope = 'cms:read' | 'cms:write' | 'sites:read' | 'sites:write';
export const ALL_SCOPES: readonly WebflowScope[] = ['cms:read', 'cms:write', 'sites:read', 'sites:write'];

/** One field of a schema fixture; `validations.collectionId` may name a collection by slug (resolved at load). */
export interface WebflowFieldFixture {
  slug: string;
  type: WebflowFieldType;
  displayName?: string;
  isRequired?: boolean;
  isEditable?: boolean;
  helpText?: string | null;
  validations?: {
    /** Option fields: the option names (ids are derived) or `{name, id}` pairs. */
    options?: Array<string | { name: string; id: string }>;
    /** Reference fields: the target collection, by slug or by id. */
    collection?: string;
    format?: 'integer' | 'decimal';
    [key: string]: unknown;
  } | null;
}

export interface WebflowCollectionFixture {
  slug: string;
  displayName?: string;
  singularName?: string;
  /** `name` and `slug` are added when missing: every collection has them (webflow-api.md §2.2). */
  fields: WebflowFieldFixture[];
}

/** A site schema given directly, for what a `sync.config.json` cannot say (Option fields, read-only fields). */
export interface WebflowSchemaFixture {
  siteId?: string;
  displayName?: string;
  /** Locale tags; the first is primary. More than one turns localization on (cmsLocaleId stops being null). */
  locales?: string[];
  collections: WebflowCollectionFixture[];
}

/** A token the emulator accepts, with its scopes (default: all) and a label for the request log. */
export interface WebflowToken {
  token: string;
  scopes?: WebflowScope[];
  label?: string;
}

/** Webflow-only faults on top of the ButterCMS emulator's set (same names, same meaning). */
export interface WebflowExtraFaults {
  /** Share of webhook deliveries replayed with a timestamp 10 minutes old (a receiver must reject them, §8). */
  webhookStaleRate: number;
  /** The Nth API request (1-based, counted since start or reset) answers 500; 0 = off. */
  failNthCall: number;
}
export type WebflowFaults = EmulatorFaults & WebflowExtraFaults;

/** A webhook target registered directly (as if made in the dashboard or by another app), with its signing key. */
export interface WebflowWebhookTarget {
  url: string;
  /** Signs `x-webflow-signature`; without one the delivery is unsigned, as dashboard-made webhooks are (§8). */
  secretKey?: string;
  /** Default: every CMS item trigger. */
  triggerTypes?: string[];
}

export interface WebflowEmulatorOptions {
  /** The content model: `collections` of the daemon's config become Webflow collections (ids derived from names). */
  config?: SyncConfig;
  /** Or the site schema itself; used instead of `config` when both are given. */
  schema?: WebflowSchemaFixture;
  tokens: WebflowToken[];
  /** Default 0 (random); the host is always 127.0.0.1. */
  port?: number;
  /** Requests per minute per token: 60 (Starter/Basic) or 120 (CMS/Business), webflow-api.md §5. Default 60. */
  rateLimitPerMinute?: number;
  /** Total API calls allowed; beyond that every call answers 429 (a fault: "429 after N calls"). */
  quota?: number;
  faults?: Partial<WebflowFaults>;
  /** The clock for timestamps, the rate-limit window and the site-publish limit (tests move it by hand). */
  now?: () => number;
  /** Seeds item ids and slug suffixes, so a run is repeatable. */
  seed?: string;
  /** §2.4: what `limit>100` does is unverified; default clamp to 100, `true` answers 400. */
  strictLimit?: boolean;
  /** §2.6 open question 2: does a live PATCH also change the staged copy? Default false, per D13. */
  liveWriteAlsoStages?: boolean;
  /** §2.7/O8: a deleted item's live copy and slug stay until the next site publish. Default false (both go at once). */
  keepDeletedUntilSitePublish?: boolean;
  /** §2.6: what a cleared value (`null`, `""`, `[]`) reads back as: left out (default, §2.3) or `null`. */
  clearedFields?: 'omit' | 'null';
  /** §8: whether the API's own writes fire webhooks is undocumented; default true (the daemon must drop echoes). */
  apiWritesFireWebhooks?: boolean;
  webhooks?: WebflowWebhookTarget[];
  /** Delay between webhook retries (3 retries, 10 minutes apart on Webflow, §8). Default 600 000. */
  webhookRetryDelayMs?: number;
  /** Site publish: one success per this many ms (§2.8). Default 60 000. */
  sitePublishIntervalMs?: number;
  logRequests?: boolean;
}

/** One API request as the emulator saw it; tokens appear only by label. */
export interface WebflowRequestLogEntry {
  method: string;
  path: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  at: number;
  body?: string;
  /** The token's label, `none` without an Authorization header, `invalid` for an unknown token. */
  auth: string;
}

/** One webhook delivery attempt. */
export interface WebhookDeliveryLogEntry {
  url: string;
  triggerType: string;
  attempt: number;
  status: number | 'error';
  timestamp: string;
  signed: boolean;
  body: string;
}

/** An item as an editor in the Webflow designer would make it (no rate limit, no log). */
export interface WebflowSeedItem {
  collection: string;
  fieldData: Record<string, unknown>;
  /** Locale tag; default the primary locale. */
  locale?: string;
  /** Default true: the item is published (a staged and a live copy). */
  live?: boolean;
  isDraft?: boolean;
  isArchived?: boolean;
}

/** A running Webflow emulator. */
export interface WebflowEmulatorHandle {
  /** API base, e.g. http://127.0.0.1:41234/v2, the SDK's `baseUrl`. */
  url: string;
  origin: string;
  port: number;
  siteId: string;
  collectionId(slug: string): string;
  fieldId(collection: string, fieldSlug: string): string;
  /** The `cmsLocaleId` of a locale tag (null when localization is off). */
  cmsLocaleId(locale: string): string | null;
  setFaults(faults: Partial<WebflowFaults>): void;
  setWebhooks(targets: WebflowWebhookTarget[]): void;
  requestLog(): WebflowRequestLogEntry[];
  clearLog(): void;
  webhookLog(): WebhookDeliveryLogEntry[];
  /** Empty content, logs, faults, rate windows and registered webhooks. */
  reset(): void;
  /** Resolves when every webhook delivery (retries included) is done. */
  settle(): Promise<void>;
  seedItem(item: WebflowSeedItem): string;
  /** An editor's change: staged always; `publish` also makes it live. */
  editItem(
    collection: string,
    id: string,
    fieldData: Record<string, unknown>,
    opts?: { locale?: string; publish?: boolean },
  ): void;
  deleteItem(collection: string, id: string): void;
  close(): Promise<void>;
}
