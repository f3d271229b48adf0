/**
 * The ButterCMS shape of a write intent (butter-api.md §3): the requests one intent becomes, in order. Locale
 * nesting, the `fields` array of an item create, a page update's explicit `status` (one request per status:
 * locales with different statuses cannot share a body), PUT vs PATCH. Pure; `estimate` is the number of
 * requests, so the planner's cost is what `write` sends.
 */

import { SyncError } from '../../core/errors.js';
import type { LocaleChange, PageStatus, WriteIntent } from '../port.js';
import type { CreateItemBody, CreatePageBody, UpdateItemBody, UpdatePageBody } from './wire-types.js';

/** One request of a write. Item requests name no id: it is looked up when sending (`backend.ts`). */
export type ButterRequest =
  | { kind: 'create-page'; pageType: string; slug: string; locale?: string | undefined; body: CreatePageBody }
  | { kind: 'update-page'; pageType: string; slug: string; locale?: string | undefined; body: UpdatePageBody }
  | { kind: 'create-item'; collection: string; body: CreateItemBody }
  | { kind: 'patch-item' | 'put-item'; collection: string; body: UpdateItemBody }
  | { kind: 'delete-item'; collection: string };

export interface ShapeOptions {
  defaultLocale: string;
  /** The status of a create whose file has none (the config's `defaultStatus`). */
  defaultStatus: PageStatus;
  /** File form → Write API values of one locale's fields (api-values.ts); identity when omitted (tests). */
  translate?: ((fields: Record<string, unknown>) => Record<string, unknown>) | undefined;
}

/**
 * One locale → flat fields (+ `?locale=` unless it is the default); several → nested by locale code
 * (butter-api.md §3.1, §3.2). Items have no `?locale=`, so a lone non-default locale is nested too (§3.4).
 */
function shapeFields(
  perLocale: Record<string, Record<string, unknown>>,
  defaultLocale: string,
  nestNonDefault: boolean,
): { fields: Record<string, unknown>; locale?: string } {
  const locales = Object.keys(perLocale).sort();
  const only = locales.length === 1 ? locales[0]! : undefined;
  const isDefault = only === defaultLocale;
  if (only !== undefined && (isDefault || !nestNonDefault)) {
    return { fields: perLocale[only]!, ...(isDefault ? {} : { locale: only }) };
  }
  return { fields: Object.fromEntries(locales.map((locale) => [locale, perLocale[locale]])) };
}

/** The locale whose title and status a create sends for all: the default locale, else the first. */
function mainOf(locales: Record<string, LocaleChange>, defaultLocale: string): LocaleChange | undefined {
  return locales[defaultLocale] ?? locales[Object.keys(locales).sort()[0] ?? ''];
}

/** Each locale's fields, translated to Write API values. */
function fieldsOf(
  locales: Array<[string, LocaleChange]>,
  translate: ShapeOptions['translate'],
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    locales.map(([locale, change]) => [locale, translate ? translate(change.fields) : change.fields]),
  );
}

/** The requests an intent becomes, in the order they are sent. */
export function shapeWrite(intent: WriteIntent, options: ShapeOptions): ButterRequest[] {
  const { defaultLocale, defaultStatus, translate } = options;
  const { ref } = intent;
  const entries = Object.entries(intent.locales).sort(([a], [b]) => a.localeCompare(b));
  // Posts have their own requests (post-backend.ts); backend.ts never hands them here.
  if (ref.kind === 'post')
    throw new SyncError('INTERNAL', `${intent.entity}: a post shaped as a page or item`);
  if (ref.kind === 'page') {
    const { pageType, slug } = ref;
    switch (intent.kind) {
      case 'create': {
        const main = mainOf(intent.locales, defaultLocale);
        const shaped = shapeFields(fieldsOf(entries, translate), defaultLocale, false);
        return [
          {
            kind: 'create-page',
            pageType,
            slug,
            locale: shaped.locale,
            body: {
              title: main?.title ?? slug,
              slug,
              page_type: pageType,
              status: main?.status ?? defaultStatus,
              fields: shaped.fields,
            },
          },
        ];
      }
      case 'update':
      case 'replace': {
        // Pages have no PUT (it behaves as PATCH, butter-api.md §3.2): both are PATCHes with an explicit status,
        // one per status (a body has one status for all its locales).
        const byStatus = new Map<PageStatus, Array<[string, LocaleChange]>>();
        for (const entry of entries) {
          const status = entry[1].status ?? defaultStatus;
          byStatus.set(status, [...(byStatus.get(status) ?? []), entry]);
        }
        return [...byStatus]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([status, group]) => {
            const shaped = shapeFields(fieldsOf(group, translate), defaultLocale, false);
            return {
              kind: 'update-page' as const,
              pageType,
              slug,
              locale: shaped.locale,
              body: { status, fields: shaped.fields },
            };
          });
      }
      case 'delete':
        throw new SyncError(
          'INTERNAL',
          `${intent.entity}: ButterCMS pages cannot be deleted through the API`,
        );
    }
  }
  const { collection } = ref;
  if (intent.kind === 'delete') return [{ kind: 'delete-item', collection }];
  const shaped = shapeFields(fieldsOf(entries, translate), defaultLocale, true);
  if (intent.kind === 'create') {
    const status = mainOf(intent.locales, defaultLocale)?.status ?? defaultStatus;
    return [{ kind: 'create-item', collection, body: { key: collection, status, fields: [shaped.fields] } }];
  }
  const status = entries.find(([, change]) => change.status !== undefined)?.[1].status;
  return [
    {
      kind: intent.kind === 'replace' ? 'put-item' : 'patch-item',
      collection,
      body: { ...(status ? { status } : {}), fields: shaped.fields },
    },
  ];
}
