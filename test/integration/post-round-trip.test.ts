import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createButterBlogClient } from '../../src/cms/butter/index.js';
import {
  createPostBody,
  type PostBodyCodec,
  postVariant,
  postWriteBody,
} from '../../src/cms/butter/post-mapping.js';
import { editPostFile, readPostFile } from '../../src/content/index.js';
import { normalizeDate } from '../../src/core/normalize.js';
import type { EmulatorHandle } from '../../src/emulator/index.js';
import { startTestEmulator, TEST_READ_TOKEN, TEST_WRITE_TOKEN } from '../helpers/emulator.js';
import { validConfig } from '../helpers/valid-config.js';

/**
 * A blog round trip without the engine (issue 11 part 2): a real Jekyll post file → create over HTTP → read
 * back equal → a dashboard edit of title and body → the file edited in just those places → delete. The body
 * conversion is the identity here; the engine will pass the rich-text conversion (src/content/rich-text.ts).
 */

const JEKYLL = 'jekyll-docs/docs/_posts/2013-05-06-jekyll-1-0-0-released.markdown';
const fileBytes = readFileSync(
  fileURLToPath(new URL(`../../../shared/corpus/markdown/${JEKYLL}`, import.meta.url)),
);
const relPath = 'content/posts/jekyll-1-0-0-released.markdown';
const config = validConfig({
  contentDir: 'content',
  posts: { keys: { published: 'date' }, gitOnly: ['version', 'category'] },
});
const posts = config.posts!;
const identity: PostBodyCodec = { toHtml: (md) => md, toMarkdown: (html) => html };

let em: EmulatorHandle;
let client: ReturnType<typeof createButterBlogClient>;

beforeAll(async () => {
  em = await startTestEmulator({ config });
  client = createButterBlogClient({
    baseUrl: em.url,
    readToken: TEST_READ_TOKEN,
    writeToken: TEST_WRITE_TOKEN,
    requestsPerSecond: 500,
    concurrency: 4,
    timeoutMs: 5_000,
    maxRetries: 1,
  });
  em.seedAuthor({ slug: 'parkr', first_name: 'Parker', email: 'parkr@example.com' });
});
afterAll(async () => {
  await client.close();
  await em.close();
});

