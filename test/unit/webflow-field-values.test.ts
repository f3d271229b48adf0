import { describe, expect, it } from 'vitest';
import {
  bindCollection,
  fileIdOfCdnUrl,
  fromFieldData,
  mapLocales,
  statusOf,
  toFieldData,
} from '../../src/cms/webflow/field-values.js';
import type { WebflowCollection } from '../../src/cms/webflow/webflow-client.js';
import type { FieldSpec } from '../../src/config/schema.js';
import { isSyncError } from '../../src/core/errors.js';
import { RichTextRead } from '../../src/core/rich-text-read.js';

// File form ↔ Webflow fieldData (webflow-api.md §3), pure: no emulator needed for the value rules.

const SITE = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const FILE = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const CDN = `https://cdn.prod.website-files.com/${SITE}/${FILE}_cover.png`;

const schema: WebflowCollection = {
  id: 'cccccccccccccccccccccccc',
  slug: 'posts',
  fields: [
    { id: 'f1', slug: 'name', type: 'PlainText', isEditable: true, isRequired: true, validations: null },
    { id: 'f2', slug: 'slug', type: 'PlainText', isEditable: true, isRequired: true, validations: null },
    { id: 'f3', slug: 'when', type: 'DateTime', isEditable: true, isRequired: false, validations: null },
    { id: 'f4', slug: 'views', type: 'Number', isEditable: true, isRequired: false, validations: null },
    { id: 'f5', slug: 'cover', type: 'Image', isEditable: true, isRequired: false, validations: null },
    {
      id: 'f6',
      slug: 'kind',
      type: 'Option',
      isEditable: true,
      isRequired: false,
      validations: { options: [{ id: 'dddddddddddddddddddddddd', name: 'News' }] },
    },
    {
      id: 'f7',
      slug: 'author',
      type: 'Reference',
      isEditable: true,
      isRequired: false,
      validations: { collectionId: 'x' },
    },
    { id: 'f8', slug: 'body', type: 'RichText', isEditable: true, isRequired: false, validations: null },
  ],
};
const fields: Record<string, FieldSpec> = {
  name: { type: 'text' },
  slug: { type: 'text' },
  when: { type: 'date' },
  views: { type: 'number' },
  cover: { type: 'media' },
  kind: { type: 'text', options: ['News'] },
  author: { type: 'reference', to: 'collection:authors' },
  body: { type: 'richtext' },
};
const binding = bindCollection('posts', schema, fields);
const toCtx = (media: Record<string, string> = {}) => ({
  ids: new Map([['item:authors:ada', 'eeeeeeeeeeeeeeeeeeeeeeee']]),
  media,
  richText: {},
  where: 'collections/posts/a.md',
});

