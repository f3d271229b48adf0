import type { SyncConfig } from '../../config/schema.js';
import { SyncError } from '../../core/errors.js';
import { modelFor } from '../../core/model.js';
import {
  type EntityKey,
  type EntityRef,
  entityKey,
  type Manifest,
  parseEntityKey,
  type ReadStep,
  type RemoteEntity,
  type RemoteId,
  type Variant,
} from '../../core/types.js';
import type { ReadState, ReadTarget, RemoteRead, UnavailableList } from '../port.js';
import { makeIdLookup } from '../read-helpers.js';
import { fromApiFields } from './api-values.js';
import { isEmptyVariant } from './read-snapshot.js';
import type { CmsClient, RemoteItem, RemotePage } from './wire-types.js';

/** ButterCMS's read protocol for named entities (butter-api.md §2): the call floor and the reads it plans. */

/** List endpoints page at 100 (butter-api.md §2.1, §2.2): a list of n entities costs ⌈n/100⌉ calls, at least 1. */
const LIST_PAGE_SIZE = 100;

type GroupRef = { kind: 'collection'; name: string } | { kind: 'page type'; name: string };

function groupOf(ref: EntityRef): GroupRef {
  // Posts are read by post-backend.ts; backend.ts never hands them here.
  if (ref.kind === 'post')
    throw new SyncError('INTERNAL', `post "${ref.slug}" planned as a page or item read`);
  return ref.kind === 'item'
    ? { kind: 'collection', name: ref.collection }
    : { kind: 'page type', name: ref.pageType };
}

function groupLabel(group: GroupRef): string {
  if (group.kind === 'page type' && group.name === '*') return 'single pages';
  return `${group.kind} ${group.name}`;
}

/**
 * How many entities a list of this group returns in this locale: those the manifest has a base for there (a
 * page list holds only the pages with content in that locale; an item list every item, butter-api.md §2.6),
 * plus, for a read-back, the targets (the writes just sent). A create is assumed absent before it is sent:
 * when it exists after all, its list costs more pages than planned and the plan turns it into an adopt.
 */
function groupSize(
  group: GroupRef,
  locale: string,
  manifest: Manifest,
  targets: ReadTarget[],
  countTargets: boolean,
): number {
  const prefix = group.kind === 'collection' ? `item:${group.name}:` : `page:${group.name}:`;
  const keys = new Set<EntityKey>();
  for (const [key, entity] of Object.entries(manifest.entities)) {
    if (!key.startsWith(prefix)) continue;
    const slots = group.kind === 'collection' ? Object.values(entity.locales) : [entity.locales[locale]];
    if (slots.some((slot) => slot && Object.keys(slot.base).length > 0)) keys.add(key);
  }
  if (countTargets) {
    for (const target of targets)
      if (target.entity.startsWith(prefix) && target.locales.includes(locale)) keys.add(target.entity);
  }
  return keys.size;
}

/**
 * The call floor (issue 10): for each collection or page type × locale, the cheaper of one GET per entity and
 * the list pages of the whole group. Pure: the same input always gives the same steps, so a dry run predicts
 * exactly the reads the run makes.
 */
export function planReads(
  targets: ReadTarget[],
  manifest: Manifest,
  purpose: 'before' | 'verify' = 'before',
): ReadStep[] {
  const byGroup = new Map<string, { group: GroupRef; locale: string; entities: EntityKey[] }>();
  for (const target of targets) {
    const group = groupOf(parseEntityKey(target.entity));
    for (const locale of target.locales) {
      const id = `${group.kind}\u0000${group.name}\u0000${locale}`;
      const entry = byGroup.get(id) ?? { group, locale, entities: [] };
      if (!entry.entities.includes(target.entity)) entry.entities.push(target.entity);
      byGroup.set(id, entry);
    }
  }
  const steps: ReadStep[] = [];
  for (const { group, locale, entities } of byGroup.values()) {
    const size = groupSize(group, locale, manifest, targets, purpose === 'verify');
    const listCalls = Math.max(1, Math.ceil(size / LIST_PAGE_SIZE));
    const how = listCalls < entities.length ? 'list' : 'get';
    steps.push({
      what: groupLabel(group),
      kind: group.kind === 'collection' ? 'collection' : 'page type',
      name: group.name,
      locale,
      how,
      entities: entities.sort(),
      calls: how === 'list' ? listCalls : entities.length,
    });
  }
  return steps.sort((a, b) => `${a.what}\u0000${a.locale}`.localeCompare(`${b.what}\u0000${b.locale}`));
}

/**
 * An item the manifest has no id for: creates return none (butter-api.md §9.1), so it is found by its keyField,
 * one filtered list call (with drafts and one level of references, like every read here).
 */
export async function findItemByKey(
  cms: CmsClient,
  collection: string,
  keyField: string,
  key: string,
  locale?: string,
): Promise<RemoteItem | undefined> {
  const found = await cms.listItems(collection, {
    preview: true,
    levels: 1,
    ...(locale ? { locale } : {}),
    filters: { [keyField]: key },
  });
  return found.find((i) => i.fields[keyField] === key);
}

interface RawItem {
  id: RemoteId;
  key?: string | undefined;
  perLocale: Map<string, Record<string, unknown>>;
}

/**
 * Run the planned reads, all at once through the request pipeline (it keeps to the rate and concurrency), and
 * translate what they found into file form. Always with drafts (butter-api.md §7): without preview a draft
 * would look deleted. A 404 for a list marks that collection or page type unavailable (trial F14).
 */
