import { describe, expect, it } from 'vitest';
import { digestValue, digestVariant, stringifyStable } from '../../src/core/digest.js';
import { modelFor } from '../../src/core/model.js';
import { normalizeDate, normalizeField, normalizeVariant } from '../../src/core/normalize.js';
import { config } from './core-fixtures.js';

const ctx = { media: { 'https://cdn.buttercms.com/AbCdEfGhIjKlMnOpQrSt': 'https://example.com/a.jpg' } };
const landing = modelFor({ kind: 'page', pageType: 'landing', slug: 'x' }, config);

describe('normalizeField scalars', () => {
  it('turns text, richtext and color into strings with LF line ends', () => {
    expect(normalizeField({ type: 'text' }, undefined, ctx)).toBe('');
    expect(normalizeField({ type: 'richtext' }, null, ctx)).toBe('');
    expect(normalizeField({ type: 'richtext' }, 'a\r\nb\rc', ctx)).toBe('a\nb\nc');
    expect(normalizeField({ type: 'color' }, '#ff0000', ctx)).toBe('#ff0000');
    expect(normalizeField({ type: 'text' }, 42, ctx)).toBe('42');
  });

  it('turns numbers into number or null', () => {
    expect(normalizeField({ type: 'number' }, '', ctx)).toBeNull();
    expect(normalizeField({ type: 'number' }, undefined, ctx)).toBeNull();
    expect(normalizeField({ type: 'number' }, '5', ctx)).toBe(5);
    expect(normalizeField({ type: 'number' }, 2.5, ctx)).toBe(2.5);
    expect(normalizeField({ type: 'number' }, 'five', ctx)).toBe('five');
  });

  it('turns booleans into true/false, empty meaning false', () => {
    for (const empty of [undefined, null, ''])
      expect(normalizeField({ type: 'boolean' }, empty, ctx)).toBe(false);
    expect(normalizeField({ type: 'boolean' }, 'true', ctx)).toBe(true);
    expect(normalizeField({ type: 'boolean' }, true, ctx)).toBe(true);
  });

  it('maps a known CDN media URL back to its source URL and reads {url, alt}', () => {
    expect(normalizeField({ type: 'media' }, 'https://cdn.buttercms.com/AbCdEfGhIjKlMnOpQrSt', ctx)).toBe(
      'https://example.com/a.jpg',
    );
    expect(
      normalizeField(
        { type: 'media' },
        { url: 'https://cdn.buttercms.com/AbCdEfGhIjKlMnOpQrSt', alt: 'A' },
        ctx,
      ),
    ).toBe('https://example.com/a.jpg');
    expect(normalizeField({ type: 'media' }, 'https://cdn.buttercms.com/unknown', ctx)).toBe(
      'https://cdn.buttercms.com/unknown',
    );
    expect(normalizeField({ type: 'media' }, null, ctx)).toBe('');
  });

  it('keeps references as keys, many as arrays', () => {
    expect(normalizeField({ type: 'reference', to: 'page' }, undefined, ctx)).toBe('');
    expect(normalizeField({ type: 'reference', to: 'page' }, 'about', ctx)).toBe('about');
    expect(normalizeField({ type: 'reference', to: 'collection:tags', many: true }, '', ctx)).toEqual([]);
    expect(normalizeField({ type: 'reference', to: 'collection:tags', many: true }, 'news', ctx)).toEqual([
      'news',
    ]);
    expect(
      normalizeField({ type: 'reference', to: 'collection:tags', many: true }, ['b', '', 'a'], ctx),
    ).toEqual(['b', 'a']);
  });
});

describe('normalizeDate', () => {
  it.each([
    ['2024-03-15', '2024-03-15T00:00:00'],
    ['2024-03-15T14:30:00', '2024-03-15T14:30:00'],
    ['2024-03-15T14:30', '2024-03-15T14:30:00'],
    ['2024-03-15 14:30:00', '2024-03-15T14:30:00'],
    ['2024-03-15T14:30:00.123456', '2024-03-15T14:30:00'],
    ['2024-03-15T14:30:00Z', '2024-03-15T14:30:00'],
    ['2024-03-15T14:30:00+02:00', '2024-03-15T12:30:00'],
    ['2024-03-15T01:30:00.5-05:30', '2024-03-15T07:00:00'],
    ['2024-03-15T23:30:00-02:00', '2024-03-16T01:30:00'],
    ['', ''],
  ])('%s → %s', (input, expected) => {
    expect(normalizeDate(input)).toBe(expected);
  });

  it('takes Date objects as UTC (js-yaml and smol-toml dates)', () => {
    expect(normalizeDate(new Date('2024-03-15T10:00:00+02:00'))).toBe('2024-03-15T08:00:00');
    expect(normalizeDate(new Date(Date.UTC(2024, 2, 15)))).toBe('2024-03-15T00:00:00');
  });

  it('leaves text that is no date untouched, so it never equals a real date', () => {
    expect(normalizeDate('next tuesday')).toBe('next tuesday');
    expect(normalizeDate('2024-02-31')).toBe('2024-02-31');
    expect(normalizeDate(undefined)).toBe('');
  });
});

