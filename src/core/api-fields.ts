import type { FieldSpec } from '../config/schema.js';
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
