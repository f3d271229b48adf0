import type { BackendRules, LocaleChange, PageStatus, WriteIntent } from '../cms/port.js';
import type { SyncConfig } from '../config/schema.js';
import type { IdLookup } from './api-fields.js';
import { digestValue, digestVariant, STATUS_KEY, TITLE_KEY } from './digest.js';
import { LocalDigests } from './local-digests.js';
import { type EntityModel, hasMeta, modelFor } from './model.js';
import { type NormalizeContext, normalizeField, normalizeVariant } from './normalize.js';
import { breakReferenceCycles } from './plan-cycles.js';
import { appendTo, type KnownRemote, linkDependencies, orderOperations } from './plan-order.js';
import { findRenames } from './plan-renames.js';
import { diffLocale, type FieldChange } from './three-way.js';
import { isStaleCopy } from './tombstone.js';
import {
  type EntityKey,
  type EntityRef,
  type FieldDigests,
  type LocalEntity,
  type LocalVariant,
  type Manifest,
  type ManifestEntity,
  type Operation,
  type PendingWrite,
  parseEntityKey,
  type RemoteEntity,
  type RemoteId,
  type SyncPlan,
  type Variant,
  type WriteOperation,
} from './types.js';

/** Everything the planner needs; all of it already read by the engine (the planner does no I/O). */
export interface PlanInput {
  config: SyncConfig;
  manifest: Manifest;
  /** Entities found in files (in scope). */
  local: Map<EntityKey, LocalEntity>;
  /** Full remote snapshot (pull/reconcile); absent for push-only runs, which assume remote = base. */
  remote?: Map<EntityKey, RemoteEntity> | undefined;
  scope: 'push' | 'pull' | 'both';
  /** For push runs limited to some paths: only these entity keys are considered (deletions too). undefined = everything. */
  only?: Set<EntityKey> | undefined;
  /** Where a new file goes (the engine passes content's pathForEntity). */
  resolvePath(ref: EntityRef, locale: string): string;
  ids: IdLookup;
  now: Date;
  /**
   * Does a content file exist for this entity, read by this run or not? Asked only about referenced
   * entities ButterCMS does not hold; without it, only `local` counts.
   */
  hasFile?: ((entity: EntityKey) => boolean) | undefined;
  /**
   * The user's opt-in (`push --create-renamed`): a renamed page file becomes a new page. Without it a
   * rename is reported and nothing is sent for it, since ButterCMS cannot change a slug (DESIGN.md §3).
   */
  createRenamed?: boolean | undefined;
  /** Renames git detected: new path → old path (plan-renames.ts). */
  renamedPaths?: ReadonlyMap<string, string> | undefined;
  /**
   * A push reads only what it writes: the entities and locales `remote` was read for. The remote is known
   * there and assumed equal to the base everywhere else. Undefined with a `remote`: it is the whole account.
   */
  readLocales?: ReadonlyMap<EntityKey, ReadonlySet<string>> | undefined;
  /**
   * Entities of a push planned both ways: a create that found the entity already there is merged through the
   * no-base rules instead of duplicated (DESIGN.md §3).
   */
  twoWay?: ReadonlySet<EntityKey> | undefined;
  /**
   * Digests of the local file values, kept from the scan (and across the plans of one run): the planner digests
   * each value once. Without it the plan makes its own.
   */
  localDigests?: LocalDigests | undefined;
  /** What the backend can do (cms/port.ts), as data: the planner asks these instead of assuming one CMS. */
  rules: BackendRules;
  /**
   * The calls a write makes (the backend's pure `estimate`). The lookup before a create and the read that finds
   * a new item's id are reads the engine plans and counts apart (`SyncPlan.reads`, CmsBackend.planReads), so a
   * plan's total is what the run spends (issue 10).
   */
  estimate(intent: WriteIntent): number;
}

type Change = FieldChange['action'];

/** One locale of one entity, seen from both sides and the base. */
interface LocaleView {
  locale: string;
  local?: LocalVariant | undefined;
  localNorm?: Variant | undefined;
  localDigests?: FieldDigests | undefined;
  remoteNorm?: Variant | undefined;
  /** The remote snapshot's digests, or the base when no snapshot was taken (push-only runs). */
  remoteDigests?: FieldDigests | undefined;
  base?: FieldDigests | undefined;
  path: string;
}

interface LocaleOutcome {
  view: LocaleView;
  changes: Map<string, Change>;
  /** The locale exists on the remote side only and has no base: write a new file. */
  createFile: boolean;
}

interface EntityInput {
  key: EntityKey;
  ref: EntityRef;
  model: EntityModel;
  local?: LocalEntity | undefined;
  remote?: RemoteEntity | undefined;
  manifest?: ManifestEntity | undefined;
  pending: PendingWrite[];
}

/** Planned deletes are collected apart so the maxDeletePercent guard can refuse them per collection. */
interface GuardedDelete {
  /** The collection (or page type) the entity belongs to (groupOf). */
  collection: string;
  op: WriteOperation | Extract<Operation, { kind: 'delete-file' }>;
}

/** An entity's collection, or its page type for a page (pages are deleted only where the backend can). */
function groupOf(ref: EntityRef): string {
  if (ref.kind === 'post') return 'blog posts';
  return ref.kind === 'item' ? ref.collection : `page type ${ref.pageType}`;
}

