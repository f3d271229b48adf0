import type { SyncConfig } from '../config/schema.js';
import {
  htmlToMarkdown,
  markdownToHtml,
  mergeRichText,
  normalizeHtml,
  type RichTextOptions,
} from '../content/rich-text.js';
import { digestValue } from '../core/digest.js';
import type { EntityModel } from '../core/model.js';
import { RichTextRead } from '../core/rich-text-read.js';
import type { EntityKey, LocalEntity, Manifest, RemoteEntity } from '../core/types.js';

/**
 * The manifest's rich-text map (issue 11), like the media map (media-map.ts): for every HTML sent, the digest
 * of its canonical form → the digest of the Markdown it was converted from. Reading the CMS consults it, so
 * HTML read back as sent digests as the file's Markdown and no round trip ever rewrites a file.
 */

export function richTextOptions(config: SyncConfig): RichTextOptions {
  return { publicBaseUrl: config.publicBaseUrl };
}

/** Digest of rich-text HTML in canonical form (two serialisers of one content agree). */
export function htmlDigest(html: string): string {
  return digestValue(normalizeHtml(html));
}

/** Digest of Markdown as the plan digests a richtext field (normalizeText: CRLF = LF). */
export function markdownDigest(markdown: string): string {
  return digestValue(markdown.replace(/\r\n?/g, '\n'));
}

/** `NormalizeContext.readRichText` for reads from the CMS: HTML → a RichTextRead that knows its echo. */
export function richTextReader(manifest: Manifest): (html: string) => RichTextRead {
  return (html) =>
    new RichTextRead(
      html,
      manifest.richText?.[htmlDigest(html)],
      // A field value holds no final line break (bodyValue, markdown-split.ts).
      (h) => htmlToMarkdown(h).replace(/\n$/, ''),
    );
}

/** Remember that `html` stands for `markdown`; returns whether the map changed. */
export function learnRichText(manifest: Manifest, html: string, markdown: string): boolean {
  if (html.trim() === '' || markdown.trim() === '') return false;
  manifest.richText ??= {};
  const map = manifest.richText;
  const key = htmlDigest(html);
  const value = markdownDigest(markdown);
  if (map[key] === value) return false;
  map[key] = value;
  return true;
}

/**
 * One locale's fields of a write (file form, Markdown) with every top-level richtext field as the HTML to
 * send, each pairing learned before the request goes out (write-ahead: a read-back of a write whose answer was lost still matches). A value kept from the
 * CMS (a PUT keeps remote edits) is sent as the HTML it was read as.
 */
export function withRichTextHtml(
  fields: Record<string, unknown>,
  model: EntityModel,
  config: SyncConfig,
  manifest: Manifest,
): Record<string, unknown> {
  const names = Object.entries(model.fields)
    .filter(([, spec]) => spec.type === 'richtext')
    .map(([name]) => name);
  if (names.length === 0) return fields;
  const options = richTextOptions(config);
  const out = { ...fields };
  for (const name of names) {
    const value = fields[name];
    if (value instanceof RichTextRead) out[name] = value.html;
    else if (typeof value === 'string') {
      const html = markdownToHtml(value, options);
      learnRichText(manifest, html, value);
      out[name] = html;
    }
  }
  return out;
}

/**
 * Before planning: each rich-text field the CMS changed is merged into the file's current Markdown, so the
 * value compared, conflicted over and written is the file changed only in the blocks the editor changed
 * (mergeRichText). A file still at its base is what the pull writes, so the map learns that pairing now.
 * Returns whether the manifest changed.
 */
export function mergeRemoteRichText(
  local: Map<EntityKey, LocalEntity>,
  remote: Map<EntityKey, RemoteEntity>,
  manifest: Manifest,
  config: SyncConfig,
  modelOf: (entity: RemoteEntity) => EntityModel,
  /** False for a dry run: the merge still shapes the plan, the map is left alone. */
  learn = true,
): boolean {
  const options = richTextOptions(config);
  let changed = false;
  for (const [key, entity] of remote) {
    const files = local.get(key);
    if (!files) continue;
    const model = modelOf(entity);
    for (const [locale, variant] of Object.entries(entity.locales)) {
      const file = files.locales[locale];
      if (!file) continue;
      const base = manifest.entities[key]?.locales[locale]?.base ?? {};
      for (const [name, value] of Object.entries(variant.fields)) {
        if (!(value instanceof RichTextRead) || model.fields[name]?.type !== 'richtext') continue;
        const text = file.fields[name];
        if (typeof text !== 'string') continue;
        const fileDigest = markdownDigest(text);
        if (value.echo === fileDigest) {
          value.useMarkdown(text); // read back as sent: the file's own text, byte for byte
          continue;
        }
        // Echoed but the file moved on since: a push, and the value (shown, never written) is the merge.
        const merged = mergeRichText(text, value.html, options);
        value.useMarkdown(merged);
        if (
          learn &&
          value.echo === undefined &&
          base[name] === fileDigest &&
          learnRichText(manifest, value.html, merged)
        )
          changed = true;
      }
    }
  }
  return changed;
}
