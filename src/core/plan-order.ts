import type { FieldSpec, SyncConfig } from '../config/schema.js';
import type { IdLookup } from './api-fields.js';
import { forEachNestedRecord } from './field-tree.js';
import type { EntityModel } from './model.js';
import type { EntityKey, Operation, WriteOperation } from './types.js';

const KIND_RANK: Record<Exclude<Operation['kind'], 'write'>, number> = {
  'write-file': 3,
  'delete-file': 4,
  adopt: 5,
  conflict: 6,
  report: 7,
};

const WRITE_RANK: Record<WriteOperation['intent']['kind'], number> = {
  create: 0,
  update: 1,
  replace: 1,
  delete: 2,
};

/** Within one entity: creates, updates, deletes, then file writes, adoptions, conflicts and reports. */
function rankOf(op: Operation): number {
  return op.kind === 'write' ? WRITE_RANK[op.intent.kind] : KIND_RANK[op.kind];
}

function localeOf(op: Operation): string {
  return 'locale' in op && typeof op.locale === 'string' ? op.locale : '';
}

function fieldOf(op: Operation): string {
  return op.kind === 'conflict' ? op.field : '';
}

function compareOperations(a: Operation, b: Operation): number {
  return (
    rankOf(a) - rankOf(b) || localeOf(a).localeCompare(localeOf(b)) || fieldOf(a).localeCompare(fieldOf(b))
  );
}

interface References {
  items: Array<[collection: string, key: string]>;
  pages: string[];
}

function collectReferences(
  specs: Record<string, FieldSpec>,
  values: Record<string, unknown>,
  out: References,
): void {
  for (const [name, value] of Object.entries(values)) {
    const spec = specs[name];
    if (!spec) continue;
    if (spec.type === 'reference') {
      const keys = (Array.isArray(value) ? value : [value]).filter(
        (key): key is string => typeof key === 'string' && key !== '',
      );
      if (spec.to === 'page') out.pages.push(...keys);
      else for (const key of keys) out.items.push([spec.to.slice('collection:'.length), key]);
    } else {
      forEachNestedRecord(spec, value, (fields, record) => collectReferences(fields, record, out));
    }
  }
}

/** References held by a write (file form), every locale. */
export function referencesOf(op: WriteOperation, model: EntityModel): References {
  const out: References = { items: [], pages: [] };
  for (const change of Object.values(op.intent.locales)) collectReferences(model.fields, change.fields, out);
  return out;
}

/** What the planner knows exists in ButterCMS, beyond this plan's own creates. */
export interface KnownRemote {
  ids: IdLookup;
  /** Entities the manifest or the remote snapshot holds (a create still awaiting its id included). */
  entities: ReadonlySet<EntityKey>;
  /** Slugs of the pages known to exist: page references are written by slug (butter-api.md §3.6). */
  pageSlugs: ReadonlySet<string>;
}

/**
 * Fills `dependsOn` with the entities a body references that are created in the same plan (or whose earlier
 * create still awaits its id), and marks `unresolved` (at no cost) a write that references something
 * ButterCMS does not hold: sent, it would fail after its 202 or read back without the reference, and never
 * verify.
 * `hasFile`: a content file for this entity exists, whether or not this run read it.
 */
