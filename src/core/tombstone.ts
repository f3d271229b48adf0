import type { FieldDigests, Tombstone } from './types.js';

/**
 * A file is the stale copy of a buried entity when every locale it has shows the digests the entity had when
 * it was deleted: it is not created again. A file changed since is news (someone brings the entity back).
 */
export function isStaleCopy(tombstone: Tombstone, local: Record<string, FieldDigests | undefined>): boolean {
  const locales = Object.entries(local);
  if (locales.length === 0) return false;
  for (const [locale, digests] of locales) {
    const buried = tombstone.locales[locale];
    if (buried === undefined || digests === undefined) return false;
    const shared = Object.keys(buried).filter((field) => field in digests);
    if (shared.length === 0) return false;
    if (shared.some((field) => buried[field] !== digests[field])) return false;
  }
  return true;
}
