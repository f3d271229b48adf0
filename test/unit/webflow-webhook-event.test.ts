import { describe, expect, it } from 'vitest';
import { decodeWebflowWebhook } from '../../src/cms/webflow/webhook-event.js';

// webflow-api.md §8: item triggers decode into (change, collection, item, locale); the rest is ignored or invalid.

const id = '684ad5c1ad20a9327e58ebce';
const collectionId = '649aa8a9681ec6168a57d972';
const locale = '653fd9af6a07fc9cfd7a5e57';

describe('decodeWebflowWebhook', () => {
  it('decodes each CMS item trigger, with the doc tabs draft/archived spelling too', () => {
    for (const [trigger, change] of [
      ['collection_item_created', 'created'],
      ['collection_item_changed', 'changed'],
      ['collection_item_published', 'published'],
      ['collection_item_unpublished', 'unpublished'],
    ] as const) {
      const body = JSON.stringify({
        triggerType: trigger,
        payload: {
          id,
          collectionId,
          cmsLocaleId: locale,
          lastUpdated: '2025-06-12T13:33:15.982Z',
          draft: true,
        },
      });
      expect(decodeWebflowWebhook(body)).toEqual({
        kind: 'item',
        event: {
          change,
          collectionId,
          itemId: id,
          cmsLocaleId: locale,
          lastUpdated: '2025-06-12T13:33:15.982Z',
        },
      });
    }
    const deleted = {
      triggerType: 'collection_item_deleted',
      payload: { id, siteId: id, workspaceId: id, collectionId },
    };
    expect(decodeWebflowWebhook(Buffer.from(JSON.stringify(deleted)))).toEqual({
      kind: 'item',
      event: { change: 'deleted', collectionId, itemId: id, cmsLocaleId: null, lastUpdated: null },
    });
  });

  it('ignores other triggers and refuses malformed bodies', () => {
    expect(decodeWebflowWebhook('{"triggerType":"site_publish","payload":{}}')).toEqual({
      kind: 'ignored',
      triggerType: 'site_publish',
    });
    expect(decodeWebflowWebhook('not json').kind).toBe('invalid');
    expect(decodeWebflowWebhook('[]').kind).toBe('invalid');
    expect(decodeWebflowWebhook('{"triggerType":"collection_item_changed"}').kind).toBe('invalid');
    expect(
      decodeWebflowWebhook(
        JSON.stringify({ triggerType: 'collection_item_changed', payload: { id: '../x', collectionId } }),
      ),
    ).toEqual({ kind: 'invalid', reason: 'payload.id is not an item id' });
  });
});
