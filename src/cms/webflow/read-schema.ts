import type { FieldSpecInput } from '../../config/schema.js';
import { SyncError } from '../../core/errors.js';
import type { WebflowPipeline } from './webflow-pipeline.js';

/**
 * Webflow has a schema API (webflow-api.md §2.2, §7), so the content model need not be typed by hand: the site's
 * locales and every collection's fields (slugs, types, Option names, Reference targets) become the
 * `sync.config.json` model that `init --from-cms webflow` writes. Field names in the config are Webflow's field
 * slugs, collection keys are collection slugs.
 */

export interface WebflowModel {
  locales: { default: string; all: string[] };
  collections: Record<string, { keyField: string; fields: Record<string, FieldSpecInput> }>;
}

interface WireField {
  slug?: unknown;
  type?: unknown;
  isRequired?: unknown;
  isEditable?: unknown;
  validations?: { options?: Array<{ name?: unknown }>; collectionId?: unknown } | null;
}

interface WireCollection {
  id?: unknown;
  slug?: unknown;
  fields?: WireField[];
}

const SCALAR: Record<string, FieldSpecInput> = {
  PlainText: 'text',
  Link: 'text',
  Email: 'text',
  Phone: 'text',
  VideoLink: 'text',
  RichText: 'richtext',
  Number: 'number',
  Switch: 'boolean',
  DateTime: 'date',
  Date: 'date', // one spec example spells DateTime this way (§2.2)
  Color: 'color',
  Image: 'media',
  File: 'media',
};

const KEY_RE = /^[A-Za-z0-9_-]+$/;
const LOCALE_RE = /^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/;

function badSchema(what: string): SyncError {
  return new SyncError('CMS_BAD_RESPONSE', `Webflow schema: ${what}`, {
    hint: 'The site answered in a shape this version does not know; report it with the output of --log-level debug.',
  });
}

/** Read the site, its collections and their fields: 2 + one request per collection. */
export async function readWebflowModel(
  pipeline: WebflowPipeline,
  siteId: string,
): Promise<{ model: WebflowModel; warnings: string[] }> {
  const warnings: string[] = [];
  const site = (await pipeline.send({ method: 'GET', path: `sites/${encodeURIComponent(siteId)}` })).body as {
    locales?: {
      primary?: { tag?: unknown } | null;
      secondary?: Array<{ tag?: unknown; enabled?: unknown }>;
    } | null;
  };
  const primary = typeof site?.locales?.primary?.tag === 'string' ? site.locales.primary.tag : 'en';
  const all = [primary];
  for (const l of site?.locales?.secondary ?? []) {
    if (typeof l.tag !== 'string' || l.enabled === false) continue;
    if (!LOCALE_RE.test(l.tag))
      warnings.push(`locale "${l.tag}" is not a locale slug this version supports: left out`);
    else all.push(l.tag);
  }
  if (!LOCALE_RE.test(primary)) throw badSchema(`the primary locale "${primary}" is not a locale slug`);

  const listed = (
    await pipeline.send({ method: 'GET', path: `sites/${encodeURIComponent(siteId)}/collections` })
  ).body as { collections?: WireCollection[] };
  if (!Array.isArray(listed?.collections)) throw badSchema('no "collections" list');
  const collections: WireCollection[] = [];
  for (const c of listed.collections) {
    if (typeof c.id !== 'string') throw badSchema('a collection without an id');
    collections.push(
      (await pipeline.send({ method: 'GET', path: `collections/${c.id}` })).body as WireCollection,
    );
  }
  const slugById = new Map(collections.map((c) => [c.id, c.slug]));

  const model: WebflowModel = { locales: { default: primary, all }, collections: {} };
  for (const c of collections) {
    if (typeof c.slug !== 'string' || !KEY_RE.test(c.slug)) {
      warnings.push(
        `collection "${String(c.slug)}" has a slug this version cannot use as a folder name: left out`,
      );
      continue;
    }
    const fields: Record<string, FieldSpecInput> = {};
    for (const f of c.fields ?? []) {
      const spec = fieldSpecOf(f, slugById, `${c.slug}.${String(f.slug)}`, warnings);
      if (spec !== undefined) fields[String(f.slug)] = spec;
    }
    // Every collection has name and slug (§2.2); the slug names the item file.
    model.collections[c.slug] = { keyField: 'slug', fields };
  }
  return { model, warnings };
}

function fieldSpecOf(
  f: WireField,
  slugById: Map<unknown, unknown>,
  where: string,
  warnings: string[],
): FieldSpecInput | undefined {
  if (typeof f.slug !== 'string' || !KEY_RE.test(f.slug)) {
    warnings.push(`field ${where}: a slug this version cannot use as a key: left out`);
    return undefined;
  }
  if (f.isEditable === false) {
    // Read-only fields (§2.2, Whalesync treats them so) cannot be pushed; leaving them out keeps a push from failing.
    warnings.push(`field ${where} is read-only in Webflow: left out`);
    return undefined;
  }
  const required = f.isRequired === true && f.slug !== 'name' && f.slug !== 'slug' ? { required: true } : {};
  const type = String(f.type);
  const scalar = SCALAR[type];
  if (scalar !== undefined) {
    return Object.keys(required).length > 0 ? { type: scalar as 'text', ...required } : scalar;
  }
  if (type === 'Option') {
    const names = (f.validations?.options ?? [])
      .map((o) => o.name)
      .filter((n): n is string => typeof n === 'string');
    if (names.length === 0) {
      warnings.push(`field ${where} is an Option field without options: read as text`);
      return 'text';
    }
    // §3: the API holds option ids; files hold the names, so they read well and survive between sites.
    return { type: 'text', options: names, ...required };
  }
  if (type === 'Reference' || type === 'MultiReference') {
    const target = slugById.get(f.validations?.collectionId);
    if (typeof target !== 'string') {
      warnings.push(`field ${where} references a collection that is not on this site: left out`);
      return undefined;
    }
    return {
      type: 'reference',
      to: `collection:${target}`,
      ...(type === 'MultiReference' ? { many: true } : {}),
      ...required,
    };
  }
  warnings.push(`field ${where} has type ${type}, which this version cannot sync: left out`);
  return undefined;
}
