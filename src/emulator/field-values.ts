import { randomInt } from 'node:crypto';
import rehypeParse from 'rehype-parse';
import rehypeStringify from 'rehype-stringify';
import { unified } from 'unified';
import type { FieldSpec } from '../config/schema.js';

/**
 * Field values as the Write API stores them (butter-api.md §3.6, §3.7): references as page slugs or
 * item ids, media as URLs (re-hosted on apply), dates without a timezone (§2.3).
 */

/**
 * Where ButterCMS re-hosts media (butter-api.md §3.7). The emulator keeps its own copy of this wire fact
 * rather than importing the client's, so a test can catch a client that got it wrong (DESIGN.md §4).
 */
const CDN_PREFIX = 'https://cdn.buttercms.com/';

const HANDLE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh CDN URL with a 20-char handle, the shape Butter gives re-hosted media (§3.7). */
export function makeCdnUrl(): string {
  let handle = '';
  for (let i = 0; i < 20; i++) handle += HANDLE_CHARS[randomInt(HANDLE_CHARS.length)];
  return CDN_PREFIX + handle;
}

const wysiwyg = unified().use(rehypeParse, { fragment: true }).use(rehypeStringify).freeze();

/**
 * A WYSIWYG field holds HTML (butter-api.md §2.3) as its editor serialises it, not byte for byte what the
 * Write API was sent (unverified: the docs say nothing on it, so the emulator takes the stricter case a client
 * must survive). It re-serialises: attribute quotes, character references and void tags come back in the
 * editor's spelling (`'x'` → `"x"`, `&amp;` → `&#x26;`, `<br/>` → `<br>`). Plain text without markup reads
 * back unchanged.
 */
export function wysiwygHtml(value: string): string {
  if (!/[<&]/.test(value)) return value;
  return String(wysiwyg.processSync(value));
}

/** The value an unset field reads back as. */
export function blankValue(spec: FieldSpec): unknown {
  switch (spec.type) {
    case 'text':
    case 'richtext':
    case 'color':
    case 'media':
    case 'list':
      return '';
    case 'number':
    case 'date':
      return null;
    case 'boolean':
      return false;
    case 'reference':
      return spec.many ? [] : null;
    case 'repeater':
    case 'component-picker':
      return [];
    case 'component':
      return blankFields(spec.fields);
  }
}

export function blankFields(specs: Record<string, FieldSpec>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, blankValue(s)]));
}

type Problems = Record<string, string[]>;

function addProblem(problems: Problems, key: string, message: string): void {
  const list = problems[key] ?? [];
  list.push(message);
  problems[key] = list;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Content dates carry no timezone (§2.3): date-only gets T00:00:00, an offset is converted to UTC. */
export function normalizeDate(value: string): string | null {
  const trimmed = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) return `${trimmed}T00:00:00`;
  const local = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?(\.\d+)?$/.exec(trimmed);
  if (local) return `${local[1]}T${local[2]}${local[3] ?? ':00'}`;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
    const ms = Date.parse(trimmed.replace(' ', 'T'));
    if (Number.isFinite(ms)) return new Date(ms).toISOString().slice(0, 19);
  }
  return null;
}

function isReferenceToPage(spec: FieldSpec): boolean {
  return spec.type === 'reference' && spec.to === 'page';
}

