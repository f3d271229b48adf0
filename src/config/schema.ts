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

/** Scalar types a `list` field may hold. */
export const LIST_ITEM_TYPES = ['text', 'number', 'date'] as const;
export type ListItemType = (typeof LIST_ITEM_TYPES)[number];

const fieldPath = z
  .string()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'a dotted key path like "name.common"')
  .optional()
  .describe(
    'Where the field lives in the file when that is not a top-level key of its own name: a dotted path such as "name.common" or "extra.team".',
  );

const referenceTarget = z
  .string()
  .regex(/^(page|collection:[A-Za-z0-9_-]+)$/, 'must be "page" or "collection:<collection key>"')
  .describe('What the reference points at: "page" or "collection:<key>".');

export interface ScalarFieldSpec {
  type: ScalarFieldType;
  required?: boolean | undefined;
  path?: string | undefined;
  /** Webflow Option fields (webflow-api.md §3): files hold option names; the sync engine does not act on it yet. */
  options?: string[] | undefined;
}
/** A list of scalars (`categories: [release]`); ButterCMS holds it as one value per line of a text field. */
export interface ListFieldSpec {
  type: 'list';
  of: ListItemType;
  required?: boolean | undefined;
  path?: string | undefined;
}
export interface ReferenceFieldSpec {
  type: 'reference';
  to: string;
  many?: boolean | undefined;
  required?: boolean | undefined;
  path?: string | undefined;
}
export interface RepeaterFieldSpec {
  type: 'repeater';
  fields: Record<string, FieldSpecInput>;
  path?: string | undefined;
}
export interface ComponentFieldSpec {
  type: 'component';
  fields: Record<string, FieldSpecInput>;
  path?: string | undefined;
}
export interface ComponentPickerFieldSpec {
  type: 'component-picker';
  components: Record<string, { fields: Record<string, FieldSpecInput> }>;
  path?: string | undefined;
}
export type FieldSpecInput =
  | ScalarFieldType
  | ScalarFieldSpec
  | ListFieldSpec
  | ReferenceFieldSpec
  | RepeaterFieldSpec
  | ComponentFieldSpec
  | ComponentPickerFieldSpec;

/** A field spec after loading: always the object form. */
export type FieldSpec =
  | ScalarFieldSpec
  | ListFieldSpec
  | ReferenceFieldSpec
  | (Omit<RepeaterFieldSpec, 'fields'> & { fields: Record<string, FieldSpec> })
  | (Omit<ComponentFieldSpec, 'fields'> & { fields: Record<string, FieldSpec> })
  | {
      type: 'component-picker';
      components: Record<string, { fields: Record<string, FieldSpec> }>;
      path?: string | undefined;
    };

const fieldSpec: z.ZodType<FieldSpecInput> = z.lazy(() =>
  z.union([
    scalarType,
    z.strictObject({
      type: scalarType,
      required: z.boolean().optional(),
      path: fieldPath,
      options: z
        .array(z.string().min(1))
        .min(1)
        .optional()
        .describe(
          'A Webflow Option field: the option names a file may hold (written by init --from-cms webflow).',
        ),
    }),
    z.strictObject({
      type: z.literal('list'),
      of: z.enum(LIST_ITEM_TYPES).describe('What each item of the list is: text, number or date.'),
      required: z.boolean().optional(),
      path: fieldPath,
    }),
    z.strictObject({
      type: z.literal('reference'),
      to: referenceTarget,
      many: z.boolean().optional().describe('A one-to-many reference (an array of keys).'),
      required: z.boolean().optional(),
      path: fieldPath,
    }),
    z.strictObject({ type: z.literal('repeater'), fields: fieldMap, path: fieldPath }),
    z.strictObject({ type: z.literal('component'), fields: fieldMap, path: fieldPath }),
    z.strictObject({
      type: z.literal('component-picker'),
      components: z.record(z.string(), z.strictObject({ fields: fieldMap })),
      path: fieldPath,
    }),
  ]),
);

