import { type FieldSpec, filePathOf } from '../config/schema.js';
import { SyncError } from '../core/errors.js';
import { mapNestedRecords, type NestedStep, type ShapeGuard } from '../core/field-tree.js';
import { normalizeDate } from '../core/normalize.js';
import type { EntityMeta } from '../core/types.js';
import { samePath, startsWithPath } from './key-path.js';
import type { RichTextOptions } from './rich-text.js';
import { refuseRichTextProblems } from './rich-text-check.js';
import { isPlainObject } from './value-equal.js';

type Path = readonly (string | number)[];

/** Parsed top-level values of one file, plus what error messages and YAML type coercion need. */
export interface ValueSource {
  data: Record<string, unknown>;
  /** 1-based file line of the key (or item) at `path`. */
  lineOf(path: Path): number | undefined;
  /** Source text of an unquoted YAML scalar that resolved to a number/boolean (`version: 3.0`). */
  plainScalar?(path: Path): string | undefined;
}

/** What a file may hold: the entity's fields, and the page metadata keys when it is a page. */
export interface EntityShape {
  /** `page type "faq"`, `collection "tags"`: used in messages. */
  label: string;
  fields: Record<string, FieldSpec>;
  meta?: { titleKey: string; statusKey: string } | undefined;
  /** Key paths that stay in the file only (`gitOnly`): skipped, never reported as unknown. */
  gitOnly?: readonly (readonly string[])[] | undefined;
  /** How rich text resolves links; richtext values are checked for what HTML cannot carry (issue 11). */
  richText?: RichTextOptions | undefined;
}

// Files keep whatever date spelling they have (core normalises to the API's `YYYY-MM-DDTHH:mm:ss`, butter-api.md §2.3).
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ].*)?$/;

/** A date normalisation can turn into an instant (`2023-01-29 18:30:22 2023 -0800` cannot). */
function isReadableDate(value: string): boolean {
  const normalized = normalizeDate(value);
  return typeof normalized === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(normalized);
}

/** What a container's value must be, as the error says it. */
const CONTAINER_EXPECTED: Partial<Record<FieldSpec['type'], string>> = {
  repeater: 'a list of rows',
  component: 'a mapping of component fields',
  'component-picker': 'a list of {type, fields} components',
};

/** Where a nested record sits, as steps of a file path: a row `[i]`, a picker entry's `[i].fields`. */
function placeOf(step: NestedStep): Path {
  if (step.kind === 'component') return [];
  return step.kind === 'row' ? [step.index] : [step.index, 'fields'];
}