describe('blog round trip on a real post', () => {
  it('create, read back without drift, dashboard edit of title and body, minimal file edit, delete', async () => {
    const text = fileBytes.toString('utf8');
    const local = readPostFile(relPath, fileBytes, config);
    const { slug } = local.location;
    const create = createPostBody(slug, local.variant, {
      posts,
      codec: identity,
      defaultStatus: 'published',
    });
    expect(create).toMatchObject({
      slug: 'jekyll-1-0-0-released',
      title: 'Jekyll 1.0.0 Released',
      status: 'published',
      author: { slug: 'parkr' },
      // The file's zoned date as the instant it means (+0200 → UTC).
      published: '2013-05-06T00:12:52Z',
    });
    await client.createPost(create);
    await em.settle();

    // Read back: the same post in file form, so a pull with no remote change leaves the file byte-identical.
    const remote = await client.getPost(slug);
    expect(remote).not.toBeNull();
    const pulled = postVariant(remote!, identity, local.variant.fields.author);
    expect(pulled.meta).toEqual({ title: 'Jekyll 1.0.0 Released', status: 'published' });
    expect(normalizeDate(pulled.fields.published)).toBe(normalizeDate(local.variant.fields.published));
    const { published: _p, ...rest } = pulled.fields;
    const { published: _l, ...localRest } = local.variant.fields;
    expect(rest).toEqual(localRest);
    const unchanged = editPostFile(
      relPath,
      text,
      {
        title: pulled.meta.title,
        author: pulled.fields.author,
        published: pulled.fields.published,
        body: pulled.fields.body,
      },
      config,
    );
    expect(unchanged).toBe(text);

    // An editor changes the title and one paragraph in the dashboard.
    const body = String(local.variant.fields.body);
    const firstParagraph = body.split('\n\n')[0] ?? '';
    const editedBody = body.replace(firstParagraph, 'Jekyll 1.0 is here, after many months of work.');
    em.editPost(slug, { title: 'Jekyll 1.0.0 is out', body: editedBody });
    const edited = postVariant((await client.getPost(slug))!, identity, local.variant.fields.author);
    const changed = Object.fromEntries(
      [
        ['title', edited.meta.title, local.variant.meta.title],
        ...Object.keys({ ...edited.fields, ...local.variant.fields }).map((k) => [
          k,
          edited.fields[k],
          local.variant.fields[k],
        ]),
      ]
        .filter(([key, next, old]) =>
          key === 'published'
            ? normalizeDate(next) !== normalizeDate(old)
            : JSON.stringify(next) !== JSON.stringify(old),
        )
        .map(([key, next]) => [key, next]),
    );
    expect(Object.keys(changed).sort()).toEqual(['body', 'title']);
    const pulledText = editPostFile(relPath, text, changed, config);
    const before = text.split('\n');
    const after = pulledText.split('\n');
    // The frontmatter: only the title line changed (the date, author and gitOnly keys keep their bytes).
    const close = before.indexOf('---', 1);
    expect(after.indexOf('---', 1)).toBe(close);
    const differing = before.slice(0, close + 1).flatMap((line, i) => (line === after[i] ? [] : [i + 1]));
    expect(differing).toEqual([2]);
    expect(after[1]).toBe('title: "Jekyll 1.0.0 is out"');
    expect(pulledText).toContain('Jekyll 1.0 is here, after many months of work.');
    // Everything from the second paragraph on is byte-identical (block merge proper is rich-text work, issue 11).
    expect(pulledText.slice(pulledText.indexOf(editedBody.split('\n\n')[1] ?? '\u0000'))).toBe(
      text.slice(text.indexOf(body.split('\n\n')[1] ?? '\u0000')),
    );
    expect(readPostFile(relPath, Buffer.from(pulledText), config).variant.meta.title).toBe(
      'Jekyll 1.0.0 is out',
    );

    // A PATCH of one property sends it and the status only.
    const patch = postWriteBody(
      { meta: { title: 'Jekyll 1.0.0 is out', status: 'published' }, fields: { summary: 'The big one' } },
      { posts, codec: identity, defaultStatus: 'published', properties: ['summary'] },
    );
    expect(patch).toEqual({ status: 'published', summary: 'The big one' });
    await client.updatePost(slug, patch);
    await em.settle();
    expect((await client.getPost(slug))?.summary).toBe('The big one');

    await client.deletePost(slug);
    await em.settle();
    expect(await client.getPost(slug, { preview: true })).toBeNull();
  });

  it('maps an e-mail author both ways and clears properties a PATCH names but the file lacks', () => {
    const variant = { meta: { title: 'T' }, fields: { author: 'Ann@Example.com', tags: ['A'] } };
    const create = createPostBody('t', variant, { posts, codec: identity, defaultStatus: 'draft' });
    expect(create).toEqual({
      slug: 't',
      title: 'T',
      status: 'draft',
      author: { email: 'Ann@Example.com' },
      tags: ['A'],
    });
    const clear = postWriteBody(
      { meta: { title: 'T', status: 'draft' }, fields: {} },
      { posts, codec: identity, defaultStatus: 'draft', properties: ['summary', 'featured_image', 'tags'] },
    );
    expect(clear).toEqual({ status: 'draft', summary: '', featured_image: null, tags: [] });
    const back = postVariant(
      {
        slug: 't',
        title: 'T',
        status: 'scheduled',
        created: undefined,
        updated: undefined,
        published: null,
        body: '',
        summary: '',
        seo_title: '',
        meta_description: '',
        featured_image: null,
        featured_image_alt: '',
        author: { slug: 'ann', email: 'ann@example.com', first_name: '', last_name: '' },
        tags: [],
        categories: [],
      },
      identity,
      'Ann@Example.com',
    );
    // The file keeps naming the author its way; a scheduled post's status is not turned into "draft".
    expect(back).toEqual({ meta: { title: 'T' }, fields: { author: 'Ann@Example.com', body: '' } });
    const upload = validConfig({ contentDir: 'content', posts: { uploadImagesToMediaLibrary: true } }).posts!;
    expect(
      postWriteBody(
        { meta: { title: 'T' }, fields: { body: 'x' } },
        { posts: upload, codec: identity, defaultStatus: 'draft' },
      ),
    ).toEqual({ status: 'draft', title: 'T', body: 'x', upload_images_to_media_library: true });
  });
});
