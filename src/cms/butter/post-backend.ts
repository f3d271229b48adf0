/**
 * Blog posts behind the port (issue 11 part 2): ButterCMS's blog engine (butter-api.md §2.5 reads, §3.8 writes)
 * in file form, for backend.ts. Reads at the call floor (one GET per post, or the list pages of 100, whichever
 * is cheaper per locale); writes are a POST (create), a PATCH by slug per locale (update, partial), a DELETE;
 * every one answers 202 and is verified by the same read-back as pages and items.
 */

import type { SyncConfig } from '../../config/schema.js';
import { digestValue } from '../../core/digest.js';
import { isSyncError, SyncError } from '../../core/errors.js';
import { normalizeField } from '../../core/normalize.js';
import {
  type EntityKey,
  entityKey,
  type Manifest,
  parseEntityKey,
  type ReadStep,
  type RemoteEntity,
  type Variant,
} from '../../core/types.js';
import type {
  LocaleChange,
  ReadState,
  ReadTarget,
  RemoteSnapshot,
  SnapshotScope,
  UnavailableList,
  WriteIntent,
  WriteReceipt,
} from '../port.js';
import { createPostBody, type PostBodyCodec, postVariant, postWriteBody } from './post-mapping.js';
import type { ButterPostCalls, RemoteAuthor, RemotePost } from './post-wire.js';

/** `GET /v2/posts/` pages at 100 (§2.5, like the other lists). */
const LIST_PAGE_SIZE = 100;
const WHAT = 'blog posts';

/**
 * The body arrives here as HTML already (sync/apply-plan.ts converts every rich-text field before the write),
 * and leaves as HTML (the read below hands it to the rich-text map): the mapping's codec is the identity.
 */
const HTML_AS_IS: PostBodyCodec = { toHtml: (html) => html, toMarkdown: (html) => html };

export function isPostKey(entity: EntityKey): boolean {
  return entity.startsWith('post:');
}

function slugOf(entity: EntityKey): string {
  const ref = parseEntityKey(entity);
  if (ref.kind !== 'post') throw new SyncError('INTERNAL', `${entity} is not a post`);
  return ref.slug;
}

/** Posts the manifest has in this locale (a post list holds only the posts with a version there). */
function postCount(locale: string, manifest: Manifest, targets: ReadTarget[], countTargets: boolean): number {
  const keys = new Set<EntityKey>();
  for (const [key, entity] of Object.entries(manifest.entities)) {
    const slot = entity.locales[locale];
    if (isPostKey(key) && slot && Object.keys(slot.base).length > 0) keys.add(key);
  }
  if (countTargets) {
    for (const target of targets)
      if (isPostKey(target.entity) && target.locales.includes(locale)) keys.add(target.entity);
  }
  return keys.size;
}

/** The call floor for posts, per locale: one GET per post, or ⌈posts/100⌉ list pages, whichever is fewer. */
export function planPostReads(
  targets: ReadTarget[],
  manifest: Manifest,
  purpose: 'before' | 'verify' = 'before',
): ReadStep[] {
  const byLocale = new Map<string, Set<EntityKey>>();
  for (const target of targets) {
    if (!isPostKey(target.entity)) continue;
    for (const locale of target.locales) {
      const set = byLocale.get(locale) ?? new Set<EntityKey>();
      set.add(target.entity);
      byLocale.set(locale, set);
    }
  }
  const steps: ReadStep[] = [];
  for (const [locale, entities] of byLocale) {
    const size = postCount(locale, manifest, targets, purpose === 'verify');
    const listCalls = Math.max(1, Math.ceil(size / LIST_PAGE_SIZE));
    const how = listCalls < entities.size ? 'list' : 'get';
    steps.push({
      what: WHAT,
      kind: 'posts',
      name: 'posts',
      locale,
      how,
      entities: [...entities].sort(),
      calls: how === 'list' ? listCalls : entities.size,
    });
  }
  return steps.sort((a, b) => a.locale.localeCompare(b.locale));
}

/**
 * The file names an author by slug or e-mail (§3.8 takes both); ButterCMS answers with the author object. The
 * file form is the e-mail where the file said the e-mail (its base or a write being verified shows that),
 * else the slug: so a file naming its author by e-mail neither drifts on a pull nor fails its read-back.
 */
