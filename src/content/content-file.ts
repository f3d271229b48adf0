import { type FieldSpec, filePathOf, type SyncConfig } from '../config/schema.js';
import { SyncError } from '../core/errors.js';
import { counterpart, mapNestedRecords } from '../core/field-tree.js';
import { normalizeField } from '../core/normalize.js';
import { richTextMarkdown } from '../core/rich-text-read.js';
import type { LocalVariant, Variant } from '../core/types.js';
import { type FileLocation, locateFile } from './content-path.js';
import { formatDateLike } from './date-style.js';
import { checkEntityValues, type EntityShape, type ValueSource } from './field-check.js';
import { editJsonText, jsonLineOf, jsonNodeValue, parseJsonSource, renderJsonText } from './json-source.js';
import { applyChanges, getIn, type KeyChange, samePath, startsWithPath } from './key-path.js';
import { restoreLineEndings } from './line-endings.js';
import {
  bodyValue,
  decodeContentBytes,
  lineAt,
  type MarkdownParts,
  replaceBody,
  splitMarkdown,
} from './markdown-split.js';
import { refuseRichTextProblems } from './rich-text-check.js';
import { editTomlMatter, parseTomlMatter } from './toml-frontmatter.js';
import { isPlainObject, valuesEqual } from './value-equal.js';
import { editYamlMatter, parseYamlMatter, renderYamlMatter } from './yaml-frontmatter.js';

interface FileModel extends EntityShape {
  /** Field that receives the Markdown body (page types only). */
  bodyField?: string | undefined;
  /** Collection key field, which must match the file name. */
  keyField?: string | undefined;
}

/**
 * gitOnly key paths of one type: the top-level defaults plus the type's own list. A field of the type
 * wins over a top-level default of the same key (the config check refuses that clash in the type's own list).
 */
function gitOnlyOf(
  config: SyncConfig,
  own: string[] | undefined,
  fields: Record<string, FieldSpec>,
): string[][] {
  const claimed = Object.entries(fields).map(([name, spec]) => filePathOf(name, spec));
  const defaults = (config.gitOnly ?? [])
    .map((key) => key.split('.'))
    .filter((keys) => !claimed.some((path) => startsWithPath(path, keys) || startsWithPath(keys, path)));
  const all = [...defaults, ...(own ?? []).map((key) => key.split('.'))];
  return all.filter((keys, i) => all.findIndex((other) => samePath(other, keys)) === i);
}

function modelFor(location: FileLocation, config: SyncConfig): FileModel {
  const { ref } = location;
  // Post files have their own codec (post-file.ts); entity-file.ts never sends one here.
  if (ref.kind === 'post') throw new SyncError('INTERNAL', `${location.ref.kind} file read as a page`);
  if (ref.kind === 'item') {
    const collection = config.collections[ref.collection]!;
    return {
      label: `collection "${ref.collection}"`,
      fields: collection.fields,
      keyField: collection.keyField,
      gitOnly: gitOnlyOf(config, collection.gitOnly, collection.fields),
      richText: { publicBaseUrl: config.publicBaseUrl },
    };
  }
  if (ref.pageType === '*') {
    const single = config.singlePages[ref.slug]!;
    return {
      label: `single page "${ref.slug}"`,
      fields: single.fields,
      meta: config.pageMeta,
      gitOnly: gitOnlyOf(config, single.gitOnly, single.fields),
      richText: { publicBaseUrl: config.publicBaseUrl },
    };
  }
  const type = config.pageTypes[ref.pageType]!;
  return {
    label: `page type "${ref.pageType}"`,
    fields: type.fields,
    meta: config.pageMeta,
    bodyField: location.format === 'markdown' ? type.bodyField : undefined,
    gitOnly: gitOnlyOf(config, type.gitOnly, type.fields),
    richText: { publicBaseUrl: config.publicBaseUrl },
  };
}

function joinParts(parts: MarkdownParts): string {
  return parts.bom + parts.open + parts.matter + parts.close + parts.separator + parts.body;
}

function readJsonSource(relPath: string, text: string): ValueSource {
  const root = parseJsonSource(relPath, text);
  if (root.kind !== 'object') {
    throw new SyncError('CONTENT_PARSE', 'the file must hold one JSON object of fields', {
      file: relPath,
      line: lineAt(text, root.start),
    });
  }
  return {
    data: jsonNodeValue(root) as Record<string, unknown>,
    lineOf: (path) => jsonLineOf(text, root, path),
  };
}

