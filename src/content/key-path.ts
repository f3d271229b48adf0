import { isPlainObject } from './value-equal.js';

/** One change to a file's values: the key path in the file and its new value (`null` removes the key). */
export interface KeyChange {
  path: readonly string[];
  value: unknown;
}

/** The value at a key path of nested mappings, or undefined when any step is missing. */
export function getIn(data: unknown, path: readonly string[]): unknown {
  let node = data;
  for (const step of path) {
    if (!isPlainObject(node) || !Object.hasOwn(node, step)) return undefined;
    node = node[step];
  }
  return node;
}

/** `{a: {b: value}}` for path `a.b`: what a key path looks like when none of its mappings exist yet. */
export function nestValue(path: readonly string[], value: unknown): unknown {
  let out = value;
  for (let i = path.length - 1; i >= 0; i--) out = defineOwn({}, path[i]!, out);
  return out;
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  // defineProperty, so a `__proto__` key in a file stays ordinary data.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

function cloneData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneData);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) defineOwn(out, k, cloneData(v));
    return out;
  }
  return value;
}

/** A deep copy of `data` with every change applied: what a correct edit must read back as. */
export function applyChanges(
  data: Record<string, unknown>,
  changes: readonly KeyChange[],
): Record<string, unknown> {
  const out = cloneData(data) as Record<string, unknown>;
  for (const { path, value } of changes) {
    let node: Record<string, unknown> = out;
    for (const step of path.slice(0, -1)) {
      const next = Object.hasOwn(node, step) ? node[step] : undefined;
      if (!isPlainObject(next)) defineOwn(node, step, {});
      node = node[step] as Record<string, unknown>;
    }
    const last = path[path.length - 1]!;
    if (value === null) delete node[last];
    else defineOwn(node, last, cloneData(value));
  }
  return out;
}

export function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((step, i) => step === b[i]);
}

/** True when `prefix` is `path` itself or one of its parents. */
export function startsWithPath(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((step, i) => step === path[i]);
}