function authorAsFiled(author: RemoteAuthor, entity: EntityKey, locale: string, manifest: Manifest): string {
  if (author.email === '') return author.slug;
  const digest = digestValue(normalizeField({ type: 'text' }, author.email, { media: {} }));
  const filed = [
    manifest.entities[entity]?.locales[locale]?.base.author,
    ...manifest.pending.filter((p) => p.entity === entity).map((p) => p.expect[locale]?.author),
  ];
  return filed.includes(digest) ? author.email : author.slug;
}

/** One post in one locale, in file form (rich text through the manifest's map). */
function fileForm(post: RemotePost, entity: EntityKey, locale: string, state: ReadState): Variant {
  const author = post.author ? authorAsFiled(post.author, entity, locale, state.manifest) : undefined;
  const variant = postVariant(post, HTML_AS_IS, author);
  const html = variant.fields.body;
  if (typeof html === 'string' && html.trim() !== '' && state.readRichText) {
    variant.fields.body = state.readRichText(html);
  }
  return variant;
}

function addVariant(remote: Map<EntityKey, RemoteEntity>, slug: string, locale: string, variant: Variant) {
  const ref = { kind: 'post', slug } as const;
  const key = entityKey(ref);
  const entity: RemoteEntity = remote.get(key) ?? { key, ref, locales: {} };
  entity.locales[locale] = variant;
  remote.set(key, entity);
}

const preview = true; // drafts too (§7): without preview a draft would look deleted

/** What the planned post reads found; `read` is every target entity × locale looked at, found or not. */
export async function runPostReads(
  client: ButterPostCalls,
  state: ReadState,
  steps: ReadStep[],
): Promise<{
  remote: Map<EntityKey, RemoteEntity>;
  read: Map<EntityKey, Set<string>>;
  unavailable: UnavailableList[];
}> {
  const remote = new Map<EntityKey, RemoteEntity>();
  const read = new Map<EntityKey, Set<string>>();
  const unavailable: UnavailableList[] = [];
  await Promise.all(
    steps.map(async (step) => {
      const { locale } = step;
      const wanted = new Set(step.entities);
      for (const entity of step.entities) read.set(entity, (read.get(entity) ?? new Set()).add(locale));
      try {
        if (step.how === 'list') {
          for (const post of await client.listPosts({ preview, locale })) {
            const key = entityKey({ kind: 'post', slug: post.slug });
            if (wanted.has(key)) addVariant(remote, post.slug, locale, fileForm(post, key, locale, state));
          }
          return;
        }
        await Promise.all(
          step.entities.map(async (entity) => {
            const slug = slugOf(entity);
            const post = await client.getPost(slug, { preview, locale });
            if (post) addVariant(remote, slug, locale, fileForm(post, entity, locale, state));
          }),
        );
      } catch (error) {
        if (step.how !== 'list' || !isSyncError(error) || error.code !== 'CMS_NOT_FOUND') throw error;
        if (!unavailable.length) unavailable.push({ kind: 'posts', name: 'posts', error });
      }
    }),
  );
  return { remote, read, unavailable };
}

/**
 * The posts of a scope: every post in every locale (the list, ⌈n/100⌉ calls per locale) unless the scope says
 * `postList: false`, plus the posts a webhook named (one GET per locale each), which count as covered.
 */
export async function readPostScope(
  client: ButterPostCalls,
  config: SyncConfig,
  state: ReadState,
  scope: SnapshotScope,
): Promise<Pick<RemoteSnapshot, 'remote' | 'covered' | 'unavailable'>> {
  const remote = new Map<EntityKey, RemoteEntity>();
  const covered = new Set<EntityKey>();
  const unavailable: UnavailableList[] = [];
  if (!config.posts) return { remote, covered, unavailable };
  const locales = config.locales.all;
  const listAll = scope.postList ?? true;
  if (listAll) {
    try {
      const lists = await Promise.all(locales.map((locale) => client.listPosts({ preview, locale })));
      for (const [index, posts] of lists.entries()) {
        const locale = locales[index]!;
        for (const post of posts) {
          const key = entityKey({ kind: 'post', slug: post.slug });
          addVariant(remote, post.slug, locale, fileForm(post, key, locale, state));
        }
      }
    } catch (error) {
      if (!isSyncError(error) || error.code !== 'CMS_NOT_FOUND') throw error;
      unavailable.push({ kind: 'posts', name: 'posts', error });
    }
    return { remote, covered, unavailable };
  }
  for (const slug of new Set(scope.posts ?? [])) {
    const key = entityKey({ kind: 'post', slug });
    covered.add(key);
    for (const locale of locales) {
      const post = await client.getPost(slug, { preview, locale });
      if (post) addVariant(remote, slug, locale, fileForm(post, key, locale, state));
    }
  }
  return { remote, covered, unavailable };
}

