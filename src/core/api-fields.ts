import type { FieldSpec } from '../config/schema.js';
import { SyncError } from './errors.js';
import { isRecord } from './is-record.js';
import type { EntityModel } from './model.js';
import { normalizeDate } from './normalize.js';
import type { RemoteId } from './types.js';

/** Item id ↔ human key, from the manifest and the latest remote snapshot (items carry only `meta.id`, butter-api.md §2.2). */
export interface IdLookup {
  itemIdByKey(collection: string, key: string): RemoteId | undefined;
  itemKeyById(collection: string, id: RemoteId): string | undefined;
}

/** The collection a reference field points to; undefined for a page reference. */
export function collectionOf(spec: FieldSpec): string | undefined {
  return spec.type === 'reference' && spec.to.startsWith('collection:')
    ? spec.to.slice('collection:'.length)
    : undefined;
}

function toApiReference(
  spec: FieldSpec & { type: 'reference' },
  value: unknown,
  ids: IdLookup,
  path: string,
): unknown {
  const collection = collectionOf(spec);
  const one = (key: unknown): unknown => {
    if (key === undefined || key === null || key === '') return '';
    // Page references are written as slugs (butter-api.md §3.6).
    if (collection === undefined || typeof key !== 'string') return key;
    const id = ids.itemIdByKey(collection, key);
    if (id === undefined) {
      throw new SyncError(
        'CONTENT_WRONG_TYPE',
        `field "${path}" references ${collection} item "${key}", which exists neither in ButterCMS nor in the files`,
        { hint: `Add collections/${collection}/${key}.json or fix the reference.`, details: { field: path } },
      );
    }
    // ButterCMS writes a collection reference as the item's numeric meta.id (butter-api.md §3.6).
    return Number(id);
  };
  if (spec.many !== true) return one(value);
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]).map(one);
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

function toApiValue(spec: FieldSpec, value: unknown, ids: IdLookup, path: string): unknown {
  switch (spec.type) {
    case 'reference':
      return toApiReference(spec, value, ids, path);
    case 'list':
      return encodeList(spec, value);
    case 'date':
      return normalizeDate(value);
    case 'number':
      // (unverified) the create docs say to send "" for every field left empty (butter-api.md §3.1).
      return value === null || value === undefined ? '' : value;
    case 'repeater':
      if (!Array.isArray(value)) return value ?? [];
      return value.map((row, i) =>
        isRecord(row) ? translateRecord(spec.fields, row, ids, `${path}[${i}]`) : row,
      );
    case 'component':
      return isRecord(value) ? translateRecord(spec.fields, value, ids, path) : value;
    case 'component-picker':
      if (!Array.isArray(value)) return value ?? [];
      return value.map((entry, i) => {
        if (!isRecord(entry) || typeof entry.type !== 'string' || !isRecord(entry.fields)) return entry;
        const component = spec.components[entry.type];
        return {
          type: entry.type,
          fields: component
            ? translateRecord(component.fields, entry.fields, ids, `${path}[${i}].${entry.type}`)
            : entry.fields,
        };
      });
    default:
      return value ?? '';
  }
}

function translateRecord(
  specs: Record<string, FieldSpec>,
  values: Record<string, unknown>,
  ids: IdLookup,
  at: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = specs[name];
    out[name] = spec ? toApiValue(spec, value, ids, at ? `${at}.${name}` : name) : value;
  }
  return out;
}

/**
 * File form → Write API values for the fields given (bodies are minimal): collection references become
 * item ids, page references stay slugs, "" / [] clear (butter-api.md §3.6); media is sent as given (§3.7).
 * An unknown item key throws CONTENT_WRONG_TYPE naming the field (plans create targets first).
 */
export function toApiFields(
  fields: Record<string, unknown>,
  model: EntityModel,
  ids: IdLookup,
): Record<string, unknown> {
  return translateRecord(model.fields, fields, ids, '');
}

/** True when `fields` is the multi-locale shape `{en: {...}, es: {...}}` (butter-api.md §3.1, §3.4). */
export function isLocaleNested(
  fields: Record<string, unknown>,
  model: EntityModel,
  locales: readonly string[],
): boolean {
  const keys = Object.keys(fields);
  return (
    keys.length > 0 &&
    keys.every((key) => locales.includes(key) && !(key in model.fields) && isRecord(fields[key]))
  );
}

/** toApiFields for a body's `fields`, flat or nested by locale. */
export function toApiBodyFields(
  fields: Record<string, unknown>,
  model: EntityModel,
  ids: IdLookup,
  locales: readonly string[],
): Record<string, unknown> {
  if (!isLocaleNested(fields, model, locales)) return toApiFields(fields, model, ids);
  return Object.fromEntries(
    Object.entries(fields).map(([locale, values]) => [
      locale,
      toApiFields(values as Record<string, unknown>, model, ids),
    ]),
  );
}

/** A plan body (file form) → the body to send; handles create-item's `fields: [ {...} ]` array (butter-api.md §3.3). */
export function toApiBody<T extends { fields?: Record<string, unknown> | [Record<string, unknown>] }>(
  body: T,
  model: EntityModel,
  ids: IdLookup,
  locales: readonly string[],
): T {
  const fields = body.fields;
  if (fields === undefined) return body;
  if (Array.isArray(fields)) {
    return { ...body, fields: [toApiBodyFields(fields[0], model, ids, locales)] };
  }
  return { ...body, fields: toApiBodyFields(fields, model, ids, locales) };
}
