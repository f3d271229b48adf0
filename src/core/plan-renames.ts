import type { SyncConfig } from '../config/schema.js';
import { digestVariant, STATUS_KEY, TITLE_KEY } from './digest.js';
import { modelFor } from './model.js';
import { type NormalizeContext, normalizeVariant } from './normalize.js';
import type { EntityKey, LocalEntity, Manifest, RemoteEntity } from './types.js';
import { parseEntityKey } from './types.js';

/** What rename detection reads; a subset of PlanInput. */
export interface RenameInput {
  config: SyncConfig;
  manifest: Manifest;
  local: Map<EntityKey, LocalEntity>;
  remote?: Map<EntityKey, RemoteEntity> | undefined;
  only?: Set<EntityKey> | undefined;
  /** Renames git detected (new path → old path; `push --commit` passes them): paired even when edited too. */
  renamedPaths?: ReadonlyMap<string, string> | undefined;
  /** Does a file of this entity exist, read by this run or not (PlanInput.hasFile)? */
  hasFile?: ((entity: EntityKey) => boolean) | undefined;
  /** The entities `remote` was read for (PlanInput.readLocales); elsewhere the remote is assumed as the base says. */
  readLocales?: ReadonlyMap<EntityKey, ReadonlySet<string>> | undefined;
}

/**
 * A renamed file looks like a removed entity and a new one (DESIGN.md §3 "Renames"). Pair them: in one
 * page type or collection, an entity whose files are all gone (it has a base, and ButterCMS still holds it
 * or is assumed to) and a new one (no base, not in ButterCMS) whose files hold the same content as the old
 * base, locale by locale: every field (an item's keyField aside, since it names the file) and the page
 * title. A page's status is left out: it is no content. A rename git detected (`renamedPaths`) pairs even
 * when the file was edited too. Returns new entity → old entity; content found more than once pairs in
 * sorted order. Pure, like the planner.
 */
export function findRenames(input: RenameInput): Map<EntityKey, EntityKey> {
  const norm: NormalizeContext = { media: input.manifest.media };
  const inScope = (key: EntityKey) => !input.only || input.only.has(key);
  const isNew = (key: EntityKey) =>
    inScope(key) && input.manifest.entities[key] === undefined && !input.remote?.has(key);
  // Groups with a new entity in them: only there can a rename be (and only there are files looked for).
  const groups = new Set([...input.local.keys()].filter(isNew).map(groupOf));
  const gone = new Map<string, EntityKey[]>();
  if (groups.size === 0) return new Map();
  for (const [key, entity] of Object.entries(input.manifest.entities)) {
    if (!groups.has(groupOf(key))) continue;
    if (Object.keys(input.local.get(key)?.locales ?? {}).length > 0) continue;
    if (!Object.values(entity.locales).some((slot) => Object.keys(slot.base).length > 0)) continue;
    // A push of only the new name (`push new.md`) must still see the old one is gone, or it would POST a
    // second page: outside the scope, an entity counts as gone when none of its files exists.
    if (!inScope(key) && (input.hasFile?.(key) ?? true)) continue;
    const ref = parseEntityKey(key);
    if (ref.kind === 'page' && ref.pageType === '*') continue; // a Single Page is its own model
    // A post's slug is its name in the CMS: a renamed post file is a new post and a removed one (guarded).
    if (ref.kind === 'post') continue;
    const remoteHolds =
      input.remote && (input.readLocales === undefined || input.readLocales.has(key))
        ? input.remote.has(key)
        : ref.kind === 'page' || entity.remoteId !== undefined;
    if (!remoteHolds) continue;
    const group = groupOf(key);
    gone.set(group, [...(gone.get(group) ?? []), key]);
  }
  const renames = new Map<EntityKey, EntityKey>();
  if (gone.size === 0) return renames;
  const used = new Set<EntityKey>();
  for (const [key, entity] of [...input.local].sort(([a], [b]) => a.localeCompare(b))) {
    const candidates = gone.get(groupOf(key));
    if (!candidates || !isNew(key)) continue;
    let model: ReturnType<typeof modelFor>;
    try {
      model = modelFor(entity.ref, input.config);
    } catch {
      continue; // the planner reports an entity without a model
    }
    const locales = Object.keys(entity.locales).sort();
    const digests = Object.fromEntries(
      locales.map((locale) => {
        const variant = entity.locales[locale]!;
        return [locale, digestVariant(normalizeVariant(variant, model, norm), model, norm)];
      }),
    );
    const compared = [...Object.keys(model.fields).filter((name) => name !== model.keyField), TITLE_KEY];
    const fromGit = Object.values(entity.locales).flatMap((v) => {
      const old = input.renamedPaths?.get(v.path);
      return old === undefined ? [] : [old];
    });
    const byGit = candidates.find(
      (old) =>
        !used.has(old) &&
        Object.values(input.manifest.entities[old]?.locales ?? {}).some((slot) =>
          fromGit.includes(slot.path ?? ''),
        ),
    );
    const match =
      byGit ??
      candidates.find((old) => {
        if (used.has(old)) return false;
        const slots = input.manifest.entities[old]?.locales ?? {};
        const oldLocales = Object.keys(slots).filter((l) => Object.keys(slots[l]!.base).length > 0);
        if (oldLocales.sort().join() !== locales.join()) return false;
        return locales.every((locale) =>
          compared.every((name) => {
            const base = slots[locale]!.base[name];
            const now = digests[locale]![name];
            return name === TITLE_KEY || name === STATUS_KEY
              ? base === undefined || base === now
              : base === now;
          }),
        );
      });
    if (match === undefined) continue;
    used.add(match);
    renames.set(key, match);
  }
  return renames;
}

/** Renames pair only within one page type or one collection. */
function groupOf(key: EntityKey): string {
  const ref = parseEntityKey(key);
  if (ref.kind === 'post') return 'post';
  return ref.kind === 'page' ? `page:${ref.pageType}` : `item:${ref.collection}`;
}