class Planner {
  readonly ops: Operation[] = [];
  readonly deletes: GuardedDelete[] = [];
  private readonly norm: NormalizeContext;
  private readonly digests: LocalDigests;
  // Set per entity (enter): a push knows the remote only for the entities and locales it read.
  private pushing: boolean;
  private pulling: boolean;
  private remoteKnown: boolean;
  private knownLocales: ReadonlySet<string> | undefined;

  /** Page slug → the locales ButterCMS holds it in (or gets it in this run, from a file); built when first asked. */
  #pageLocales: Map<string, Set<string>> | undefined;

  constructor(private readonly input: PlanInput) {
    this.norm = { media: input.manifest.media };
    this.digests = input.localDigests ?? new LocalDigests();
    this.pushing = input.scope !== 'pull';
    this.pulling = input.scope !== 'push';
    this.remoteKnown = input.remote !== undefined;
    this.knownLocales = undefined;
  }

  private get pageLocales(): Map<string, Set<string>> {
    if (this.#pageLocales) return this.#pageLocales;
    const { input } = this;
    const pageLocales = new Map<string, Set<string>>();
    const note = (key: EntityKey, locales: string[]) => {
      if (!key.startsWith('page:')) return;
      const ref = parseEntityKey(key);
      if (ref.kind !== 'page') return;
      const set = pageLocales.get(ref.slug) ?? new Set<string>();
      for (const locale of locales) set.add(locale);
      pageLocales.set(ref.slug, set);
    };
    for (const [key, entity] of Object.entries(input.manifest.entities)) note(key, baseLocales(entity));
    for (const [key, entity] of input.remote ?? []) note(key, Object.keys(entity.locales));
    for (const [key, entity] of input.local) note(key, Object.keys(entity.locales));
    this.#pageLocales = pageLocales;
    return pageLocales;
  }

  /**
   * What ButterCMS will read back for a field in one locale: a page reference resolves only where its target
   * has content in that locale (butter-api.md §2.6: partial translations are normal), so references to a
   * page known only in other locales read back empty there. A slug known nowhere is left as is (the write is
   * held back for it, plan-order.ts). Other fields read back as sent.
   */
  private heldDigest(model: EntityModel, key: string, value: unknown, locale: string): string | undefined {
    const spec = model.fields[key];
    if (spec?.type !== 'reference' || spec.to !== 'page') return undefined;
    const resolves = (slug: unknown) =>
      typeof slug !== 'string' || !this.pageLocales.has(slug) || this.pageLocales.get(slug)!.has(locale);
    const normalized = normalizeField(spec, value, this.norm);
    const held = Array.isArray(normalized)
      ? normalized.filter(resolves)
      : resolves(normalized)
        ? normalized
        : '';
    return digestValue(normalizeField(spec, held, this.norm));
  }

  /** Expected read-back digests of a page write, locale by locale (heldDigest). */
  private expectHeld(
    model: EntityModel,
    locale: string,
    fields: Record<string, unknown>,
    digests: FieldDigests,
  ): void {
    if (model.kind !== 'page') return;
    for (const key of Object.keys(digests)) {
      if (!(key in fields)) continue;
      const held = this.heldDigest(model, key, fields[key], locale);
      if (held !== undefined) digests[key] = held;
    }
  }

  private get config(): SyncConfig {
    return this.input.config;
  }

  /** New entity → the entity its files were renamed from (findRenames), and the reverse. */
  private readonly renamedFrom = new Map<EntityKey, EntityKey>();
  private readonly renamedTo = new Map<EntityKey, EntityKey>();

  noteRenames(renames: Map<EntityKey, EntityKey>): void {
    for (const [to, from] of renames) {
      // The opt-in turns a renamed page file into a new page: plan it as the create and removal it is.
      if (this.input.createRenamed && to.startsWith('page:')) continue;
      this.renamedFrom.set(to, from);
      this.renamedTo.set(from, to);
    }
  }

  /** The scope and remote knowledge this entity is planned with. */
  private enter(key: EntityKey): void {
    const { input } = this;
    const read = input.readLocales;
    const twoWay = input.scope === 'both' || (input.twoWay?.has(key) ?? false);
    this.pushing = input.scope !== 'pull';
    this.pulling = input.scope === 'pull' || twoWay;
    this.remoteKnown = input.remote !== undefined && (read === undefined || read.has(key));
    this.knownLocales = read?.get(key);
  }

  /**
   * True when planEntity would plan nothing, told without building its views (issue 14: a no-change push
   * at 10k entities must not normalise every file twice): the files of every locale digest as the base, the
   * base covers exactly those locales, the remote is not read for it (so assumed at the base), and nothing is
   * pending, renamed or without an id. Then planMerge finds every field unchanged on both sides.
   */
  isSettled(e: EntityInput): boolean {
    const { input } = this;
    if (!e.local || !e.manifest || e.remote !== undefined || e.pending.length > 0) return false;
    if (input.remote !== undefined && (input.readLocales === undefined || input.readLocales.has(e.key)))
      return false;
    if (this.renamedTo.has(e.key) || this.renamedFrom.has(e.key)) return false;
    if (e.ref.kind === 'item' && e.manifest.remoteId === undefined) return false;
    const locales = Object.keys(e.local.locales);
    if (locales.length === 0 || locales.length !== baseLocales(e.manifest).length) return false;
    for (const locale of locales) {
      const base = baseOf(e.manifest, locale);
      if (base === undefined) return false;
      const digests = this.digests.of(e.local.locales[locale]!, e.model, this.norm.media);
      for (const key of Object.keys(digests)) if (digests[key] !== base[key]) return false;
    }
    return true;
  }

  planEntity(e: EntityInput): void {
    this.enter(e.key);
    if (this.renamedTo.has(e.key)) return; // planned with the entity it was renamed to
    const from = this.renamedFrom.get(e.key);
    if (from !== undefined) {
      this.planRename(e, from);
      return;
    }
    const hasLocal = e.local !== undefined && Object.keys(e.local.locales).length > 0;
    const hasBase = baseLocales(e.manifest).length > 0;
    const itemId = e.remote?.remoteId ?? e.manifest?.remoteId;
    // A manifest entry for an item without an id is a create that never resolved: plan it as a create again.
    const remoteAssumed = this.remoteKnown
      ? e.remote !== undefined
      : hasBase && (e.ref.kind !== 'item' || itemId !== undefined);

    if (hasLocal) {
      if (!remoteAssumed) {
        if (this.remoteKnown && hasBase) this.planRemoteGone(e);
        else this.planCreate(e);
      } else {
        this.planMerge(e, itemId);
      }
    } else if (remoteAssumed) {
      if (hasBase) this.planLocalRemoved(e, itemId);
      else this.planPullCreate(e);
    } else if (e.manifest !== undefined && this.remoteKnown) {
      this.planBothGone(e);
    }
  }

  // ---- locale views -------------------------------------------------------------------------------

  private views(e: EntityInput): LocaleView[] {
    const locales = new Set([
      ...Object.keys(e.local?.locales ?? {}),
      ...Object.keys(e.remote?.locales ?? {}),
      ...baseLocales(e.manifest),
    ]);
    return [...locales].sort().map((locale) => this.view(e, locale));
  }

  private view(e: EntityInput, locale: string): LocaleView {
    const local = e.local?.locales[locale];
    const remote = e.remote?.locales[locale];
    const base = baseOf(e.manifest, locale);
    const localNorm = local ? normalizeVariant(local, e.model, this.norm) : undefined;
    const remoteNorm = remote ? normalizeVariant(remote, e.model, this.norm) : undefined;
    return {
      locale,
      local,
      localNorm,
      localDigests: local ? this.digests.of(local, e.model, this.norm.media) : undefined,
      remoteNorm,
      remoteDigests:
        this.remoteKnown && (this.knownLocales?.has(locale) ?? true)
          ? remoteNorm && digestVariant(remoteNorm, e.model, this.norm)
          : base,
      base,
      path: local?.path ?? e.manifest?.locales[locale]?.path ?? this.input.resolvePath(e.ref, locale),
    };
  }

  // ---- the common case: both sides present ------------------------------------------------------

  private planMerge(e: EntityInput, itemId: RemoteId | undefined): void {
    const outcomes: LocaleOutcome[] = [];
    const localeRemoved: string[] = [];
    for (const view of this.views(e)) {
      const pending = pendingExpectations(e.pending, view.locale);
      if (view.localDigests && view.remoteDigests) {
        const changes = diffLocale({
          local: this.withoutEmptyFills(e, view.localDigests, view.remoteDigests),
          remote: view.remoteDigests,
          base: view.base,
          conflicts: this.config.conflicts,
          initialSource: this.config.initialSource,
          pending,
        });
        const actions = new Map(changes.map((c) => [c.key, c.action]));
        // A page reference ButterCMS cannot hold in this locale is no change once the rest is in.
        for (const [key, action] of actions) {
          if (action !== 'push' || !view.localNorm || view.base === undefined) continue;
          const held = this.heldDigest(e.model, key, view.localNorm.fields[key], view.locale);
          if (held !== undefined && held === view.base[key]) actions.delete(key);
        }
        outcomes.push({ view, changes: actions, createFile: false });
      } else if (view.localDigests) {
        // A locale the remote does not have yet: every field is new there (a title only where updates set it).
        const changes = new Map<string, Change>();
        const titles = this.titlesWritable(e.ref);
        for (const [key, digest] of Object.entries(view.localDigests)) {
          if ((key !== TITLE_KEY || titles) && !pending.get(key)?.has(digest)) changes.set(key, 'push');
        }
        outcomes.push({ view, changes, createFile: false });
      } else if (view.remoteDigests && view.base === undefined) {
        outcomes.push({ view, changes: new Map(), createFile: true });
      } else if (view.remoteDigests) {
        localeRemoved.push(view.locale);
      }
    }

    if (this.pushing) {
      // A post is written like a page: by slug, with its title and status (issue 11).
      if (e.ref.kind !== 'item') this.emitPageUpdates(e, outcomes);
      else if (itemId !== undefined) this.emitItemUpdate(e, itemId, outcomes);
      if (localeRemoved.length > 0) {
        this.ops.push({
          kind: 'report',
          entity: e.key,
          reason: 'unsupported',
          message: `locale file(s) ${localeRemoved.join(', ')} removed; the CMS keeps that locale (remove it in the CMS)`,
          cost: 0,
        });
      }
    }
    for (const outcome of outcomes) this.emitLocaleSync(e, outcome);
  }

  /** Pulls (write-file), adoptions and conflicts of one locale. */
  private emitLocaleSync(e: EntityInput, { view, changes, createFile }: LocaleOutcome): void {
    const { locale } = view;
    if (createFile) {
      if (this.pulling && view.remoteNorm) this.emitFileCreate(e, view, view.remoteNorm);
      return;
    }
    const pulled = this.pulling ? keysWith(changes, 'pull') : [];
    const adopted = keysWith(changes, 'adopt');
    const newBase: FieldDigests = { ...view.base };
    for (const key of adopted) newBase[key] = view.localDigests?.[key] as string;
    if (pulled.length > 0 && view.remoteNorm) {
      const set: Record<string, unknown> = {};
      for (const key of pulled) {
        set[this.fileKey(key)] = readValue(view.remoteNorm, key);
        newBase[key] = view.remoteDigests?.[key] as string;
      }
      this.ops.push({
        kind: 'write-file',
        entity: e.key,
        locale,
        path: view.path,
        set,
        create: view.local === undefined,
        base: newBase,
        cost: 0,
      });
    } else if (adopted.length > 0) {
      this.ops.push({
        kind: 'adopt',
        entity: e.key,
        locale,
        base: newBase,
        remoteId: e.manifest?.remoteId === undefined ? e.remote?.remoteId : undefined,
        path: view.local?.path,
        cost: 0,
      });
    }
    for (const key of keysWith(changes, 'conflict')) {
      this.ops.push({
        kind: 'conflict',
        entity: e.key,
        locale,
        field: key,
        path: view.local?.path ?? view.path,
        git: view.localNorm ? readValue(view.localNorm, key) : null,
        cms: view.remoteNorm ? readValue(view.remoteNorm, key) : null,
        cost: 0,
      });
    }
  }

  private emitFileCreate(e: EntityInput, view: LocaleView, remote: Variant): void {
    const set: Record<string, unknown> = { ...remote.fields };
    if (hasMeta(e.model)) {
      if (remote.meta.title !== undefined) set[this.config.pageMeta.titleKey] = remote.meta.title;
      if (remote.meta.status !== undefined) set[this.config.pageMeta.statusKey] = remote.meta.status;
    }
    this.ops.push({
      kind: 'write-file',
      entity: e.key,
      locale: view.locale,
      path: view.path,
      set,
      create: true,
      base: digestVariant(remote, e.model, this.norm),
      cost: 0,
    });
  }

  /** `set` keys are file keys: field names, and the configured frontmatter keys for title/status. */
  private fileKey(key: string): string {
    if (key === TITLE_KEY) return this.config.pageMeta.titleKey;
    if (key === STATUS_KEY) return this.config.pageMeta.statusKey;
    return key;
  }

  // ---- pushes -------------------------------------------------------------------------------------

  private statusFor(view: LocaleView): PageStatus {
    return view.localNorm?.meta.status ?? view.remoteNorm?.meta.status ?? this.config.defaultStatus;
  }

  /** The write of one intent, at the calls the backend says it takes (plan = run). */
  private emitWrite(
    intent: WriteIntent,
    expect: Record<string, FieldDigests> | undefined,
    extra: Partial<Pick<WriteOperation, 'renamedFrom'>> = {},
  ): void {
    this.ops.push({
      kind: 'write',
      entity: intent.entity,
      intent,
      cost: this.input.estimate(intent),
      dependsOn: [],
      ...(expect ? { expect } : {}),
      ...extra,
    });
  }

  /**
   * A page update: the changed fields of each locale, and each locale's status (explicit, whatever changed: the
   * backend decides how to send it, butter-api.md §3.2, §9.4). A changed title is sent only where titles are
   * writable; elsewhere it is reported.
   */
  private emitPageUpdates(e: EntityInput, outcomes: LocaleOutcome[]): void {
    const titlesWritable = this.titlesWritable(e.ref);
    const titleChanged: string[] = [];
    const locales: Record<string, LocaleChange> = {};
    const expect: Record<string, FieldDigests> = {};
    for (const { view, changes } of outcomes) {
      const pushed = keysWith(changes, 'push');
      if (pushed.includes(TITLE_KEY) && !titlesWritable) titleChanged.push(view.locale);
      const keys = pushed.filter((key) => key !== TITLE_KEY || titlesWritable);
      if (keys.length === 0 || !view.localNorm) continue;
      const status = this.statusFor(view);
      const fields: Record<string, unknown> = {};
      const digests: FieldDigests = { [STATUS_KEY]: digestValue(status) };
      let title: string | undefined;
      for (const key of keys) {
        if (key === STATUS_KEY) continue;
        digests[key] = view.localDigests?.[key] as string;
        if (key === TITLE_KEY) title = view.localNorm.meta.title;
        else fields[key] = view.localNorm.fields[key];
      }
      this.expectHeld(e.model, view.locale, fields, digests);
      locales[view.locale] = { fields, status, ...(title !== undefined ? { title } : {}) };
      expect[view.locale] = digests;
    }
    if (titleChanged.length > 0) {
      this.ops.push({
        kind: 'report',
        entity: e.key,
        path: e.local?.locales[titleChanged[0]!]?.path,
        reason: 'title-changed',
        message: `page title changed in ${titleChanged.join(', ')}; the CMS's API cannot change page titles (rename it in the CMS)`,
        cost: 0,
      });
    }
    if (Object.keys(locales).length === 0) return;
    this.emitWrite({ kind: 'update', entity: e.key, ref: e.ref, locales }, expect);
  }

  /** A post's empty `cmsFills` property (e.g. no `published` date) is no opinion: it reads as the remote's. */
  private withoutEmptyFills(e: EntityInput, local: FieldDigests, remote: FieldDigests): FieldDigests {
    const fills = e.ref.kind === 'post' ? (this.input.rules.posts?.cmsFills ?? []) : [];
    if (fills.length === 0) return local;
    const empty = this.emptyDigests(e.model);
    const out = { ...local };
    for (const key of fills) {
      if (out[key] === empty[key] && remote[key] !== undefined) out[key] = remote[key];
    }
    return out;
  }

  /** Can an update change this entity's title? Pages and posts each have their own backend rule. */
  private titlesWritable(ref: EntityRef): boolean {
    const { rules } = this.input;
    return ref.kind === 'post' ? (rules.posts?.titlesWritable ?? false) : rules.titlesWritable;
  }

  /**
   * An item update with the changed fields, or every field for a regenerated file or a removed field: a
   * `replace` where the backend's replace clears what it omits (butter-api.md §3.4), else an update of them all.
   */
  private emitItemUpdate(e: EntityInput, id: RemoteId, outcomes: LocaleOutcome[]): void {
    const pushing = outcomes.filter(({ changes }) => keysWith(changes, 'push').length > 0);
    if (pushing.length === 0) return;
    const put = pushing.some((outcome) => this.needsPut(e.model, outcome.view));
    const locales: Record<string, LocaleChange> = {};
    const expect: Record<string, FieldDigests> = {};
    for (const { view, changes } of pushing) {
      const local = view.localNorm!;
      const fields: Record<string, unknown> = {};
      const digests: FieldDigests = {};
      const keys = put ? Object.keys(e.model.fields) : keysWith(changes, 'push');
      for (const key of keys) {
        // A PUT replaces everything: fields the remote changed (pulled or in conflict) keep the remote value.
        const keepRemote = put && view.remoteNorm && changes.has(key) && changes.get(key) !== 'push';
        const source = keepRemote ? view.remoteNorm! : local;
        fields[key] = source.fields[key];
        // A field in conflict is sent unchanged but must not move the base when the PUT is verified:
        // that would silently settle the conflict (and the next run would push git's value over the CMS edit).
        if (changes.get(key) !== 'conflict') digests[key] = digestValue(source.fields[key]);
      }
      locales[view.locale] = { fields, ...(local.meta.status ? { status: local.meta.status } : {}) };
      expect[view.locale] = digests;
    }
    const kind = put && this.input.rules.replaceClearsOmitted ? 'replace' : 'update';
    this.emitWrite({ kind, entity: e.key, ref: e.ref, locales, remoteId: id }, expect);
  }

  /**
   * The file was regenerated in full (every field but the key changed vs base) or a field that had a value
   * was removed from the file: only a PUT clears what the file no longer holds.
   */
  private needsPut(model: EntityModel, view: LocaleView): boolean {
    const { base, local, localDigests } = view;
    if (!base || !local || !localDigests) return false;
    const names = Object.keys(model.fields);
    const empty = this.emptyDigests(model);
    const removed = names.some(
      (name) => !(name in local.fields) && base[name] !== undefined && base[name] !== empty[name],
    );
    if (removed) return true;
    const compared = names.filter((name) => name !== model.keyField);
    return compared.length > 1 && compared.every((name) => localDigests[name] !== base[name]);
  }

  private readonly emptyCache = new WeakMap<EntityModel, FieldDigests>();

  private emptyDigests(model: EntityModel): FieldDigests {
    let digests = this.emptyCache.get(model);
    if (!digests) {
      digests = digestVariant({ fields: {}, meta: {} }, model, this.norm);
      this.emptyCache.set(model, digests);
    }
    return digests;
  }

  /**
   * A create with every schema key of each locale (butter-api.md §3.1, §3.3), one status and one title for all
   * of them (the default locale's, else the first's); never re-sent while pending.
   */
  private planCreate(e: EntityInput): void {
    if (!this.pushing || !e.local) return;
    if (e.pending.some((p) => p.kind === 'create')) return;
    const views = Object.keys(e.local.locales)
      .sort()
      .map((locale) => this.view(e, locale));
    const main = views.find((v) => v.locale === this.config.locales.default) ?? views[0];
    if (!main?.localNorm) return;
    // Deleted on purpose (by another machine's run, say) and this is the file as it was: not created again.
    const tombstone = this.input.manifest.tombstones?.[e.key];
    if (
      tombstone &&
      isStaleCopy(tombstone, Object.fromEntries(views.map((v) => [v.locale, v.localDigests])))
    ) {
      const where = tombstone.side === 'cms' ? 'in the CMS' : 'in Git';
      this.ops.push({
        kind: 'report',
        entity: e.key,
        path: main.path,
        reason: 'deleted-elsewhere',
        message: `deleted ${where} on ${tombstone.at.slice(0, 10)}; this unchanged copy is not created again (remove the file, or edit it to bring the entity back)`,
        cost: 0,
      });
      return;
    }
    const locales: Record<string, LocaleChange> = {};
    const expect: Record<string, FieldDigests> = {};
    const status = main.localNorm.meta.status ?? this.config.defaultStatus;
    const title = main.localNorm.meta.title ?? (e.ref.kind === 'page' ? e.ref.slug : undefined);
    for (const view of views) {
      const local = view.localNorm!;
      locales[view.locale] = {
        fields: { ...local.fields },
        status,
        ...(title !== undefined && hasMeta(e.model) ? { title } : {}),
      };
      const digests = digestVariant(local, e.model, this.norm);
      // One title is sent for every locale: it becomes base only where the file says the same (so the next
      // run has nothing to adopt); a locale whose file differs keeps it out and is reported as title-changed.
      if (!hasMeta(e.model) || local.meta.title !== title) delete digests[TITLE_KEY];
      else digests[TITLE_KEY] = digestValue(title);
      if (hasMeta(e.model)) digests[STATUS_KEY] = digestValue(status);
      // The CMS fills what the file leaves empty (a post's publish date): not expected back empty.
      const empty = this.emptyDigests(e.model);
      for (const key of e.ref.kind === 'post' ? (this.input.rules.posts?.cmsFills ?? []) : []) {
        if (digests[key] === empty[key]) delete digests[key];
      }
      this.expectHeld(e.model, view.locale, local.fields, digests);
      expect[view.locale] = digests;
    }
    this.emitWrite({ kind: 'create', entity: e.key, ref: e.ref, locales }, expect);
  }

  // ---- renamed files -------------------------------------------------------------------------------

  /**
   * A page file renamed: ButterCMS slugs cannot change through the API (butter-api.md §9), so a create
   * would leave two pages. Report it and send nothing. A renamed item file keeps its item: one PATCH of
   * the keyField, never DELETE + POST (the id, and every reference to it, survive).
   */
  private planRename(e: EntityInput, from: EntityKey): void {
    if (!this.pushing || !e.local) return;
    const old = this.input.manifest.entities[from];
    const oldPath = Object.values(old?.locales ?? {}).find((slot) => slot.path)?.path ?? from;
    const newPath = entityPath(e.local, this.config.locales.default);
    if (e.ref.kind === 'page') {
      const oldRef = parseEntityKey(from);
      const oldSlug = oldRef.kind === 'page' ? oldRef.slug : from;
      this.ops.push({
        kind: 'report',
        entity: e.key,
        path: newPath,
        reason: 'page-renamed',
        message:
          `page file renamed from ${oldPath}; nothing was sent, since the slug of page "${oldSlug}" is not changed through the CMS's API. ` +
          `Rename the file back to keep the page, or run \`butter-sync push --create-renamed ${newPath}\` ` +
          `to create a new page "${e.ref.slug}" (delete "${oldSlug}" in the CMS if it should go)`,
        cost: 0,
      });
      return;
    }
    const id = this.input.remote?.get(from)?.remoteId ?? old?.remoteId;
    const keyField = e.model.keyField;
    if (id === undefined || keyField === undefined) return;
    if (e.pending.some((p) => p.kind === 'update')) return; // already sent, being verified
    const locales: Record<string, LocaleChange> = {};
    const expect: Record<string, FieldDigests> = {};
    for (const locale of Object.keys(e.local.locales).sort()) {
      const view = this.view(e, locale);
      if (!view.localNorm || !view.localDigests) continue;
      // The key, and whatever else the file changed since the old base (a rename git found may be edited too);
      // the read-back is asked for those only, so an editor's change to another field is pulled, not lost.
      const oldBase = old?.locales[locale]?.base ?? {};
      const keys = Object.keys(e.model.fields).filter(
        (name) => name === keyField || view.localDigests![name] !== oldBase[name],
      );
      const status = view.localNorm.meta.status;
      locales[locale] = {
        fields: Object.fromEntries(keys.map((name) => [name, view.localNorm!.fields[name]])),
        ...(status ? { status } : {}),
      };
      expect[locale] = Object.fromEntries(keys.map((name) => [name, view.localDigests![name]!]));
    }
    // Written under the old id: the item, and every reference to it, survive the rename.
    this.emitWrite({ kind: 'update', entity: e.key, ref: e.ref, locales, remoteId: id }, expect, {
      renamedFrom: from,
    });
  }

  // ---- one side missing ---------------------------------------------------------------------------

  /** An entity only ButterCMS has and the manifest does not know: write its files (never delete on no base). */
  private planPullCreate(e: EntityInput): void {
    if (!this.pulling || !e.remote) return;
    for (const locale of Object.keys(e.remote.locales).sort()) {
      const view = this.view(e, locale);
      if (view.remoteNorm) this.emitFileCreate(e, view, view.remoteNorm);
    }
  }

  /** Keys whose digest moved away from the base on one side; meta keys missing on that side are no change. */
  private changedKeys(view: LocaleView, side: 'local' | 'remote'): string[] {
    const digests = side === 'local' ? view.localDigests : view.remoteDigests;
    if (!digests || !view.base) return [];
    return Object.keys(digests)
      .filter((key) => view.base?.[key] !== undefined && digests[key] !== view.base[key])
      .sort();
  }

  /** Every local file of a known entity is gone: DELETE an item (guarded), report a page; a remote edit wins over the delete. */
  private planLocalRemoved(e: EntityInput, itemId: RemoteId | undefined): void {
    const views = this.views(e).filter((v) => v.base !== undefined);
    const edited = this.remoteKnown ? views.filter((v) => this.changedKeys(v, 'remote').length > 0) : [];
    if (edited.length > 0) {
      if (this.config.conflicts === 'cms-wins') {
        for (const view of edited)
          if (this.pulling && view.remoteNorm) this.emitFileCreate(e, view, view.remoteNorm);
        return;
      }
      for (const view of edited) {
        for (const key of this.changedKeys(view, 'remote')) {
          this.pushConflict(e, view, key, null, view.remoteNorm ? readValue(view.remoteNorm, key) : null);
        }
      }
      return;
    }
    if (!this.pushing) return;
    const path = views[0]?.path;
    if (e.ref.kind === 'page' && !this.input.rules.pagesDeletable) {
      this.ops.push({
        kind: 'report',
        entity: e.key,
        path,
        reason: 'page-removed',
        message: "page file removed; the CMS's API does not delete pages (delete it in the CMS)",
        cost: 0,
      });
      return;
    }
    if (e.ref.kind === 'post' && !this.input.rules.posts?.deletable) {
      this.ops.push({
        kind: 'report',
        entity: e.key,
        path,
        reason: 'unsupported',
        message:
          'post file removed; this CMS does not delete posts through its API (delete it in the dashboard)',
        cost: 0,
      });
      return;
    }
    if (e.pending.some((p) => p.kind === 'delete')) return;
    if (e.ref.kind === 'item' && itemId === undefined) {
      this.ops.push({
        kind: 'report',
        entity: e.key,
        path,
        reason: 'unsupported',
        message: 'item file removed, but its CMS id is unknown; delete it in the CMS',
        cost: 0,
      });
      return;
    }
    const intent: WriteIntent = {
      kind: 'delete',
      entity: e.key,
      ref: e.ref,
      locales: {},
      ...(itemId !== undefined ? { remoteId: itemId } : {}),
    };
    this.deletes.push({
      collection: groupOf(e.ref),
      op: { kind: 'write', entity: e.key, intent, cost: this.input.estimate(intent), dependsOn: [] },
    });
  }

  /** The remote entity is gone while the files remain: delete the item files (guarded), report a page; a local edit wins over the delete. */
  private planRemoteGone(e: EntityInput): void {
    const views = this.views(e).filter((v) => v.local !== undefined);
    const edited = views.filter((v) => this.changedKeys(v, 'local').length > 0);
    if (edited.length > 0) {
      if (this.config.conflicts === 'git-wins') {
        this.planCreate(e);
        return;
      }
      for (const view of edited) {
        for (const key of this.changedKeys(view, 'local')) {
          this.pushConflict(e, view, key, view.localNorm ? readValue(view.localNorm, key) : null, null);
        }
      }
      return;
    }
    if (!this.pulling) return;
    if (e.ref.kind === 'page') {
      this.ops.push({
        kind: 'report',
        entity: e.key,
        path: views[0]?.path,
        reason: 'page-removed',
        message: 'page no longer in the CMS; the file is kept (remove it by hand if intended)',
        cost: 0,
      });
      return;
    }
    for (const view of views) {
      this.deletes.push({
        collection: groupOf(e.ref),
        op: { kind: 'delete-file', entity: e.key, locale: view.locale, path: view.path, cost: 0 },
      });
    }
  }

  /** Gone on both sides: forget it (delete-file on an already missing file only drops the manifest entry). */
  private planBothGone(e: EntityInput): void {
    for (const locale of Object.keys(e.manifest?.locales ?? {}).sort()) {
      const view = this.view(e, locale);
      this.ops.push({ kind: 'delete-file', entity: e.key, locale, path: view.path, cost: 0 });
    }
  }

  private pushConflict(e: EntityInput, view: LocaleView, field: string, git: unknown, cms: unknown): void {
    this.ops.push({
      kind: 'conflict',
      entity: e.key,
      locale: view.locale,
      field,
      path: view.path,
      git,
      cms,
      cost: 0,
    });
  }

  /** maxDeletePercent: refuse every delete of a collection (per side) when too large a share would go at once. */
  guardDeletes(): void {
    if (this.deletes.length === 0) return;
    const inManifest = new Map<string, number>();
    for (const key of Object.keys(this.input.manifest.entities)) {
      const group = groupOf(parseEntityKey(key));
      inManifest.set(group, (inManifest.get(group) ?? 0) + 1);
    }
    const groups = new Map<string, GuardedDelete[]>();
    for (const d of this.deletes) {
      const group = `${d.op.kind}\u0000${d.collection}`;
      appendTo(groups, group, d);
    }
    for (const group of groups.values()) {
      const { collection, op } = group[0]!;
      const entities = new Set(group.map((d) => d.op.entity)).size;
      const total = inManifest.get(collection) ?? 0;
      const limit = (this.config.maxDeletePercent / 100) * total;
      if (entities <= limit) {
        this.ops.push(...group.map((d) => d.op));
        continue;
      }
      const where = op.kind === 'write' ? 'the CMS' : 'the files';
      for (const entity of [...new Set(group.map((d) => d.op.entity))]) {
        this.ops.push({
          kind: 'report',
          entity,
          path: pathOfDelete(group, entity),
          reason: 'delete-guard',
          message: `refused to delete ${entities} of ${total} ${collection} items from ${where} (over maxDeletePercent ${this.config.maxDeletePercent}%)`,
          cost: 0,
        });
      }
    }
  }
}

/** The file to name for an entity: its default-locale file, else its first. */
function entityPath(local: LocalEntity, defaultLocale: string): string | undefined {
  return local.locales[defaultLocale]?.path ?? Object.values(local.locales)[0]?.path;
}

function pathOfDelete(group: GuardedDelete[], entity: EntityKey): string | undefined {
  for (const { op } of group) if (op.entity === entity && op.kind === 'delete-file') return op.path;
  return undefined;
}

function baseOf(manifest: ManifestEntity | undefined, locale: string): FieldDigests | undefined {
  const base = manifest?.locales[locale]?.base;
  return base && Object.keys(base).length > 0 ? base : undefined;
}

function baseLocales(manifest: ManifestEntity | undefined): string[] {
  return Object.keys(manifest?.locales ?? {}).filter((locale) => baseOf(manifest, locale) !== undefined);
}

function keysWith(changes: Map<string, Change>, action: Change): string[] {
  return [...changes].filter(([, a]) => a === action).map(([key]) => key);
}

function readValue(variant: Variant, key: string): unknown {
  if (key === TITLE_KEY) return variant.meta.title;
  if (key === STATUS_KEY) return variant.meta.status;
  return variant.fields[key];
}

/** Expected digests of this entity's pending writes for one locale, by key. */
function pendingExpectations(pending: PendingWrite[], locale: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const write of pending) {
    for (const [key, digest] of Object.entries(write.expect[locale] ?? {})) {
      out.set(key, (out.get(key) ?? new Set()).add(digest));
    }
  }
  return out;
}