describe('Webflow field values', () => {
  it('turns file values into Webflow values: ISO dates, option ids, item ids, HTML', () => {
    const wire = toFieldData(
      binding,
      { when: '2024-03-01', kind: 'News', author: 'ada', body: '**Hi**', views: '7' },
      toCtx(),
    );
    expect(wire).toEqual({
      fieldData: {
        when: '2024-03-01T00:00:00.000Z',
        kind: 'dddddddddddddddddddddddd',
        author: 'eeeeeeeeeeeeeeeeeeeeeeee',
        body: '<p><strong>Hi</strong></p>',
        views: 7,
      },
      unresolved: {},
    });
  });

  it('clears empty values the way the API writes them, and lists references with no id yet', () => {
    const wire = toFieldData(
      binding,
      { when: '', views: null, cover: '', kind: '', author: 'nobody', body: '' },
      toCtx(),
    );
    expect(wire.fieldData).toEqual({ when: null, views: null, cover: null, kind: null, body: '' });
    expect(wire.unresolved).toEqual({ author: ['item:authors:nobody'] });
  });

  it('reuses an asset Webflow already holds instead of importing the file again', () => {
    expect(fileIdOfCdnUrl(CDN)).toBe(FILE);
    expect(toFieldData(binding, { cover: 'https://example.com/cover.png' }, toCtx()).fieldData.cover).toEqual(
      {
        url: 'https://example.com/cover.png',
      },
    );
    const known = toCtx({ [CDN]: 'https://example.com/cover.png' });
    expect(toFieldData(binding, { cover: 'https://example.com/cover.png' }, known).fieldData.cover).toEqual({
      fileId: FILE,
      url: CDN,
    });
  });

  it('sends a rich-text value kept from the CMS as the HTML it was read as', () => {
    const kept = new RichTextRead('<p>as read</p>', undefined, () => 'as read');
    expect(toFieldData(binding, { body: kept }, toCtx()).fieldData.body).toBe('<p>as read</p>');
  });

  it('refuses an option name the field does not have, naming the file', () => {
    const error = (() => {
      try {
        toFieldData(binding, { kind: 'Gossip' }, toCtx());
      } catch (e) {
        return e;
      }
    })();
    expect(isSyncError(error) && error.code).toBe('CONTENT_WRONG_TYPE');
    expect((error as Error).message).toBe(
      'collections/posts/a.md: "kind" is "Gossip", not one of its options (News)',
    );
  });

  it('reads Webflow values back in file form', () => {
    const file = fromFieldData(
      binding,
      {
        name: 'A',
        slug: 'a',
        when: '2024-03-01T10:00:00.000Z',
        views: 3,
        cover: { fileId: FILE, url: CDN, alt: null },
        kind: 'dddddddddddddddddddddddd',
        author: 'eeeeeeeeeeeeeeeeeeeeeeee',
        body: '<p><em>x</em></p>',
      },
      {
        media: { [CDN]: 'https://example.com/cover.png' },
        slugOf: (collection, id) =>
          collection === 'authors' && id === 'eeeeeeeeeeeeeeeeeeeeeeee' ? 'ada' : undefined,
      },
    );
    expect(file).toEqual({
      fields: {
        name: 'A',
        slug: 'a',
        when: '2024-03-01T10:00:00',
        views: 3,
        cover: 'https://example.com/cover.png',
        kind: 'News',
        author: 'ada',
        body: '_x_',
      },
      unknownIds: {},
    });
    const unnamed = fromFieldData(
      binding,
      { author: 'ffffffffffffffffffffffff' },
      { media: {}, slugOf: () => undefined },
    );
    expect(unnamed.unknownIds).toEqual({ authors: ['ffffffffffffffffffffffff'] });
  });

  it('names the config entry of a field the collection lacks or types differently', () => {
    expect(() => bindCollection('posts', schema, { ...fields, extra: { type: 'text' } })).toThrow(
      'sync.config.json: collections.posts.fields.extra: the Webflow collection "posts" has no field "extra"',
    );
    expect(() => bindCollection('posts', schema, { views: { type: 'boolean' } })).toThrow(
      `"boolean" cannot hold Webflow's Number field "views"`,
    );
  });

  it('derives the file status from the live copy, and maps locales to cmsLocaleIds', () => {
    expect(statusOf({ lastPublished: null, isArchived: false })).toBe('draft');
    expect(statusOf({ lastPublished: '2026-01-01T00:00:00.000Z', isArchived: false })).toBe('published');
    expect(statusOf({ lastPublished: '2026-01-01T00:00:00.000Z', isArchived: true })).toBe('draft');
    const site = {
      id: SITE,
      locales: {
        primary: { tag: 'en', cmsLocaleId: '1'.repeat(24) },
        secondary: [{ tag: 'fr', cmsLocaleId: '2'.repeat(24) }],
      },
    };
    expect([...mapLocales(site, ['en', 'fr'], 'en')]).toEqual([
      ['en', '1'.repeat(24)],
      ['fr', '2'.repeat(24)],
    ]);
    expect(() => mapLocales(site, ['en', 'de'], 'en')).toThrow(
      'locale "de" is not a locale of the Webflow site (en, fr)',
    );
    expect([...mapLocales({ id: SITE, locales: null }, ['en'], 'en')]).toEqual([['en', null]]);
  });
});