export async function runReads(
  cms: CmsClient,
  config: SyncConfig,
  state: ReadState,
  steps: ReadStep[],
): Promise<RemoteRead> {
  const { manifest } = state;
  const before = cms.stats().total;
  const preview = true;
  const levels = 1;
  const lookup = makeIdLookup(manifest);
  const wanted = new Set(steps.flatMap((s) => s.entities));
  const read = new Map<EntityKey, Set<string>>();
  const rawItems = new Map<string, Map<RemoteId, RawItem>>();
  const pages = new Map<EntityKey, Map<string, RemotePage>>();
  const unavailable: UnavailableList[] = [];

  const noteRead = (entity: EntityKey, locale: string) => {
    const set = read.get(entity) ?? new Set<string>();
    set.add(locale);
    read.set(entity, set);
  };
  const addItem = (collection: string, item: RemoteItem, locale: string, key?: string) => {
    const keyField = config.collections[collection]?.keyField;
    const byId = rawItems.get(collection) ?? new Map<RemoteId, RawItem>();
    rawItems.set(collection, byId);
    // ButterCMS ids are numbers (meta.id); the port's ids are opaque text.
    const id: RemoteId = String(item.id);
    const raw: RawItem = byId.get(id) ?? { id, perLocale: new Map() };
    const fieldKey = keyField ? item.fields[keyField] : undefined;
    // The id → key map of the manifest first; else the keyField read (a locale never written reads it blank).
    raw.key ??=
      key ??
      lookup.itemKeyById(collection, id) ??
      (typeof fieldKey === 'string' && fieldKey !== '' ? fieldKey : undefined);
    raw.perLocale.set(locale, item.fields);
    byId.set(id, raw);
  };
  const addPage = (entity: EntityKey, locale: string, page: RemotePage) => {
    const perLocale = pages.get(entity) ?? new Map<string, RemotePage>();
    perLocale.set(locale, page);
    pages.set(entity, perLocale);
  };

  const runStep = async (step: ReadStep): Promise<void> => {
    const { locale } = step;
    for (const entity of step.entities) noteRead(entity, locale);
    if (step.kind === 'collection') {
      const collection = step.name;
      const keyField = config.collections[collection]?.keyField;
      if (step.how === 'list') {
        for (const item of await cms.listItems(collection, { preview, levels, locale }))
          addItem(collection, item, locale);
        return;
      }
      await Promise.all(
        step.entities.map(async (entity) => {
          const ref = parseEntityKey(entity);
          if (ref.kind !== 'item' || !keyField) return;
          const id = lookup.itemIdByKey(collection, ref.key);
          if (id !== undefined) {
            const item = await cms.getItem(collection, Number(id), { preview, levels, locale });
            if (item) addItem(collection, item, locale, ref.key);
            return;
          }
          const item = await findItemByKey(cms, collection, keyField, ref.key, locale);
          if (item) addItem(collection, item, locale, ref.key);
        }),
      );
      return;
    }
    const pageType = step.name;
    if (step.how === 'list') {
      for (const page of await cms.listPages(pageType, { preview, levels, locale })) {
        const entity = entityKey({ kind: 'page', pageType, slug: page.slug });
        if (wanted.has(entity)) addPage(entity, locale, page);
      }
      return;
    }
    await Promise.all(
      step.entities.map(async (entity) => {
        const ref = parseEntityKey(entity);
        if (ref.kind !== 'page') return;
        const page = await cms.getPage(pageType, ref.slug, { preview, levels, locale });
        if (page) addPage(entity, locale, page);
      }),
    );
  };

  const outcomes = await Promise.allSettled(steps.map(runStep));
  const unavailableNames = new Set<string>();
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') continue;
    const error = outcome.reason;
    const step = steps[index]!;
    if (!(error instanceof SyncError) || error.code !== 'CMS_NOT_FOUND') throw error;
    const id = `${step.kind}\u0000${step.name}`;
    if (unavailableNames.has(id)) continue;
    unavailableNames.add(id);
    unavailable.push({ kind: step.kind, name: step.name, error });
  }

  const itemKeys = new Map<string, Map<RemoteId, string>>();
  for (const [collection, byId] of rawItems) {
    const keys = new Map<RemoteId, string>();
    for (const raw of byId.values()) if (raw.key !== undefined) keys.set(raw.id, raw.key);
    itemKeys.set(collection, keys);
  }
  const ids = makeIdLookup(manifest, itemKeys);
  const media = { media: manifest.media, readRichText: state.readRichText };
  const remote = new Map<EntityKey, RemoteEntity>();
  for (const [collection, byId] of rawItems) {
    for (const raw of byId.values()) {
      if (raw.key === undefined) continue;
      const ref: EntityRef = { kind: 'item', collection, key: raw.key };
      const key = entityKey(ref);
      if (!wanted.has(key)) continue;
      const model = modelFor(ref, config);
      const entity: RemoteEntity = remote.get(key) ?? { key, ref, remoteId: raw.id, locales: {} };
      for (const [locale, fields] of raw.perLocale) {
        // A locale never written reads back blank (items carry no locale marker, butter-api.md §2.2).
        if (locale !== config.locales.default && isEmptyVariant(fields, ref, config)) continue;
        entity.locales[locale] = { fields: fromApiFields(fields, model, ids, config, media), meta: {} };
      }
      remote.set(key, entity);
    }
  }
  for (const [key, perLocale] of pages) {
    const ref = parseEntityKey(key);
    const model = modelFor(ref, config);
    const entity: RemoteEntity = { key, ref, locales: {} };
    for (const [locale, page] of perLocale) {
      const variant: Variant = {
        fields: fromApiFields(page.fields, model, ids, config, media),
        meta: {
          title: page.name,
          ...(page.status === 'draft' || page.status === 'published' ? { status: page.status } : {}),
        },
      };
      entity.locales[locale] = variant;
    }
    remote.set(key, entity);
  }
  return { remote, read, unavailable, itemKeys, calls: cms.stats().total - before };
}