function readMatterSource(relPath: string, parts: MarkdownParts): ValueSource {
  if (parts.kind === 'yaml') return parseYamlMatter(relPath, parts.matter, parts.matterLine);
  if (parts.kind === 'toml') return parseTomlMatter(relPath, parts.matter, parts.matterLine);
  return { data: {}, lineOf: () => undefined };
}

/** Parse + validate one content file into a LocalVariant (file-form values); errors name file and line. */
export function readContentFile(
  relPath: string,
  bytes: Uint8Array,
  config: SyncConfig,
): { location: FileLocation; variant: LocalVariant } {
  const location = locateFile(relPath, config);
  const text = decodeContentBytes(relPath, bytes);
  const model = modelFor(location, config);
  let source: ValueSource;
  let parts: MarkdownParts | undefined;
  if (location.format === 'json') {
    source = readJsonSource(relPath, text);
  } else {
    parts = splitMarkdown(relPath, text);
    source = readMatterSource(relPath, parts);
  }
  const { fields, meta } = checkEntityValues(relPath, source, model);

  if (parts) {
    const body = bodyValue(parts);
    const bodyLine = lineAt(text, text.length - parts.body.length);
    if (model.bodyField !== undefined) {
      if (Object.hasOwn(source.data, model.bodyField)) {
        throw new SyncError(
          'CONTENT_UNKNOWN_FIELD',
          `field "${model.bodyField}" is the Markdown body of ${model.label}; remove it from the frontmatter`,
          { file: relPath, ...lineOption(source.lineOf([model.bodyField])) },
        );
      }
      fields[model.bodyField] = body;
      if (model.fields[model.bodyField]?.type === 'richtext')
        refuseRichTextProblems(relPath, body, bodyLine, model.richText, model.bodyField);
    } else if (body.trim() !== '') {
      throw new SyncError(
        'CONTENT_UNKNOWN_FIELD',
        `the file has a Markdown body, but ${model.label} has no bodyField to receive it`,
        {
          file: relPath,
          line: bodyLine,
          hint: 'Set "bodyField" for the page type in sync.config.json, or move the text into a frontmatter field.',
        },
      );
    }
  }

  let located = location;
  if (model.keyField !== undefined && location.ref.kind === 'item') {
    const key = fields[model.keyField];
    if (key === undefined || key === null) {
      // The file name carries the key; a file that omits it is still unambiguous.
      fields[model.keyField] = location.ref.key;
    } else if (
      typeof key === 'string' &&
      key !== location.ref.key &&
      key.toLowerCase() === location.ref.key.toLowerCase()
    ) {
      // `fra.json` holding `"cca3": "FRA"` (real data sets name files in lower case): the item is "FRA".
      located = { ...location, ref: { ...location.ref, key } };
    } else if (key !== location.ref.key) {
      throw new SyncError(
        'CONTENT_PATH',
        `"${model.keyField}" is ${JSON.stringify(key)} but the file is named for "${location.ref.key}"`,
        {
          file: relPath,
          ...lineOption(source.lineOf([model.keyField])),
          hint: `Rename the file to ${JSON.stringify(key)}.json or make "${model.keyField}" match the file name.`,
          // The scan (which may look at the folder) drops the rename hint when that name is taken.
          details: { renameTo: `${key}.json` },
        },
      );
    }
  }
  return { location: located, variant: { path: relPath, fields, meta } };
}

/**
 * The location of a file already read (from the scan cache): as locateFile, but an item whose key field
 * differs from its file name only in case is the item its key field names.
 */
export function locateVariant(relPath: string, variant: Variant, config: SyncConfig): FileLocation {
  const location = locateFile(relPath, config);
  if (location.ref.kind !== 'item') return location;
  const keyField = config.collections[location.ref.collection]?.keyField;
  const key = keyField === undefined ? undefined : variant.fields[keyField];
  if (
    typeof key === 'string' &&
    key !== location.ref.key &&
    key.toLowerCase() === location.ref.key.toLowerCase()
  ) {
    return { ...location, ref: { ...location.ref, key } };
  }
  return location;
}

function lineOption(line: number | undefined): { line?: number } {
  return line ? { line } : {};
}

/** A value that reads the same as a missing key (`""`, `[]`, `false`, an all-empty component). */
function isBlank(spec: FieldSpec, value: unknown): boolean {
  const none = { media: {} };
  return valuesEqual(normalizeField(spec, undefined, none), normalizeField(spec, value, none));
}