export function linkDependencies(
  operations: Operation[],
  modelOf: (entity: EntityKey) => EntityModel | undefined,
  config: SyncConfig,
  known: KnownRemote,
  hasFile: (entity: EntityKey) => boolean,
): Operation[] {
  const created = new Set<EntityKey>();
  const createdPagesBySlug = new Map<string, EntityKey[]>();
  for (const op of operations) {
    if (op.kind !== 'write' || op.intent.kind !== 'create') continue;
    created.add(op.entity);
    if (op.intent.ref.kind === 'page') appendTo(createdPagesBySlug, op.intent.ref.slug, op.entity);
  }
  const pageTypes = ['*', ...Object.keys(config.pageTypes)];
  for (const op of operations) {
    if (op.kind !== 'write' || op.intent.kind === 'delete') continue;
    const model = modelOf(op.entity);
    if (!model) continue;
    const refs = referencesOf(op, model);
    const deps = new Set<EntityKey>();
    const unresolved = new Set<string>();
    for (const [collection, key] of refs.items) {
      const target = `item:${collection}:${key}`;
      const id = known.ids.itemIdByKey(collection, key);
      if (created.has(target) || (id === undefined && known.entities.has(target))) deps.add(target);
      else if (id === undefined)
        unresolved.add(
          hasFile(target)
            ? `references ${collection} item "${key}", which is not in the CMS yet`
            : `references ${collection} item "${key}", which exists neither in the CMS nor in the files`,
        );
    }
    for (const slug of refs.pages) {
      const creates = createdPagesBySlug.get(slug) ?? [];
      for (const target of creates) deps.add(target);
      if (creates.length > 0 || known.pageSlugs.has(slug)) continue;
      // ButterCMS drops a reference to a page it does not hold after the 202 (butter-api.md §9): sent, the
      // write could never verify. A page of a type the config does not list is unknown too: say so.
      if (pageTypes.some((type) => hasFile(`page:${type}:${slug}`)))
        unresolved.add(`references page "${slug}", which is not in the CMS yet`);
      else
        unresolved.add(
          `references page "${slug}", which exists neither in the CMS nor in the files (if it is a page of a page type sync.config.json does not list, add that page type)`,
        );
    }
    deps.delete(op.entity);
    op.dependsOn = [...deps].sort();
    if (unresolved.size > 0) {
      op.unresolved = [...unresolved].join('; it ');
      op.cost = 0; // not sent this run
    }
  }
  return operations;
}

/**
 * Entities in dependency order (referenced creates first, DESIGN.md §3 "Order"): Kahn's algorithm in layers,
 * each layer sorted by entity key so `plan` output is stable. A reference cycle cannot be ordered: it is
 * reported and the rest goes on.
 */
export function orderOperations(all: Operation[]): Operation[] {
  // The writes that complete a reference cycle go after everything else (plan-cycles.ts): their
  // dependencies are the cycle itself, which no order could satisfy.
  const completing = all
    .filter((op) => 'completesCycle' in op && op.completesCycle)
    .sort((a, b) => a.entity.localeCompare(b.entity));
  const operations = all.filter((op) => !('completesCycle' in op && op.completesCycle));
  const byEntity = new Map<EntityKey, Operation[]>();
  for (const op of operations) appendTo(byEntity, op.entity, op);
  const keys = [...byEntity.keys()].sort();
  const waitingOn = new Map<EntityKey, Set<EntityKey>>();
  const dependents = new Map<EntityKey, EntityKey[]>();
  for (const entity of keys) {
    const deps = new Set<EntityKey>();
    for (const op of byEntity.get(entity) ?? []) {
      if (!('dependsOn' in op)) continue;
      for (const dep of op.dependsOn) if (byEntity.has(dep) && dep !== entity) deps.add(dep);
    }
    for (const dep of deps) appendTo(dependents, dep, entity);
    waitingOn.set(entity, deps);
  }
  const ordered: Operation[] = [];
  const done = new Set<EntityKey>();
  let layer = keys.filter((entity) => waitingOn.get(entity)?.size === 0);
  while (done.size < keys.length) {
    if (layer.length === 0) {
      const stuck = keys.find((entity) => !done.has(entity))!;
      ordered.push({
        kind: 'report',
        entity: stuck,
        reason: 'unsupported',
        message: `reference cycle with ${[...(waitingOn.get(stuck) ?? [])].sort().join(', ')}: create one of them without the reference first`,
        cost: 0,
      });
      layer = [stuck];
    }
    const next: EntityKey[] = [];
    for (const entity of layer) {
      if (done.has(entity)) continue;
      done.add(entity);
      ordered.push(...(byEntity.get(entity) ?? []).sort(compareOperations));
      for (const dependent of dependents.get(entity) ?? []) {
        const deps = waitingOn.get(dependent);
        deps?.delete(entity);
        if (deps?.size === 0 && !done.has(dependent)) next.push(dependent);
      }
    }
    layer = [...new Set(next)].sort();
  }
  return [...ordered, ...completing];
}

/** Map-of-lists append without copying the list. */
export function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
