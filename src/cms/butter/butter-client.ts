/**
 * The ButterCMS implementation of the CmsClient port: builds the URLs and bodies of butter-api.md §2–§3
 * and reads the answers into RemotePage / RemoteItem. Transport, rate and retries live in the pipeline.
 */

import { SyncError } from '../../core/errors.js';
import { isRecord } from '../../core/is-record.js';
import type { CallStats } from '../port.js';
import type { ForbiddenReading } from './http-errors.js';
import {
  type ButterPostCalls,
  type CreatePostBody,
  type PostListOptions,
  type PostWriteBody,
  postListQuery,
  type RemoteAuthor,
  type RemotePost,
  readAuthor,
  readPost,
} from './post-wire.js';
import { type ApiRequest, type PipelineOptions, RequestPipeline } from './request-pipeline.js';
import type {
  CmsClient,
  CreateItemBody,
  CreatePageBody,
  ListOptions,
  ReadOptions,
  RemoteItem,
  RemotePage,
  UpdateItemBody,
  UpdatePageBody,
  WriteAccepted,
} from './wire-types.js';

export type { CallEvent } from './request-pipeline.js';

/** The client is its request pipeline's options: base URL, tokens, rate, retries, timeout, call observer. */
export type ButterClientOptions = PipelineOptions;

/** The largest page the list endpoints allow (butter-api.md §2.1, §2.2); one call verifies up to 100 entities. */
const PAGE_SIZE = 100;
/** 100 × 10,000 entities; a `next_page` chain longer than that is a server loop, not content. */
const MAX_LIST_PAGES = 10_000;

/** Makes the ButterCMS client: reads with `auth_token`, writes with `Authorization: Token` (butter-api.md §1.1). */
export function createButterClient(options: ButterClientOptions): CmsClient {
  return new ButterClient(new RequestPipeline(options));
}

/** The same client with the blog calls (butter-api.md §2.5, §3.8), until the port has a place for posts. */
export function createButterBlogClient(options: ButterClientOptions): CmsClient & ButterPostCalls {
  return new ButterClient(new RequestPipeline(options));
}

class ButterClient implements CmsClient, ButterPostCalls {
  readonly #pipeline: RequestPipeline;

  constructor(pipeline: RequestPipeline) {
    this.#pipeline = pipeline;
  }

