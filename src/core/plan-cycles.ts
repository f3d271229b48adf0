import type { LocaleChange, WriteIntent } from '../cms/port.js';
import type { FieldSpec, SyncConfig } from '../config/schema.js';
import { digestValue, STATUS_KEY } from './digest.js';
import type { EntityModel } from './model.js';
import { type NormalizeContext, normalizeField } from './normalize.js';
import { referencesOf } from './plan-order.js';
import type { EntityKey, FieldDigests, Operation, WriteOperation } from './types.js';

type CreateOperation = WriteOperation & { intent: { kind: 'create' } };

function isCreate(op: Operation): op is CreateOperation {
  return op.kind === 'write' && op.intent.kind === 'create';
}

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
  estimate: (intent: WriteIntent) => number,
): Operation[] {
  const creates = new Map<EntityKey, CreateOperation>();
  const pageKeys = new Map<string, EntityKey[]>();
  for (const op of operations) {
    if (!isCreate(op)) continue;
    if (op.unresolved !== undefined) continue; // not sent this run
    creates.set(op.entity, op);
    const { ref } = op.intent;
    if (ref.kind === 'page') pageKeys.set(ref.slug, [...(pageKeys.get(ref.slug) ?? []), op.entity]);
  }
  const edges = new Map<EntityKey, EntityKey[]>();
  for (const [entity, op] of creates) {
    const model = modelOf(entity);
    if (!model) continue;
    const refs = referencesOf(op, model);
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
      const followUp = splitCreate(op, model, members, pageKeys, config, norm, estimate);
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
  estimate: (intent: WriteIntent) => number,
): Operation | undefined {
  const later: Record<string, LocaleChange> = {};
  const laterExpect: Record<string, FieldDigests> = {};
  for (const [locale, change] of Object.entries(op.intent.locales)) {
    const { fields } = change;
    for (const [name, spec] of Object.entries(model.fields)) {
      if (spec.type !== 'reference' || !(name in fields)) continue;
      const value = fields[name];
      const keys = (Array.isArray(value) ? value : [value]).filter((k): k is string => typeof k === 'string');
      const isCyclic = (key: string) => targetsOf(spec, key, pageKeys).some((t) => members.has(t));
      if (!keys.some(isCyclic)) continue;
      const now = spec.many ? keys.filter((key) => !isCyclic(key)) : '';
      fields[name] = now;
      const status = change.status ?? config.defaultStatus;
      later[locale] = {
        fields: { ...later[locale]?.fields, [name]: value },
        ...(model.kind === 'page' || change.status ? { status } : {}),
      };
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
  if (model.kind === 'page') {
    for (const [locale, digests] of Object.entries(laterExpect))
      digests[STATUS_KEY] = digestValue(later[locale]?.status ?? config.defaultStatus);
  }
  // A new item has no id in the plan: the backend finds it through the ids when the follow-up is sent.
  const intent: WriteIntent = { kind: 'update', entity: op.entity, ref: op.intent.ref, locales: later };
  return {
    kind: 'write',
    entity: op.entity,
    intent,
    cost: estimate(intent),
    dependsOn,
    expect: laterExpect,
    completesCycle: true,
  };
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
