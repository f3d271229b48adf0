import { describe, expect, it } from 'vitest';
import { parseWebhook } from '../../src/cms/butter/webhook.js';
import { ITEM_DATA, PAGE_DATA, webhookEnvelope } from '../helpers/webhook-payloads.js';

describe('parseWebhook', () => {
  it('maps a page event: id is the slug, locale null is the default locale', () => {
    expect(parseWebhook(webhookEnvelope('page.published', PAGE_DATA))).toEqual({
      kind: 'page',
      pageType: 'landing',
      slug: 'product-launch',
      locale: null,
      event: 'page.published',
    });
  });

  it('keeps page_type "*" for single pages and passes the locale', () => {
    expect(
      parseWebhook(
        webhookEnvelope('page.draft', { ...PAGE_DATA, id: 'homepage', page_type: '*', locale: 'es' }),
      ),
    ).toEqual({ kind: 'page', pageType: '*', slug: 'homepage', locale: 'es', event: 'page.draft' });
  });

  it('passes page deletion on through the event name', () => {
    expect(parseWebhook(webhookEnvelope('page.delete', { ...PAGE_DATA, status: 'deleted' }))).toMatchObject({
      kind: 'page',
      event: 'page.delete',
    });
  });

  it('maps an item event: id is the collection key, the item id comes from itemid', () => {
    expect(parseWebhook(webhookEnvelope('collectionitem.published', ITEM_DATA))).toEqual({
      kind: 'item',
      collection: 'products',
      id: '5678',
      locale: null,
      event: 'collectionitem.published',
      deleted: false,
    });
  });

  it.each([
    ['/v2/content/?keys=team_members[_id=42]&locale=es', '42'],
    ['/v2/content/?keys=tags[_id=1]', '1'],
    ['/v2/content/?keys=products[_id=9007199254740991]', '9007199254740991'],
  ])('parses the item id out of %s', (itemid, id) => {
    expect(parseWebhook(webhookEnvelope('collectionitem.draft', { ...ITEM_DATA, itemid }))).toMatchObject({
      id,
    });
  });

  it('marks deleted items, by status or by event', () => {
    expect(
      parseWebhook(webhookEnvelope('collectionitem.delete', { ...ITEM_DATA, status: 'deleted' })),
    ).toMatchObject({
      deleted: true,
    });
    expect(
      parseWebhook(webhookEnvelope('collectionitem.all', { ...ITEM_DATA, status: 'deleted' })),
    ).toMatchObject({
      deleted: true,
    });
    expect(parseWebhook(webhookEnvelope('collectionitem.delete', ITEM_DATA))).toMatchObject({
      deleted: true,
    });
    expect(
      parseWebhook(webhookEnvelope('collectionitem.unpublished', { ...ITEM_DATA, status: 'draft' })),
    ).toMatchObject({
      deleted: false,
      event: 'collectionitem.unpublished',
    });
  });

  it('passes an item locale', () => {
    expect(
      parseWebhook(webhookEnvelope('collectionitem.published', { ...ITEM_DATA, locale: 'fr' })),
    ).toMatchObject({
      locale: 'fr',
    });
  });

  it('returns null for blog post events: posts are not synced', () => {
    expect(parseWebhook(webhookEnvelope('post.published', { id: 'hello-world', _id: 5678 }))).toBeNull();
    expect(parseWebhook(webhookEnvelope('post.delete', { id: 'hello-world', _id: 5678 }))).toBeNull();
  });

  it('falls back on the data shape when the envelope names no event', () => {
    expect(parseWebhook(webhookEnvelope(undefined, ITEM_DATA))).toMatchObject({ kind: 'item', id: '5678' });
    expect(parseWebhook(webhookEnvelope(undefined, PAGE_DATA))).toMatchObject({
      kind: 'page',
      slug: 'product-launch',
    });
    expect(parseWebhook(webhookEnvelope(undefined, { id: 'hello-world', _id: 5678 }))).toBeNull();
  });

  it.each([
    ['null', null],
    ['an array', [webhookEnvelope('page.published', PAGE_DATA)]],
    ['a string', 'page.published'],
    ['no data', { webhook: { event: 'page.published' } }],
    [
      'an item without itemid',
      webhookEnvelope('collectionitem.published', { ...ITEM_DATA, itemid: undefined }),
    ],
    [
      'an itemid without _id',
      webhookEnvelope('collectionitem.published', { ...ITEM_DATA, itemid: '/v2/content/?keys=x' }),
    ],
    ['an item id of 0', webhookEnvelope('collectionitem.published', { ...ITEM_DATA, itemid: '[_id=0]' })],
    ['a page without page_type', webhookEnvelope('page.published', { ...PAGE_DATA, page_type: undefined })],
    ['a page with a numeric id', webhookEnvelope('page.published', { ...PAGE_DATA, id: 5678 })],
    ['a media event', webhookEnvelope('media.uploaded', { id: 'x' })],
  ])('returns null for %s', (_, body) => {
    expect(parseWebhook(body)).toBeNull();
  });
});
