import type { FieldSpec, SyncConfig } from '../../config/schema.js';
import { collectionOf, type IdLookup } from '../../core/api-fields.js';
import { mapNestedRecords } from '../../core/field-tree.js';
import { isRecord } from '../../core/is-record.js';
import type { EntityModel } from '../../core/model.js';
import { type NormalizeContext, normalizeField } from '../../core/normalize.js';

/** ButterCMS read values → file form (butter-api.md §2.3, §3.6, §3.7): the read half of the wire translation. */

/** The list a `list` field's text stands for (the inverse of encodeList; blank lines are ignored). */
export function decodeList(spec: FieldSpec & { type: 'list' }, value: unknown): unknown {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string') return value === undefined || value === null ? [] : [value];
  if (value.trim() === '') return [];
  if (value.trimStart().startsWith('[')) {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string' || typeof v === 'number'))
        return parsed;
    } catch {
      // not JSON: one value per line after all
    }
  }
  const lines = value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (spec.of !== 'number') return lines;
  // A line that is not a number stays text, so it never silently equals a valid value.
  return lines.map((line) => (Number.isFinite(Number(line)) ? Number(line) : line));
}

const ITEM_URI_ID = /\[_id=(\d+)\]/;
const PAGE_URI = /\/v2\/pages\/[^/?#]+\/([^/?#]+)/;

function fromApiReferenceKey(
  collection: string | undefined,
  value: unknown,
  ids: IdLookup,
  config: SyncConfig,
): unknown {
  if (value === undefined || value === null || value === '') return '';
  if (collection !== undefined) {
    const keyField = config.collections[collection]?.keyField;
    let id: number | undefined;
    if (isRecord(value)) {
      const key = keyField === undefined ? undefined : value[keyField];
      if (typeof key === 'string' && key !== '') return key;
      const meta = value.meta;
      if (isRecord(meta) && typeof meta.id === 'number') id = meta.id;
    } else if (typeof value === 'number') {
      id = value;
    } else if (typeof value === 'string') {
      // Past `levels` a reference is a URI string such as "/v2/content/?keys=tags[_id=12]" (butter-api.md §2.3, unverified form).
      const match = ITEM_URI_ID.exec(value);
      if (!match) return value;
      id = Number(match[1]);
    }
    if (id === undefined) return value;
    // An id we cannot map stays visible as its number rather than silently becoming "unset".
    return ids.itemKeyById(collection, String(id)) ?? String(id);
  }
  if (isRecord(value)) return typeof value.slug === 'string' ? value.slug : value;
  if (typeof value === 'string') return PAGE_URI.exec(value)?.[1] ?? value;
  return value;
}

function fromApiValue(spec: FieldSpec, value: unknown, ids: IdLookup, config: SyncConfig): unknown {
  switch (spec.type) {
    case 'list':
      return decodeList(spec, value);
    case 'reference': {
      const collection = collectionOf(spec);
      if (spec.many !== true) return fromApiReferenceKey(collection, value, ids, config);
      if (value === undefined || value === null || value === '') return [];
      const list = Array.isArray(value) ? value : [value];
      return list.map((entry) => fromApiReferenceKey(collection, entry, ids, config));
    }
    case 'repeater':
    case 'component':
    case 'component-picker':
      return mapNestedRecords(spec, value, (specs, record) => fromApiRecord(specs, record, ids, config));
    default:
      return value;
  }
}

function fromApiRecord(
  specs: Record<string, FieldSpec>,
  values: Record<string, unknown>,
  ids: IdLookup,
  config: SyncConfig,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const [name, spec] of Object.entries(specs)) out[name] = fromApiValue(spec, values[name], ids, config);
  return out;
}

/**
 * Read API → file form for every model field: expanded items/pages and URI strings become keys/slugs,
 * CDN media URLs go back to their source URL (butter-api.md §2.3, §3.6, §3.7, §9.5); the result is canonical.
 */
export function fromApiFields(
  apiFields: Record<string, unknown>,
  model: EntityModel,
  ids: IdLookup,
  config: SyncConfig,
  ctx: NormalizeContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(model.fields)) {
    const value = apiFields[name];
    // Rich text is HTML in the CMS and Markdown in the file (issue 11); top-level fields only for now.
    if (spec.type === 'richtext' && ctx.readRichText && typeof value === 'string' && value.trim() !== '')
      out[name] = ctx.readRichText(value);
    else out[name] = normalizeField(spec, fromApiValue(spec, value, ids, config), ctx);
  }
  return out;
}
