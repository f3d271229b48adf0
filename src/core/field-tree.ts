import type { FieldSpec } from '../config/schema.js';
import { isRecord } from './is-record.js';

/**
 * The shape of nested fields, written once (review-architecture.md §8): a repeater is a list of rows, a
 * component one record, a component picker a list of `{type, fields}` entries whose type names the component.
 * Each walk decides what it does with one record; these functions know where the records are.
 */

/** Where a nested record sits in its container's value. */
export type NestedStep =
  | { kind: 'row'; index: number }
  | { kind: 'component' }
  | { kind: 'entry'; index: number; type: string };

/** The record specs a container field can hold (none for a plain field): for "does anything inside hold X". */
export function nestedSpecs(spec: FieldSpec): Array<Record<string, FieldSpec>> {
  switch (spec.type) {
    case 'repeater':
    case 'component':
      return [spec.fields];
    case 'component-picker':
      return Object.values(spec.components).map((component) => component.fields);
    default:
      return [];
  }
}

/** Is this a field whose value holds records (repeater, component, component picker)? */
export function isContainer(spec: FieldSpec): boolean {
  return spec.type === 'repeater' || spec.type === 'component' || spec.type === 'component-picker';
}

/**
 * A container's value with every nested record replaced by `map(specs, record, step)`. What is not a record
 * where one belongs (a row that is a string, a picker entry without a type, a value that is not a list) is
 * kept as it is; a picker entry of a type the model does not know keeps its fields. A picker entry becomes
 * `{type, fields}`. Its fields must be a record, unless `entryFields: 'empty'` reads a missing one as `{}`.
 * A plain field's value is returned as is.
 */
export function mapNestedRecords(
  spec: FieldSpec,
  value: unknown,
  map: (specs: Record<string, FieldSpec>, record: Record<string, unknown>, step: NestedStep) => unknown,
  options: { entryFields?: 'record' | 'empty' } = {},
): unknown {
  switch (spec.type) {
    case 'repeater':
      if (!Array.isArray(value)) return value;
      return value.map((row, index) => (isRecord(row) ? map(spec.fields, row, { kind: 'row', index }) : row));
    case 'component':
      return isRecord(value) ? map(spec.fields, value, { kind: 'component' }) : value;
    case 'component-picker':
      if (!Array.isArray(value)) return value;
      return value.map((entry, index) => {
        if (!isRecord(entry) || typeof entry.type !== 'string') return entry;
        const fields = isRecord(entry.fields)
          ? entry.fields
          : options.entryFields === 'empty'
            ? {}
            : undefined;
        if (fields === undefined) return entry;
        const component = spec.components[entry.type];
        return {
          type: entry.type,
          fields: component
            ? map(component.fields, fields, { kind: 'entry', index, type: entry.type })
            : fields,
        };
      });
    default:
      return value;
  }
}

/**
 * Every nested record of a container's value, with its specs and place, in order (known picker types only):
 * the read-only walk, for comparing a value with another of the same shape (`counterpart`).
 */
export function forEachNestedRecord(
  spec: FieldSpec,
  value: unknown,
  visit: (specs: Record<string, FieldSpec>, record: Record<string, unknown>, step: NestedStep) => void,
): void {
  mapNestedRecords(spec, value, (specs, record, step) => {
    visit(specs, record, step);
    return record;
  });
}

/** The record at `step` in another value of the same container (what came back beside what was sent). */
export function counterpart(value: unknown, step: NestedStep): unknown {
  if (step.kind === 'component') return value;
  const item = Array.isArray(value) ? value[step.index] : undefined;
  return step.kind === 'row' ? item : isRecord(item) ? item.fields : undefined;
}