/** An entity the plan cannot handle, reported with the reason (the rest of the plan goes on). */
function refusal(entity: EntityKey, error: unknown): Operation {
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'report', entity, reason: 'unsupported', message, cost: 0 };
}

/**
 * Entities and page slugs known to exist in ButterCMS: the manifest's and the remote snapshot's. Built when
 * first asked: a plan with no write never needs them.
 */
function knownRemote(input: PlanInput): KnownRemote {
  let entities: Set<EntityKey> | undefined;
  let pageSlugs: Set<string> | undefined;
  const entitiesOf = () => {
    entities ??= new Set<EntityKey>([
      ...Object.keys(input.manifest.entities),
      ...(input.remote?.keys() ?? []),
    ]);
    return entities;
  };
  return {
    ids: input.ids,
    get entities() {
      return entitiesOf();
    },
    get pageSlugs() {
      if (!pageSlugs) {
        pageSlugs = new Set<string>();
        for (const key of entitiesOf()) {
          const ref = parseEntityKey(key);
          if (ref.kind === 'page') pageSlugs.add(ref.slug);
        }
      }
      return pageSlugs;
    },
  };
}

/**
 * The heart of the product (DESIGN.md §3): a pure three-way comparison of files, ButterCMS and the
 * manifest, turned into the smallest set of API calls, file edits and reports, in dependency order.
 */
