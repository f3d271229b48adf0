import type { FieldSpec, SyncConfig } from '../config/schema.js';
import { isLocaleNested } from './api-fields.js';
import { digestValue, STATUS_KEY } from './digest.js';
import type { EntityModel } from './model.js';
import { type NormalizeContext, normalizeField } from './normalize.js';
import { referencesOf } from './plan-order.js';
import type { EntityKey, FieldDigests, Operation } from './types.js';

type CreateOperation = Extract<Operation, { kind: 'create-item' | 'create-page' }>;

/** What a reference key in a file names, by the spec's target: `item:<collection>:<key>` or a page slug. */
function targetsOf(spec: FieldSpec & { type: 'reference' }, key: string, pageKeys: Map<string, EntityKey[]>) {
  if (spec.to === 'page') return pageKeys.get(key) ?? [];
  return [`item:${spec.to.slice('collection:'.length)}:${key}`];
}

/**
 * Creates that reference each other (countries whose `borders` name each other, pages in a ring) cannot be
 * ordered: whichever goes first names one ButterCMS does not hold yet, and ButterCMS drops such a reference
 * after the 202 (butter-api.md §9). So each create of a cycle goes out without the references into its own
 * cycle (its read-back expects exactly that), and a follow-up write (`completesCycle`) PATCHes them in once
 * every create of the cycle is sent. Only top-level reference fields are split; a cycle through a repeater
 * or component stays one, and ordering reports it. Mutates and returns `operations` plus the follow-ups.
 */
export function breakReferenceCycles(
  operations: Operation[],
  modelOf: (entity: EntityKey) => EntityModel | undefined,
  config: SyncConfig,
  norm: NormalizeContext,
): Operation[] {
  const creates = new Map<EntityKey, CreateOperation>();
  const pageKeys = new Map<string, EntityKey[]>();
  for (const op of operations) {
    if (op.kind !== 'create-item' && op.kind !== 'create-page') continue;
    if (op.unresolved !== undefined) continue; // not sent this run
    creates.set(op.entity, op);
    if (op.kind === 'create-page') pageKeys.set(op.slug, [...(pageKeys.get(op.slug) ?? []), op.entity]);
  }
  const edges = new Map<EntityKey, EntityKey[]>();
  for (const [entity, op] of creates) {
    const model = modelOf(entity);
    if (!model) continue;
    const refs = referencesOf(op, model, config.locales.all);
    const targets = [
      ...refs.items.map(([collection, key]) => `item:${collection}:${key}`),
      ...refs.pages.flatMap((slug) => pageKeys.get(slug) ?? []),
    ];
    edges.set(
      entity,
      [...new Set(targets)].filter((t) => creates.has(t)),
    );
  }
  const followUps: Operation[] = [];
  for (const component of stronglyConnected(edges)) {
    const cyclic = component.length > 1 || (edges.get(component[0]!) ?? []).includes(component[0]!);
    if (!cyclic) continue;
    const members = new Set(component);
    for (const entity of component) {
      const op = creates.get(entity)!;
      const model = modelOf(entity)!;
      const followUp = splitCreate(op, model, members, pageKeys, config, norm);
      if (followUp) followUps.push(followUp);
    }
  }
  return [...operations, ...followUps];
}

