// Apart from log.ts so that scrubbing a CLI error message does not load pino (cli/main.ts).

/**
 * Replace every occurrence of each secret with `[redacted]`; secrets shorter than 4 chars are ignored (too
 * noisy). A secret also hides in encoded forms: percent-encoded in a URL (`%2B`, or `+` for a space in a
 * query), escaped in a JSON string, and in any letter case (a header echoed upper-cased, `%2b`), so each is
 * matched too, case-insensitively.
 */
export function makeRedactor(secrets: Array<string | undefined>): (text: string) => string {
  const values = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4))];
  if (values.length === 0) return (text) => text;
  const forms = new Set<string>();
  for (const value of values) {
    forms.add(value);
    forms.add(encodeURIComponent(value));
    forms.add(encodeURIComponent(value).replaceAll('%20', '+'));
    forms.add(encodeURI(value));
    forms.add(JSON.stringify(value).slice(1, -1));
    forms.add(JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1));
  }
  const escaped = [...forms]
    .sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|');
  const pattern = new RegExp(escaped, 'gi');
  return (text) => text.replace(pattern, '[redacted]');
}
