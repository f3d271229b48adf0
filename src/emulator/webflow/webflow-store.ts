import { isPlainObject } from '../field-values.js';
import {
  type ErrorDetail,
  NEVER_PUBLISHED_MESSAGE,
  notFound,
  STRUCTURE_CHANGED_MESSAGE,
  validationError,
  webflowError,
} from './webflow-errors.js';
import { derivedHexId, type SchemaCollection, type SchemaField, type SiteSchema } from './webflow-schema.js';

/**
 * Webflow's item store: every item is one id with a variant per locale, and each variant has a staged copy and
 * a separate live copy (webflow-api.md §2.3, §7, §9, "Emulator must" 4-11). Writes are synchronous, as Webflow's
 * answers carry the stored item.
 */

export interface ItemCopy {
  cmsLocaleId: string | null;
  lastPublished: string | null;
  lastUpdated: string;
  createdOn: string;
  isArchived: boolean;
  isDraft: boolean;
  fieldData: Record<string, unknown>;
}

interface Variant {
  staged?: ItemCopy;
  live?: ItemCopy;
}

interface StoredItem {
  id: string;
  /** Creation order, the default list order's tiebreak. */
  seq: number;
  /** Keyed by cmsLocaleId ('' when localization is off). */
  variants: Map<string, Variant>;
}

/** An item as the API renders it, keys in the recorded order (§2.3). */
export interface RenderedItem {
  id: string;
  cmsLocaleId: string | null;
  lastPublished: string | null;
  lastUpdated: string;
  createdOn: string;
  isArchived: boolean;
  isDraft: boolean;
  fieldData: Record<string, unknown>;
}

/** A webhook event a change causes (§8). */
export interface ItemEvent {
  triggerType:
    | 'collection_item_created'
    | 'collection_item_changed'
    | 'collection_item_deleted'
    | 'collection_item_published'
    | 'collection_item_unpublished';
  collectionId: string;
  item: RenderedItem | { id: string };
}

export interface StoreOptions {
  now: () => number;
  seed: string;
  clearedFields: 'omit' | 'null';
  liveWriteAlsoStages: boolean;
  keepDeletedUntilSitePublish: boolean;
}

export interface CreateEntry {
  isArchived?: unknown;
  isDraft?: unknown;
  fieldData?: unknown;
}

export interface UpdateEntry {
  id: string;
  cmsLocaleId?: string | null | undefined;
  isArchived?: unknown;
  isDraft?: unknown;
  fieldData?: unknown;
}

export interface LocaleTarget {
  id: string;
  cmsLocaleIds?: string[] | undefined;
}

/** Bulk routes take at most this many items (§2.1, §2.6); the same bound is assumed where the limit is undocumented. */
export const BULK_LIMIT = 100;

const SLUG_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const HEX24_RE = /^[0-9a-f]{24}$/;
// §3 Color: #RGB, #RRGGBB(AA), rgb[a](), hsl[a](), CSS names, transparent.
const COLOR_RE = /^(#[0-9a-f]{3}|#[0-9a-f]{6}|#[0-9a-f]{8}|(rgb|rgba|hsl|hsla)\([^()]*\)|[a-z]+)$/i;

function copyOf(copy: ItemCopy): ItemCopy {
  return { ...copy, fieldData: structuredClone(copy.fieldData) };
}

function render(id: string, copy: ItemCopy): RenderedItem {
  return {
    id,
    cmsLocaleId: copy.cmsLocaleId,
    lastPublished: copy.lastPublished,
    lastUpdated: copy.lastUpdated,
    createdOn: copy.createdOn,
    isArchived: copy.isArchived,
    isDraft: copy.isDraft,
    fieldData: structuredClone(copy.fieldData),
  };
}

/** Webflow's slug from a name: lower case, runs of anything else turned into one `-` (§3). */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'item';
}

