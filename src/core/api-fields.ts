import type { FieldSpec, SyncConfig } from '../config/schema.js';
import { isRecord } from './is-record.js';
import type { EntityModel } from './model.js';
import { type NormalizeContext, normalizeDate, normalizeField } from './normalize.js';

/** Item id ↔ human key, from the manifest and the latest remote snapshot (items carry only `meta.id`, butter-api.md §2.2). */
export interface IdLookup {
  itemIdByKey(collection: string, key: string): number | undefined;
  itemKeyById(collection: string, id: number): string | undefined;
}

function collectionOf(spec: FieldSpec): string | undefined {
  return spec.type === 'reference' && spec.to.startsWith('collection:')
    ? spec.to.slice('collection:'.length)
    : undefined;
}

/**
 * A `list` field as ButterCMS holds it: one Long Text field, one value per line, so an editor can change
 * it in the dashboard (pages and collections alike; collections cannot hold repeaters, butter-api.md §2).
 * A list a line per value cannot carry losslessly (an empty value, a line break, edge spaces, a leading
 * "[") is held as a JSON array instead, which reads back the same.
 */
export function encodeList(spec: FieldSpec & { type: 'list' }, value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  const items = (Array.isArray(value) ? value : [value]).map((v) =>
    spec.of === 'date' ? normalizeDate(v) : v,
  );
  const texts = items.map((v) => (typeof v === 'string' ? v : String(v)));
  const awkward = texts.some((t) => t === '' || /[\r\n]/.test(t) || t !== t.trim() || t.startsWith('['));
  return awkward ? JSON.stringify(items) : texts.join('\n');
}

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
    return ids.itemKeyById(collection, id) ?? String(id);
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
      return Array.isArray(value)
        ? value.map((row) => (isRecord(row) ? fromApiRecord(spec.fields, row, ids, config) : row))
        : value;
    case 'component':
      return isRecord(value) ? fromApiRecord(spec.fields, value, ids, config) : value;
    case 'component-picker':
      return Array.isArray(value)
        ? value.map((entry) => {
            if (!isRecord(entry) || typeof entry.type !== 'string' || !isRecord(entry.fields)) return entry;
            const component = spec.components[entry.type];
            return {
              type: entry.type,
              fields: component ? fromApiRecord(component.fields, entry.fields, ids, config) : entry.fields,
            };
          })
        : value;
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