/** Leave the cyclic references out of one create; the follow-up write that puts them back, if any. */
function splitCreate(
  op: CreateOperation,
  model: EntityModel,
  members: Set<EntityKey>,
  pageKeys: Map<string, EntityKey[]>,
  config: SyncConfig,
  norm: NormalizeContext,
): Operation | undefined {
  const raw = op.kind === 'create-item' ? op.body.fields[0] : op.body.fields;
  const nested = isLocaleNested(raw, model, config.locales.all);
  const opLocale = op.kind === 'create-page' ? op.locale : undefined; // items nest any non-default locale
  const defaultLocale = opLocale ?? config.locales.default;
  const variants: Record<string, Record<string, unknown>> = nested
    ? (raw as Record<string, Record<string, unknown>>)
    : { [defaultLocale]: raw };
  const later: Record<string, Record<string, unknown>> = {};
  const laterExpect: Record<string, FieldDigests> = {};
  for (const [locale, fields] of Object.entries(variants)) {
    for (const [name, spec] of Object.entries(model.fields)) {
      if (spec.type !== 'reference' || !(name in fields)) continue;
      const value = fields[name];
      const keys = (Array.isArray(value) ? value : [value]).filter((k): k is string => typeof k === 'string');
      const isCyclic = (key: string) => targetsOf(spec, key, pageKeys).some((t) => members.has(t));
      if (!keys.some(isCyclic)) continue;
      const now = spec.many ? keys.filter((key) => !isCyclic(key)) : '';
      fields[name] = now;
      later[locale] = { ...later[locale], [name]: value };
      laterExpect[locale] = {
        ...laterExpect[locale],
        [name]: digestValue(normalizeField(spec, value, norm)),
      };
      // The create's read-back shows what it sent; the follow-up's shows the rest.
      const expected = op.expect?.[locale];
      if (expected) expected[name] = digestValue(normalizeField(spec, now, norm));
    }
  }
  if (Object.keys(later).length === 0) return undefined;
  op.dependsOn = op.dependsOn.filter((dep) => !members.has(dep));
  // Every member of the cycle is created (and, for items, its id read) before the follow-up goes.
  const dependsOn = [...members].sort();
  const shaped = shapeLike(later, nested, opLocale, config.locales.default);
  if (op.kind === 'create-page') {
    const status = op.body.status ?? config.defaultStatus;
    for (const digests of Object.values(laterExpect)) digests[STATUS_KEY] = digestValue(status);
    return {
      kind: 'update-page',
      entity: op.entity,
      pageType: op.pageType,
      slug: op.slug,
      ...(shaped.locale ? { locale: shaped.locale } : {}),
      body: { status, fields: shaped.fields },
      cost: 1,
      dependsOn,
      expect: laterExpect,
      completesCycle: true,
    };
  }
  return {
    kind: 'patch-item',
    entity: op.entity,
    collection: op.collection,
    id: '', // a new item: the applier reads its id from the manifest once the create found it
    body: { ...(op.body.status ? { status: op.body.status } : {}), fields: shaped.fields },
    cost: 1,
    dependsOn,
    expect: laterExpect,
    completesCycle: true,
  };
}

/** The follow-up's fields in the create's own shape: flat (with its `locale`) or nested by locale. */
function shapeLike(
  perLocale: Record<string, Record<string, unknown>>,
  nested: boolean,
  locale: string | undefined,
  defaultLocale: string,
): { fields: Record<string, unknown>; locale?: string } {
  if (!nested) {
    const only = Object.values(perLocale)[0] ?? {};
    return { fields: only, ...(locale && locale !== defaultLocale ? { locale } : {}) };
  }
  return { fields: perLocale };
}

/** Tarjan's strongly connected components, iterative, in a stable (sorted) order. */
function stronglyConnected(edges: Map<EntityKey, EntityKey[]>): EntityKey[][] {
  const index = new Map<EntityKey, number>();
  const low = new Map<EntityKey, number>();
  const onStack = new Set<EntityKey>();
  const stack: EntityKey[] = [];
  const out: EntityKey[][] = [];
  let counter = 0;
  for (const root of [...edges.keys()].sort()) {
    if (index.has(root)) continue;
    const work: Array<{ node: EntityKey; next: number }> = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = [...(edges.get(frame.node) ?? [])].sort();
      if (frame.next < targets.length) {
        const target = targets[frame.next]!;
        frame.next += 1;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter);
          counter += 1;
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: EntityKey[] = [];
        let member: EntityKey;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        out.push(component.sort());
      }
    }
  }
  return out;
}