function isCleared(value: unknown): boolean {
  return value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

export class WebflowStore {
  private items = new Map<string, Map<string, StoredItem>>();
  /** Slugs of deleted items that stay taken until a site publish (O8), per collection: `${locale}\0${slug}`. */
  private reserved = new Map<string, Set<string>>();
  private itemCounter = 0;
  private fileCounter = 0;
  private suffixCounter = 0;
  /** "Emulator must" 9: a schema change not yet published makes live PATCHes 409. */
  structureChanged = false;

  constructor(
    readonly schema: SiteSchema,
    private readonly options: StoreOptions,
  ) {
    for (const c of schema.collections) this.items.set(c.id, new Map());
  }

  clear(): void {
    for (const c of this.schema.collections) this.items.set(c.id, new Map());
    this.reserved.clear();
    this.itemCounter = 0;
    this.fileCounter = 0;
    this.suffixCounter = 0;
    this.structureChanged = false;
  }

  /** A deep copy of the content, for undoing a write that a fault says was never applied. */
  snapshot(): unknown {
    return structuredClone({
      items: this.items,
      reserved: this.reserved,
      counters: [this.itemCounter, this.fileCounter, this.suffixCounter],
    });
  }

  restore(snapshot: unknown): void {
    const s = structuredClone(snapshot) as {
      items: Map<string, Map<string, StoredItem>>;
      reserved: Map<string, Set<string>>;
      counters: [number, number, number];
    };
    this.items = s.items;
    this.reserved = s.reserved;
    [this.itemCounter, this.fileCounter, this.suffixCounter] = s.counters;
  }

  collection(idOrSlug: string): SchemaCollection {
    const found = this.schema.collections.find((c) => c.id === idOrSlug || c.slug === idOrSlug);
    if (!found) throw notFound();
    return found;
  }

  /** Every item variant, for the admin state route. */
  dump(): Record<string, Array<{ id: string; locale: string; staged?: ItemCopy; live?: ItemCopy }>> {
    const out: Record<string, Array<{ id: string; locale: string; staged?: ItemCopy; live?: ItemCopy }>> = {};
    for (const c of this.schema.collections) {
      out[c.slug] = [...(this.items.get(c.id)?.values() ?? [])].flatMap((item) =>
        [...item.variants].map(([locale, v]) => ({ id: item.id, locale, ...v })),
      );
    }
    return out;
  }

  private now(): string {
    return new Date(this.options.now()).toISOString();
  }

  private primaryLocale(): string {
    return this.schema.localized ? this.schema.locales[0]!.cmsLocaleId : '';
  }

  /** `cmsLocaleId` values given by a client → variant keys; an unknown one is a 400 (§7). */
  localeKeys(ids: readonly (string | null | undefined)[] | undefined, param = 'cmsLocaleId'): string[] {
    if (!ids || ids.length === 0) return [this.primaryLocale()];
    return ids.map((id) => {
      if (!this.schema.localized) {
        if (id === null || id === undefined || id === '') return '';
        throw validationError([{ param, description: `Unknown cmsLocaleId ${id}: localization is off` }]);
      }
      if (id === null || id === undefined || id === '') return this.primaryLocale();
      if (!this.schema.locales.some((l) => l.cmsLocaleId === id)) {
        throw validationError([{ param, description: `Unknown cmsLocaleId ${id}` }]);
      }
      return id;
    });
  }

  private item(collectionId: string, id: string): StoredItem {
    const item = this.items.get(collectionId)?.get(id);
    if (!item) throw notFound();
    return item;
  }

  private nextItemId(): string {
    return derivedHexId(`item:${this.options.seed}:${++this.itemCounter}`, 24);
  }

  /** 5 hex chars, from the seed: a rerun gets the same suffixes (§2.5, "Emulator must" 6). */
  private nextSuffix(): string {
    return derivedHexId(`suffix:${this.options.seed}:${++this.suffixCounter}`, 24).slice(0, 5);
  }

  private slugTaken(collectionId: string, locale: string, slug: string, exceptId?: string): boolean {
    if (this.reserved.get(collectionId)?.has(`${locale}\0${slug}`)) return true;
    for (const item of this.items.get(collectionId)?.values() ?? []) {
      if (item.id === exceptId) continue;
      const v = item.variants.get(locale);
      if (v?.staged?.fieldData.slug === slug || v?.live?.fieldData.slug === slug) return true;
    }
    return false;
  }

  // ---- field checks (§3, "Emulator must" 7, 15) ----

  private checkValue(
    collection: SchemaCollection,
    field: SchemaField,
    value: unknown,
    skipInvalidFiles: boolean,
    problems: ErrorDetail[],
  ): { keep: boolean; value?: unknown } {
    const fail = (description: string) => {
      problems.push({ param: field.slug, description });
      return { keep: false };
    };
    switch (field.type) {
      case 'PlainText':
      case 'RichText':
      case 'Link':
      case 'VideoLink':
      case 'Phone':
        return typeof value === 'string' ? { keep: true, value } : fail('Expected a string');
      case 'Email':
        return typeof value === 'string' && /^[^@\s]+@[^@\s]+$/.test(value)
          ? { keep: true, value }
          : fail('Expected an email address');
      case 'Color':
        return typeof value === 'string' && COLOR_RE.test(value.trim())
          ? { keep: true, value }
          : fail('Expected a color');
      case 'Number': {
        if (typeof value !== 'number' || !Number.isFinite(value)) return fail('Expected a number');
        if (field.validations?.format === 'integer' && !Number.isInteger(value))
          return fail('Expected an integer');
        return { keep: true, value };
      }
      case 'Switch':
        return typeof value === 'boolean' ? { keep: true, value } : fail('Expected a boolean');
      case 'DateTime': {
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
          return fail('Expected an ISO-8601 date');
        return { keep: true, value: new Date(value).toISOString() };
      }
      case 'Option': {
        // §3: an Option holds the option's id, not its name.
        const options = (field.validations?.options ?? []) as Array<{ id: string; name: string }>;
        return typeof value === 'string' && options.some((o) => o.id === value)
          ? { keep: true, value }
          : fail(`Expected one of the option ids of "${field.slug}"`);
      }
      case 'Reference':
        return this.checkReference(field, value, fail) ? { keep: true, value } : { keep: false };
      case 'MultiReference': {
        if (!Array.isArray(value)) return fail('Expected an array of item ids');
        return value.every((v) => this.checkReference(field, v, fail))
          ? { keep: true, value: [...value] }
          : { keep: false };
      }
      case 'Image':
      case 'File': {
        const file = this.importFile(collection, value);
        if (file) return { keep: true, value: file };
        // §2.5: skipInvalidFiles (default true) drops a bad file; false fails the request.
        return skipInvalidFiles
          ? { keep: false }
          : fail('Invalid file: expected {url} with a public http(s) URL, or {fileId}');
      }
      case 'MultiImage': {
        if (!Array.isArray(value)) return fail('Expected an array of images');
        const files = value.map((v) => this.importFile(collection, v));
        if (files.every(Boolean)) return { keep: true, value: files };
        return skipInvalidFiles
          ? { keep: true, value: files.filter(Boolean) }
          : fail('Invalid file in the list');
      }
      default:
        return fail(`Fields of type ${field.type} cannot be written through the API`);
    }
  }

  private checkReference(field: SchemaField, value: unknown, fail: (d: string) => unknown): boolean {
    if (typeof value !== 'string' || !HEX24_RE.test(value)) {
      fail('Expected an item id');
      return false;
    }
    const target = field.validations?.collectionId as string | undefined;
    // §11.6: a reference must point at an existing item; the real error text is unverified (open question 11).
    if (target && !this.items.get(target)?.has(value)) {
      fail(`Referenced item ${value} not found`);
      return false;
    }
    return true;
  }

  /** §3 Image: `{url}` is imported and re-hosted under a new fileId on the CDN; `{fileId}` reuses an asset. */
  private importFile(_collection: SchemaCollection, value: unknown): Record<string, unknown> | undefined {
    if (typeof value === 'string') return this.importFile(_collection, { url: value });
    if (!isPlainObject(value)) return undefined;
    const alt = typeof value.alt === 'string' ? value.alt : null;
    if (typeof value.fileId === 'string' && HEX24_RE.test(value.fileId)) {
      const url =
        typeof value.url === 'string'
          ? value.url
          : `https://cdn.prod.website-files.com/${this.schema.siteId}/${value.fileId}_file`;
      return { fileId: value.fileId, url, alt };
    }
    if (typeof value.url !== 'string') return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value.url);
    } catch {
      return undefined;
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    const fileId = derivedHexId(`file:${this.options.seed}:${++this.fileCounter}`, 24);
    const name = parsed.pathname.split('/').filter(Boolean).at(-1) ?? 'file';
    return { fileId, url: `https://cdn.prod.website-files.com/${this.schema.siteId}/${fileId}_${name}`, alt };
  }

  /**
   * Check a `fieldData` against the schema: unknown keys, types, read-only fields. Returns the values to store and
   * the keys to clear. Problems of every key are collected into one 400 (§6 `validation_error`).
   */
  private checkFieldData(
    collection: SchemaCollection,
    fieldData: unknown,
    skipInvalidFiles: boolean,
    problems: ErrorDetail[],
  ): { set: Record<string, unknown>; clear: string[] } {
    const set: Record<string, unknown> = {};
    const clear: string[] = [];
    if (fieldData === undefined) return { set, clear };
    if (!isPlainObject(fieldData)) {
      problems.push({ param: 'fieldData', description: 'Expected an object' });
      return { set, clear };
    }
    for (const [key, value] of Object.entries(fieldData)) {
      const field = collection.fields.find((f) => f.slug === key);
      if (!field) {
        // The recorded text, "undefined" included (obs O4).
        problems.push({ param: key, description: 'Field not described in schema: undefined' });
        continue;
      }
      if (!field.isEditable) {
        problems.push({ param: key, description: 'Field is not editable' });
        continue;
      }
      if (isCleared(value)) {
        if (field.slug === 'name' || field.slug === 'slug') {
          problems.push({ param: key, description: 'Field is required' });
        } else clear.push(key);
        continue;
      }
      if (field.slug === 'slug' && (typeof value !== 'string' || !SLUG_RE.test(value))) {
        problems.push({ param: key, description: 'Slug may hold only lower-case letters, digits and "-"' });
        continue;
      }
      const checked = this.checkValue(collection, field, value, skipInvalidFiles, problems);
      if (checked.keep) set[key] = checked.value;
    }
    return { set, clear };
  }

  private applyFields(
    target: Record<string, unknown>,
    change: { set: Record<string, unknown>; clear: string[] },
  ): void {
    // §2.6: PATCH is partial and shallow; arrays are replaced whole.
    Object.assign(target, structuredClone(change.set));
    for (const key of change.clear) {
      if (this.options.clearedFields === 'null') target[key] = null;
      else delete target[key];
    }
  }

  private flag(value: unknown, param: string, fallback: boolean, problems: ErrorDetail[]): boolean {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') {
      problems.push({ param, description: 'Expected a boolean' });
      return fallback;
    }
    return value;
  }

  // ---- writes ----

  /**
   * Create items, all or none (§2.5): `isDraft` defaults to true; a missing slug is built from `name`; a taken
   * slug gets `-` and 5 hex chars, silently. `live` publishes at once (`/items/live`).
   */
  create(
    collectionId: string,
    entries: CreateEntry[],
    opts: { live: boolean; locales: string[]; skipInvalidFiles: boolean },
  ): { items: RenderedItem[]; events: ItemEvent[] } {
    const collection = this.collection(collectionId);
    if (entries.length === 0)
      throw validationError([{ param: 'items', description: 'At least one item is required' }]);
    if (entries.length > BULK_LIMIT) {
      throw validationError([{ param: 'items', description: `At most ${BULK_LIMIT} items per request` }]);
    }
    const problems: ErrorDetail[] = [];
    const planned = entries.map((entry, index) => {
      const before = problems.length;
      const change = this.checkFieldData(collection, entry.fieldData, opts.skipInvalidFiles, problems);
      const isDraft = this.flag(entry.isDraft, 'isDraft', true, problems);
      const isArchived = this.flag(entry.isArchived, 'isArchived', false, problems);
      if (typeof change.set.name !== 'string' && problems.length === before) {
        problems.push({
          param: entries.length > 1 ? `items[${index}].name` : 'name',
          description: 'Field is required',
        });
      }
      return { change, isDraft, isArchived };
    });
    if (problems.length > 0) throw validationError(problems);

    const out: RenderedItem[] = [];
    const events: ItemEvent[] = [];
    const at = this.now();
    const table = this.items.get(collection.id)!;
    for (const { change, isDraft, isArchived } of planned) {
      const id = this.nextItemId();
      const item: StoredItem = { id, seq: this.itemCounter, variants: new Map() };
      for (const locale of opts.locales) {
        const fieldData: Record<string, unknown> = {};
        this.applyFields(fieldData, { set: change.set, clear: [] });
        let slug = typeof fieldData.slug === 'string' ? fieldData.slug : slugFromName(String(fieldData.name));
        if (this.slugTaken(collection.id, locale, slug)) slug = `${slug}-${this.nextSuffix()}`;
        fieldData.slug = slug;
        const staged: ItemCopy = {
          cmsLocaleId: locale === '' ? null : locale,
          lastPublished: opts.live ? at : null,
          lastUpdated: at,
          createdOn: at,
          isArchived,
          isDraft,
          fieldData,
        };
        const variant: Variant = { staged };
        if (opts.live) variant.live = copyOf(staged);
        item.variants.set(locale, variant);
        table.set(id, item);
        const shown = render(id, staged);
        out.push(shown);
        events.push({ triggerType: 'collection_item_created', collectionId: collection.id, item: shown });
        if (opts.live)
          events.push({ triggerType: 'collection_item_published', collectionId: collection.id, item: shown });
      }
    }
    return { items: out, events };
  }

  /**
   * PATCH items, all or none. Staged (§2.6): merge into the staged copy. Live (§2.6, "Emulator must" 9): every
   * target must have been published, else the whole request is a 409; the live copy changes and `lastPublished` moves.
   */
  update(
    collectionId: string,
    entries: UpdateEntry[],
    opts: { live: boolean; skipInvalidFiles: boolean },
  ): { items: RenderedItem[]; events: ItemEvent[] } {
    const collection = this.collection(collectionId);
    if (entries.length === 0)
      throw validationError([{ param: 'items', description: 'At least one item is required' }]);
    if (entries.length > BULK_LIMIT) {
      throw validationError([{ param: 'items', description: `At most ${BULK_LIMIT} items per request` }]);
    }
    const problems: ErrorDetail[] = [];
    const seen = new Set<string>();
    const planned = entries.map((entry) => {
      const item = this.item(collection.id, entry.id);
      const [locale] = this.localeKeys([entry.cmsLocaleId]);
      const variant = item.variants.get(locale!);
      if (!variant?.staged) throw notFound();
      const key = `${entry.id}\0${locale}`;
      if (seen.has(key)) {
        problems.push({ param: 'items', description: `Item ${entry.id} appears twice for one locale` });
      }
      seen.add(key);
      const change = this.checkFieldData(collection, entry.fieldData, opts.skipInvalidFiles, problems);
      const slug = change.set.slug;
      if (typeof slug === 'string' && this.slugTaken(collection.id, locale!, slug, entry.id)) {
        // Open question 3: a taken slug on update is refused, not suffixed (O8's "Unique value" text).
        problems.push({ param: 'slug', description: `Unique value is already in database: '${slug}'` });
      }
      const isDraft =
        entry.isDraft === undefined ? undefined : this.flag(entry.isDraft, 'isDraft', false, problems);
      const isArchived =
        entry.isArchived === undefined
          ? undefined
          : this.flag(entry.isArchived, 'isArchived', false, problems);
      return { item, variant, change, isDraft, isArchived };
    });
    if (problems.length > 0) throw validationError(problems);
    if (opts.live) {
      if (this.structureChanged) throw webflowError(409, 'conflict', STRUCTURE_CHANGED_MESSAGE);
      if (planned.some((p) => !p.variant.live)) throw webflowError(409, 'conflict', NEVER_PUBLISHED_MESSAGE);
    }

    const at = this.now();
    const out: RenderedItem[] = [];
    const events: ItemEvent[] = [];
    for (const { item, variant, change, isDraft, isArchived } of planned) {
      const staged = variant.staged!;
      const targets = opts.live
        ? [variant.live!, ...(this.options.liveWriteAlsoStages ? [staged] : [])]
        : [staged];
      for (const copy of targets) {
        this.applyFields(copy.fieldData, change);
        copy.lastUpdated = at;
        if (isDraft !== undefined) copy.isDraft = isDraft;
        if (isArchived !== undefined) copy.isArchived = isArchived;
      }
      if (opts.live) {
        // O2: a live PATCH advances lastPublished, even with isDraft/isArchived true; it never unpublishes (D3).
        variant.live!.lastPublished = at;
        staged.lastPublished = at;
        if (isDraft !== undefined) staged.isDraft = isDraft;
        if (isArchived !== undefined) staged.isArchived = isArchived;
      }
      const shown = render(item.id, opts.live ? variant.live! : staged);
      out.push(shown);
      events.push({ triggerType: 'collection_item_changed', collectionId: collection.id, item: shown });
    }
    return { items: out, events };
  }

  /** `DELETE …/live` (§2.7, "Emulator must" 10): drop the live copy; the staged one becomes a never-published draft. */
  unpublish(collectionId: string, targets: LocaleTarget[]): ItemEvent[] {
    const collection = this.collection(collectionId);
    this.checkBulk(targets);
    const planned = targets.flatMap((t) => {
      const item = this.item(collection.id, t.id);
      return this.localeKeys(t.cmsLocaleIds, 'cmsLocaleIds').map((locale) => ({ item, locale }));
    });
    const events: ItemEvent[] = [];
    for (const { item, locale } of planned) {
      const variant = item.variants.get(locale);
      if (!variant) throw notFound();
      // Unpublishing an item that is not live is answered 204 like the rest (the real answer is unverified).
      const wasLive = variant.live !== undefined;
      delete variant.live;
      if (variant.staged) {
        variant.staged.isDraft = true;
        variant.staged.lastPublished = null;
        if (wasLive) {
          events.push({
            triggerType: 'collection_item_unpublished',
            collectionId: collection.id,
            item: render(item.id, variant.staged),
          });
        }
      }
      if (!variant.staged) item.variants.delete(locale);
      if (item.variants.size === 0) this.items.get(collection.id)!.delete(item.id);
    }
    return events;
  }

  /** `DELETE` (§2.7): drop the staged copy; with keepDeletedUntilSitePublish the live copy and the slug stay (O8). */
  remove(collectionId: string, targets: LocaleTarget[]): ItemEvent[] {
    const collection = this.collection(collectionId);
    this.checkBulk(targets);
    const planned = targets.flatMap((t) => {
      const item = this.item(collection.id, t.id);
      return this.localeKeys(t.cmsLocaleIds, 'cmsLocaleIds').map((locale) => {
        if (!item.variants.get(locale)?.staged) throw notFound();
        return { item, locale };
      });
    });
    const events: ItemEvent[] = [];
    for (const { item, locale } of planned) {
      const variant = item.variants.get(locale)!;
      const slug = variant.staged?.fieldData.slug;
      delete variant.staged;
      if (this.options.keepDeletedUntilSitePublish && variant.live) {
        if (typeof slug === 'string') {
          const set = this.reserved.get(collection.id) ?? new Set<string>();
          set.add(`${locale}\0${slug}`);
          this.reserved.set(collection.id, set);
        }
      } else {
        item.variants.delete(locale);
      }
      if (item.variants.size === 0) this.items.get(collection.id)!.delete(item.id);
      events.push({
        triggerType: 'collection_item_deleted',
        collectionId: collection.id,
        item: { id: item.id },
      });
    }
    return events;
  }

  private checkBulk(targets: LocaleTarget[]): void {
    if (targets.length === 0)
      throw validationError([{ param: 'items', description: 'At least one item is required' }]);
    // The bulk delete limit is undocumented (§2.7); 100 like the other bulk routes is the safe assumption.
    if (targets.length > BULK_LIMIT) {
      throw validationError([{ param: 'items', description: `At most ${BULK_LIMIT} items per request` }]);
    }
  }

  /**
   * `POST /items/publish` (§2.8, "Emulator must" 11): staged → live. Per-item failures are strings in `errors`
   * with HTTP 202, never a failed request.
   */
  publish(
    collectionId: string,
    targets: LocaleTarget[],
  ): {
    publishedItemIds: string[];
    errors: string[];
    events: ItemEvent[];
  } {
    const collection = this.collection(collectionId);
    this.checkBulk(targets);
    const at = this.now();
    const publishedItemIds: string[] = [];
    const errors: string[] = [];
    const events: ItemEvent[] = [];
    for (const t of targets) {
      const item = this.items.get(collection.id)?.get(t.id);
      const locales = this.localeKeys(t.cmsLocaleIds, 'cmsLocaleIds');
      const variants = locales.map((l) => item?.variants.get(l));
      if (!item || variants.some((v) => !v?.staged)) {
        errors.push(`Staging item ID ${t.id} not found.`);
        continue;
      }
      if (variants.some((v) => v!.staged!.isArchived)) {
        errors.push(`Staging item ID ${t.id} is archived and cannot be published.`);
        continue;
      }
      for (const v of variants) this.publishVariant(item.id, collection.id, v!, at, events);
      publishedItemIds.push(item.id);
    }
    return { publishedItemIds, errors, events };
  }

  private publishVariant(
    id: string,
    collectionId: string,
    v: Variant,
    at: string,
    events: ItemEvent[],
  ): void {
    const staged = v.staged!;
    staged.isDraft = false;
    staged.lastPublished = at;
    v.live = copyOf(staged);
    events.push({ triggerType: 'collection_item_published', collectionId, item: render(id, v.live) });
  }

  /**
   * Site publish (§9): every "Queued to publish" item goes live, archived ones and deleted ones leave the live
   * site, reserved slugs are freed, and the pending schema change is published.
   */
  publishSite(): ItemEvent[] {
    const at = this.now();
    const events: ItemEvent[] = [];
    for (const [collectionId, table] of this.items) {
      for (const item of [...table.values()]) {
        for (const [locale, v] of [...item.variants]) {
          const staged = v.staged;
          if (!staged) {
            item.variants.delete(locale);
            continue;
          }
          if (staged.isArchived) {
            if (v.live) {
              delete v.live;
              events.push({
                triggerType: 'collection_item_unpublished',
                collectionId,
                item: render(item.id, staged),
              });
            }
            continue;
          }
          const queued =
            !staged.isDraft &&
            (staged.lastPublished === null || staged.lastPublished < staged.lastUpdated || !v.live);
          if (queued) this.publishVariant(item.id, collectionId, v, at, events);
        }
        if (item.variants.size === 0) table.delete(item.id);
      }
    }
    this.reserved.clear();
    this.structureChanged = false;
    return events;
  }

  // ---- reads ----

  getItem(collectionId: string, id: string, live: boolean, cmsLocaleId?: string | null): RenderedItem {
    const collection = this.collection(collectionId);
    const item = this.item(collection.id, id);
    const [locale] = this.localeKeys(cmsLocaleId ? [cmsLocaleId] : undefined);
    const variant = item.variants.get(locale!);
    // O2: the live GET of a never-published item is a 404.
    const copy = live ? variant?.live : variant?.staged;
    if (!copy) throw notFound();
    return render(item.id, copy);
  }

  /** Staged copies (drafts and archived included) or live copies only (§2.4), of the given locales. */
  listCopies(
    collectionId: string,
    live: boolean,
    locales: string[],
  ): Array<{ id: string; seq: number; copy: ItemCopy }> {
    const collection = this.collection(collectionId);
    const out: Array<{ id: string; seq: number; copy: ItemCopy }> = [];
    for (const item of this.items.get(collection.id)!.values()) {
      for (const locale of locales) {
        const v = item.variants.get(locale);
        const copy = live ? v?.live : v?.staged;
        if (copy) out.push({ id: item.id, seq: item.seq, copy });
      }
    }
    return out;
  }

  render(id: string, copy: ItemCopy): RenderedItem {
    return render(id, copy);
  }
}
