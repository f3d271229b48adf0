import { z } from 'zod';

/**
 * The one source of truth for `sync.config.json`: the zod schema validates it at load time and
 * `z.toJSONSchema` turns it into the shipped `sync.config.schema.json` (kept current by a test).
 * ButterCMS has no schema API (butter-api.md §7), so the content model lives here too.
 */

export const SCALAR_FIELD_TYPES = [
  'text',
  'richtext',
  'number',
  'boolean',
  'date',
  'color',
  'media',
] as const;
export type ScalarFieldType = (typeof SCALAR_FIELD_TYPES)[number];

const scalarType = z.enum(SCALAR_FIELD_TYPES);

const referenceTarget = z
  .string()
  .regex(/^(page|collection:[A-Za-z0-9_-]+)$/, 'must be "page" or "collection:<collection key>"')
  .describe('What the reference points at: "page" or "collection:<key>".');

export interface ScalarFieldSpec {
  type: ScalarFieldType;
  required?: boolean | undefined;
}
export interface ReferenceFieldSpec {
  type: 'reference';
  to: string;
  many?: boolean | undefined;
  required?: boolean | undefined;
}
export interface RepeaterFieldSpec {
  type: 'repeater';
  fields: Record<string, FieldSpecInput>;
}
export interface ComponentFieldSpec {
  type: 'component';
  fields: Record<string, FieldSpecInput>;
}
export interface ComponentPickerFieldSpec {
  type: 'component-picker';
  components: Record<string, { fields: Record<string, FieldSpecInput> }>;
}
export type FieldSpecInput =
  | ScalarFieldType
  | ScalarFieldSpec
  | ReferenceFieldSpec
  | RepeaterFieldSpec
  | ComponentFieldSpec
  | ComponentPickerFieldSpec;

/** A field spec after loading: always the object form. */
export type FieldSpec =
  | ScalarFieldSpec
  | ReferenceFieldSpec
  | (Omit<RepeaterFieldSpec, 'fields'> & { fields: Record<string, FieldSpec> })
  | (Omit<ComponentFieldSpec, 'fields'> & { fields: Record<string, FieldSpec> })
  | { type: 'component-picker'; components: Record<string, { fields: Record<string, FieldSpec> }> };

const fieldSpec: z.ZodType<FieldSpecInput> = z.lazy(() =>
  z.union([
    scalarType,
    z.strictObject({ type: scalarType, required: z.boolean().optional() }),
    z.strictObject({
      type: z.literal('reference'),
      to: referenceTarget,
      many: z.boolean().optional().describe('A one-to-many reference (an array of keys).'),
      required: z.boolean().optional(),
    }),
    z.strictObject({ type: z.literal('repeater'), fields: fieldMap }),
    z.strictObject({ type: z.literal('component'), fields: fieldMap }),
    z.strictObject({
      type: z.literal('component-picker'),
      components: z.record(z.string(), z.strictObject({ fields: fieldMap })),
    }),
  ]),
);

const fieldMap: z.ZodType<Record<string, FieldSpecInput>> = z.lazy(() =>
  z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'field names are ButterCMS API slugs'), fieldSpec),
);

const apiSlug = z.string().regex(/^[A-Za-z0-9_-]+$/, 'only letters, digits, "_" and "-"');

export const pageTypeSchema = z.strictObject({
  bodyField: z
    .string()
    .optional()
    .describe('The field that receives the Markdown body. A body with nowhere to go is an error.'),
  fields: fieldMap,
});

export const collectionSchema = z.strictObject({
  keyField: z
    .string()
    .describe('A field with unique values; it names the item file and finds new items after a create.'),
  fields: fieldMap,
});

export const singlePageSchema = z.strictObject({
  fields: fieldMap,
});

/** More locales than any ButterCMS account enables; the bound keeps a bad config from asking for hours of reads. */
export const MAX_LOCALES = 50;

