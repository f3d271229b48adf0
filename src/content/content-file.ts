import type { FieldSpec, SyncConfig } from '../config/schema.js';
import { SyncError } from '../core/errors.js';
import type { LocalVariant, Variant } from '../core/types.js';
import { type FileLocation, locateFile } from './content-path.js';
import { checkEntityValues, type EntityShape, type ValueSource } from './field-check.js';
import { editJsonText, jsonLineOf, jsonNodeValue, parseJsonSource, renderJsonText } from './json-source.js';
import {
  bodyValue,
  decodeContentBytes,
  lineAt,
  type MarkdownParts,
  replaceBody,
  splitMarkdown,
} from './markdown-split.js';
import { editTomlMatter, parseTomlMatter } from './toml-frontmatter.js';
import { editYamlMatter, parseYamlMatter, renderYamlMatter } from './yaml-frontmatter.js';

interface FileModel extends EntityShape {
  /** Field that receives the Markdown body (page types only). */
  bodyField?: string | undefined;
  /** Collection key field, which must match the file name. */
  keyField?: string | undefined;
}

function modelFor(location: FileLocation, config: SyncConfig): FileModel {
  const { ref } = location;
  if (ref.kind === 'item') {
    const collection = config.collections[ref.collection]!;
    return {
      label: `collection "${ref.collection}"`,
      fields: collection.fields,
      keyField: collection.keyField,
    };
  }
  if (ref.pageType === '*') {
    const single = config.singlePages[ref.slug]!;
    return { label: `single page "${ref.slug}"`, fields: single.fields, meta: config.pageMeta };
  }
  const type = config.pageTypes[ref.pageType]!;
  return {
    label: `page type "${ref.pageType}"`,
    fields: type.fields,
    meta: config.pageMeta,
    bodyField: location.format === 'markdown' ? type.bodyField : undefined,
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

  if (model.keyField !== undefined && location.ref.kind === 'item') {
    const key = fields[model.keyField];
    if (key === undefined || key === null) {
      // The file name carries the key; a file that omits it is still unambiguous.
      fields[model.keyField] = location.ref.key;
    } else if (key !== location.ref.key) {
      throw new SyncError(
        'CONTENT_PATH',
        `"${model.keyField}" is ${JSON.stringify(key)} but the file is named for "${location.ref.key}"`,
        {
          file: relPath,
          ...lineOption(source.lineOf([model.keyField])),
          hint: `Rename the file to ${JSON.stringify(key)}.json or make "${model.keyField}" match the file name.`,
        },
      );
    }
  }
  return { location, variant: { path: relPath, fields, meta } };
}

function lineOption(line: number | undefined): { line?: number } {
  return line ? { line } : {};
}

/**
 * Format-preserving edit (STYLE.md): only the keys in `set` change (`null` removes a key; the bodyField
 * replaces the Markdown body). Returns `text` itself when nothing changes, so callers can skip the write.
 */
export function editContentFile(
  relPath: string,
  text: string,
  set: Record<string, unknown>,
  config: SyncConfig,
): string {
  const location = locateFile(relPath, config);
  if (location.format === 'json') return editJsonText(relPath, text, set);

  const { bodyField } = modelFor(location, config);
  const parts = splitMarkdown(relPath, text);
  const matterSet: Record<string, unknown> = {};
  let newBody: string | undefined;
  for (const [key, value] of Object.entries(set)) {
    if (value === undefined) continue;
    if (key === bodyField) {
      if (value !== null && typeof value !== 'string') {
        throw new SyncError('CONTENT_WRONG_TYPE', `the body field "${key}" must be text`, { file: relPath });
      }
      newBody = value ?? '';
    } else {
      matterSet[key] = value;
    }
  }

  let next = parts;
  if (Object.keys(matterSet).length > 0) {
    if (parts.kind === 'yaml') {
      next = {
        ...parts,
        matter: editYamlMatter(relPath, parts.matter, parts.matterLine, matterSet, parts.eol),
      };
    } else if (parts.kind === 'toml') {
      next = {
        ...parts,
        matter: editTomlMatter(relPath, parts.matter, parts.matterLine, matterSet, parts.eol),
      };
    } else {
      next = addYamlMatter(parts, matterSet);
    }
  }
  const out =
    newBody !== undefined && newBody !== bodyValue(next) ? replaceBody(next, newBody) : joinParts(next);
  return out === text ? text : out;
}

/** Give a file without frontmatter a YAML block holding the new keys; the body stays byte-identical. */
function addYamlMatter(parts: MarkdownParts, set: Record<string, unknown>): MarkdownParts {
  const data = Object.fromEntries(Object.entries(set).filter(([, v]) => v !== null));
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

const MIDNIGHT = /^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0+)?$/;

/** Values in the order a new file shows them: meta keys, then model fields, then anything else. */
function orderedValues(
  variant: Variant,
  model: FileModel,
  skip: string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (model.meta) {
    if (variant.meta.title !== undefined) out[model.meta.titleKey] = variant.meta.title;
    if (variant.meta.status !== undefined) out[model.meta.statusKey] = variant.meta.status;
  }
  const put = (key: string, value: unknown, spec: FieldSpec | undefined): void => {
    if (key === skip || value === undefined || value === null) return;
    // Midnight instants of date fields are written date-only, as a writer would type them.
    const midnight = spec?.type === 'date' && typeof value === 'string' ? MIDNIGHT.exec(value) : null;
    out[key] = midnight ? midnight[1] : value;
  };
  for (const [key, spec] of Object.entries(model.fields)) put(key, variant.fields[key], spec);
  for (const [key, value] of Object.entries(variant.fields)) {
    if (!Object.hasOwn(model.fields, key)) put(key, value, undefined);
  }
  return out;
}

/** A brand-new file for a pulled variant: YAML frontmatter + body for Markdown, 2-space JSON otherwise. */
export function renderContentFile(relPath: string, variant: Variant, config: SyncConfig): string {
  const location = locateFile(relPath, config);
  const model = modelFor(location, config);
  if (location.format === 'json') return renderJsonText(orderedValues(variant, model, undefined));
  const matter = renderYamlMatter(orderedValues(variant, model, model.bodyField));
  const body = model.bodyField === undefined ? undefined : variant.fields[model.bodyField];
  const head = `---\n${matter}---\n`;
  return typeof body === 'string' && body !== '' ? `${head}\n${body}\n` : head;
}
