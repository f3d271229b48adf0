import { readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import type { FieldSpec, SyncConfig } from '../config/schema.js';
import { type BlogData, BlogStore } from './blog-store.js';
import { blankFields } from './field-values.js';

/**
 * The emulator's content: pages with a published and a draft snapshot per locale (butter-api.md §3.9, §7),
 * items with account-wide integer ids that are never reused and soft delete (§3.5). Optionally persisted
 * to one JSON file, written atomically, debounced, and not at all when unchanged.
 */

export type Status = 'draft' | 'published';

export interface PageSnapshot {
  fields: Record<string, unknown>;
  updated: string;
  published: string | null;
}

export interface PageLocale {
  published?: PageSnapshot;
  draft?: PageSnapshot;
}

export interface PageRecord {
  id: number;
  /** `*` for single pages. */
  pageType: string;
  slug: string;
  title: string;
  locales: Record<string, PageLocale>;
}

export interface ItemRecord {
  id: number;
  collection: string;
  status: Status;
  deleted: boolean;
  /** Only locales that were written; the others read back blank (§2.6). */
  locales: Record<string, Record<string, unknown>>;
}

interface StoreData {
  version: 1;
  nextId: number;
  pages: PageRecord[];
  items: ItemRecord[];
  /** Blog posts, authors, tags and categories; absent in files written before the emulator had posts. */
  blog?: BlogData;
}

const FIRST_ID = 1001;
const SAVE_DEBOUNCE_MS = 50;

let lastMicros = 0;

/** ISO timestamp with microseconds and Z, strictly increasing so `order=-updated` is stable (§2.1). */
export function nowTimestamp(): string {
  lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
  const ms = Math.floor(lastMicros / 1000);
  const micros = String(lastMicros % 1000).padStart(3, '0');
  return `${new Date(ms).toISOString().slice(0, 23)}${micros}Z`;
}

function reportSaveError(error: unknown): void {
  process.emitWarning(`emulator: cannot save the data file: ${String(error)}`);
}

function emptyData(nextId = FIRST_ID): StoreData {
  return { version: 1, nextId, pages: [], items: [] };
}

export class ContentStore {
  private data: StoreData = emptyData();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private lastSaved: string | undefined;
  /** The blog engine's data (blog-store.ts), saved in the same file. */
  readonly blog = new BlogStore(() => this.scheduleSave());

  constructor(
    private model: SyncConfig,
    private readonly dataFile?: string,
  ) {}

  /** The content model (page types, collections, locales) the emulator answers by. */
  get config(): SyncConfig {
    return this.model;
  }

  /**
   * A new content model (an edited config): content already stored stays; routes and field schemas follow
   * the new model from the next request on, as in the dashboard after an editor changes a page type.
   */
  setModel(config: SyncConfig): void {
    this.model = config;
  }

  /** Load the data file when it exists; a missing file is an empty store. */
  async load(): Promise<void> {
    if (!this.dataFile) return;
    let text: string;
    try {
      text = await readFile(this.dataFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed = JSON.parse(text) as StoreData;
    if (parsed.version !== 1 || !Array.isArray(parsed.pages) || !Array.isArray(parsed.items)) {
      throw new Error(`${this.dataFile} is not an emulator data file`);
    }
    const { blog, ...rest } = parsed;
    this.data = rest;
    this.blog.replace(blog);
    this.lastSaved = text;
  }

  get defaultLocale(): string {
    return this.config.locales.default;
  }

  get locales(): string[] {
    return this.config.locales.all;
  }

  /** Schema of a page type, or of a single page (`pageType` `*`, keyed by slug). */
  pageSchema(pageType: string, slug: string): Record<string, FieldSpec> | undefined {
    if (pageType === '*') return this.config.singlePages[slug]?.fields;
    return this.config.pageTypes[pageType]?.fields;
  }

  collectionSchema(collection: string): Record<string, FieldSpec> | undefined {
    return this.config.collections[collection]?.fields;
  }

  allPages(): readonly PageRecord[] {
    return this.data.pages;
  }

  /** Pages with this slug; `*` searches every type (§2.1). */
  findPages(pageType: string, slug: string): PageRecord[] {
    return this.data.pages.filter((p) => p.slug === slug && (pageType === '*' || p.pageType === pageType));
  }

  /** Live items of a collection, in id order. */
  liveItems(collection: string): ItemRecord[] {
    return this.data.items.filter((i) => i.collection === collection && !i.deleted);
  }

  findItem(collection: string, id: number): ItemRecord | undefined {
    return this.data.items.find((i) => i.id === id && i.collection === collection && !i.deleted);
  }

  snapshot(): StoreData {
    return structuredClone({ ...this.data, blog: this.blog.toJSON() });
  }

  /** Empty content; the id counter keeps counting so ids are never reused (§3.5). */
  clear(): void {
    this.data = emptyData(this.data.nextId);
    this.blog.clear();
    this.scheduleSave();
  }

  createPage(p: {
    pageType: string;
    slug: string;
    title: string;
    status: Status;
    locales: Record<string, Record<string, unknown>>;
  }): PageRecord {
    const schema = this.pageSchema(p.pageType, p.slug) ?? {};
    const page: PageRecord = {
      id: this.data.nextId++,
      pageType: p.pageType,
      slug: p.slug,
      title: p.title,
      locales: {},
    };
    for (const [locale, fields] of Object.entries(p.locales)) {
      page.locales[locale] = this.nextVersion(undefined, { ...blankFields(schema), ...fields }, p.status);
    }
    this.data.pages.push(page);
    this.scheduleSave();
    return page;
  }

  /** Merge fields into the latest version of one locale; a draft lands on top of the published version (§3.2). */
  updatePage(page: PageRecord, locale: string, fields: Record<string, unknown>, status: Status): void {
    const current = page.locales[locale];
    const base = current?.draft ?? current?.published;
    const schema = this.pageSchema(page.pageType, page.slug) ?? {};
    const merged = { ...blankFields(schema), ...base?.fields, ...fields };
    page.locales[locale] = this.nextVersion(current, merged, status);
    this.scheduleSave();
  }

  private nextVersion(
    current: PageLocale | undefined,
    fields: Record<string, unknown>,
    status: Status,
  ): PageLocale {
    const updated = nowTimestamp();
    if (status === 'published') return { published: { fields, updated, published: updated } };
    return {
      ...(current?.published ? { published: current.published } : {}),
      draft: { fields, updated, published: current?.published?.published ?? null },
    };
  }

  createItem(
    collection: string,
    status: Status,
    locales: Record<string, Record<string, unknown>>,
  ): ItemRecord {
    const schema = this.collectionSchema(collection) ?? {};
    const item: ItemRecord = { id: this.data.nextId++, collection, status, deleted: false, locales: {} };
    for (const [locale, fields] of Object.entries(locales)) {
      item.locales[locale] = { ...blankFields(schema), ...fields };
    }
    this.data.items.push(item);
    this.scheduleSave();
    return item;
  }

  /** PATCH merges; PUT (`replace`) resets omitted fields to blank (§3.4). Omitted status is kept. */
  updateItem(
    item: ItemRecord,
    locales: Record<string, Record<string, unknown>>,
    opts: { status?: Status | undefined; replace: boolean },
  ): void {
    const schema = this.collectionSchema(item.collection) ?? {};
    for (const [locale, fields] of Object.entries(locales)) {
      const base = opts.replace ? blankFields(schema) : (item.locales[locale] ?? blankFields(schema));
      item.locales[locale] = { ...base, ...fields };
    }
    if (opts.status) item.status = opts.status;
    this.scheduleSave();
  }

  deleteItem(item: ItemRecord): void {
    item.deleted = true;
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (!this.dataFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saving = this.saving.then(() => this.save()).catch(reportSaveError);
    }, SAVE_DEBOUNCE_MS);
  }

  private async save(): Promise<void> {
    if (!this.dataFile) return;
    const text = `${JSON.stringify({ ...this.data, blog: this.blog.toJSON() }, null, 2)}\n`;
    if (text === this.lastSaved) return;
    await writeFileAtomic(this.dataFile, text);
    this.lastSaved = text;
  }

  /** Write any pending change now (used by close). */
  async flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      this.saving = this.saving.then(() => this.save()).catch(reportSaveError);
    }
    await this.saving;
  }
}
