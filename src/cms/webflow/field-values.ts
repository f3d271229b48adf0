import type { FieldSpec } from '../../config/schema.js';
import { htmlToMarkdown, markdownToHtml, type RichTextOptions } from '../../content/rich-text.js';
import { SyncError } from '../../core/errors.js';
import { normalizeDate } from '../../core/normalize.js';
import { RichTextRead } from '../../core/rich-text-read.js';
import type { WebflowCollection, WebflowField, WebflowItem, WebflowSite } from './webflow-client.js';

/**
 * Webflow `fieldData` ↔ file form (webflow-api.md §3). Files hold what a person writes: references as the target
 * item's slug, Option fields as the option's name, images as a URL, rich text as Markdown, dates as
 * `YYYY-MM-DDTHH:mm:ss` instants. Webflow holds item ids, option ids, `{fileId, url, alt}` and HTML. The
 * conversions are pure; what they need from the account (ids, option ids, the media map) comes in a context.
 */

/** Opaque ids of items already known, by entity key `item:<collection>:<slug>`. A `Map` is one. */
export interface IdMap {
  get(key: string): string | undefined;
}

/** The content model of one collection beside its Webflow schema. */
export interface CollectionBinding {
  /** The collection key in sync.config.json (Webflow's collection slug). */
  key: string;
  schema: WebflowCollection;
  fields: Record<string, FieldSpec>;
}

export interface ToWireContext {
  /** Slug → item id for reference targets (entity key `item:<collection>:<slug>`). */
  ids: IdMap;
  /** The manifest's media map, CDN URL → the URL a file holds (both directions are used). */
  media: Readonly<Record<string, string>>;
  richText: RichTextOptions;
  /** Called with each HTML sent and the Markdown it came from, before the request leaves (write-ahead). */
  learnRichText?: ((html: string, markdown: string) => void) | undefined;
  /** Names the entity and its file in errors. */
  where: string;
}

export interface FromWireContext {
  /** Item id → slug per collection key, for reading references back as slugs. */
  slugOf(collection: string, id: string): string | undefined;
  media: Readonly<Record<string, string>>;
  /** HTML → the file-form value (the engine passes one that knows the manifest's rich-text map). */
  readRichText?: ((html: string) => unknown) | undefined;
}

/** Webflow types a config type may stand for (the inverse of read-schema.ts). */
const COMPATIBLE: Record<string, readonly string[]> = {
  text: ['PlainText', 'Link', 'Email', 'Phone', 'VideoLink', 'Option', 'Color'],
  richtext: ['RichText'],
  number: ['Number'],
  boolean: ['Switch'],
  date: ['DateTime', 'Date'],
  color: ['Color', 'PlainText'],
  media: ['Image', 'File'],
};

/**
 * Check a configured collection against the site's schema, so a field Webflow lacks (or types differently)
 * is named with its config path before any write, not as a 400 `validation_error` halfway through a batch.
 */
export function bindCollection(
  key: string,
  schema: WebflowCollection,
  fields: Record<string, FieldSpec>,
): CollectionBinding {
  for (const [name, spec] of Object.entries(fields)) {
    const where = `sync.config.json: collections.${key}.fields.${name}`;
    const field = schema.fields.find((f) => f.slug === name);
    if (!field) {
      throw new SyncError(
        'CONFIG_INVALID',
        `${where}: the Webflow collection "${key}" has no field "${name}"`,
        {
          hint: 'Run `butter-sync init --from-cms webflow --site SITE_ID` again, or fix the field name (Webflow field slugs).',
        },
      );
    }
    const ok =
      spec.type === 'reference'
        ? field.type === (spec.many ? 'MultiReference' : 'Reference')
        : (COMPATIBLE[spec.type] ?? []).includes(field.type);
    if (!ok) {
      throw new SyncError(
        'CONFIG_INVALID',
        `${where}: "${spec.type}${spec.type === 'reference' && spec.many ? ' (many)' : ''}" cannot hold Webflow's ${field.type} field "${name}"`,
        {
          hint: 'Run `butter-sync init --from-cms webflow --site SITE_ID` again to get the types the site has.',
        },
      );
    }
  }
  return { key, schema, fields };
}

