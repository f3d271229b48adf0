import type { FieldSpec, SyncConfig } from '../../config/schema.js';
import { collectionOf, encodeList, type IdLookup } from '../../core/api-fields.js';
import { SyncError } from '../../core/errors.js';
import { mapNestedRecords, nestedPath } from '../../core/field-tree.js';
import { isRecord } from '../../core/is-record.js';
import type { EntityModel } from '../../core/model.js';
import { type NormalizeContext, normalizeDate, normalizeField } from '../../core/normalize.js';

/**
 * ButterCMS values ↔ file form, both halves of the wire translation: `fromApiFields` (reads, butter-api.md
 * §2.3, §3.6, §3.7) and `toApiFields`/`toApiBody` (writes: collection references become numeric item ids,
 * page references stay slugs, lists become one Long Text, "" / [] clear; butter-api.md §3.6, §3.7).
 */

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

/* File form → Write API values. */

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
    case 'component':
    case 'component-picker':
      // A list container that holds no list is sent as an empty one.
      if (spec.type !== 'component' && !Array.isArray(value)) return value ?? [];
      return mapNestedRecords(spec, value, (specs, record, step) =>
        translateRecord(specs, record, ids, nestedPath(path, step)),
      );
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