describe('normalizeField containers', () => {
  it('normalises components, component pickers and their nested fields', () => {
    const value = normalizeVariant(
      {
        fields: {
          seo: { title: 'T', image: 'https://cdn.buttercms.com/AbCdEfGhIjKlMnOpQrSt', extra: 'dropped' },
          sections: [
            { type: 'hero', fields: { headline: 'Hi\r\n' } },
            { type: 'people', fields: { members: 'ana' } },
          ],
          launch: '2024-03-15',
        },
        meta: { title: 'Landing' },
      },
      landing,
      ctx,
    );
    expect(value.fields).toEqual({
      headline: '',
      count: null,
      featured: false,
      launch: '2024-03-15T00:00:00',
      accent: '',
      seo: { title: 'T', image: 'https://example.com/a.jpg' },
      sections: [
        { type: 'hero', fields: { headline: 'Hi\n', image: '' } },
        { type: 'people', fields: { members: ['ana'] } },
      ],
      related: [],
    });
    expect(value.meta).toEqual({ title: 'Landing' });
  });

  it('normalises repeater rows to the declared sub-fields', () => {
    const faq = modelFor({ kind: 'page', pageType: 'faq', slug: 'x' }, config);
    expect(normalizeField(faq.fields.questions!, [{ question: 'Q' }], ctx)).toEqual([
      { question: 'Q', answer: '' },
    ]);
    expect(normalizeField(faq.fields.questions!, null, ctx)).toEqual([]);
  });
});

describe('digests', () => {
  it('do not depend on key order and are 16 hex chars', () => {
    const a = digestValue({ b: 1, a: { y: [1, 2], x: 'z' } });
    const b = digestValue({ a: { x: 'z', y: [1, 2] }, b: 1 });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(digestValue([1, 2])).not.toBe(digestValue([2, 1]));
    expect(stringifyStable({ b: undefined, a: 1 })).toBe('{"a":1}');
  });

  it('give one entry per model field plus page meta when present', () => {
    const faq = modelFor({ kind: 'page', pageType: 'faq', slug: 'x' }, config);
    const digests = digestVariant({ fields: { headline: 'H' }, meta: { status: 'draft' } }, faq, ctx);
    expect(Object.keys(digests).sort()).toEqual([
      '$status',
      'body',
      'headline',
      'hero_image',
      'questions',
      'related',
    ]);
    expect(digests.body).toBe(digestValue(''));
    expect(digests.$status).toBe(digestValue('draft'));
  });

  it('make equivalent values equal: date forms, CDN vs source media, "5" vs 5, CRLF', () => {
    const member = modelFor({ kind: 'item', collection: 'team_members', key: 'ana' }, config);
    const file = digestVariant(
      { fields: { slug: 'ana', years: '5', photo: 'https://example.com/a.jpg', name: 'Ana\r\n' }, meta: {} },
      member,
      ctx,
    );
    const cms = digestVariant(
      {
        fields: {
          slug: 'ana',
          years: 5,
          photo: 'https://cdn.buttercms.com/AbCdEfGhIjKlMnOpQrSt',
          name: 'Ana\n',
        },
        meta: {},
      },
      member,
      ctx,
    );
    expect(file).toEqual(cms);
    const article = modelFor({ kind: 'page', pageType: 'article', slug: 'x' }, config);
    const d1 = digestVariant({ fields: { published_on: '2024-03-15' }, meta: {} }, article, ctx);
    const d2 = digestVariant(
      { fields: { published_on: '2024-03-15T02:00:00+02:00' }, meta: {} },
      article,
      ctx,
    );
    expect(d1.published_on).toBe(d2.published_on);
  });
});

describe('modelFor', () => {
  it('finds page types, single pages and collections, and names what is missing', () => {
    expect(modelFor({ kind: 'page', pageType: 'faq', slug: 'a' }, config).bodyField).toBe('body');
    expect(Object.keys(modelFor({ kind: 'page', pageType: '*', slug: 'homepage' }, config).fields)).toContain(
      'tagline',
    );
    expect(modelFor({ kind: 'item', collection: 'tags', key: 'a' }, config).keyField).toBe('slug');
    expect(() => modelFor({ kind: 'page', pageType: 'nope', slug: 'a' }, config)).toThrow(/page type "nope"/);
  });
});
