import { SyncError } from '../../core/errors.js';
import type { CollectionBinding } from './field-values.js';
import { statusOf } from './field-values.js';
import type { ItemTarget, WebflowItem } from './webflow-client.js';

/**
 * What the Webflow backend knows of the site between calls: the schema it loaded (collections bound to the
 * config, locale tags → cmsLocaleIds) and, per item it read or wrote, each variant's slug and whether it is live.
 * The live flags decide, without a call, whether a staged edit is published in the same run and whether a delete
 * unpublishes first; `estimate` and the write read the same flags, so they agree.
 */

/** A locale variant key inside the backend: the cmsLocaleId, or '' on a site without localization. */
export type LocaleKey = string;

export interface SiteSchema {
  bindings: Map<string, CollectionBinding & { id: string }>;
  collectionKeyById: Map<string, string>;
  /** Config locale tag → cmsLocaleId (null without localization). */
  locales: Map<string, string | null>;
  primaryTag: string;
}

export function localeKeyOf(locales: Map<string, string | null>, tag: string): LocaleKey {
  return locales.get(tag) ?? '';
}

export function tagOf(s: SiteSchema, key: LocaleKey): string | undefined {
  for (const [tag, id] of s.locales) if ((id ?? '') === key) return tag;
  return undefined;
}

export function bindingOf(s: SiteSchema, collection: string): CollectionBinding & { id: string } {
  const b = s.bindings.get(collection);
  if (!b)
    throw new SyncError('CONTENT_PATH', `collection "${collection}" is not configured in sync.config.json`);
  return b;
}

interface KnownItem {
  collection: string;
  /** Per variant: its slug and whether it is live. */
  variants: Map<LocaleKey, { slug: string; live: boolean }>;
}

/** Items seen in reads and answers, by id. */
export class ItemStates {
  private readonly known = new Map<string, KnownItem>();

  remember(collection: string, item: WebflowItem): void {
    const entry = this.known.get(item.id) ?? { collection, variants: new Map() };
    entry.variants.set(item.cmsLocaleId ?? '', {
      slug: String(item.fieldData.slug ?? ''),
      live: statusOf(item) === 'published',
    });
    this.known.set(item.id, entry);
  }

  get(id: string): KnownItem | undefined {
    return this.known.get(id);
  }

  forget(id: string): void {
    this.known.delete(id);
  }

  entries(): IterableIterator<[string, KnownItem]> {
    return this.known.entries();
  }

  /** Is this variant live? undefined when the backend never saw it. */
  liveOf(id: string | undefined, locale: LocaleKey): boolean | undefined {
    return id === undefined ? undefined : this.known.get(id)?.variants.get(locale)?.live;
  }

  markLive(target: ItemTarget, live: boolean, s: SiteSchema): void {
    const entry = this.known.get(target.id);
    if (!entry) return;
    for (const k of target.cmsLocaleIds ?? [localeKeyOf(s.locales, s.primaryTag)]) {
      const v = entry.variants.get(k);
      if (v) v.live = live;
    }
  }
}
