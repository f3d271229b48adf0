import { digestVariant } from './digest.js';
import type { EntityModel } from './model.js';
import { normalizeVariant } from './normalize.js';
import type { FieldDigests, Variant } from './types.js';

/**
 * The digests of one file value and what they were made with: every media URL normalisation looked up in the
 * manifest's source ↔ CDN map, and what the map answered (null: not mapped). Plain JSON, so the scan cache can
 * keep it beside the parsed file.
 */
export interface LocalDigestEntry {
  digests: FieldDigests;
  media: Array<[url: string, mapped: string | null]>;
}

/**
 * The planner's digests of local file values (normalise, then digest: what `Planner.view` computes), made once
 * per value and reused while the media map still answers every lookup they made the same way (issue 14: the
 * planner skips unchanged entities without building views; a no-change push then digests nothing). Seeded from
 * the scan cache, so an unchanged file is digested once, not once per run. Memoisation only: `of` returns what
 * digestVariant(normalizeVariant(value)) returns.
 */
export class LocalDigests {
  readonly #entries = new WeakMap<Variant, LocalDigestEntry>();

  /** An entry made earlier for this exact value (the scan cache's). */
  remember(value: Variant, entry: LocalDigestEntry): void {
    Object.freeze(entry.digests);
    this.#entries.set(value, entry);
  }

  /** The entry for this value when it is still valid under `media`, for the scan cache to keep. */
  entryOf(value: Variant, media: Record<string, string>): LocalDigestEntry | undefined {
    const entry = this.#entries.get(value);
    return entry && stillValid(entry, media) ? entry : undefined;
  }

  /** The digests of a file value under this model and media map. */
  of(value: Variant, model: EntityModel, media: Record<string, string>): FieldDigests {
    const known = this.entryOf(value, media);
    if (known) return known.digests;
    const lookups = new Map<string, string | null>();
    // Normalisation reads the map by URL (normalizeMedia); recording those reads is what makes an entry checkable.
    const recording = new Proxy(media, {
      get(target, prop) {
        const mapped = target[prop as string];
        if (typeof prop === 'string') lookups.set(prop, typeof mapped === 'string' ? mapped : null);
        return mapped;
      },
    });
    const ctx = { media: recording };
    // Frozen: one object now serves every view of this value, so a stray write would be seen by all of them.
    const digests = Object.freeze(digestVariant(normalizeVariant(value, model, ctx), model, ctx));
    this.#entries.set(value, { digests, media: [...lookups] });
    return digests;
  }
}

function stillValid(entry: LocalDigestEntry, media: Record<string, string>): boolean {
  for (const [url, mapped] of entry.media) {
    const now = media[url];
    if ((typeof now === 'string' ? now : null) !== mapped) return false;
  }
  return true;
}