const BUILT_IN: FieldSpec = { type: 'text' };

function referenceTarget(spec: FieldSpec): string | undefined {
  return spec.type === 'reference' ? /^collection:(.+)$/.exec(spec.to)?.[1] : undefined;
}

function fieldOf(binding: CollectionBinding, name: string): WebflowField {
  const field = binding.schema.fields.find((f) => f.slug === name);
  if (!field) throw new Error(`unbound field ${binding.key}.${name}`); // bindCollection checked every one
  return field;
}

/** The asset id in a Webflow CDN URL `https://cdn.prod.website-files.com/<siteId>/<fileId>_<name>` (§3 Image). */
export function fileIdOfCdnUrl(url: string): string | undefined {
  return /^https:\/\/[^/]*website-files\.com\/[0-9a-f]{24}\/([0-9a-f]{24})_/.exec(url)?.[1];
}

function isEmpty(value: unknown): boolean {
  return (
    value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
  );
}

/** The result of shaping one locale's changed fields for the wire. */
export interface WireFields {
  fieldData: Record<string, unknown>;
  /** Reference slugs with no known item id yet (`item:<collection>:<slug>` keys), per field. */
  unresolved: Record<string, string[]>;
}

/**
 * File-form fields (only the changed ones) → `fieldData`. Empty values clear the field the way the API itself
 * writes it (§2.6, unverified): `""` for text, `null` for objects, references, options, numbers and dates, `[]`
 * for multi fields. A reference whose target has no id yet is left out and listed in `unresolved`.
 */
export function toFieldData(
  binding: CollectionBinding,
  fields: Record<string, unknown>,
  ctx: ToWireContext,
): WireFields {
  const fieldData: Record<string, unknown> = {};
  const unresolved: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(fields)) {
    // `name` and `slug` are on every collection (§2.2): an intent's title and a create's slug use them unconfigured.
    const spec = binding.fields[name] ?? (name === 'name' || name === 'slug' ? BUILT_IN : undefined);
    if (!spec) {
      throw new SyncError(
        'CONTENT_UNKNOWN_FIELD',
        `${ctx.where}: "${name}" is not a field of collection "${binding.key}"`,
        {
          hint: `Add it to collections.${binding.key}.fields in sync.config.json, or remove it from the file.`,
        },
      );
    }
    const field = fieldOf(binding, name);
    const target = referenceTarget(spec);
    if (target !== undefined) {
      const slugs = (Array.isArray(value) ? value : isEmpty(value) ? [] : [value]).map(String);
      const ids: string[] = [];
      const missing: string[] = [];
      for (const slug of slugs) {
        const id = ctx.ids.get(`item:${target}:${slug}`);
        if (id === undefined) missing.push(`item:${target}:${slug}`);
        else ids.push(id);
      }
      if (missing.length > 0) {
        unresolved[name] = missing;
        continue;
      }
      fieldData[name] = spec.type === 'reference' && spec.many ? ids : (ids[0] ?? null);
      continue;
    }
    fieldData[name] = wireValue(spec, field, value, ctx, name);
  }
  return { fieldData, unresolved };
}

