import { readFileSync } from 'node:fs';
import {
  BUTTER_RULES,
  type ButterRequest,
  estimateButterWrite,
  shapeWrite,
} from '../../src/cms/butter/index.js';
import type { SyncConfig } from '../../src/config/schema.js';
import type { IdLookup } from '../../src/core/api-fields.js';
import { digestVariant } from '../../src/core/digest.js';
import { modelFor } from '../../src/core/model.js';
import type { PlanInput } from '../../src/core/plan.js';
import {
  type EntityMeta,
  type EntityRef,
  entityKey,
  type LocalEntity,
  type Manifest,
  type Operation,
  type RemoteEntity,
  type RemoteId,
  type Variant,
  type WriteOperation,
} from '../../src/core/types.js';
import { validConfig } from '../helpers/valid-config.js';

const example = JSON.parse(readFileSync(new URL('../../sync.config.json', import.meta.url), 'utf8'));

/** The shipped example model plus a page type using every container field type. */
export function makeConfig(overrides: Record<string, unknown> = {}): SyncConfig {
  return validConfig({
    ...example,
    pageTypes: {
      ...example.pageTypes,
      landing: {
        fields: {
          headline: 'text',
          count: 'number',
          featured: 'boolean',
          launch: 'date',
          accent: 'color',
          seo: { type: 'component', fields: { title: 'text', image: 'media' } },
          sections: {
            type: 'component-picker',
            components: {
              hero: { fields: { headline: 'text', image: 'media' } },
              people: {
                fields: { members: { type: 'reference', to: 'collection:team_members', many: true } },
              },
            },
          },
          related: { type: 'reference', to: 'page', many: true },
        },
      },
    },
    ...overrides,
  });
}

export const config = makeConfig();

type VariantInput = { fields: Record<string, unknown>; meta?: EntityMeta };

export function pathFor(ref: EntityRef, locale: string): string {
  const suffix = locale === 'en' ? '' : `.${locale}`;
  if (ref.kind === 'item') return `content/collections/${ref.collection}/${ref.key}${suffix}.json`;
  if (ref.kind === 'post') return `content/posts/${ref.slug}${suffix}.md`;
  if (ref.pageType === '*') return `content/pages/_single/${ref.slug}${suffix}.json`;
  return `content/pages/${ref.pageType}/${ref.slug}${suffix}.md`;
}

export function localEntity(ref: EntityRef, locales: Record<string, VariantInput>): LocalEntity {
  return {
    key: entityKey(ref),
    ref,
    locales: Object.fromEntries(
      Object.entries(locales).map(([locale, v]) => [
        locale,
        { fields: v.fields, meta: v.meta ?? {}, path: pathFor(ref, locale) },
      ]),
    ),
  };
}

export function remoteEntity(
  ref: EntityRef,
  locales: Record<string, VariantInput>,
  remoteId?: number | string,
): RemoteEntity {
  return {
    key: entityKey(ref),
    ref,
    remoteId: remoteId === undefined ? undefined : String(remoteId),
    locales: Object.fromEntries(
      Object.entries(locales).map(([locale, v]) => [locale, { fields: v.fields, meta: v.meta ?? {} }]),
    ),
  };
}

export function emptyManifest(): Manifest {
  return {
    version: 1,
    configDigest: 'test',
    entities: {},
    media: {},
    pending: [],
    failed: [],
    heldBack: [],
    conflicts: [],
    calls: {},
  };
}

/** Records `base` as the agreed state of an entity, digested the way the engine does. */
export function agree(
  manifest: Manifest,
  ref: EntityRef,
  locales: Record<string, VariantInput>,
  remoteId?: number | string,
  cfg: SyncConfig = config,
): Manifest {
  const model = modelFor(ref, cfg);
  manifest.entities[entityKey(ref)] = {
    remoteId: remoteId === undefined ? undefined : String(remoteId),
    locales: Object.fromEntries(
      Object.entries(locales).map(([locale, v]) => {
        const variant: Variant = { fields: v.fields, meta: v.meta ?? {} };
        return [
          locale,
          { base: digestVariant(variant, model, { media: manifest.media }), path: pathFor(ref, locale) },
        ];
      }),
    ),
  };
  return manifest;
}

/** An IdLookup over a fixed table `{collection: {key: id}}` (ButterCMS-like numeric ids, as opaque text). */
export function idTable(table: Record<string, Record<string, number>>): IdLookup {
  return {
    itemIdByKey: (collection, key) => {
      const id = table[collection]?.[key];
      return id === undefined ? undefined : String(id);
    },
    itemKeyById: (collection, id) =>
      Object.entries(table[collection] ?? {}).find(([, value]) => String(value) === id)?.[0],
  };
}

export function mapOf<T extends { key: string }>(...entities: T[]): Map<string, T> {
  return new Map(entities.map((e) => [e.key, e]));
}

export function planInput(partial: Partial<PlanInput> & Pick<PlanInput, 'scope'>): PlanInput {
  return {
    config,
    manifest: emptyManifest(),
    local: new Map(),
    resolvePath: pathFor,
    ids: idTable({}),
    now: new Date('2025-01-01T00:00:00Z'),
    rules: BUTTER_RULES,
    estimate: (intent) =>
      estimateButterWrite(intent, {
        defaultLocale: config.locales.default,
        defaultStatus: config.defaultStatus,
      }),
    ...partial,
  };
}

/**
 * A plan's operations with each write as the ButterCMS requests it becomes (cms/butter/write-shapes.ts), in the
 * shape plan operations had before the neutral port (kind, pageType/slug or collection, locale, body, id),
 * so the planner's Butter-facing assertions read as they did. Other operations are as planned.
 */
export type ButterOp =
  | Exclude<Operation, WriteOperation>
  | (ButterRequest &
      Omit<WriteOperation, 'kind' | 'intent'> & { id?: RemoteId | undefined; keyValue?: string | undefined });

export function butterOps(operations: Operation[], cfg: SyncConfig = config): ButterOp[] {
  return operations.flatMap((op): ButterOp[] => {
    if (op.kind !== 'write') return [op];
    const { intent, kind: _write, ...rest } = op;
    const requests = shapeWrite(intent, {
      defaultLocale: cfg.locales.default,
      defaultStatus: cfg.defaultStatus,
    });
    return requests.map((request) => ({
      ...rest,
      ...request,
      cost: op.cost === 0 ? 0 : op.cost / requests.length,
      ...(intent.remoteId !== undefined ? { id: intent.remoteId } : {}),
      ...(request.kind === 'create-item' && intent.ref.kind === 'item' ? { keyValue: intent.ref.key } : {}),
    }));
  });
}
