import {
  startWebflowEmulator,
  type WebflowEmulatorHandle,
  type WebflowEmulatorOptions,
  type WebflowSchemaFixture,
} from '../../src/emulator/webflow/index.js';

export const WEBFLOW_TOKEN = 'test-webflow-token';

/** A small site: authors, and posts with a rich-text body, an integer, an option, a reference and an image. */
export const WEBFLOW_TEST_SCHEMA: WebflowSchemaFixture = {
  collections: [
    { slug: 'authors', fields: [{ slug: 'bio', type: 'PlainText' }] },
    {
      slug: 'posts',
      fields: [
        { slug: 'body', type: 'RichText' },
        { slug: 'views', type: 'Number', validations: { format: 'integer' } },
        { slug: 'kind', type: 'Option', validations: { options: ['News', 'Guide'] } },
        { slug: 'author', type: 'Reference', validations: { collection: 'authors' } },
        { slug: 'tags', type: 'MultiReference', validations: { collection: 'authors' } },
        { slug: 'cover', type: 'Image' },
        { slug: 'computed', type: 'PlainText', isEditable: false },
      ],
    },
  ],
};

/** A Webflow emulator on a random loopback port with the test schema, one all-scopes token and a high rate limit. */
export async function startTestWebflowEmulator(
  options: Partial<WebflowEmulatorOptions> = {},
): Promise<WebflowEmulatorHandle> {
  return startWebflowEmulator({
    schema: WEBFLOW_TEST_SCHEMA,
    tokens: [{ token: WEBFLOW_TOKEN, label: 'test' }],
    rateLimitPerMinute: 1000,
    port: 0,
    ...options,
  });
}

/** One raw HTTP call (Bearer token unless `token: null`), the JSON body parsed when present. */
export async function callWebflow(
  em: WebflowEmulatorHandle,
  path: string,
  init: { method?: string; token?: string | null; body?: unknown } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect response bodies ad hoc; the assertions are the type check
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? WEBFLOW_TOKEN}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${em.origin}${path}`, {
    method: init.method ?? 'GET',
    headers,
    redirect: 'manual',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text ? JSON.parse(text) : undefined,
  };
}