  async getPage(pageType: string, slug: string, options: ReadOptions = {}): Promise<RemotePage | null> {
    const path = `/pages/${segment(pageType, 'page type')}/${segment(slug, 'slug')}/`;
    const response = await this.#readOrNull({
      method: 'GET',
      path,
      query: readQuery(options),
      entity: `page:${pageType}:${slug}`,
      forbidden: pageType === '*' ? 'ambiguous-slug' : 'credentials',
    });
    if (response === null) return null;
    return readPage(envelopeData(response, path), path);
  }

  async listPages(pageType: string, options: ListOptions = {}): Promise<RemotePage[]> {
    const path = `/pages/${segment(pageType, 'page type')}/`;
    return this.#listAll(path, listQuery(options), `pages:${pageType}`, forbiddenFor(options), (body) => {
      const data = envelopeData(body, path);
      if (!Array.isArray(data)) throw shapeError(path, '"data" is not a list');
      return data.map((raw) => readPage(raw, path));
    });
  }

  async listItems(collection: string, options: ListOptions = {}): Promise<RemoteItem[]> {
    const path = `/content/${segment(collection, 'collection key')}/`;
    return this.#listAll(path, listQuery(options), `items:${collection}`, forbiddenFor(options), (body) => {
      const data = envelopeData(body, path);
      // `data` is an object keyed by collection key holding the array (butter-api.md §2.2), not a bare array.
      const list = Array.isArray(data) ? data : isRecord(data) ? (data[collection] ?? []) : undefined;
      if (!Array.isArray(list)) throw shapeError(path, `"data.${collection}" is not a list`);
      return list.map((raw) => readItem(raw, path));
    });
  }

  async getItem(collection: string, id: number, options: ReadOptions = {}): Promise<RemoteItem | null> {
    const path = `/content/${segment(collection, 'collection key')}/${itemId(id)}/`;
    const response = await this.#readOrNull({
      method: 'GET',
      path,
      query: readQuery(options),
      entity: `item:${collection}#${id}`,
      forbidden: 'credentials',
    });
    if (response === null) return null;
    const data = envelopeData(response, path);
    // Shape unverified (butter-api.md §2.2, newer docs only): `{data: item}` expected; `{data: {key: [item]}}` tolerated.
    if (isRecord(data) && !('meta' in data) && Array.isArray(data[collection])) {
      const first = (data[collection] as unknown[])[0];
      return first === undefined ? null : readItem(first, path);
    }
    return readItem(data, path);
  }

  async createPage(body: CreatePageBody, options: { locale?: string } = {}): Promise<WriteAccepted> {
    return this.#write({
      method: 'POST',
      path: '/pages/',
      query: localeQuery(options.locale),
      body,
      entity: `page:${body.page_type}:${body.slug}`,
    });
  }

  async updatePage(
    pageType: string,
    slug: string,
    body: UpdatePageBody,
    options: { locale?: string } = {},
  ): Promise<WriteAccepted> {
    return this.#write({
      method: 'PATCH',
      path: `/pages/${segment(pageType, 'page type')}/${segment(slug, 'slug')}/`,
      query: localeQuery(options.locale),
      body,
      entity: `page:${pageType}:${slug}`,
    });
  }

  async createItem(body: CreateItemBody): Promise<WriteAccepted> {
    return this.#write({ method: 'POST', path: '/content/', body, entity: `items:${body.key}` });
  }

  async replaceItem(collection: string, id: number, body: UpdateItemBody): Promise<WriteAccepted> {
    return this.#write({
      method: 'PUT',
      path: `/content/${segment(collection, 'collection key')}/${itemId(id)}/`,
      body,
      entity: `item:${collection}#${id}`,
    });
  }

  async patchItem(collection: string, id: number, body: UpdateItemBody): Promise<WriteAccepted> {
    return this.#write({
      method: 'PATCH',
      path: `/content/${segment(collection, 'collection key')}/${itemId(id)}/`,
      body,
      entity: `item:${collection}#${id}`,
    });
  }

  async deleteItem(collection: string, id: number): Promise<void> {
    await this.#pipeline.send({
      method: 'DELETE',
      path: `/content/${segment(collection, 'collection key')}/${itemId(id)}/`,
      entity: `item:${collection}#${id}`,
    });
  }

  // ---- Blog posts (butter-api.md §2.5, §3.8); URLs always end in "/" (§0.2) ----

  async listPosts(options: PostListOptions = {}): Promise<RemotePost[]> {
    const path = '/posts/';
    return this.#listAll(path, postListQuery(options), 'posts', 'credentials', (body) => {
      const data = envelopeData(body, path);
      if (!Array.isArray(data)) throw shapeError(path, '"data" is not a list');
      return data.map((raw) => readPost(raw, path));
    });
  }

  async getPost(
    slug: string,
    options: { preview?: boolean; locale?: string } = {},
  ): Promise<RemotePost | null> {
    const path = `/posts/${segment(slug, 'post slug')}/`;
    const response = await this.#readOrNull({
      method: 'GET',
      path,
      query: readQuery(options),
      entity: `post:${slug}`,
      forbidden: 'credentials',
    });
    if (response === null) return null;
    return readPost(envelopeData(response, path), path);
  }

  async createPost(body: CreatePostBody, options: { locale?: string } = {}): Promise<WriteAccepted> {
    return this.#write({
      method: 'POST',
      path: '/posts/',
      query: localeQuery(options.locale),
      body,
      entity: `post:${body.slug}`,
    });
  }

  async updatePost(
    slug: string,
    body: PostWriteBody,
    options: { locale?: string } = {},
  ): Promise<WriteAccepted> {
    return this.#write({
      method: 'PATCH',
      path: `/posts/${segment(slug, 'post slug')}/`,
      query: localeQuery(options.locale),
      body,
      entity: `post:${slug}`,
    });
  }

  async deletePost(slug: string): Promise<void> {
    await this.#pipeline.send({
      method: 'DELETE',
      path: `/posts/${segment(slug, 'post slug')}/`,
      entity: `post:${slug}`,
    });
  }

  async listAuthors(): Promise<RemoteAuthor[]> {
    const path = '/authors/';
    // Not paginated (§2.5: `{data: [author]}`).
    const { body } = await this.#pipeline.send({
      method: 'GET',
      path,
      entity: 'authors',
      forbidden: 'credentials',
    });
    const data = envelopeData(body, path);
    if (!Array.isArray(data)) throw shapeError(path, '"data" is not a list');
    return data.flatMap((raw) => {
      const author = readAuthor(raw, path);
      return author ? [author] : [];
    });
  }

  stats(): CallStats {
    return this.#pipeline.stats();
  }

  queueDepth(): number {
    return this.#pipeline.queueDepth();
  }

  close(deadlineMs?: number): Promise<void> {
    return this.#pipeline.close(deadlineMs);
  }

  async #readOrNull(req: ApiRequest): Promise<unknown> {
    try {
      return (await this.#pipeline.send(req)).body;
    } catch (error) {
      if (error instanceof SyncError && error.code === 'CMS_NOT_FOUND') return null;
      throw error;
    }
  }

  async #listAll<T>(
    path: string,
    query: Record<string, string>,
    entity: string,
    forbidden: ForbiddenReading,
    pick: (body: unknown) => T[],
  ): Promise<T[]> {
    const all: T[] = [];
    let page = 1;
    for (let calls = 0; calls < MAX_LIST_PAGES; calls++) {
      const { body } = await this.#pipeline.send({
        method: 'GET',
        path,
        query: { ...query, page: String(page), page_size: String(PAGE_SIZE) },
        entity,
        forbidden,
      });
      all.push(...pick(body));
      const next = isRecord(body) && isRecord(body.meta) ? body.meta.next_page : undefined;
      if (next === null || next === undefined) return all;
      if (typeof next !== 'number' || next <= page)
        throw shapeError(path, `"meta.next_page" ${next} does not move on`);
      page = next;
    }
    throw shapeError(path, `more than ${MAX_LIST_PAGES} pages of results`);
  }

  async #write(req: ApiRequest): Promise<WriteAccepted> {
    const { body } = await this.#pipeline.send(req);
    // 202 {"status":"pending"} (butter-api.md §3.0); page updates may add warnings (§3.2, shape unverified).
    const warnings = isRecord(body) && Array.isArray(body.warnings) ? body.warnings.map(String) : undefined;
    return warnings && warnings.length > 0 ? { status: 'pending', warnings } : { status: 'pending' };
  }
}

