import { describe, expect, it } from 'vitest';
import { parseWebhook } from '../../src/server/daemon-server.js';

const envelope = (event: string | undefined, data: Record<string, unknown>) => ({
  data,
  ...(event === undefined ? {} : { webhook: { event, target: 'https://yourapp.example/hooks/butter' } }),
});

// Shapes from butter-api.md §4.
const pageData = {
  id: 'product-launch',
  buttercms_id: 5678,
  page_type: 'landing',
  editor: 'Marketing Team',
  name: 'Product Launch Landing Page',
  timestamp: '2024-01-15T14:30:00',
  locale: null,
  status: 'published',
  updated: '2024-01-15T14:30:00.123456Z',
  published: '2024-01-15T14:30:00.123456Z',
  scheduled: null,
};
const itemData = {
  id: 'products',
  itemid: '/v2/content/?keys=products[_id=5678]',
  label: 'Wireless Headphones Pro',
  editor: 'Product Manager',
  timestamp: '2024-01-15T13:45:00',
  locale: null,
  status: 'published',
};

describe('parseWebhook', () => {
  it('maps a page event: id is the slug, locale null is the default locale', () => {
    expect(parseWebhook(envelope('page.published', pageData))).toEqual({
      kind: 'page',
      pageType: 'landing',
      slug: 'product-launch',
      locale: null,
      event: 'page.published',
    });
  });

  it('keeps page_type "*" for single pages and passes the locale', () => {
    expect(
      parseWebhook(envelope('page.draft', { ...pageData, id: 'homepage', page_type: '*', locale: 'es' })),
    ).toEqual({ kind: 'page', pageType: '*', slug: 'homepage', locale: 'es', event: 'page.draft' });
  });

  it('passes page deletion on through the event name', () => {
    expect(parseWebhook(envelope('page.delete', { ...pageData, status: 'deleted' }))).toMatchObject({
      kind: 'page',
      event: 'page.delete',
    });
  });

  it('maps an item event: id is the collection key, the item id comes from itemid', () => {
    expect(parseWebhook(envelope('collectionitem.published', itemData))).toEqual({
      kind: 'item',
      collection: 'products',
      id: 5678,
      locale: null,
      event: 'collectionitem.published',
      deleted: false,
    });
  });

  it.each([
    ['/v2/content/?keys=team_members[_id=42]&locale=es', 42],
    ['/v2/content/?keys=tags[_id=1]', 1],
    ['/v2/content/?keys=products[_id=9007199254740991]', 9007199254740991],
  ])('parses the item id out of %s', (itemid, id) => {
    expect(parseWebhook(envelope('collectionitem.draft', { ...itemData, itemid }))).toMatchObject({ id });
  });

  it('marks deleted items, by status or by event', () => {
    expect(parseWebhook(envelope('collectionitem.delete', { ...itemData, status: 'deleted' }))).toMatchObject(
      {
        deleted: true,
      },
    );
    expect(parseWebhook(envelope('collectionitem.all', { ...itemData, status: 'deleted' }))).toMatchObject({
      deleted: true,
    });
    expect(parseWebhook(envelope('collectionitem.delete', itemData))).toMatchObject({ deleted: true });
    expect(
      parseWebhook(envelope('collectionitem.unpublished', { ...itemData, status: 'draft' })),
    ).toMatchObject({
      deleted: false,
      event: 'collectionitem.unpublished',
    });
  });

  it('passes an item locale', () => {
    expect(parseWebhook(envelope('collectionitem.published', { ...itemData, locale: 'fr' }))).toMatchObject({
      locale: 'fr',
    });
  });

  it('returns null for blog post events: posts are not synced', () => {
    expect(parseWebhook(envelope('post.published', { id: 'hello-world', _id: 5678 }))).toBeNull();
    expect(parseWebhook(envelope('post.delete', { id: 'hello-world', _id: 5678 }))).toBeNull();
  });

  it('falls back on the data shape when the envelope names no event', () => {
    expect(parseWebhook(envelope(undefined, itemData))).toMatchObject({ kind: 'item', id: 5678 });
    expect(parseWebhook(envelope(undefined, pageData))).toMatchObject({
      kind: 'page',
      slug: 'product-launch',
    });
    expect(parseWebhook(envelope(undefined, { id: 'hello-world', _id: 5678 }))).toBeNull();
  });

  it.each([
    ['null', null],
    ['an array', [envelope('page.published', pageData)]],
    ['a string', 'page.published'],
    ['no data', { webhook: { event: 'page.published' } }],
    ['an item without itemid', envelope('collectionitem.published', { ...itemData, itemid: undefined })],
    [
      'an itemid without _id',
      envelope('collectionitem.published', { ...itemData, itemid: '/v2/content/?keys=x' }),
    ],
    ['an item id of 0', envelope('collectionitem.published', { ...itemData, itemid: '[_id=0]' })],
    ['a page without page_type', envelope('page.published', { ...pageData, page_type: undefined })],
    ['a page with a numeric id', envelope('page.published', { ...pageData, id: 5678 })],
    ['a media event', envelope('media.uploaded', { id: 'x' })],
  ])('returns null for %s', (_, body) => {
    expect(parseWebhook(body)).toBeNull();
  });
});