export function planSync(input: PlanInput): SyncPlan {
  const planner = new Planner(input);
  if (input.scope !== 'pull') planner.noteRenames(findRenames(input));
  const keys = new Set<EntityKey>([
    ...input.local.keys(),
    ...(input.remote?.keys() ?? []),
    ...Object.keys(input.manifest.entities),
  ]);
  const models = new Map<EntityKey, EntityModel>();
  const pendingByEntity = new Map<EntityKey, PendingWrite[]>();
  for (const write of input.manifest.pending) {
    // Past its deadline a write is failed: it no longer holds anything back.
    if (Date.parse(write.deadline) <= input.now.getTime()) continue;
    appendTo(pendingByEntity, write.entity, write);
  }
  for (const key of [...keys].sort()) {
    if (input.only && !input.only.has(key)) continue;
    const local = input.local.get(key);
    const remote = input.remote?.get(key);
    const ref = local?.ref ?? remote?.ref ?? parseEntityKey(key);
    let model: EntityModel;
    try {
      model = modelFor(ref, input.config);
    } catch (error) {
      planner.ops.push(refusal(key, error));
      continue;
    }
    models.set(key, model);
    const opsBefore = planner.ops.length;
    const deletesBefore = planner.deletes.length;
    const entity: EntityInput = {
      key,
      ref,
      model,
      local,
      remote,
      manifest: input.manifest.entities[key],
      pending: pendingByEntity.get(key) ?? [],
    };
    try {
      if (!planner.isSettled(entity)) planner.planEntity(entity);
    } catch (error) {
      // A remote slug or key that cannot be a file name (`../x`, NUL, `CON`) is refused for that entity
      // only (DESIGN.md §3 "bad input"): the rest of the plan goes on.
      planner.ops.length = opsBefore;
      planner.deletes.length = deletesBefore;
      planner.ops.push(refusal(key, error));
    }
  }
  planner.guardDeletes();
  const modelOf = (entity: EntityKey) => models.get(entity);
  const linked = breakReferenceCycles(
    linkDependencies(
      planner.ops,
      modelOf,
      input.config,
      knownRemote(input),
      (entity) => input.local.has(entity) || (input.hasFile?.(entity) ?? false),
    ),
    modelOf,
    input.config,
    { media: input.manifest.media },
    input.estimate,
  );
  const operations = orderOperations(linked);
  return { operations, totalCalls: operations.reduce((sum, op) => sum + op.cost, 0) };
}