function normalizeOneRef(spec: FieldSpec, value: unknown): string | number | undefined {
  if (isReferenceToPage(spec)) return typeof value === 'string' && value !== '' ? value : undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

/** Validate one value against its spec; returns the stored form, or records a problem under `key`. */
function normalizeValue(spec: FieldSpec, value: unknown, key: string, problems: Problems): unknown {
  switch (spec.type) {
    case 'richtext':
      if (value === null) return '';
      if (typeof value === 'string') return wysiwygHtml(value);
      addProblem(problems, key, 'Not a valid string.');
      return undefined;
    case 'text':
    case 'color':
    // butter-sync's `list` type is a Long Text field in the dashboard, one value per line (README).
    case 'list':
      if (value === null) return '';
      if (typeof value === 'string') return value;
      addProblem(problems, key, 'Not a valid string.');
      return undefined;
    case 'media':
      if (value === null || value === '') return '';
      if (typeof value === 'string' && /^https?:\/\/\S+$/.test(value)) return value;
      addProblem(problems, key, 'Enter a valid URL.');
      return undefined;
    case 'number':
      if (value === null || value === '') return null;
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        return Number(value);
      addProblem(problems, key, 'A valid number is required.');
      return undefined;
    case 'boolean':
      if (value === null) return false;
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      addProblem(problems, key, 'Must be a valid boolean.');
      return undefined;
    case 'date': {
      if (value === null || value === '') return null;
      const date = typeof value === 'string' ? normalizeDate(value) : null;
      if (date === null) addProblem(problems, key, 'Enter a valid date/time.');
      return date ?? undefined;
    }
    case 'reference': {
      const what = isReferenceToPage(spec) ? 'a page slug' : 'a collection item id';
      if (spec.many) {
        if (value === null || value === '') return [];
        if (!Array.isArray(value)) {
          addProblem(problems, key, `Expected a list of ${what}s.`);
          return undefined;
        }
        const refs = value.map((v) => normalizeOneRef(spec, v));
        if (refs.some((r) => r === undefined)) addProblem(problems, key, `Every entry must be ${what}.`);
        return refs;
      }
      if (value === null || value === '') return null;
      const ref = normalizeOneRef(spec, value);
      if (ref === undefined) addProblem(problems, key, `Expected ${what}.`);
      return ref;
    }
    case 'repeater': {
      if (value === null) return [];
      if (!Array.isArray(value)) {
        addProblem(problems, key, 'Expected a list of rows.');
        return undefined;
      }
      return value.map((row, i) => normalizeNested(spec.fields, row, `${key}[${i}]`, problems, true));
    }
    case 'component':
      if (value === null) return blankFields(spec.fields);
      return normalizeNested(spec.fields, value, key, problems, true);
    case 'component-picker': {
      if (value === null) return [];
      if (!Array.isArray(value)) {
        addProblem(problems, key, 'Expected a list of components.');
        return undefined;
      }
      return value.map((entry, i) => {
        const type = isPlainObject(entry) ? entry.type : undefined;
        const component = typeof type === 'string' ? spec.components[type] : undefined;
        if (!component || !isPlainObject(entry)) {
          addProblem(problems, key, `Entry ${i}: unknown component type.`);
          return undefined;
        }
        return {
          type,
          fields: normalizeNested(component.fields, entry.fields ?? {}, `${key}[${i}]`, problems, true),
        };
      });
    }
  }
}

function normalizeNested(
  specs: Record<string, FieldSpec>,
  value: unknown,
  key: string,
  problems: Problems,
  fillBlanks: boolean,
): Record<string, unknown> {
  if (!isPlainObject(value)) {
    addProblem(problems, key, 'Expected an object.');
    return {};
  }
  const nested: Problems = {};
  const out = normalizeFieldMap(specs, value, nested, fillBlanks);
  for (const [sub, messages] of Object.entries(nested)) {
    for (const m of messages) addProblem(problems, key.split('[')[0] ?? key, `${key}.${sub}: ${m}`);
  }
  return out;
}

function normalizeFieldMap(
  specs: Record<string, FieldSpec>,
  input: Record<string, unknown>,
  problems: Problems,
  fillBlanks: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = fillBlanks ? blankFields(specs) : {};
  for (const [key, value] of Object.entries(input)) {
    const spec = specs[key];
    if (!spec) {
      addProblem(problems, key, 'Unknown field.');
      continue;
    }
    out[key] = normalizeValue(spec, value, key, problems);
  }
  return out;
}

/**
 * Validate a write's field map. Returns the stored form of the given keys only (a partial update);
 * problems come back DRF-style, `{"<field>": ["..."]}`.
 */
export function normalizeFields(
  specs: Record<string, FieldSpec>,
  input: Record<string, unknown>,
): { fields: Record<string, unknown>; problems: Problems } {
  const problems: Problems = {};
  const fields = normalizeFieldMap(specs, input, problems, false);
  return { fields, problems };
}

/** Swap every non-CDN media URL for a fresh CDN handle; run when a write job is applied (§3.7). */
export function rehostMedia(
  specs: Record<string, FieldSpec>,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    const spec = specs[key];
    out[key] = spec ? rehostValue(spec, value) : value;
  }
  return out;
}

function rehostValue(spec: FieldSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'media':
      return typeof value === 'string' && value !== '' && !value.startsWith(CDN_PREFIX)
        ? makeCdnUrl()
        : value;
    case 'repeater':
      return Array.isArray(value)
        ? value.map((row) => (isPlainObject(row) ? rehostMedia(spec.fields, row) : row))
        : value;
    case 'component':
      return isPlainObject(value) ? rehostMedia(spec.fields, value) : value;
    case 'component-picker':
      return Array.isArray(value)
        ? value.map((entry) => {
            const component = isPlainObject(entry) ? spec.components[String(entry.type)] : undefined;
            if (!component || !isPlainObject(entry) || !isPlainObject(entry.fields)) return entry;
            return { type: entry.type, fields: rehostMedia(component.fields, entry.fields) };
          })
        : value;
    default:
      return value;
  }
}

export { isPlainObject };
