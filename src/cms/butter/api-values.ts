/**
 * File form → ButterCMS Write API values (butter-api.md §3.6, §3.7): collection references become item ids,
 * page references stay slugs, lists become one Long Text, "" / [] clear. The read direction is
 * `core/api-fields.ts` `fromApiFields` (moving here with the read side of the port).
 */

import type { FieldSpec } from '../../config/schema.js';
import { encodeList, type IdLookup } from '../../core/api-fields.js';
import { SyncError } from '../../core/errors.js';
import { isRecord } from '../../core/is-record.js';
import type { EntityModel } from '../../core/model.js';
import { normalizeDate } from '../../core/normalize.js';

function collectionOf(spec: FieldSpec): string | undefined {
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
    return id;
  };
  if (spec.many !== true) return one(value);
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]).map(one);
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