/**
 * A pulled value (core's canonical form) in the file's own habits: dates in the old value's format and
 * offset, a one-item list as the single scalar the file had, component and repeater members alike.
 */
function inFileStyle(spec: FieldSpec, old: unknown, next: unknown, timezone: string | undefined): unknown {
  switch (spec.type) {
    case 'date':
      return formatDateLike(old, next, timezone);
    case 'list': {
      if (!Array.isArray(next)) return next;
      const olds = Array.isArray(old) ? old : old === undefined || old === null ? [] : [old];
      const items =
        spec.of === 'date' ? next.map((v, i) => formatDateLike(olds[i] ?? olds[0], v, timezone)) : next;
      // `authors: lucasfernog` stays a scalar while the list holds one item.
      return old !== undefined && old !== null && !Array.isArray(old) && items.length === 1
        ? items[0]
        : items;
    }
    case 'component':
    case 'repeater':
      // Rows are sent and pulled whole (butter-api.md §3.6); each row keeps the habits of the row it replaces,
      // a component those of the old component. Picker entries are written as pulled.
      return mapNestedRecords(spec, next, (fields, record, step) =>
        isPlainObject(record) ? membersInFileStyle(fields, counterpart(old, step), record, timezone) : record,
      );
    default:
      return next;
  }
}