const gitOnly = z
  .array(z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'a key or a dotted key path like "extra.see_also"'))
  .optional()
  .describe(
    'Keys (or dotted key paths) that stay in the files only: never sent, never reported as unknown, never touched by a pull.',
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
  slugs: z
    .enum(['exact', 'slugify'])
    .optional()
    .describe(
      '"exact" (default): a file name must be a valid page slug. "slugify": map other names to one (Rust-1.22.md → Rust-1-22).',
    ),
  fields: fieldMap,
  gitOnly,
});

export const collectionSchema = z.strictObject({
  keyField: z
    .string()
    .describe('A field with unique values; it names the item file and finds new items after a create.'),
  fields: fieldMap,
  gitOnly,
});

export const singlePageSchema = z.strictObject({
  fields: fieldMap,
  gitOnly,
});

/** More locales than any ButterCMS account enables; the bound keeps a bad config from asking for hours of reads. */
export const MAX_LOCALES = 50;

const localeSlug = z
  .string()
  .regex(/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/, 'a locale API slug like "en" or "pt-br"');

/** Which CMS the repository syncs with (DESIGN §2); ButterCMS when absent. */
const cmsSchema = z
  .strictObject({
    kind: z.enum(['butter', 'webflow']).default('butter').describe('"butter" (default) or "webflow".'),
    siteId: z
      .string()
      .regex(/^[0-9a-f]{24}$/, 'a Webflow site id: 24 hex characters')
      .optional()
      .describe('The Webflow site (webflow-api.md §0: 24-hex ObjectId); required with kind "webflow".'),
  })
  .superRefine((cms, ctx) => {
    if (cms.kind === 'webflow' && cms.siteId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['siteId'],
        message: 'kind "webflow" needs the site id in "siteId"',
      });
    }
  })
  .optional()
  .describe(
    'The CMS: {"kind": "butter"} (default) or {"kind": "webflow", "siteId": "…"}; tokens come from the environment only.',
  );

// ---- Blog posts (issue 11 part 2): `"posts": {}` turns them on. Self-contained so other keys merge beside it. ----

/** The frontmatter of a post file: the writable post keys of butter-api.md §2.5/§3.8, in file form. */
export const POST_FILE_KEYS = [
  'title',
  'status',
  'published',
  'summary',
  'seo_title',
  'meta_description',
  'featured_image',
  'featured_image_alt',
  'author',
  'tags',
  'categories',
] as const;
export type PostFileKey = (typeof POST_FILE_KEYS)[number];

/** Folders the page and collection files own (content-path.ts); a posts folder inside them would be read twice. */
const RESERVED_POST_FOLDERS = ['pages', 'collections'];

const postsFolder = z.string().refine(
  (folder) => {
    const segments = folder.split('/');
    return (
      !folder.includes('\\') &&
      !folder.startsWith('/') &&
      segments.every((s) => s !== '' && s !== '.' && s !== '..') &&
      !RESERVED_POST_FOLDERS.includes(segments[0] ?? '')
    );
  },
  {
    message:
      'a relative folder inside contentDir, like "posts" or "blog/posts", not under pages/ or collections/',
  },
);

export const postsSchema = z
  .strictObject({
    folder: postsFolder
      .default('posts')
      .describe('Folder inside contentDir holding <slug>.md and <slug>.<locale>.md post files.'),
    keys: z
      .partialRecord(z.enum(POST_FILE_KEYS), z.string().regex(/^[^.\s]+$/, 'a top-level frontmatter key'))
      .default({})
      .describe(
        'Frontmatter key of a post property when the files name it otherwise, e.g. {"published": "date"}.',
      ),
    gitOnly: z
      .array(z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'a key or a dotted key path like "extra.see_also"'))
      .default([])
      .describe('Frontmatter keys of post files that stay in the files only (layout, permalink, …).'),
    uploadImagesToMediaLibrary: z
      .boolean()
      .default(false)
      .describe('Ask ButterCMS to re-host the images inside post bodies (upload_images_to_media_library).'),
  })
  .superRefine((posts, ctx) => {
    // Two post properties read from one key would lose one of them on a pull.
    const owner = new Map<string, PostFileKey>();
    for (const property of POST_FILE_KEYS) {
      const key = posts.keys[property] ?? property;
      const other = owner.get(key);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', posts.keys[property] ? property : other],
          message: `"${key}" would hold both ${other} and ${property}`,
        });
      }
      owner.set(key, property);
    }
    // A gitOnly key that is a post property leaves that property unsynced (a name in `author:` that is no
    // ButterCMS author, say); title and status are always synced (a post needs a title, §3.8).
    posts.gitOnly.forEach((key, i) => {
      const property = owner.get(key.split('.')[0] ?? key);
      if (property === 'title' || property === 'status') {
        ctx.addIssue({
          code: 'custom',
          path: ['gitOnly', i],
          message: `"${key}" is the post's ${property}, which is always synced`,
        });
      }
    });
  });

