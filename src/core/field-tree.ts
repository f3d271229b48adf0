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
 * What a strict walk (checking a file) does where a value lacks its container's shape: each member throws
 * the walk's own error, in the order the walk meets the values. Without one, such values are kept as they are.
 */
export interface ShapeGuard {
  /** The test for a record (default `isRecord`; a file check also refuses Dates and class instances). */
  isRecord?: (value: unknown) => value is Record<string, unknown>;
  /** The container's value is not a list (repeater, picker) or not a record (component). */
  container(value: unknown): never;
  /** A row or picker entry that is not a record. */
  element(element: unknown, index: number): never;
  /** A picker entry (a record), before its type is looked up: e.g. refuse keys beside `type` and `fields`. */
  entry?(entry: Record<string, unknown>, index: number): void;
  /** A picker entry whose `type` names none of the picker's components. */
  entryType(entry: Record<string, unknown>, index: number): never;
  /** A picker entry whose `fields` are given but are not a record (missing fields read as `{}`). */
  entryFields(fields: unknown, index: number): never;
}

/**
 * A container's value with every nested record replaced by `map(specs, record, step)`. What is not a record
 * where one belongs (a row that is a string, a picker entry without a type, a value that is not a list) is
 * kept as it is, or refused by `guard`; a picker entry of a type the model does not know keeps its fields.
 * A picker entry becomes `{type, fields}`. Its fields must be a record, unless `entryFields: 'empty'` reads a
 * missing one as `{}`. A plain field's value is returned as is.
 */
export function mapNestedRecords(
  spec: FieldSpec,
  value: unknown,
  map: (specs: Record<string, FieldSpec>, record: Record<string, unknown>, step: NestedStep) => unknown,
  options: { entryFields?: 'record' | 'empty'; guard?: ShapeGuard } = {},
): unknown {
  const { guard } = options;
  const recordLike = guard?.isRecord ?? isRecord;
  switch (spec.type) {
    case 'repeater':
      if (!Array.isArray(value)) return guard ? guard.container(value) : value;
      return value.map((row, index) => {
        if (recordLike(row)) return map(spec.fields, row, { kind: 'row', index });
        return guard ? guard.element(row, index) : row;
      });
    case 'component':
      if (recordLike(value)) return map(spec.fields, value, { kind: 'component' });
      return guard ? guard.container(value) : value;
    case 'component-picker':
      if (!Array.isArray(value)) return guard ? guard.container(value) : value;
      return value.map((entry, index) => {
        if (guard) {
          if (!recordLike(entry)) return guard.element(entry, index);
          guard.entry?.(entry, index);
          const type = entry.type;
          const component = typeof type === 'string' ? ownComponent(spec.components, type) : undefined;
          if (typeof type !== 'string' || !component) return guard.entryType(entry, index);
          const fields = entry.fields ?? {};
          if (!recordLike(fields)) return guard.entryFields(fields, index);
          return { type, fields: map(component.fields, fields, { kind: 'entry', index, type }) };
        }
        if (!isRecord(entry) || typeof entry.type !== 'string') return entry;
        const fields = isRecord(entry.fields)
          ? entry.fields
          : options.entryFields === 'empty'
            ? {}
            : undefined;
        if (fields === undefined) return entry;
        const component = ownComponent(spec.components, entry.type);
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

/** A picker's component by name: its own entries only (an entry typed "constructor" names none). */
function ownComponent<T>(components: Record<string, T>, type: string): T | undefined {
  return Object.hasOwn(components, type) ? components[type] : undefined;
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

/** A nested record's place, for messages: `questions[2]`, `seo`, `sections[1].hero`. */
export function nestedPath(path: string, step: NestedStep): string {
  if (step.kind === 'component') return path;
  return step.kind === 'row' ? `${path}[${step.index}]` : `${path}[${step.index}].${step.type}`;
}