/** `record[key]` for own keys only: `__proto__` or `constructor` in a file must not reach Object.prototype. */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function pathName(path: Path): string {
  return path
    .map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`))
    .join('');
}

function describeValue(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `the ${typeof value} ${String(value)}`;
}

/** Validates one file's values against the content model and returns fields + meta in file form. */
export function checkEntityValues(
  relPath: string,
  source: ValueSource,
  shape: EntityShape,
): { fields: Record<string, unknown>; meta: EntityMeta } {
  const lineOf = (path: Path): { line?: number } => {
    const line = source.lineOf(path);
    return line ? { line } : {};
  };
  const wrongType = (path: Path, expected: string, value: unknown): SyncError =>
    new SyncError(
      'CONTENT_WRONG_TYPE',
      `field "${pathName(path)}" must be ${expected}, not ${describeValue(value)}`,
      { file: relPath, ...lineOf(path) },
    );
  const unknownField = (path: Path, known: string[]): SyncError =>
    new SyncError(
      'CONTENT_UNKNOWN_FIELD',
      `unknown field "${pathName(path)}" (${shape.label} has: ${known.join(', ') || 'no fields'})`,
      {
        file: relPath,
        ...lineOf(path),
        hint: `Add it to the model's "fields", or list "${pathName(path)}" in "gitOnly" to keep it in the file without syncing it.`,
      },
    );
  const asText = (value: unknown, path: Path): string | undefined => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return source.plainScalar?.(path);
    return undefined;
  };

  const gitOnly = shape.gitOnly ?? [];
  const isGitOnly = (path: Path): boolean =>
    gitOnly.some(
      (keys) => path.every((step) => typeof step === 'string') && samePath(keys, path as string[]),
    );

  const checkObject = (fields: Record<string, FieldSpec>, value: Record<string, unknown>, path: Path) => {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isGitOnly([...path, key])) continue;
      const spec = own(fields, key);
      if (!spec) throw unknownField([...path, key], Object.keys(fields));
      Object.defineProperty(out, key, {
        value: checkValue(spec, item, [...path, key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };

  // The file's own errors where a container's value lacks its shape, in the order the walk meets them.
  const shapeGuard = (spec: FieldSpec, path: Path): ShapeGuard => ({
    isRecord: isPlainObject,
    container: (value) => {
      throw wrongType(path, CONTAINER_EXPECTED[spec.type] ?? 'a container', value);
    },
    element: (element, i) => {
      throw wrongType(
        [...path, i],
        spec.type === 'repeater' ? 'a row of fields' : 'a {type, fields} component',
        element,
      );
    },
    entry: (entry, i) => {
      for (const key of Object.keys(entry)) {
        if (key !== 'type' && key !== 'fields') throw unknownField([...path, i, key], ['type', 'fields']);
      }
    },
    entryType: (entry, i) => {
      const names = spec.type === 'component-picker' ? Object.keys(spec.components) : [];
      throw wrongType([...path, i, 'type'], `one of: ${names.join(', ')}`, entry.type ?? null);
    },
    entryFields: (fields, i) => {
      throw wrongType([...path, i, 'fields'], 'a mapping of fields', fields);
    },
  });

  const checkValue = (spec: FieldSpec, value: unknown, path: Path): unknown => {
    if (value === null) return null;
    switch (spec.type) {
      case 'text':
      case 'richtext':
      case 'color':
      case 'media': {
        const text = asText(value, path);
        if (text === undefined) throw wrongType(path, `${spec.type === 'media' ? 'a URL' : 'text'}`, value);
        if (spec.type === 'richtext' && shape.richText && path.length === 1)
          refuseRichTextProblems(relPath, text, source.lineOf(path) ?? 1, shape.richText, pathName(path));
        return text;
      }
      case 'date':
        // Checked before any call: ButterCMS refuses a date it cannot read with a 400 (butter-api.md §2.3).
        if (typeof value !== 'string' || !DATE.test(value) || !isReadableDate(value)) {
          throw wrongType(path, 'a date like 2024-03-15 or 2024-03-15T14:30:00', value);
        }
        return value;
      case 'list': {
        // A single value where a list is declared (`authors: lucasfernog`) is a one-item list.
        const items = Array.isArray(value) ? value : [value];
        const itemSpec: FieldSpec = { type: spec.of };
        return items.map((item, i) => {
          const at = Array.isArray(value) ? [...path, i] : path;
          if (item === null) throw wrongType(at, `a ${spec.of === 'text' ? 'text' : spec.of}`, item);
          if (Array.isArray(item) || isPlainObject(item))
            throw wrongType(at, `a list of ${spec.of} values`, value);
          return checkValue(itemSpec, item, at);
        });
      }
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(path, 'a number', value);
        return value;
      case 'boolean':
        if (typeof value !== 'boolean') throw wrongType(path, 'true or false', value);
        return value;
      case 'reference': {
        const target = spec.to === 'page' ? 'page slug' : `${spec.to.slice('collection:'.length)} key`;
        if (!spec.many) {
          const key = asText(value, path);
          if (key === undefined) throw wrongType(path, `one ${target}`, value);
          return key;
        }
        if (!Array.isArray(value)) throw wrongType(path, `a list of ${target}s`, value);
        return value.map((item, i) => {
          const key = asText(item, [...path, i]);
          if (key === undefined) throw wrongType([...path, i], `a ${target}`, item);
          return key;
        });
      }
      case 'repeater':
      case 'component':
      // A picker has the same shape as the API's component-picker value: [{type, fields}] (butter-api.md §2.3).
      case 'component-picker':
        return mapNestedRecords(
          spec,
          value,
          (fields, record, step) => checkObject(fields, record, [...path, ...placeOf(step)]),
          { guard: shapeGuard(spec, path) },
        );
    }
  };

  // Where each field lives in the file: its own top-level key, or its `path`.
  const places = Object.entries(shape.fields).map(([name, spec]) => ({
    name,
    spec,
    path: filePathOf(name, spec),
  }));
  const fields: Record<string, unknown> = {};
  const meta: EntityMeta = {};
  const visit = (data: Record<string, unknown>, prefix: string[]): void => {
    for (const [key, value] of Object.entries(data)) {
      const here = [...prefix, key];
      if (isGitOnly(here)) continue;
      const place = places.find((p) => samePath(p.path, here));
      if (place) {
        fields[place.name] = checkValue(place.spec, value, here);
        continue;
      }
      const below = [...places.map((p) => p.path), ...gitOnly].filter(
        (p) => p.length > here.length && startsWithPath(p, here),
      );
      if (below.length > 0) {
        if (value === null) continue;
        if (!isPlainObject(value)) throw wrongType(here, 'a mapping of keys', value);
        visit(value, here);
        continue;
      }
      const known =
        prefix.length === 0
          ? [
              ...(shape.meta ? [shape.meta.titleKey, shape.meta.statusKey] : []),
              ...new Set(places.map((p) => p.path[0]!)),
            ]
          : [
              ...new Set(
                places
                  .filter((p) => p.path.length > prefix.length && startsWithPath(p.path, prefix))
                  .map((p) => p.path[prefix.length]!),
              ),
            ];
      throw unknownField(here, known);
    }
  };
  const top: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source.data)) {
    if (shape.meta && key === shape.meta.titleKey) {
      if (value === null) continue;
      const title = asText(value, [key]);
      if (title === undefined) throw wrongType([key], 'the page title (text)', value);
      meta.title = title;
      continue;
    }
    if (shape.meta && key === shape.meta.statusKey) {
      if (value === null) continue;
      if (value !== 'draft' && value !== 'published') throw wrongType([key], '"draft" or "published"', value);
      meta.status = value;
      continue;
    }
    Object.defineProperty(top, key, { value, enumerable: true, writable: true, configurable: true });
  }
  visit(top, []);
  return { fields, meta };
}
