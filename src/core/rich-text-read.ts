/**
 * A rich-text field as read from the CMS: HTML (butter-api.md §2.3 WYSIWYG; webflow-api.md §3 RichText) that
 * stands for Markdown in the file. It stays HTML until its Markdown is needed, so a run that reads 500 pages
 * back unchanged converts none of them.
 *
 * `echo` is the digest of the Markdown whose conversion the CMS holds (the manifest's rich-text map): HTML
 * read back equal to what was sent digests as that Markdown, so a round trip that would print the Markdown
 * differently is no change (issue 11 "no drift"). Everything that digests or prints a value knows this type
 * (digest.ts, and `toJSON`/`toString` give the Markdown to anything else).
 */
export class RichTextRead {
  #markdown: string | undefined;

  constructor(
    readonly html: string,
    readonly echo: string | undefined,
    private readonly convert: (html: string) => string,
  ) {}

  /** The Markdown the file gets: the HTML converted, or merged into the file's own text (mergeRichText). */
  get markdown(): string {
    this.#markdown ??= this.convert(this.html);
    return this.#markdown;
  }

  /** The pull merged the HTML into the file's current Markdown: this is what the file will hold. */
  useMarkdown(markdown: string): void {
    this.#markdown = markdown;
  }

  toJSON(): string {
    return this.markdown;
  }

  toString(): string {
    return this.markdown;
  }
}

/** The Markdown a rich-text value holds in file form: a read's Markdown, or the file's own string. */
export function richTextMarkdown(value: unknown): unknown {
  return value instanceof RichTextRead ? value.markdown : value;
}