export type PostsConfig = z.output<typeof postsSchema>;

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  cms: cmsSchema,
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
  state: z
    .enum(['git', 'local'])
    .optional()
    .describe(
      'Where the sync state lives: "git" shares it with every clone on the ref refs/butter-sync/state of pull.remote; "local" keeps it in .butter-sync/ only. Default: "git" when the repository has the remote pull.remote, "local" otherwise.',
    ),
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
  gitOnly: z
    .array(z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'a key or a dotted key path like "extra.see_also"'))
    .default([])
    .describe('gitOnly keys of every page type, single page and collection (added to their own lists).'),
  ignore: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Globs (relative to contentDir, like "**/*.png") of files inside the content folder that are not content: skipped, not errors.',
    ),
  timezone: z
    .string()
    .optional()
    .describe(
      'Offset or IANA zone ("+02:00", "Europe/Berlin") for dates written into files that have none yet; default UTC.',
    ),
  posts: postsSchema
    .optional()
    .describe(
      'Blog posts: present (even as {}) turns them on; <contentDir>/<folder>/<slug>.md ⇄ /v2/posts/.',
    ),
  publicBaseUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      'Public URL that path-relative links and images in rich text ("./img.png") resolve against; without it such links are refused at plan time rather than sent broken.',
    ),
  pageTypes: z.record(apiSlug, pageTypeSchema).default({}),
  singlePages: z.record(apiSlug, singlePageSchema).default({}),
  collections: z.record(apiSlug, collectionSchema).default({}),
});

export type ConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;

/**
 * One problem in the config, located by its JSON path (`collections.team.keyField`). It lives beside the schema, not in
 * `load-config.ts`, so `rules.ts` and `load-config.ts` both import it without importing each other.
 */
export interface ConfigProblem {
  path: string;
  message: string;
  hint?: string;
}

export interface PageTypeModel {
  /** How a file name becomes a page slug (content-path.ts). */
  slugs?: 'exact' | 'slugify' | undefined;
  bodyField?: string | undefined;
  fields: Record<string, FieldSpec>;
  gitOnly?: string[] | undefined;
}
export interface CollectionModel {
  keyField: string;
  fields: Record<string, FieldSpec>;
  gitOnly?: string[] | undefined;
}

/** The validated config, with every field spec in object form. */
export type SyncConfig = Omit<
  ParsedConfig,
  'pageTypes' | 'singlePages' | 'collections' | 'gitOnly' | 'ignore' | 'timezone'
> & {
  pageTypes: Record<string, PageTypeModel>;
  singlePages: Record<string, { fields: Record<string, FieldSpec>; gitOnly?: string[] | undefined }>;
  collections: Record<string, CollectionModel>;
  /** Optional here so configs built in code (tests) need not spell them out; loadConfig always sets them. */
  gitOnly?: string[] | undefined;
  ignore?: string[] | undefined;
  timezone?: string | undefined;
};

/** Where a field lives in its file: its dotted `path`, or the top-level key of its name. */
export function filePathOf(name: string, spec: FieldSpec): string[] {
  return spec.path === undefined ? [name] : spec.path.split('.');
}

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
