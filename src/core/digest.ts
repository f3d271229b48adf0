import { hash } from 'node:crypto';
import type { EntityModel } from './model.js';
import { hasMeta } from './model.js';
import { type NormalizeContext, normalizeField } from './normalize.js';
import { RichTextRead } from './rich-text-read.js';
import type { FieldDigests, Variant } from './types.js';

export { type EntityModel, modelFor } from './model.js';

/** Digest keys of page metadata (title is immutable through the API, status is per locale). */
export const TITLE_KEY = '$title';
export const STATUS_KEY = '$status';

/** JSON with object keys sorted at every level, so key order never changes a digest. */
export function stringifyStable(value: unknown): string {
  if (value === undefined) return 'null';
  // Rich text read from the CMS digests as the Markdown it stands for (CRLF and LF alike, as normalizeText).
  if (value instanceof RichTextRead) return JSON.stringify(value.markdown.replace(/\r\n?/g, '\n'));
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stringifyStable).join(',')}]`;
  const record = value as Record<string, unknown>;
  const entries = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${stringifyStable(record[key])}`);
  return `{${entries.join(',')}}`;
}

/**
 * The manifest's unit of comparison: sha-256 of the stable JSON of a canonical value, first 16 hex chars.
 * One-shot `crypto.hash` (Node ≥ 20.12): same bytes as createHash, ~2.5x faster, and a plan digests every field.
 */
export function digestValue(canonical: unknown): string {
  if (canonical instanceof RichTextRead && canonical.echo !== undefined) return canonical.echo;
  return hash('sha256', stringifyStable(canonical), 'hex').slice(0, 16);
}

/** One digest per model field (a missing field digests as its empty value), plus page/post `$title`/`$status` when set. */
export function digestVariant(variant: Variant, model: EntityModel, ctx: NormalizeContext): FieldDigests {
  const digests: FieldDigests = {};
  for (const [name, spec] of Object.entries(model.fields)) {
    digests[name] = digestValue(normalizeField(spec, variant.fields[name], ctx));
  }
  if (hasMeta(model)) {
    if (variant.meta.title !== undefined) digests[TITLE_KEY] = digestValue(variant.meta.title);
    if (variant.meta.status !== undefined) digests[STATUS_KEY] = digestValue(variant.meta.status);
  }
  return digests;
}
