import escapeHtml from 'escape-html';

/** Markup that is already safe: produced by `html` (whose interpolations were escaped) or a fixed literal. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * Tagged template that escapes every interpolated value (escape-html: `& < > " '`) unless it is SafeHtml, so a
 * field holding `<script>` reaches the page as text. Arrays are joined; null, undefined and false render nothing.
 * Attribute values must be double-quoted in the template.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += renderValue(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

function renderValue(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(renderValue).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}
