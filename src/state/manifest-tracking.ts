/**
 * Change tracking for the manifest the store hands out (issue 14, "state that scales"). The engine edits
 * `store.manifest` in place; for a save to write only what changed, the store must know which entities (and
 * media mappings, tombstones) were touched. Proxies see every write made through the manifest, at any depth,
 * and name the top-level key of the collection entry it lands in. Generic over entity records: nothing here
 * knows what an entity holds, so a new field on an entity needs no change here.
 *
 * Contract: edit the manifest through `store.manifest`. An object assigned into it is stored as is (its
 * proxies unwrapped); edit it afterwards by reading it back through the manifest, not through a reference kept
 * from before the assignment (that write would not be seen). Tests run with BUTTER_SYNC_CHECK_JOURNAL=1, which
 * makes every save compare the journal with the whole manifest and fail loudly on a missed write.
 */

/** Top-level keys whose values are records saved key by key; everything else is the small "head". */
export const KEYED_COLLECTIONS: readonly string[] = ['entities', 'media', 'tombstones'];

export interface TrackedChanges {
  /** collection → keys written or removed since the last take. */
  keys: Map<string, Set<string>>;
  /** Collections replaced wholesale (a merge of the shared state): the next save writes a snapshot. */
  replaced: Set<string>;
}

type AnyRecord = Record<string | symbol, unknown>;

const targets = new WeakMap<object, object>();

function isObject(value: unknown): value is AnyRecord {
  return value !== null && typeof value === 'object';
}

/** The plain object behind a proxy, with any proxies inside an assigned plain object replaced in place. */
function unwrap(value: unknown): unknown {
  if (!isObject(value)) return value;
  const target = targets.get(value);
  if (target !== undefined) return target;
  for (const key of Object.keys(value)) {
    const child = value[key];
    if (isObject(child)) {
      const raw = unwrap(child);
      if (raw !== child) value[key] = raw;
    }
  }
  return value;
}

export class ManifestTracker<T extends object> {
  /** The manifest as stored and serialised: plain objects, no proxies. */
  readonly raw: T;
  /** What the engine edits. */
  readonly view: T;
  #changes: TrackedChanges = { keys: new Map(), replaced: new Set() };
  readonly #collectionViews = new WeakMap<object, object>();
  /** collection → entry key → (plain object → its proxy), so one object keeps one proxy. */
  readonly #entryViews = new Map<string, Map<string, WeakMap<object, object>>>();

  constructor(raw: T) {
    this.raw = raw;
    this.view = this.#rootView(raw as unknown as AnyRecord) as T;
  }

  /** The changes since the last call, and a fresh empty set for the next save. */
  take(): TrackedChanges {
    const taken = this.#changes;
    this.#changes = { keys: new Map(), replaced: new Set() };
    return taken;
  }

  /** A save that failed: its changes are still to be saved. */
  restore(changes: TrackedChanges): void {
    for (const name of changes.replaced) this.#changes.replaced.add(name);
    for (const [name, keys] of changes.keys) for (const key of keys) this.#mark(name, key);
  }

  hasChanges(): boolean {
    return this.#changes.replaced.size > 0 || this.#changes.keys.size > 0;
  }

  #mark(collection: string, key: string): void {
    let keys = this.#changes.keys.get(collection);
    if (keys === undefined) {
      keys = new Set();
      this.#changes.keys.set(collection, keys);
    }
    keys.add(key);
  }

  #rootView(raw: AnyRecord): object {
    const proxy = new Proxy(raw, {
      get: (target, prop) => {
        const value = target[prop];
        if (
          typeof prop === 'string' &&
          KEYED_COLLECTIONS.includes(prop) &&
          isObject(value) &&
          !Array.isArray(value)
        ) {
          return this.#collectionView(prop, value);
        }
        return value;
      },
      set: (target, prop, value) => {
        if (typeof prop === 'string' && KEYED_COLLECTIONS.includes(prop)) this.#changes.replaced.add(prop);
        target[prop] = unwrap(value);
        return true;
      },
      deleteProperty: (target, prop) => {
        if (typeof prop === 'string' && KEYED_COLLECTIONS.includes(prop)) this.#changes.replaced.add(prop);
        return delete target[prop];
      },
    });
    targets.set(proxy, raw);
    return proxy;
  }

  #collectionView(name: string, raw: AnyRecord): object {
    const cached = this.#collectionViews.get(raw);
    if (cached !== undefined) return cached;
    const proxy = new Proxy(raw, {
      get: (target, prop) => {
        const value = target[prop];
        return typeof prop === 'string' && isObject(value) ? this.#entryView(name, prop, value) : value;
      },
      set: (target, prop, value) => {
        if (typeof prop === 'string') this.#mark(name, prop);
        target[prop] = unwrap(value);
        return true;
      },
      deleteProperty: (target, prop) => {
        if (typeof prop === 'string') this.#mark(name, prop);
        return delete target[prop];
      },
      defineProperty: (target, prop, descriptor) => {
        if (typeof prop === 'string') this.#mark(name, prop);
        return Reflect.defineProperty(target, prop, plainDescriptor(descriptor));
      },
    });
    targets.set(proxy, raw);
    this.#collectionViews.set(raw, proxy);
    return proxy;
  }

  /** A proxy for `raw`, somewhere inside entry `key` of collection `name`: any write under it marks `key`. */
  #entryView(name: string, key: string, raw: AnyRecord): object {
    let byKey = this.#entryViews.get(name);
    if (byKey === undefined) {
      byKey = new Map();
      this.#entryViews.set(name, byKey);
    }
    let views = byKey.get(key);
    if (views === undefined) {
      views = new WeakMap();
      byKey.set(key, views);
    }
    const cached = views.get(raw);
    if (cached !== undefined) return cached;
    const proxy = new Proxy(raw, {
      get: (target, prop) => {
        const value = target[prop];
        return typeof prop === 'string' && isObject(value) ? this.#entryView(name, key, value) : value;
      },
      set: (target, prop, value) => {
        this.#mark(name, key);
        target[prop] = unwrap(value);
        return true;
      },
      deleteProperty: (target, prop) => {
        this.#mark(name, key);
        return delete target[prop];
      },
      defineProperty: (target, prop, descriptor) => {
        this.#mark(name, key);
        return Reflect.defineProperty(target, prop, plainDescriptor(descriptor));
      },
    });
    targets.set(proxy, raw);
    views.set(raw, proxy);
    return proxy;
  }
}

function plainDescriptor(descriptor: PropertyDescriptor): PropertyDescriptor {
  return 'value' in descriptor ? { ...descriptor, value: unwrap(descriptor.value) } : descriptor;
}

/** The plain object behind a manifest view (to serialise it without going through the proxies). */
export function plainOf<T>(value: T): T {
  return (isObject(value) ? (targets.get(value) ?? value) : value) as T;
}
