import { describe, expect, it } from 'vitest';
import { fromApiFields, isLocaleNested, toApiBody, toApiFields } from '../../src/cms/butter/api-values.js';
import { SyncError } from '../../src/core/errors.js';
import { modelFor } from '../../src/core/model.js';
import { config, idTable } from './core-fixtures.js';

const ids = idTable({ tags: { news: 11, tech: 12 }, team_members: { ana: 21, bo: 22 } });
const member = modelFor({ kind: 'item', collection: 'team_members', key: 'x' }, config);
const article = modelFor({ kind: 'page', pageType: 'article', slug: 'x' }, config);
const landing = modelFor({ kind: 'page', pageType: 'landing', slug: 'x' }, config);
const faq = modelFor({ kind: 'page', pageType: 'faq', slug: 'x' }, config);
const ctx = { media: { 'https://cdn.buttercms.com/AbCdEfGhIjKlMnOpQrSt': 'https://example.com/a.jpg' } };

describe('toApiFields (file form → Write API)', () => {
  it('turns collection reference keys into item ids and keeps only the given fields', () => {
    expect(toApiFields({ tags: ['tech', 'news'], name: 'Ana' }, member, ids)).toEqual({
      tags: [12, 11],
      name: 'Ana',
    });
    expect(toApiFields({ author: 'bo' }, article, ids)).toEqual({ author: 22 });
  });

  it('clears with "" and [], sends page refs as slugs, media as given, dates without zone', () => {
    expect(toApiFields({ tags: [] }, member, ids)).toEqual({ tags: [] });
    expect(toApiFields({ author: '' }, article, ids)).toEqual({ author: '' });
    expect(toApiFields({ related: 'about-us', hero_image: 'https://example.com/x.png' }, faq, ids)).toEqual({
      related: 'about-us',
      hero_image: 'https://example.com/x.png',
    });
    expect(toApiFields({ published_on: '2024-03-15' }, article, ids)).toEqual({
      published_on: '2024-03-15T00:00:00',
    });
    expect(toApiFields({ years: null }, member, ids)).toEqual({ years: '' });
  });

  it('translates references nested in component pickers', () => {
    const out = toApiFields(
      { sections: [{ type: 'people', fields: { members: ['ana', 'bo'] } }], related: ['a', 'b'] },
      landing,
      ids,
    );
    expect(out).toEqual({
      sections: [{ type: 'people', fields: { members: [21, 22] } }],
      related: ['a', 'b'],
    });
  });

  it('throws CONTENT_WRONG_TYPE naming the field for an unknown item key', () => {
    let caught: unknown;
    try {
      toApiFields({ tags: ['news', 'ghost'] }, member, ids);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SyncError);
    expect((caught as SyncError).code).toBe('CONTENT_WRONG_TYPE');
    expect((caught as SyncError).message).toContain('"tags"');
    expect((caught as SyncError).message).toContain('ghost');
  });

  it('handles bodies nested by locale and the create-item fields array', () => {
    expect(isLocaleNested({ en: { name: 'a' }, es: { name: 'b' } }, member, ['en', 'es'])).toBe(true);
    expect(isLocaleNested({ name: 'a' }, member, ['en', 'es'])).toBe(false);
    const body = toApiBody(
      {
        key: 'team_members',
        status: 'published' as const,
        fields: [{ en: { tags: ['news'] }, es: { tags: [] } }],
      },
      member,
      ids,
      ['en', 'es'],
    );
    expect(body.fields).toEqual([{ en: { tags: [11] }, es: { tags: [] } }]);
    expect(
      toApiBody({ status: 'draft' as const, fields: { author: 'ana' } }, article, ids, ['en']).fields,
    ).toEqual({
      author: 21,
    });
  });
});

describe('fromApiFields (Read API → file form)', () => {
  it('reads expanded item objects through keyField or meta.id', () => {
    const out = fromApiFields(
      {
        slug: 'ana',
        tags: [{ meta: { id: 11 }, slug: 'news', name: 'News' }, { meta: { id: 12 } }],
        photo: 'https://cdn.buttercms.com/AbCdEfGhIjKlMnOpQrSt',
        years: 5,
      },
      member,
      ids,
      config,
      ctx,
    );
    expect(out).toEqual({
      slug: 'ana',
      name: '',
      role: '',
      photo: 'https://example.com/a.jpg',
      years: 5,
      active: false,
      tags: ['news', 'tech'],
    });
  });

  it('reads URI strings past `levels` and raw ids', () => {
    expect(
      fromApiFields({ author: '/v2/content/?keys=team_members[_id=22]' }, article, ids, config, ctx).author,
    ).toBe('bo');
    expect(
      fromApiFields({ tags: [11, '/v2/content/?keys=tags[_id=12]'] }, member, ids, config, ctx).tags,
    ).toEqual(['news', 'tech']);
    expect(fromApiFields({ related: '/v2/pages/faq/shipping/' }, faq, ids, config, ctx).related).toBe(
      'shipping',
    );
  });

  it('reads expanded page objects as their slug, including inside component pickers', () => {
    const out = fromApiFields(
      {
        related: [{ slug: 'about', name: 'About', fields: {} }, '/v2/pages/*/home/'],
        sections: [{ type: 'people', fields: { members: [{ meta: { id: 21 }, slug: 'ana' }] } }],
      },
      landing,
      ids,
      config,
      ctx,
    );
    expect(out.related).toEqual(['about', 'home']);
    expect(out.sections).toEqual([{ type: 'people', fields: { members: ['ana'] } }]);
  });

  it('reads null, "" and missing references as unset', () => {
    expect(fromApiFields({ author: null }, article, ids, config, ctx).author).toBe('');
    expect(fromApiFields({ tags: null }, member, ids, config, ctx).tags).toEqual([]);
    expect(fromApiFields({}, faq, ids, config, ctx)).toMatchObject({ related: '', questions: [], body: '' });
  });

  it('keeps an id it cannot map visible instead of dropping the reference', () => {
    expect(fromApiFields({ author: { meta: { id: 999 } } }, article, ids, config, ctx).author).toBe('999');
  });

  it('round-trips: file form → API → read back (ids) → same file form', () => {
    const file = { slug: 'ana', name: 'Ana', role: '', photo: '', years: 3, active: true, tags: ['tech'] };
    const sent = toApiFields(file, member, ids);
    expect(fromApiFields(sent, member, ids, config, ctx)).toEqual(file);
  });
});
