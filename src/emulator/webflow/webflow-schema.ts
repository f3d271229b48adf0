import { createHash } from 'node:crypto';
import type { FieldSpec, SyncConfig } from '../../config/schema.js';
import type {
  WebflowCollectionFixture,
  WebflowFieldFixture,
  WebflowFieldType,
  WebflowSchemaFixture,
} from './webflow-types.js';

/**
 * The site schema the emulator serves: collections with 24-hex ids and fields with 32-hex ids, derived from names
 * so a test (and a restarted emulator) sees the same ids every time (webflow-api.md §0 IDs, §12.3).
 */

export interface SchemaField {
  id: string;
  isEditable: boolean;
  isRequired: boolean;
  type: WebflowFieldType;
  slug: string;
  displayName: string;
  helpText: string | null;
  validations: Record<string, unknown> | null;
}

export interface SchemaCollection {
  id: string;
  displayName: string;
  singularName: string;
  slug: string;
  createdOn: string;
  lastUpdated: string;
  fields: SchemaField[];
}

export interface SiteLocale {
  id: string;
  cmsLocaleId: string;
  enabled: boolean;
  displayName: string;
  displayImageId: null;
  redirect: boolean;
  subdirectory: string;
  tag: string;
}

export interface SiteSchema {
  siteId: string;
  workspaceId: string;
  displayName: string;
  /** Localization is on when the site has more than one locale; otherwise items carry `cmsLocaleId: null` (§2.3). */
  localized: boolean;
  locales: SiteLocale[];
  collections: SchemaCollection[];
}

/** A hex id of `length` characters, derived from `name`: stable across runs. */
export function derivedHexId(name: string, length: 24 | 32): string {
  return createHash('sha256').update(name).digest('hex').slice(0, length);
}

const HEX24 = /^[0-9a-f]{24}$/;

function titleCase(slug: string): string {
  return slug
    .split(/[-_\s]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

/** Config field types → Webflow field types. ButterCMS-only shapes (repeaters, components, page refs, lists) have no Webflow twin and are left out. */
function fieldFromSpec(name: string, spec: FieldSpec): WebflowFieldFixture | undefined {
  const base = { slug: name, isRequired: 'required' in spec && spec.required === true };
  switch (spec.type) {
    case 'text':
      // A text field with options is a Webflow Option field (what init --from-cms webflow writes for one).
      return spec.options
        ? { ...base, type: 'Option', validations: { options: spec.options } }
        : { ...base, type: 'PlainText' };
    case 'richtext':
      return { ...base, type: 'RichText' };
    case 'number':
      return { ...base, type: 'Number', validations: { format: 'decimal' } };
    case 'boolean':
      return { ...base, type: 'Switch' };
    case 'date':
      return { ...base, type: 'DateTime' };
    case 'color':
      return { ...base, type: 'Color' };
    case 'media':
      return { ...base, type: 'Image' };
    case 'reference': {
      const target = /^collection:(.+)$/.exec(spec.to)?.[1];
      if (!target) return undefined;
      return {
        ...base,
        type: spec.many ? 'MultiReference' : 'Reference',
        validations: { collection: target },
      };
    }
    default:
      return undefined;
  }
}

/**
 * The schema fixture a `sync.config.json` describes: one Webflow collection per config collection, field slugs
 * verbatim (a config written by `init --from-cms webflow` already holds Webflow's slugs).
 */
export function fixtureFromConfig(config: SyncConfig): WebflowSchemaFixture {
  const collections: WebflowCollectionFixture[] = Object.entries(config.collections).map(([key, model]) => ({
    slug: key,
    fields: Object.entries(model.fields).flatMap(([name, spec]) => {
      const field = fieldFromSpec(name, spec);
      return field ? [field] : [];
    }),
  }));
  const locales = [config.locales.default, ...config.locales.all.filter((l) => l !== config.locales.default)];
  const siteId = config.cms?.siteId;
  return { ...(siteId && HEX24.test(siteId) ? { siteId } : {}), locales, collections };
}

const BUILT_IN: WebflowFieldFixture[] = [
  { slug: 'name', type: 'PlainText', displayName: 'Name', isRequired: true },
  { slug: 'slug', type: 'PlainText', displayName: 'Slug', isRequired: true },
];

/** Resolve a fixture into the served schema: ids, built-in fields, option ids, reference targets. */
export function buildSiteSchema(fixture: WebflowSchemaFixture, createdAt: string): SiteSchema {
  const siteId = fixture.siteId ?? derivedHexId('site:butter-sync-emulator', 24);
  const tags = fixture.locales && fixture.locales.length > 0 ? fixture.locales : ['en'];
  const locales = tags.map((tag, index) => ({
    id: derivedHexId(`locale:${siteId}:${tag}`, 24),
    cmsLocaleId: derivedHexId(`cms-locale:${siteId}:${tag}`, 24),
    enabled: true,
    displayName: tag,
    displayImageId: null,
    redirect: index > 0,
    subdirectory: index === 0 ? '' : tag.toLowerCase(),
    tag,
  }));
  const collectionIds = new Map(
    fixture.collections.map((c) => [c.slug, derivedHexId(`collection:${siteId}:${c.slug}`, 24)]),
  );
  const collections = fixture.collections.map((c) => {
    const id = collectionIds.get(c.slug)!;
    const own = c.fields.filter((f) => f.slug !== 'name' && f.slug !== 'slug');
    const fields = [
      ...BUILT_IN.map((b) => c.fields.find((f) => f.slug === b.slug && f.type === b.type) ?? b),
      ...own,
    ];
    return {
      id,
      displayName: c.displayName ?? titleCase(c.slug),
      singularName: c.singularName ?? titleCase(c.slug).replace(/s$/, ''),
      slug: c.slug,
      createdOn: createdAt,
      lastUpdated: createdAt,
      fields: fields.map((f) => resolveField(f, id, collectionIds, c.slug)),
    };
  });
  return {
    siteId,
    workspaceId: derivedHexId(`workspace:${siteId}`, 24),
    displayName: fixture.displayName ?? 'butter-sync emulator',
    localized: locales.length > 1,
    locales,
    collections,
  };
}

function resolveField(
  f: WebflowFieldFixture,
  collectionId: string,
  collectionIds: Map<string, string>,
  collectionSlug: string,
): SchemaField {
  let validations: Record<string, unknown> | null = null;
  if (f.validations) {
    const { options, collection, ...rest } = f.validations;
    validations = { ...rest };
    if (options) {
      validations.options = options.map((o) =>
        typeof o === 'string'
          ? { name: o, id: derivedHexId(`option:${collectionId}:${f.slug}:${o}`, 24) }
          : o,
      );
    }
    if (collection !== undefined) {
      const target = collectionIds.get(collection) ?? (HEX24.test(collection) ? collection : undefined);
      if (!target) {
        throw new Error(
          `Webflow emulator schema: field "${f.slug}" of collection "${collectionSlug}" references unknown collection "${collection}"`,
        );
      }
      validations.collectionId = target;
    }
  }
  return {
    id: derivedHexId(`field:${collectionId}:${f.slug}`, 32),
    isEditable: f.isEditable ?? true,
    isRequired: f.isRequired ?? false,
    type: f.type,
    slug: f.slug,
    displayName: f.displayName ?? titleCase(f.slug),
    helpText: f.helpText ?? null,
    validations,
  };
}
