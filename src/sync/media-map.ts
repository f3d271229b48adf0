import type { MediaHosting } from '../cms/port.js';
import type { FieldSpec } from '../config/schema.js';
import { counterpart, forEachNestedRecord, nestedSpecs } from '../core/field-tree.js';

/**
 * A CMS may re-host every media URL it is sent (ButterCMS does, butter-api.md §3.7): the value read back is
 * its own handle, never the URL written. Walking what we sent beside what came back teaches the manifest's
 * hosted → source map, so the next comparison sees no change where there is none. Which URLs the CMS hosts
 * is the backend's to say (`hosting`). Returns entries learned.
 */
export function learnMediaUrls(
  spec: FieldSpec,
  sent: unknown,
  readBack: unknown,
  media: Record<string, string>,
  hosting: MediaHosting,
): number {
  switch (spec.type) {
    case 'media': {
      if (
        typeof sent === 'string' &&
        sent !== '' &&
        !hosting.isHosted(sent) &&
        typeof readBack === 'string' &&
        hosting.isHosted(readBack) &&
        media[readBack] === undefined
      ) {
        media[readBack] = sent;
        return 1;
      }
      return 0;
    }
    default: {
      // A container: each nested record beside its counterpart in what came back.
      let learned = 0;
      forEachNestedRecord(spec, sent, (specs, record, step) => {
        learned += learnRecord(specs, record, counterpart(readBack, step), media, hosting);
      });
      return learned;
    }
  }
}

export function learnRecord(
  fields: Record<string, FieldSpec>,
  sent: unknown,
  readBack: unknown,
  media: Record<string, string>,
  hosting: MediaHosting,
): number {
  if (!sent || typeof sent !== 'object' || !readBack || typeof readBack !== 'object') return 0;
  let learned = 0;
  for (const [name, spec] of Object.entries(fields)) {
    learned += learnMediaUrls(
      spec,
      (sent as Record<string, unknown>)[name],
      (readBack as Record<string, unknown>)[name],
      media,
      hosting,
    );
  }
  return learned;
}

/** Does this field (or anything nested in it) hold media? Only those values are kept in pending writes. */
export function holdsMedia(spec: FieldSpec): boolean {
  return spec.type === 'media' || nestedSpecs(spec).some((fields) => Object.values(fields).some(holdsMedia));
}
