import type { SyncConfig } from '../config/schema.js';
import { readContentFile } from '../content/index.js';
import { digestVariant, STATUS_KEY, TITLE_KEY } from '../core/digest.js';
import { modelFor } from '../core/model.js';
import { type ConflictRecord, type Manifest, parseEntityKey } from '../core/types.js';
import type { ContentRepo } from '../git/port.js';

/** What the console knows of a conflict's base: the value both sides last agreed on. */
export type BaseLookup =
  | { state: 'found'; value: unknown; commit: string }
  | { state: 'searching' }
  /** No base digest: the field is new on both sides. */
  | { state: 'none' }
  | { state: 'not-found' };

/** Commits of one file searched for its base value; older agreements are rare and not worth the reads. */
const HISTORY_DEPTH = 50;
const CACHE_LIMIT = 500;

/**
 * The manifest keeps only a digest of each field's base. The value usually sits in the file's git history
 * (the commit that was pushed, or the pull's commit): this walks that history for a version whose field
 * digest equals the base and remembers the answer. `lookup` never waits: a first call starts the search
 * and answers `searching`; the console shows the value on its next refresh.
 */
export class ConflictBaseFinder {
  private readonly cache = new Map<string, BaseLookup>();

  constructor(
    private readonly repo: ContentRepo,
    private readonly config: SyncConfig,
  ) {}

  lookup(conflict: ConflictRecord, manifest: Manifest): BaseLookup {
    const digest = manifest.entities[conflict.entity]?.locales[conflict.locale]?.base[conflict.field];
    if (digest === undefined) return { state: 'none' };
    if (!conflict.path) return { state: 'not-found' };
    const key = `${conflict.path}\0${conflict.field}\0${digest}`;
    const known = this.cache.get(key);
    if (known) return known;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    const searching: BaseLookup = { state: 'searching' };
    this.cache.set(key, searching);
    const { path, entity, field } = conflict;
    this.search(path, entity, field, digest, { ...manifest.media }).then(
      (found) => this.cache.set(key, found),
      () => this.cache.set(key, { state: 'not-found' }),
    );
    return searching;
  }

  private async search(
    path: string,
    entity: string,
    field: string,
    digest: string,
    media: Record<string, string>,
  ): Promise<BaseLookup> {
    const model = modelFor(parseEntityKey(entity), this.config);
    for (const commit of await this.repo.commitsTouching(path, HISTORY_DEPTH)) {
      const text = await this.repo.fileAt(commit, path);
      if (text === null) continue;
      let variant: ReturnType<typeof readContentFile>['variant'];
      try {
        variant = readContentFile(path, Buffer.from(text, 'utf8'), this.config).variant;
      } catch {
        continue; // an old version that does not parse any more cannot be the base
      }
      if (digestVariant(variant, model, { media })[field] !== digest) continue;
      const value =
        field === TITLE_KEY
          ? variant.meta.title
          : field === STATUS_KEY
            ? variant.meta.status
            : variant.fields[field];
      return { state: 'found', value, commit: commit.slice(0, 12) };
    }
    return { state: 'not-found' };
  }
}
