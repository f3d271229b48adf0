/** Webhook bodies in the shapes of butter-api.md §4 (verbatim examples), for the receiver's tests. */

export const PAGE_DATA = {
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

export const ITEM_DATA = {
  id: 'products',
  itemid: '/v2/content/?keys=products[_id=5678]',
  label: 'Wireless Headphones Pro',
  editor: 'Product Manager',
  timestamp: '2024-01-15T13:45:00',
  locale: null,
  status: 'published',
};

/** `{data, webhook: {event, target}}`; no `webhook` key when `event` is undefined. */
export function webhookEnvelope(event: string | undefined, data: Record<string, unknown>) {
  return {
    data,
    ...(event === undefined ? {} : { webhook: { event, target: 'https://yourapp.example/hooks/butter' } }),
  };
}
