import type { FieldSpec, SyncConfig } from '../config/schema.js';
import { SyncError } from './errors.js';
import type { EntityRef } from './types.js';

/** The content model of one entity: its fields plus what makes pages and items special. */
export interface EntityModel {
  kind: 'page' | 'item';
  fields: Record<string, FieldSpec>;
  /** Pages: the field that holds the Markdown body. */
  bodyField?: string | undefined;
  /** Items: the field with unique values that names the file and finds new items (butter-api.md §3.3). */
  keyField?: string | undefined;
}

/** Looks up the configured model of an entity; Single Pages (`pageType` `*`) are modelled per slug. */
export function modelFor(ref: EntityRef, config: SyncConfig): EntityModel {
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
