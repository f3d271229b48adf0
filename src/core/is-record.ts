/**
 * A JSON-style object (not null, not an array): the one guard for untyped input (API bodies, manifest files,
 * webhook payloads). It lives in `core/` because `core/` may import only itself (DESIGN.md §4), while every
 * other layer may import `core/`. `content/value-equal.ts`'s `isPlainObject` is a different, stricter test (it
 * also refuses Dates and class instances), which file-form values need.
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