function wireValue(
  spec: FieldSpec,
  field: WebflowField,
  value: unknown,
  ctx: ToWireContext,
  name: string,
): unknown {
  const raw = value;
  switch (field.type) {
    case 'Option': {
      if (isEmpty(raw)) return null;
      const options = field.validations?.options ?? [];
      const option = options.find((o) => o.name === raw) ?? options.find((o) => o.id === raw);
      if (!option) {
        throw new SyncError(
          'CONTENT_WRONG_TYPE',
          `${ctx.where}: "${name}" is "${String(raw)}", not one of its options (${options.map((o) => o.name).join(', ')})`,
          {
            hint: 'Use one of the option names, or add the option in Webflow and run init --from-cms webflow again.',
          },
        );
      }
      return option.id;
    }
    case 'RichText': {
      if (raw instanceof RichTextRead) return raw.html; // a value kept from the CMS goes back as it was read
      if (isEmpty(raw)) return '';
      const markdown = String(raw);
      const html = markdownToHtml(markdown, ctx.richText);
      ctx.learnRichText?.(html, markdown);
      return html;
    }
    case 'Image':
    case 'File': {
      if (isEmpty(raw)) return null;
      const url = String(raw);
      // The file names the source URL; if Webflow already holds it, reuse the asset instead of importing it again.
      const cdn = fileIdOfCdnUrl(url) ? url : Object.keys(ctx.media).find((k) => ctx.media[k] === url);
      const fileId = cdn === undefined ? undefined : fileIdOfCdnUrl(cdn);
      return fileId ? { fileId, url: cdn } : { url };
    }
    case 'Number': {
      if (isEmpty(raw)) return null;
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isFinite(n)) {
        throw new SyncError(
          'CONTENT_WRONG_TYPE',
          `${ctx.where}: "${name}" is "${String(raw)}", not a number`,
        );
      }
      return n;
    }
    case 'Switch':
      return raw === true || raw === 'true';
    case 'DateTime':
    case 'Date': {
      if (isEmpty(raw)) return null;
      const instant = normalizeDate(raw);
      const ms = typeof instant === 'string' ? Date.parse(`${instant}Z`) : Number.NaN;
      if (Number.isNaN(ms)) {
        throw new SyncError('CONTENT_WRONG_TYPE', `${ctx.where}: "${name}" is "${String(raw)}", not a date`);
      }
      return new Date(ms).toISOString();
    }
    default:
      // PlainText, Link, Email, Phone, VideoLink, Color: text; empty text clears with "".
      if (spec.type === 'text' || spec.type === 'color') return isEmpty(raw) ? '' : String(raw);
      return raw;
  }
}

/** What a read of one item variant gives: file-form fields and the references that could not be named. */
export interface FileFields {
  fields: Record<string, unknown>;
  /** Referenced item ids whose slug is unknown, by target collection key. */
  unknownIds: Record<string, string[]>;
}

/** `fieldData` → file form for the configured fields (undeclared keys are dropped: the model defines what syncs). */
export function fromFieldData(
  binding: CollectionBinding,
  fieldData: Record<string, unknown>,
  ctx: FromWireContext,
): FileFields {
  const fields: Record<string, unknown> = {};
  const unknownIds: Record<string, string[]> = {};
  for (const [name, spec] of Object.entries(binding.fields)) {
    const field = fieldOf(binding, name);
    const value = fieldData[name];
    const target = referenceTarget(spec);
    if (target !== undefined) {
      const ids = (Array.isArray(value) ? value : isEmpty(value) ? [] : [value]).map(String);
      const slugs = ids.map((id) => {
        const slug = ctx.slugOf(target, id);
        if (slug === undefined) unknownIds[target] = [...(unknownIds[target] ?? []), id];
        return slug ?? id;
      });
      fields[name] = spec.type === 'reference' && spec.many ? slugs : (slugs[0] ?? '');
      continue;
    }
    fields[name] = fileValue(field, value, ctx);
  }
  return { fields, unknownIds };
}

