import type { FieldSpec, SyncConfig } from '../config/schema.js';
import { SyncError } from './errors.js';
import type { EntityRef } from './types.js';

/** The content model of one entity: its fields plus what makes pages, items and posts special. */
export interface EntityModel {
  /** A post, like a page, has a title and a status (`meta`); unlike a page its title is written by updates. */
  kind: 'page' | 'item' | 'post';
  fields: Record<string, FieldSpec>;
  /** Pages: the field that holds the Markdown body. */
  bodyField?: string | undefined;
  /** Items: the field with unique values that names the file and finds new items (butter-api.md §3.3). */
  keyField?: string | undefined;
}

/**
 * A blog post's properties (butter-api.md §2.5, §3.8) as fields, in file form: the same for every account, so
 * the model is fixed rather than configured. Title and status are `meta`, as for pages; `body` is rich text
 * (Markdown in the file, HTML in the CMS, issue 11); `author` is an author's slug or e-mail.
 */
export const POST_FIELDS: Readonly<Record<string, FieldSpec>> = Object.freeze({
  published: { type: 'date' },
  summary: { type: 'text' },
  seo_title: { type: 'text' },
  meta_description: { type: 'text' },
  featured_image: { type: 'media' },
  featured_image_alt: { type: 'text' },
  author: { type: 'text' },
  // Names, not slugs: ButterCMS creates a tag or category from the name on first use (§3.8).
  tags: { type: 'list', of: 'text' },
  categories: { type: 'list', of: 'text' },
  body: { type: 'richtext' },
});

const POST_MODEL: EntityModel = Object.freeze({ kind: 'post', fields: POST_FIELDS, bodyField: 'body' });

/** Does this model carry `meta` (a title and a status)? Pages and posts do, collection items do not. */
export function hasMeta(model: EntityModel): boolean {
  return model.kind !== 'item';
}

/** Looks up the configured model of an entity; Single Pages (`pageType` `*`) are modelled per slug. */
export function modelFor(ref: EntityRef, config: SyncConfig): EntityModel {
  if (ref.kind === 'post') {
    if (!config.posts) {
      throw new SyncError('CONTENT_PATH', 'blog posts are not turned on in sync.config.json', {
        hint: 'Add "posts": {} to sync.config.json to sync blog posts.',
      });
    }
    return POST_MODEL;
  }
  if (ref.kind === 'item') {
    const collection = config.collections[ref.collection];
    if (!collection) throw unknownModel(`collection "${ref.collection}"`);
    return { kind: 'item', fields: collection.fields, keyField: collection.keyField };
  }
  if (ref.pageType === '*') {
    const single = config.singlePages[ref.slug];
    if (!single) throw unknownModel(`single page "${ref.slug}"`);
    return { kind: 'page', fields: single.fields };
  }
  const pageType = config.pageTypes[ref.pageType];
  if (!pageType) throw unknownModel(`page type "${ref.pageType}"`);
  return { kind: 'page', fields: pageType.fields, bodyField: pageType.bodyField };
}

function unknownModel(what: string): SyncError {
  return new SyncError('CONTENT_PATH', `${what} is not configured in sync.config.json`, {
    hint: 'Add it to sync.config.json: the content model lives there, not in the CMS.',
  });
}
