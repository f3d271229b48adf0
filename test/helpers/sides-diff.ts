import { digestVariant } from '../../src/core/digest.js';
import { modelFor } from '../../src/core/model.js';
import { readState } from '../../src/sync/context.js';
import { scanLocal } from '../../src/sync/local-scan.js';
import type { Opened } from './sync-fixture.js';

/** One place where the files and the CMS disagree: `field` is '*' when a whole entity/locale is on one side only. */
export interface SideDifference {
  entity: string;
  locale: string;
  field: string;
}

/**
 * Compare the files with a fresh full read of the CMS, field by field, through the same normalised digests
 * the manifest uses (media through the learned URL map, references as keys). Empty list = both sides equal.
 */
export async function diffSides(opened: Opened, repoDir: string): Promise<SideDifference[]> {
  const { config } = opened.engine.ctx;
  const manifest = opened.store.manifest;
  const scan = await scanLocal(repoDir, config, manifest);
  const snapshot = await opened.backend.readScope({}, readState(manifest));
  const differences: SideDifference[] = [];
  const keys = new Set([...scan.local.keys(), ...snapshot.remote.keys()]);
  for (const key of [...keys].sort()) {
    const local = scan.local.get(key);
    const remote = snapshot.remote.get(key);
    const ref = local?.ref ?? remote?.ref;
    if (!ref) continue;
    const model = modelFor(ref, config);
    const locales = new Set([...Object.keys(local?.locales ?? {}), ...Object.keys(remote?.locales ?? {})]);
    for (const locale of locales) {
      const l = local?.locales[locale];
      const r = remote?.locales[locale];
      if (!l || !r) {
        differences.push({ entity: key, locale, field: '*' });
        continue;
      }
      const ld = digestVariant(l, model, { media: manifest.media });
      const rd = digestVariant(r, model, { media: manifest.media });
      for (const field of new Set([...Object.keys(ld), ...Object.keys(rd)])) {
        // A page's status is only known remotely when the file sets it; title/status absent locally are not edits.
        if (field.startsWith('$') && (ld[field] === undefined || rd[field] === undefined)) continue;
        if (ld[field] !== rd[field]) differences.push({ entity: key, locale, field });
      }
    }
  }
  return differences;
}