function fileValue(field: WebflowField, value: unknown, ctx: FromWireContext): unknown {
  switch (field.type) {
    case 'Option': {
      if (isEmpty(value)) return '';
      // An option added in Webflow after the config was written reads as its id (the field check then names it).
      return field.validations?.options?.find((o) => o.id === value)?.name ?? value;
    }
    case 'RichText': {
      const html = typeof value === 'string' ? value : '';
      if (ctx.readRichText) return ctx.readRichText(html);
      return htmlToMarkdown(html).replace(/\n$/, '');
    }
    case 'Image':
    case 'File': {
      const url = typeof value === 'string' ? value : (value as { url?: unknown } | null)?.url;
      if (typeof url !== 'string' || url === '') return '';
      return ctx.media[url] ?? url;
    }
    case 'Number':
      return typeof value === 'number' ? value : null;
    case 'Switch':
      return value === true;
    case 'DateTime':
    case 'Date':
      return isEmpty(value) ? '' : normalizeDate(value);
    default:
      return typeof value === 'string' ? value : isEmpty(value) ? '' : value;
  }
}

/**
 * Media learned from an answer: for each image sent as a URL, the CDN URL Webflow re-hosted it under (§3 Image,
 * §11.7) → the URL the file holds, so the next read maps it back and sees no change.
 */
export function learnMedia(
  binding: CollectionBinding,
  sent: Record<string, unknown>,
  answer: Record<string, unknown>,
): Record<string, string> {
  const learned: Record<string, string> = {};
  for (const [name, value] of Object.entries(sent)) {
    const field = binding.schema.fields.find((f) => f.slug === name);
    if (field?.type !== 'Image' && field?.type !== 'File') continue;
    const source = (value as { url?: unknown; fileId?: unknown } | null)?.url;
    const back = (answer[name] as { url?: unknown } | undefined)?.url;
    if ((value as { fileId?: unknown } | null)?.fileId !== undefined) continue;
    if (typeof source === 'string' && typeof back === 'string' && back !== source) learned[back] = source;
  }
  return learned;
}

export type PublishStatus = 'draft' | 'published';

/**
 * The file's `status` of an item variant (§9): `published` while a live copy exists (`lastPublished` set, as an
 * unpublish resets it, and not archived), else `draft`. Staged edits of a live item are published by the same
 * run, so the staged copy is what the file mirrors.
 */
export function statusOf(item: Pick<WebflowItem, 'lastPublished' | 'isArchived'>): PublishStatus {
  return item.lastPublished !== null && !item.isArchived ? 'published' : 'draft';
}

/**
 * Config locale tags → `cmsLocaleId`s of the site (§7). A site without localization has one locale and the API
 * writes `cmsLocaleId: null`; every configured locale must exist on a localized site.
 */
export function mapLocales(
  site: WebflowSite,
  tags: readonly string[],
  defaultTag: string,
): Map<string, string | null> {
  const siteLocales = [site.locales?.primary, ...(site.locales?.secondary ?? [])].filter(
    (l): l is NonNullable<typeof l> => l !== null && l !== undefined && l.enabled !== false,
  );
  const out = new Map<string, string | null>();
  if (siteLocales.length <= 1) {
    if (tags.length > 1) {
      throw new SyncError(
        'CONFIG_INVALID',
        `sync.config.json: locales.all lists ${tags.join(', ')}, but the Webflow site has one locale`,
        {
          hint: 'Turn localization on in Webflow, or keep one locale in sync.config.json.',
        },
      );
    }
    out.set(defaultTag, null);
    return out;
  }
  for (const tag of tags) {
    const found = siteLocales.find((l) => l.tag === tag);
    if (!found) {
      throw new SyncError(
        'CONFIG_INVALID',
        `sync.config.json: locale "${tag}" is not a locale of the Webflow site (${siteLocales.map((l) => l.tag).join(', ')})`,
        {
          hint: 'Run `butter-sync init --from-cms webflow --site SITE_ID` again, or fix locales.all.',
        },
      );
    }
    out.set(tag, found.cmsLocaleId);
  }
  if (site.locales?.primary?.tag !== defaultTag) {
    throw new SyncError(
      'CONFIG_INVALID',
      `sync.config.json: locales.default is "${defaultTag}", but the Webflow site's primary locale is "${site.locales?.primary?.tag}"`,
    );
  }
  return out;
}
