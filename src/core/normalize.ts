import type { FieldSpec } from '../config/schema.js';
import { mapNestedRecords } from './field-tree.js';
import type { EntityModel } from './model.js';
import type { Variant } from './types.js';

/** What normalisation needs from the manifest. */
export interface NormalizeContext {
  /** Hosted URL → source URL: a CMS that re-hosts media reads back a URL never equal to the one written (butter-api.md §3.7). */
  media: Record<string, string>;
  /**
   * Turns a rich-text field's HTML read from the CMS into its file form (a RichTextRead), with the manifest's
   * rich-text map (issue 11); absent where only file values are normalised.
   */
  readRichText?: ((html: string) => unknown) | undefined;
}

const DATE_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function formatUtc(date: Date): string {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

function zoneOffsetMinutes(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}

/**
 * A date field as ButterCMS stores it: `YYYY-MM-DDTHH:mm:ss`, no zone (butter-api.md §2.3, §6.3).
 * Date-only → midnight; a zoned instant → UTC; fractions dropped. Unparseable text is returned as is,
 * so it never silently equals a valid date.
 */
export function normalizeDate(value: unknown): unknown {
  if (value === undefined || value === null) return '';
  // Date objects (smol-toml's TomlDate; `yaml` keeps YAML 1.2 dates as strings) keep the wall clock in UTC fields.
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : formatUtc(value);
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '') return '';
  const m = DATE_PATTERN.exec(text);
  if (!m) return value;
  const [, y, mo, d, h = '0', mi = '0', s = '0', zone] = m;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const date = new Date(utc - (zone ? zoneOffsetMinutes(zone) : 0) * 60_000);
  if (Number.isNaN(date.getTime())) return value;
  // Reject rollovers such as 2024-02-31 instead of turning them into another day.
  const check = new Date(utc);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23)
    return value;
  return formatUtc(date);
}

function normalizeText(value: unknown): unknown {
  if (value === undefined || value === null) return '';
  // CRLF files and the API's LF text are the same content.
  if (typeof value === 'string') return value.replace(/\r\n?/g, '\n');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value;
}

function normalizeNumber(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return value;
}

function normalizeBoolean(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return false;
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (typeof value === 'number') return value !== 0;
  return value;
}

function normalizeMedia(value: unknown, ctx: NormalizeContext): unknown {
  if (value === undefined || value === null) return '';
  // `alt_media_text=1` reads give `{url, alt}` (butter-api.md §2.3).
  const url =
    typeof value === 'object' && typeof (value as { url?: unknown }).url === 'string'
      ? (value as { url: string }).url
      : value;
  if (typeof url !== 'string') return url;
  return ctx.media[url] ?? url;
}

function normalizeReferenceKey(value: unknown): unknown {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return String(value);
  return value;
}

function normalizeReference(many: boolean, value: unknown): unknown {
  if (!many) return normalizeReferenceKey(value);
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map(normalizeReferenceKey).filter((key) => key !== '');
}

/** Every declared sub-field, normalised; undeclared keys are dropped (the model defines what syncs). */
export function normalizeFields(
  specs: Record<string, FieldSpec>,
  values: Record<string, unknown>,
  ctx: NormalizeContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = normalizeField(spec, values[name], ctx);
  return out;
}

/**
 * The canonical value of a field, used for digests and comparisons on both sides, so that a value that
 * means the same thing (CRLF vs LF, `"5"` vs `5`, a date with a zone, a re-hosted media URL) digests the same.
 */
export function normalizeField(spec: FieldSpec, value: unknown, ctx: NormalizeContext): unknown {
  switch (spec.type) {
    case 'text':
    case 'richtext':
    case 'color':
      return normalizeText(value);
    case 'number':
      return normalizeNumber(value);
    case 'boolean':
      return normalizeBoolean(value);
    case 'date':
      return normalizeDate(value);
    case 'list': {
      // A single scalar where a list is declared (`authors: lucasfernog`) is a one-item list.
      if (value === undefined || value === null || value === '') return [];
      const item: FieldSpec = { type: spec.of };
      return (Array.isArray(value) ? value : [value]).map((v) => normalizeField(item, v, ctx));
    }
    case 'media':
      return normalizeMedia(value, ctx);
    case 'reference':
      return normalizeReference(spec.many === true, value);
    case 'repeater':
    case 'component':
    case 'component-picker': {
      if (value === undefined || value === null || value === '')
        return spec.type === 'component' ? normalizeFields(spec.fields, {}, ctx) : [];
      // A picker entry without fields has every field empty.
      return mapNestedRecords(spec, value, (specs, record) => normalizeFields(specs, record, ctx), {
        entryFields: 'empty',
      });
    }
  }
}

/** A variant with every model field present and canonical; meta is kept as is. */
export function normalizeVariant(variant: Variant, model: EntityModel, ctx: NormalizeContext): Variant {
  return { fields: normalizeFields(model.fields, variant.fields, ctx), meta: { ...variant.meta } };
}