/** A component's or row's members in file style; members the old value lacks and the CMS holds empty stay out. */
function membersInFileStyle(
  fields: Record<string, FieldSpec>,
  old: unknown,
  next: Record<string, unknown>,
  timezone: string | undefined,
): Record<string, unknown> {
  const before = isPlainObject(old) ? old : {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(next)) {
    const sub = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (sub && !Object.hasOwn(before, key) && isBlank(sub, value)) continue;
    Object.defineProperty(out, key, {
      value: sub ? inFileStyle(sub, before[key], value, timezone) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * The key changes that write `next` into the file at `path`: a component is edited member by member
 * (keys the file never had and the CMS holds empty stay absent, undeclared members stay), anything else
 * replaced as one value.
 */
function changesFor(
  spec: FieldSpec,
  path: string[],
  old: unknown,
  next: unknown,
  timezone: string | undefined,
): KeyChange[] {
  if (next === null) return [{ path, value: null }];
  if (old === undefined && isBlank(spec, next)) return [];
  if (spec.type === 'component' && isPlainObject(old) && isPlainObject(next)) {
    const out: KeyChange[] = [];
    for (const [name, sub] of Object.entries(spec.fields)) {
      if (!Object.hasOwn(next, name)) continue;
      const oldSub = old[name];
      const none = { media: {} };
      if (
        oldSub !== undefined &&
        valuesEqual(normalizeField(sub, oldSub, none), normalizeField(sub, next[name], none))
      )
        continue;
      out.push(...changesFor(sub, [...path, name], oldSub, next[name], timezone));
    }
    return out;
  }
  return [{ path, value: inFileStyle(spec, old, next, timezone) }];
}

function currentValues(relPath: string, location: FileLocation, text: string, parts?: MarkdownParts) {
  if (location.format === 'json') return readJsonSource(relPath, text).data;
  return parts ? readMatterSource(relPath, parts).data : {};
}

/**
 * Format-preserving edit (STYLE.md): only the keys in `set` change (`null` removes a key; the bodyField
 * replaces the Markdown body). `set` is keyed by field name (and the page metadata keys); a field with a
 * `path` is written at that nested key. Returns `text` itself when nothing changes, so callers can skip
 * the write.
 */
export function editContentFile(
  relPath: string,
  text: string,
  set: Record<string, unknown>,
  config: SyncConfig,
): string {
  const location = locateFile(relPath, config);
  const model = modelFor(location, config);
  const parts = location.format === 'json' ? undefined : splitMarkdown(relPath, text);
  const current = currentValues(relPath, location, text, parts);
  const changes: KeyChange[] = [];
  let newBody: string | undefined;
  for (const [key, raw] of Object.entries(set)) {
    // Rich text pulled from the CMS is written as the Markdown it stands for (issue 11).
    const value = richTextMarkdown(raw);
    if (value === undefined) continue;
    if (parts && key === model.bodyField) {
      if (value !== null && typeof value !== 'string') {
        throw new SyncError('CONTENT_WRONG_TYPE', `the body field "${key}" must be text`, { file: relPath });
      }
      newBody = value ?? '';
      continue;
    }
    const spec = Object.hasOwn(model.fields, key) ? model.fields[key] : undefined;
    if (!spec) {
      changes.push({ path: [key], value }); // page metadata (title, status)
      continue;
    }
    const path = filePathOf(key, spec);
    changes.push(...changesFor(spec, path, getIn(current, path), value, config.timezone));
  }
  if (!parts) return changes.length === 0 ? text : editJsonText(relPath, text, changes);

  return applyMarkdownEdits(relPath, text, parts, changes, newBody);
}

/**
 * A Markdown file with its frontmatter keys changed in place (YAML or TOML, format kept; a file without
 * frontmatter gains a YAML block) and, when `newBody` is given, its body replaced with the file's line
 * endings. Returns `text` itself when nothing changes. Pages, items and posts share it.
 */
export function applyMarkdownEdits(
  relPath: string,
  text: string,
  parts: MarkdownParts,
  changes: KeyChange[],
  newBody: string | undefined,
): string {
  let next = parts;
  if (changes.length > 0) {
    if (parts.kind === 'yaml') {
      next = {
        ...parts,
        matter: editYamlMatter(relPath, parts.matter, parts.matterLine, changes, parts.eol),
      };
    } else if (parts.kind === 'toml') {
      next = {
        ...parts,
        matter: editTomlMatter(relPath, parts.matter, parts.matterLine, changes, parts.eol),
      };
    } else {
      next = addYamlMatter(parts, changes);
    }
  }
  const body = newBody === undefined ? undefined : restoreLineEndings(bodyValue(next), newBody);
  const out = body !== undefined && body !== bodyValue(next) ? replaceBody(next, body) : joinParts(next);
  return out === text ? text : out;
}

/** Give a file without frontmatter a YAML block holding the new keys; the body stays byte-identical. */
function addYamlMatter(parts: MarkdownParts, changes: KeyChange[]): MarkdownParts {
  const data = applyChanges(
    {},
    changes.filter((c) => c.value !== null),
  );
  if (Object.keys(data).length === 0) return parts;
  const matter = renderYamlMatter(data).replace(/\n/g, parts.eol);
  return {
    ...parts,
    kind: 'yaml',
    open: `---${parts.eol}`,
    matter,
    close: `---${parts.eol}`,
    separator: parts.body === '' ? '' : parts.eol,
  };
}

/**
 * Values in the order a new file shows them: meta keys, then model fields (at their `path`, dates in the
 * configured `timezone`), then anything else. Empty text, lists and components are left out.
 */
function orderedValues(
  variant: Variant,
  model: FileModel,
  skip: string | undefined,
  config: SyncConfig,
): Record<string, unknown> {
  const changes: KeyChange[] = [];
  if (model.meta) {
    if (variant.meta.title !== undefined)
      changes.push({ path: [model.meta.titleKey], value: variant.meta.title });
    if (variant.meta.status !== undefined)
      changes.push({ path: [model.meta.statusKey], value: variant.meta.status });
  }
  for (const [key, spec] of Object.entries(model.fields)) {
    const value = variant.fields[key];
    // Empty text and lists stay out; `false` is a choice someone made, so a new file shows it.
    if (key === skip || value === undefined || value === null) continue;
    if (spec.type !== 'boolean' && isBlank(spec, value)) continue;
    changes.push({
      path: filePathOf(key, spec),
      value: inFileStyle(spec, undefined, value, config.timezone),
    });
  }
  for (const [key, value] of Object.entries(variant.fields)) {
    if (!Object.hasOwn(model.fields, key) && key !== skip && value !== undefined && value !== null)
      changes.push({ path: [key], value });
  }
  return applyChanges({}, changes);
}

/** A brand-new file for a pulled variant: YAML frontmatter + body for Markdown, 2-space JSON otherwise. */
export function renderContentFile(relPath: string, pulled: Variant, config: SyncConfig): string {
  const fields = Object.fromEntries(Object.entries(pulled.fields).map(([k, v]) => [k, richTextMarkdown(v)]));
  const variant: Variant = { ...pulled, fields };
  const location = locateFile(relPath, config);
  const model = modelFor(location, config);
  if (location.format === 'json') return renderJsonText(orderedValues(variant, model, undefined, config));
  const matter = renderYamlMatter(orderedValues(variant, model, model.bodyField, config));
  const body = model.bodyField === undefined ? undefined : variant.fields[model.bodyField];
  const head = `---\n${matter}---\n`;
  return typeof body === 'string' && body !== '' ? `${head}\n${body}\n` : head;
}
