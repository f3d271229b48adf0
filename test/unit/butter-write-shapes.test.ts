import { describe, expect, it } from 'vitest';
import { BUTTER_RULES, butterWireId, estimateButterWrite, shapeWrite } from '../../src/cms/butter/index.js';
import type { WriteIntent } from '../../src/cms/port.js';
import { isSyncError } from '../../src/core/errors.js';

const options = { defaultLocale: 'en', defaultStatus: 'published' as const };
const page = { kind: 'page' as const, pageType: 'faq', slug: 'shipping' };
const item = { kind: 'item' as const, collection: 'tags', key: 'news' };

function intent(partial: Partial<WriteIntent> & Pick<WriteIntent, 'kind' | 'ref' | 'locales'>): WriteIntent {
  return { entity: partial.ref.kind === 'page' ? 'page:faq:shipping' : 'item:tags:news', ...partial };
}

describe('ButterCMS shaping of a write intent (butter-api.md §3)', () => {
  it('a page update of one status is one PATCH, nested by locale, with the status explicit', () => {
    const write = intent({
      kind: 'update',
      ref: page,
      locales: {
        es: { fields: { body: 'Hoy' }, status: 'published' },
        en: { fields: { headline: 'Now' }, status: 'published' },
      },
    });
    expect(shapeWrite(write, options)).toEqual([
      {
        kind: 'update-page',
        pageType: 'faq',
        slug: 'shipping',
        locale: undefined,
        body: { status: 'published', fields: { en: { headline: 'Now' }, es: { body: 'Hoy' } } },
      },
    ]);
    expect(estimateButterWrite(write, options)).toBe(1);
  });

  it('a page update whose locales differ in status is one PATCH per status, and estimate counts them', () => {
    const write = intent({
      kind: 'update',
      ref: page,
      locales: {
        en: { fields: { headline: 'Now' }, status: 'published' },
        es: { fields: { body: 'Hoy' }, status: 'draft' },
      },
    });
    const requests = shapeWrite(write, options);
    expect(requests).toEqual([
      expect.objectContaining({
        kind: 'update-page',
        locale: 'es',
        body: { status: 'draft', fields: { body: 'Hoy' } },
      }),
      expect.objectContaining({
        kind: 'update-page',
        locale: undefined,
        body: { status: 'published', fields: { headline: 'Now' } },
      }),
    ]);
    expect(estimateButterWrite(write, options)).toBe(2);
  });

  it('a page create sends title, slug, page_type and the default locale status; one other locale goes as ?locale=', () => {
    const write = intent({
      kind: 'create',
      ref: page,
      locales: { es: { fields: { headline: 'Envíos' }, status: 'draft', title: 'Envíos' } },
    });
    expect(shapeWrite(write, options)).toEqual([
      {
        kind: 'create-page',
        pageType: 'faq',
        slug: 'shipping',
        locale: 'es',
        body: {
          title: 'Envíos',
          slug: 'shipping',
          page_type: 'faq',
          status: 'draft',
          fields: { headline: 'Envíos' },
        },
      },
    ]);
  });

  it('an item create carries its fields as an array of one object, a lone other locale nested', () => {
    const write = intent({
      kind: 'create',
      ref: item,
      locales: { es: { fields: { name: 'Noticias' }, status: 'published' } },
    });
    expect(shapeWrite(write, options)).toEqual([
      {
        kind: 'create-item',
        collection: 'tags',
        body: { key: 'tags', status: 'published', fields: [{ es: { name: 'Noticias' } }] },
      },
    ]);
  });

  it('replace is a PUT and update a PATCH for items; a delete is a DELETE', () => {
    const fields = { en: { fields: { name: 'News' } } };
    expect(shapeWrite(intent({ kind: 'replace', ref: item, locales: fields }), options)).toEqual([
      { kind: 'put-item', collection: 'tags', body: { fields: { name: 'News' } } },
    ]);
    expect(shapeWrite(intent({ kind: 'update', ref: item, locales: fields }), options)).toEqual([
      { kind: 'patch-item', collection: 'tags', body: { fields: { name: 'News' } } },
    ]);
    expect(shapeWrite(intent({ kind: 'delete', ref: item, locales: {} }), options)).toEqual([
      { kind: 'delete-item', collection: 'tags' },
    ]);
  });

  it('values are translated per locale before nesting', () => {
    const write = intent({
      kind: 'update',
      ref: item,
      locales: { en: { fields: { tag: 'a' } }, es: { fields: { tag: 'b' } } },
    });
    const translate = (fields: Record<string, unknown>) => ({ tag: `id-of-${String(fields.tag)}` });
    expect(shapeWrite(write, { ...options, translate })[0]).toMatchObject({
      body: { fields: { en: { tag: 'id-of-a' }, es: { tag: 'id-of-b' } } },
    });
  });

  it('a page delete is refused: ButterCMS cannot delete pages through the API, and its rules say so', () => {
    expect(BUTTER_RULES.pagesDeletable).toBe(false);
    let error: unknown;
    try {
      shapeWrite(intent({ kind: 'delete', ref: page, locales: {} }), options);
    } catch (caught) {
      error = caught;
    }
    expect(isSyncError(error) && error.code).toBe('INTERNAL');
  });

  it('an opaque id goes to the wire as the numeric meta.id; one that is not a whole number is refused, not sent as NaN', () => {
    expect(butterWireId('42', 'item:tags:news')).toBe(42);
    for (const bad of ['', 'abc', '4.5', '-1']) {
      let error: unknown;
      try {
        butterWireId(bad, 'item:tags:news');
      } catch (caught) {
        error = caught;
      }
      expect(isSyncError(error) && error.code).toBe('INTERNAL');
      expect(String((error as Error).message)).toContain('item:tags:news');
    }
  });
});