/** One request of a post write. */
type PostRequest =
  | { kind: 'create'; locale: string; change: LocaleChange }
  | { kind: 'update'; locale: string; change: LocaleChange; properties: string[] }
  | { kind: 'delete' };

/** The locales of an intent, the default locale first (a create is made there, the others are added to it). */
function localesOf(intent: WriteIntent, defaultLocale: string): string[] {
  return Object.keys(intent.locales).sort((a, b) =>
    a === defaultLocale ? -1 : b === defaultLocale ? 1 : a.localeCompare(b),
  );
}

/** An intent as its requests (pure: `estimate` counts them, so plan = run). */
export function shapePostWrite(intent: WriteIntent, defaultLocale: string): PostRequest[] {
  if (intent.kind === 'delete') return [{ kind: 'delete' }];
  const locales = localesOf(intent, defaultLocale);
  return locales.map((locale, index) => {
    const change = intent.locales[locale]!;
    if (intent.kind !== 'update' && index === 0) return { kind: 'create', locale, change };
    // A locale added after the create, or a partial update: PATCH what changed (everything for a new locale).
    const properties =
      intent.kind === 'update'
        ? [...Object.keys(change.fields), ...(change.title !== undefined ? ['title'] : [])]
        : undefined;
    return {
      kind: 'update',
      locale,
      change,
      properties: properties ?? ['title', ...Object.keys(change.fields)],
    };
  });
}

/** A change as the mapping's variant; an empty author is left out (ButterCMS then uses the account owner). */
function variantOf(change: LocaleChange): Variant {
  const { author, ...fields } = change.fields;
  return {
    meta: {
      ...(change.title !== undefined ? { title: change.title } : {}),
      ...(change.status !== undefined ? { status: change.status } : {}),
    },
    fields: typeof author === 'string' && author !== '' ? { ...fields, author } : fields,
  };
}

/**
 * An author that does not exist is a 400 naming `author` (§3.8: authors are made in the dashboard only): said
 * so plainly, since the failure is listed under the post's file.
 */
function explainRefusal(error: unknown, change: LocaleChange): unknown {
  if (!isSyncError(error) || error.code !== 'CMS_BAD_REQUEST') return error;
  const fieldErrors = (error.details?.fieldErrors ?? {}) as Record<string, unknown>;
  if (!('author' in fieldErrors)) return error;
  const author = change.fields.author;
  return new SyncError(
    'CMS_BAD_REQUEST',
    `ButterCMS has no author ${JSON.stringify(author)}: a post can only name an author that exists`,
    {
      ...(error.details ? { details: error.details } : {}),
      hint: 'Authors are added in the ButterCMS dashboard (Blog Posts > Authors), not through the API. Fix "author" in the file to the slug or e-mail of an existing author, or add the author there.',
      cause: error,
    },
  );
}

/** Send a post intent: every request in order; a DELETE of a post already gone is what it wanted. */
export async function writePost(
  client: ButterPostCalls,
  config: SyncConfig,
  intent: WriteIntent,
): Promise<WriteReceipt> {
  const posts = config.posts;
  if (!posts) throw new SyncError('INTERNAL', `${intent.entity}: blog posts are not turned on`);
  const slug = slugOf(intent.entity);
  const options = { posts, codec: HTML_AS_IS, defaultStatus: config.defaultStatus };
  const at = (locale: string) => (locale === config.locales.default ? {} : { locale });
  let accepted = 0;
  for (const request of shapePostWrite(intent, config.locales.default)) {
    try {
      if (request.kind === 'delete') {
        try {
          await client.deletePost(slug);
        } catch (error) {
          if (isSyncError(error) && error.code === 'CMS_NOT_FOUND') return { state: 'gone' };
          throw error;
        }
      } else if (request.kind === 'create') {
        const body = createPostBody(slug, variantOf(request.change), options);
        await client.createPost(body, at(request.locale)).catch((error: unknown) => {
          throw explainRefusal(error, request.change);
        });
      } else {
        const body = postWriteBody(variantOf(request.change), { ...options, properties: request.properties });
        await client.updatePost(slug, body, at(request.locale)).catch((error: unknown) => {
          throw explainRefusal(error, request.change);
        });
      }
    } catch (error) {
      if (accepted > 0) Object.assign(error as object, { partlySent: true });
      throw error;
    }
    accepted += 1;
  }
  return { state: 'pending' };
}