const localeSlug = z
  .string()
  .regex(/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/, 'a locale API slug like "en" or "pt-br"');

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  contentDir: z
    .string()
    .default('content')
    .describe('Folder (relative to the repo) that holds the content files.'),
  locales: z
    .strictObject({
      default: localeSlug.default('en').describe('Files without a locale suffix hold this locale.'),
      // Bounded: every locale costs a read per list on every run (a typo'd 10,000-entry list took 11 minutes).
      all: z
        .array(localeSlug)
        .min(1)
        .max(MAX_LOCALES)
        .default(['en'])
        .describe(`Every locale enabled in the ButterCMS account (1 to ${MAX_LOCALES}).`),
    })
    .default({ default: 'en', all: ['en'] }),
  defaultStatus: z
    .enum(['draft', 'published'])
    .default('published')
    .describe('Status sent for files that do not set one.'),
  pageMeta: z
    .strictObject({
      titleKey: z.string().default('title'),
      statusKey: z.string().default('status'),
    })
    .default({ titleKey: 'title', statusKey: 'status' })
    .describe(
      'Frontmatter keys that hold the page title and status (rename them if a field uses these names).',
    ),
  rate: z
    .strictObject({
      requestsPerSecond: z.number().positive().max(1000).default(5),
      concurrency: z.number().int().positive().max(64).default(4),
      monthlyCallBudget: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('Stop polling when this many calls were made this month.'),
      timeoutMs: z.number().int().positive().default(30_000).describe('Per-request timeout.'),
      maxRetries: z.number().int().min(0).max(10).default(4),
    })
    .default({ requestsPerSecond: 5, concurrency: 4, timeoutMs: 30_000, maxRetries: 4 }),
  conflicts: z
    .enum(['manual', 'git-wins', 'cms-wins'])
    .default('manual')
    .describe('What happens when both sides changed one field differently.'),
  initialSource: z
    .enum(['none', 'git', 'cms'])
    .default('none')
    .describe('Which side seeds a run that has no manifest. "none" reports every difference as a conflict.'),
  maxDeletePercent: z
    .number()
    .min(0)
    .max(100)
    .default(20)
    .describe('Refuse to delete more than this share of a collection in one run.'),
  verify: z
    .strictObject({
      deadlineSeconds: z
        .number()
        .positive()
        .default(120)
        .describe('A pending write not visible by then is failed.'),
    })
    .default({ deadlineSeconds: 120 }),
  pull: z
    .strictObject({
      intervalSeconds: z
        .number()
        .int()
        .min(0)
        .default(300)
        .describe('Poll interval in watch mode; 0 turns polling off.'),
      commit: z.boolean().default(true),
      push: z.boolean().default(false).describe('git push pull commits to the remote.'),
      remote: z.string().default('origin'),
      branch: z
        .string()
        .optional()
        .describe('Branch watch fetches and merges; defaults to the current branch.'),
      fetchIntervalSeconds: z.number().int().min(0).default(60),
      author: z
        .strictObject({ name: z.string(), email: z.string() })
        .default({ name: 'butter-sync', email: 'butter-sync@localhost' }),
    })
    .default({
      intervalSeconds: 300,
      commit: true,
      push: false,
      remote: 'origin',
      fetchIntervalSeconds: 60,
      author: { name: 'butter-sync', email: 'butter-sync@localhost' },
    }),
  webhook: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(8787),
      path: z.string().default('/webhooks/butter'),
      header: z
        .string()
        .default('X-Butter-Sync-Secret')
        .describe('Custom header carrying BUTTER_WEBHOOK_SECRET.'),
    })
    .default({ port: 8787, path: '/webhooks/butter', header: 'X-Butter-Sync-Secret' }),
  pageTypes: z.record(apiSlug, pageTypeSchema).default({}),
  singlePages: z.record(apiSlug, singlePageSchema).default({}),
  collections: z.record(apiSlug, collectionSchema).default({}),
});

export type ConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;

export interface PageTypeModel {
  bodyField?: string | undefined;
  fields: Record<string, FieldSpec>;
}
export interface CollectionModel {
  keyField: string;
  fields: Record<string, FieldSpec>;
}

/** The validated config, with every field spec in object form. */
export type SyncConfig = Omit<ParsedConfig, 'pageTypes' | 'singlePages' | 'collections'> & {
  pageTypes: Record<string, PageTypeModel>;
  singlePages: Record<string, { fields: Record<string, FieldSpec> }>;
  collections: Record<string, CollectionModel>;
};

export function expandFieldSpec(spec: FieldSpecInput): FieldSpec {
  if (typeof spec === 'string') return { type: spec };
  switch (spec.type) {
    case 'repeater':
    case 'component':
      return { type: spec.type, fields: expandFieldMap(spec.fields) };
    case 'component-picker':
      return {
        type: 'component-picker',
        components: Object.fromEntries(
          Object.entries(spec.components).map(([k, c]) => [k, { fields: expandFieldMap(c.fields) }]),
        ),
      };
    default:
      return spec;
  }
}

export function expandFieldMap(fields: Record<string, FieldSpecInput>): Record<string, FieldSpec> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, expandFieldSpec(v)]));
}

/** JSON Schema for editors (`"$schema": "./sync.config.schema.json"`). */
export function buildJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
}
