import type { MediaHosting } from '../cms/port.js';
import type { FieldSpec } from '../config/schema.js';

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
    case 'repeater': {
      if (!Array.isArray(sent) || !Array.isArray(readBack)) return 0;
      let learned = 0;
      sent.forEach((row, i) => {
        learned += learnRecord(spec.fields, row, readBack[i], media, hosting);
      });
      return learned;
    }
    case 'component':
      return learnRecord(spec.fields, sent, readBack, media, hosting);
    case 'component-picker': {
      if (!Array.isArray(sent) || !Array.isArray(readBack)) return 0;
      let learned = 0;
      sent.forEach((entry, i) => {
        const type = (entry as { type?: unknown })?.type;
        const component = typeof type === 'string' ? spec.components[type] : undefined;
        const back = readBack[i] as { fields?: unknown } | undefined;
        if (component)
          learned += learnRecord(
            component.fields,
            (entry as { fields?: unknown }).fields,
            back?.fields,
            media,
            hosting,
          );
      });
      return learned;
    }
    default:
      return 0;
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
  switch (spec.type) {
    case 'media':
      return true;
    case 'repeater':
    case 'component':
      return Object.values(spec.fields).some(holdsMedia);
    case 'component-picker':
      return Object.values(spec.components).some((c) => Object.values(c.fields).some(holdsMedia));
    default:
      return false;
  }
}