function readQuery(options: ReadOptions): Record<string, string> {
  const query: Record<string, string> = {};
  if (options.preview) query.preview = '1';
  if (options.locale) query.locale = options.locale;
  if (options.levels !== undefined) query.levels = String(options.levels);
  return query;
}

function listQuery(options: ListOptions): Record<string, string> {
  const query = readQuery(options);
  for (const [field, value] of Object.entries(options.filters ?? {})) query[`fields.${field}`] = value;
  if (options.order) query.order = options.order;
  return query;
}

function localeQuery(locale: string | undefined): Record<string, string> {
  return locale ? { locale } : {};
}

/** With a filter or order, a 403 means a field the type lacks (butter-api.md §1.2), not bad credentials. */
function forbiddenFor(options: ListOptions): ForbiddenReading {
  const filtered = Object.keys(options.filters ?? {}).length > 0 || Boolean(options.order);
  return filtered ? 'bad-filter' : 'credentials';
}

/** A path segment; `.`/`..` would let a remote or file slug climb the URL, so they are refused. */
function segment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..' || /[\u0000-\u001f]/.test(value)) {
    throw new SyncError('CMS_BAD_REQUEST', `${JSON.stringify(value)} is not a valid ${what}`, {
      hint: 'Rename the file or entity; ButterCMS slugs and keys are non-empty and cannot be "." or "..".',
    });
  }
  return encodeURIComponent(value);
}

function itemId(id: number): string {
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new SyncError('CMS_BAD_REQUEST', `${id} is not a valid collection item id`, {
      hint: 'Collection item ids are positive integers (meta.id); the manifest entry may be damaged.',
    });
  }
  return String(id);
}

function shapeError(path: string, problem: string): SyncError {
  return new SyncError('CMS_BAD_RESPONSE', `GET ${path}: unexpected answer, ${problem}`);
}

function envelopeData(body: unknown, path: string): unknown {
  if (!isRecord(body) || !('data' in body)) throw shapeError(path, 'no "data" key');
  return body.data;
}

const PAGE_STATUSES = new Set(['draft', 'published', 'scheduled']);

/** `name` is the title; `page_type` is null for Single Pages; `status`/`scheduled` may be absent (§2.1). */
function readPage(raw: unknown, path: string): RemotePage {
  if (!isRecord(raw) || typeof raw.slug !== 'string') throw shapeError(path, 'a page without a slug');
  const fields = raw.fields ?? {};
  if (!isRecord(fields)) throw shapeError(path, `page ${raw.slug} has "fields" that are not an object`);
  const status = typeof raw.status === 'string' && PAGE_STATUSES.has(raw.status) ? raw.status : undefined;
  return {
    slug: raw.slug,
    name: typeof raw.name === 'string' ? raw.name : '',
    pageType: typeof raw.page_type === 'string' ? raw.page_type : null,
    status: status as RemotePage['status'],
    updated: typeof raw.updated === 'string' ? raw.updated : undefined,
    published: typeof raw.published === 'string' || raw.published === null ? raw.published : undefined,
    fields,
  };
}

/** Items are flat: fields beside `meta: {id}` (butter-api.md §2.2). */
function readItem(raw: unknown, path: string): RemoteItem {
  if (!isRecord(raw) || !isRecord(raw.meta)) throw shapeError(path, 'an item without "meta"');
  const id = typeof raw.meta.id === 'string' ? Number(raw.meta.id) : raw.meta.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id))
    throw shapeError(path, 'an item without a numeric meta.id');
  const { meta: _meta, ...fields } = raw;
  return { id, fields };
}
