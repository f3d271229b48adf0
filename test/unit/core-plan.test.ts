import { describe, expect, it } from 'vitest';
import { digestValue } from '../../src/core/digest.js';
import { type PlanInput, planSync as planNeutral } from '../../src/core/plan.js';
import type { EntityRef, Manifest } from '../../src/core/types.js';
import {
  agree,
  type ButterOp,
  butterOps,
  emptyManifest,
  idTable,
  localEntity,
  makeConfig,
  mapOf,
  planInput,
  remoteEntity,
} from './core-fixtures.js';

const faq: EntityRef = { kind: 'page', pageType: 'faq', slug: 'shipping' };
const ana: EntityRef = { kind: 'item', collection: 'team_members', key: 'ana' };
const home: EntityRef = { kind: 'page', pageType: '*', slug: 'homepage' };

const faqEn = {
  fields: { headline: 'Shipping', body: 'We ship.', hero_image: '', questions: [], related: '' },
  meta: { title: 'Shipping', status: 'published' as const },
};
const faqEs = {
  fields: { headline: 'Envíos', body: 'Enviamos.', hero_image: '', questions: [], related: '' },
  meta: { title: 'Envíos', status: 'published' as const },
};
const anaEn = {
  fields: { slug: 'ana', name: 'Ana', role: 'Editor', photo: '', years: 3, active: true, tags: ['news'] },
};
const anaEs = { fields: { ...anaEn.fields, role: 'Editora' } };

const kinds = (ops: ButterOp[]) => ops.map((op) => op.kind);

/**
 * The plan with its writes as the ButterCMS requests they become (write-shapes.ts): the planner decides the
 * intents, the Butter shaping turns them into these bodies, and this suite has asserted the bodies since before
 * the neutral port.
 */
function planSync(input: PlanInput) {
  const plan = planNeutral(input);
  return { ...plan, operations: butterOps(plan.operations, input.config) };
}
const ids = idTable({ tags: { news: 11, tech: 12 }, team_members: { ana: 21 } });

function withFields<T extends { fields: Record<string, unknown> }>(v: T, fields: Record<string, unknown>): T {
  return { ...v, fields: { ...v.fields, ...fields } };
}

describe('planSync: pushes (no remote snapshot: remote = base)', () => {
  const locals = (
    faqLocales: Parameters<typeof localEntity>[1] = { en: faqEn, es: faqEs },
    anaLocales: Parameters<typeof localEntity>[1] = { en: anaEn, es: anaEs },
  ) => mapOf(localEntity(faq, faqLocales), localEntity(ana, anaLocales));
  const manifest = (): Manifest => {
    const m = agree(emptyManifest(), faq, { en: faqEn, es: faqEs });
    return agree(m, ana, { en: anaEn, es: anaEs }, 21);
  };

  it('sends nothing for unchanged files', () => {
    const local = locals();
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan).toEqual({ operations: [], totalCalls: 0 });
  });

  it('one changed page field → update-page with that field only and an explicit status', () => {
    const local = locals({ en: withFields(faqEn, { headline: 'Shipping!' }), es: faqEs });
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan.operations).toHaveLength(1);
    const op = plan.operations[0]!;
    expect(op).toMatchObject({
      kind: 'update-page',
      pageType: 'faq',
      slug: 'shipping',
      locale: undefined,
      body: { status: 'published', fields: { headline: 'Shipping!' } },
      cost: 1,
    });
    expect(op.kind === 'update-page' && op.expect?.en?.headline).toBe(digestValue('Shipping!'));
    expect(plan.totalCalls).toBe(1);
  });

  it('uses config.defaultStatus when the file has no status', () => {
    const m = agree(emptyManifest(), faq, { en: { fields: faqEn.fields } });
    const local = mapOf(localEntity(faq, { en: { fields: { ...faqEn.fields, body: 'New' } } }));
    const cfg = makeConfig({ defaultStatus: 'draft' });
    const plan = planSync(planInput({ scope: 'push', config: cfg, manifest: m, local, ids }));
    expect(plan.operations[0]).toMatchObject({
      kind: 'update-page',
      body: { status: 'draft', fields: { body: 'New' } },
    });
  });

  it('two changed locales of a page → one request nested by locale', () => {
    const local = locals({
      en: withFields(faqEn, { headline: 'Shipping!' }),
      es: withFields(faqEs, { body: 'Enviamos hoy.' }),
    });
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan.operations).toHaveLength(1);
    expect(plan.operations[0]).toMatchObject({
      kind: 'update-page',
      locale: undefined,
      body: { status: 'published', fields: { en: { headline: 'Shipping!' }, es: { body: 'Enviamos hoy.' } } },
    });
  });

  it('one changed non-default locale → flat fields with locale set', () => {
    const local = locals({ en: faqEn, es: withFields(faqEs, { headline: 'Envío' }) });
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan.operations[0]).toMatchObject({
      kind: 'update-page',
      locale: 'es',
      body: { fields: { headline: 'Envío' } },
    });
  });

  it('a status-only change sends status with no fields', () => {
    const local = locals({ en: { ...faqEn, meta: { ...faqEn.meta, status: 'draft' } }, es: faqEs });
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan.operations[0]).toMatchObject({ kind: 'update-page', body: { status: 'draft', fields: {} } });
  });

  it('a changed page title is reported, not sent', () => {
    const local = locals({ en: { ...faqEn, meta: { ...faqEn.meta, title: 'Delivery' } }, es: faqEs });
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan.operations).toMatchObject([{ kind: 'report', reason: 'title-changed' }]);
    expect(plan.totalCalls).toBe(0);
  });

  it('one changed item field → patch-item with that field only', () => {
    const local = locals(undefined, { en: withFields(anaEn, { role: 'Lead' }), es: anaEs });
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan.operations).toEqual([
      expect.objectContaining({
        kind: 'patch-item',
        collection: 'team_members',
        id: '21',
        body: { fields: { role: 'Lead' } },
      }),
    ]);
  });

  it('item locales: several → nested; a lone non-default locale is nested too (no ?locale= for items)', () => {
    const both = locals(undefined, {
      en: withFields(anaEn, { role: 'Lead' }),
      es: withFields(anaEs, { role: 'Jefa' }),
    });
    expect(
      planSync(planInput({ scope: 'push', manifest: manifest(), local: both, ids })).operations[0],
    ).toMatchObject({
      kind: 'patch-item',
      body: { fields: { en: { role: 'Lead' }, es: { role: 'Jefa' } } },
    });
    const esOnly = locals(undefined, { en: anaEn, es: withFields(anaEs, { role: 'Jefa' }) });
    expect(
      planSync(planInput({ scope: 'push', manifest: manifest(), local: esOnly, ids })).operations[0],
    ).toMatchObject({
      kind: 'patch-item',
      body: { fields: { es: { role: 'Jefa' } } },
    });
  });

  it('a regenerated item file (every field changed) → put-item with all fields', () => {
    const regenerated = {
      fields: {
        slug: 'ana',
        name: 'Ana B',
        role: 'Lead',
        photo: 'https://x/y.png',
        years: 4,
        active: false,
        tags: [],
      },
    };
    const local = locals(undefined, { en: regenerated, es: anaEs });
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan.operations).toHaveLength(1);
    expect(plan.operations[0]).toMatchObject({
      kind: 'put-item',
      id: '21',
      body: { fields: regenerated.fields },
      cost: 1,
    });
  });

  it('a field removed from an item file → put-item carrying every field', () => {
    const { role: _, ...withoutRole } = anaEn.fields;
    const local = locals(undefined, { en: { fields: withoutRole }, es: anaEs });
    const plan = planSync(planInput({ scope: 'push', manifest: manifest(), local, ids }));
    expect(plan.operations[0]).toMatchObject({
      kind: 'put-item',
      body: { fields: { ...anaEn.fields, role: '' } },
    });
  });

  it('does not push again what a pending write already sent', () => {
    const m = manifest();
    m.pending.push({
      id: 'w1',
      entity: 'item:team_members:ana',
      kind: 'update',
      state: 'sent',
      expect: { en: { role: digestValue('Lead') } },
      createdAt: '2025-01-01T00:00:00Z',
      deadline: '2025-01-01T00:02:00Z',
    });
    const local = locals(undefined, { en: withFields(anaEn, { role: 'Lead' }), es: anaEs });
    expect(planSync(planInput({ scope: 'push', manifest: m, local, ids })).operations).toEqual([]);
    // Past its deadline the write is failed and no longer holds the push back.
    const later = planSync(
      planInput({ scope: 'push', manifest: m, local, ids, now: new Date('2025-01-02T00:00:00Z') }),
    );
    expect(kinds(later.operations)).toEqual(['patch-item']);
  });

  it('`only` limits the run to the given entities, deletions included', () => {
    const local = mapOf(localEntity(faq, { en: withFields(faqEn, { headline: 'X' }), es: faqEs }));
    const plan = planSync(
      planInput({ scope: 'push', manifest: manifest(), local, ids, only: new Set(['page:faq:shipping']) }),
    );
    expect(kinds(plan.operations)).toEqual(['update-page']); // ana's missing file is out of scope: no delete
  });
});

describe('planSync: creates', () => {
  it('create-item: key, default status, fields as an array of one object, cost 1 (the POST)', () => {
    const local = mapOf(localEntity(ana, { en: anaEn }));
    const plan = planSync(planInput({ scope: 'push', local, ids }));
    expect(plan.operations).toEqual([
      expect.objectContaining({
        kind: 'create-item',
        collection: 'team_members',
        keyValue: 'ana',
        body: { key: 'team_members', status: 'published', fields: [anaEn.fields] },
        cost: 1,
      }),
    ]);
    // Issue 10: a write's cost is the write; the lookup before a create and the id read are the engine's planned reads.
    expect(plan.totalCalls).toBe(1);
  });

  it('create-item with two locales nests them inside the array element', () => {
    const plan = planSync(
      planInput({ scope: 'push', local: mapOf(localEntity(ana, { en: anaEn, es: anaEs })), ids }),
    );
    expect(plan.operations[0]).toMatchObject({ body: { fields: [{ en: anaEn.fields, es: anaEs.fields }] } });
  });

  it('create-page sends every schema key, title, slug, page_type and status', () => {
    const local = mapOf(
      localEntity(faq, { en: { fields: { headline: 'Shipping' }, meta: { title: 'Shipping' } } }),
    );
    const plan = planSync(planInput({ scope: 'push', local, ids }));
    expect(plan.operations[0]).toMatchObject({
      kind: 'create-page',
      locale: undefined,
      body: {
        title: 'Shipping',
        slug: 'shipping',
        page_type: 'faq',
        status: 'published',
        fields: { headline: 'Shipping', body: '', hero_image: '', questions: [], related: '' },
      },
      cost: 1, // the POST; the lookup before it is a read the engine plans (issue 10)
    });
  });

  it('create-page for a single page uses page_type "*", the slug as title, nested locales', () => {
    const fields = { headline: 'Hi', tagline: 'T', hero_image: '' };
    const local = mapOf(
      localEntity(home, { en: { fields }, es: { fields: { ...fields, headline: 'Hola' } } }),
    );
    const plan = planSync(planInput({ scope: 'push', local, ids }));
    expect(plan.operations[0]).toMatchObject({
      kind: 'create-page',
      body: { title: 'homepage', page_type: '*', fields: { en: fields, es: { headline: 'Hola' } } },
    });
  });

  it('a create is not re-sent while a pending create for the entity is unresolved', () => {
    const m = emptyManifest();
    m.pending.push({
      id: 'c1',
      entity: 'item:team_members:ana',
      kind: 'create',
      state: 'intent',
      expect: {},
      createdAt: '2025-01-01T00:00:00Z',
      deadline: '2025-01-01T00:02:00Z',
    });
    const plan = planSync(
      planInput({ scope: 'push', manifest: m, local: mapOf(localEntity(ana, { en: anaEn })), ids }),
    );
    expect(plan.operations).toEqual([]);
  });

  it('creates referenced entities first and fills dependsOn; costs are summed', () => {
    const design: EntityRef = { kind: 'item', collection: 'tags', key: 'design' };
    const bo: EntityRef = { kind: 'item', collection: 'team_members', key: 'bo' };
    const post: EntityRef = { kind: 'page', pageType: 'article', slug: 'a-post' };
    const local = mapOf(
      localEntity(post, { en: { fields: { headline: 'P', author: 'bo' } } }),
      localEntity(bo, { en: { fields: { slug: 'bo', name: 'Bo', tags: ['design', 'news'] } } }),
      localEntity(design, { en: { fields: { slug: 'design', name: 'Design' } } }),
    );
    const plan = planSync(planInput({ scope: 'push', local, ids }));
    expect(plan.operations.map((op) => op.entity)).toEqual([
      'item:tags:design',
      'item:team_members:bo',
      'page:article:a-post',
    ]);
    expect(plan.operations.map((op) => ('dependsOn' in op ? op.dependsOn : []))).toEqual([
      [],
      ['item:tags:design'],
      ['item:team_members:bo'],
    ]);
    // Issue 10: a write's cost is the write; the lookup before a create and the id read are the engine's planned reads.
    expect(plan.totalCalls).toBe(1 + 1 + 1);
  });

  it('creates new entities in a reference cycle without the cyclic references, then links them', () => {
    const a: EntityRef = { kind: 'page', pageType: 'faq', slug: 'a' };
    const b: EntityRef = { kind: 'page', pageType: 'faq', slug: 'b' };
    const local = mapOf(
      localEntity(a, { en: { fields: { related: 'b' } } }),
      localEntity(b, { en: { fields: { related: 'a' } } }),
    );
    const plan = planSync(planInput({ scope: 'push', local, ids }));
    expect(kinds(plan.operations)).toEqual(['create-page', 'create-page', 'update-page', 'update-page']);
    expect(plan.operations.map((op) => ('body' in op ? op.body.fields : undefined))).toEqual([
      expect.objectContaining({ related: '' }),
      expect.objectContaining({ related: '' }),
      { related: 'b' },
      { related: 'a' },
    ]);
    expect(plan.operations.map((op) => ('dependsOn' in op ? op.dependsOn : []))).toEqual([
      [],
      [],
      ['page:faq:a', 'page:faq:b'],
      ['page:faq:a', 'page:faq:b'],
    ]);
    // Issue 10: a write's cost is the write; the lookup before a create and the id read are the engine's planned reads.
    expect(plan.totalCalls).toBe(1 + 1 + 1 + 1);
  });

  it('splits a cycle of new items in two locales: creates without the cycle, then one nested PATCH each', () => {
    const peopleConfig = makeConfig({
      collections: {
        ...makeConfig().collections,
        people: {
          keyField: 'slug',
          fields: {
            slug: 'text',
            name: 'text',
            friends: { type: 'reference', to: 'collection:people', many: true },
          },
        },
      },
    });
    const amy: EntityRef = { kind: 'item', collection: 'people', key: 'amy' };
    const bo: EntityRef = { kind: 'item', collection: 'people', key: 'bo' };
    const person = (slug: string, name: string, friends: string[]) => ({ fields: { slug, name, friends } });
    const local = mapOf(
      localEntity(amy, { en: person('amy', 'Amy', ['bo', 'cy']), es: person('amy', 'Amí', ['bo']) }),
      localEntity(bo, { en: person('bo', 'Bo', ['amy']), es: person('bo', 'Bo', ['amy']) }),
    );
    const ids = idTable({ people: { cy: 7 } });
    const plan = planSync(planInput({ config: peopleConfig, scope: 'push', local, ids }));
    expect(kinds(plan.operations)).toEqual(['create-item', 'create-item', 'patch-item', 'patch-item']);
    const [createAmy, , patchAmy] = plan.operations;
    // Amy's create keeps the reference outside the cycle (cy, which ButterCMS holds); the follow-up adds bo.
    expect(createAmy).toMatchObject({
      body: { fields: [{ en: { friends: ['cy'] }, es: { friends: [] } }] },
      expect: { en: { friends: digestValue(['cy']) }, es: { friends: digestValue([]) } },
      dependsOn: [],
    });
    expect(patchAmy).toMatchObject({
      kind: 'patch-item',
      completesCycle: true,
      body: { fields: { en: { friends: ['bo', 'cy'] }, es: { friends: ['bo'] } } },
      expect: { en: { friends: digestValue(['bo', 'cy']) }, es: { friends: digestValue(['bo']) } },
      dependsOn: ['item:people:amy', 'item:people:bo'],
    });
  });

  it('does not send a write whose referenced item exists nowhere, and says why', () => {
    const local = mapOf(localEntity(ana, { en: withFields(anaEn, { tags: ['ghost'] }) }));
    const plan = planSync(planInput({ scope: 'push', local, ids }));
    expect(plan.operations).toEqual([
      expect.objectContaining({
        kind: 'create-item',
        unresolved: 'references tags item "ghost", which exists neither in the CMS nor in the files',
      }),
    ]);
  });

  it('a page reference to a new page file ButterCMS does not hold yet keeps the write back', () => {
    const withRelated = (slug: string) =>
      mapOf(localEntity(faq, { en: withFields(faqEn, { related: slug }), es: faqEs }));
    const only = new Set(['page:faq:shipping']);
    const hasFile = (entity: string) => entity === 'page:faq:returns';
    const held = planSync(planInput({ scope: 'push', local: withRelated('returns'), ids, only, hasFile }));
    expect(held.operations).toEqual([
      expect.objectContaining({
        kind: 'create-page',
        cost: 0,
        unresolved: 'references page "returns", which is not in the CMS yet',
      }),
    ]);
    expect(held.totalCalls).toBe(0);

    // Known to ButterCMS (in the manifest): sent.
    const m = agree(emptyManifest(), { kind: 'page', pageType: 'faq', slug: 'returns' }, { en: faqEn });
    const known = planSync(
      planInput({ scope: 'push', manifest: m, local: withRelated('returns'), ids, only }),
    );
    expect(kinds(known.operations)).toEqual(['create-page']);
    expect(known.operations[0]).not.toHaveProperty('unresolved');
    expect(known.totalCalls).toBe(1);

    // Unknown everywhere: ButterCMS would drop the reference after the 202, so the write is held back too.
    const untracked = planSync(
      planInput({ scope: 'push', local: withRelated('about-us'), ids, only, hasFile }),
    );
    expect(untracked.operations).toEqual([
      expect.objectContaining({
        kind: 'create-page',
        cost: 0,
        unresolved: expect.stringContaining(
          'references page "about-us", which exists neither in the CMS nor in the files',
        ),
      }),
    ]);
  });

  it('a reference to an item whose earlier create still awaits its id waits for it instead of failing', () => {
    const m = emptyManifest();
    m.entities['item:tags:design'] = { locales: {} };
    const local = mapOf(localEntity(ana, { en: withFields(anaEn, { tags: ['design'] }) }));
    const plan = planSync(planInput({ scope: 'push', manifest: m, local, ids }));
    expect(plan.operations).toEqual([
      expect.objectContaining({
        kind: 'create-item',
        dependsOn: ['item:tags:design'],
      }),
    ]);
    expect(plan.operations[0]).not.toHaveProperty('unresolved');
  });

  it('is deterministic whatever the input order', () => {
    const entities = ['c', 'a', 'b'].map((key) =>
      localEntity({ kind: 'item', collection: 'tags', key }, { en: { fields: { slug: key, name: key } } }),
    );
    const one = planSync(planInput({ scope: 'push', local: mapOf(...entities), ids }));
    const two = planSync(planInput({ scope: 'push', local: mapOf(...[...entities].reverse()), ids }));
    expect(one).toEqual(two);
    expect(one.operations.map((op) => op.entity)).toEqual(['item:tags:a', 'item:tags:b', 'item:tags:c']);
  });
});

describe('planSync: two-way with a remote snapshot', () => {
  const setup = (
    localEn: typeof anaEn,
    remoteEn: typeof anaEn,
    conflicts?: 'manual' | 'git-wins' | 'cms-wins',
  ) => {
    const manifest = agree(emptyManifest(), ana, { en: anaEn }, 21);
    return planInput({
      scope: 'both',
      config: makeConfig(conflicts ? { conflicts } : {}),
      manifest,
      local: mapOf(localEntity(ana, { en: localEn })),
      remote: mapOf(remoteEntity(ana, { en: remoteEn }, 21)),
      ids,
    });
  };

  it('pulls a remote change: write-file with only the changed key and the new base', () => {
    const plan = planSync(setup(anaEn, withFields(anaEn, { name: 'Ana María' })));
    expect(plan.operations).toEqual([
      expect.objectContaining({
        kind: 'write-file',
        path: 'content/collections/team_members/ana.json',
        set: { name: 'Ana María' },
        create: false,
        cost: 0,
      }),
    ]);
    const op = plan.operations[0]!;
    expect(op.kind === 'write-file' && op.base?.name).toBe(digestValue('Ana María'));
    expect(plan.totalCalls).toBe(0);
  });

  it('merges different fields changed on each side: one patch + one write-file', () => {
    const plan = planSync(
      setup(withFields(anaEn, { role: 'Lead' }), withFields(anaEn, { name: 'Ana María' })),
    );
    expect(plan.operations).toEqual([
      expect.objectContaining({ kind: 'patch-item', body: { fields: { role: 'Lead' } } }),
      expect.objectContaining({ kind: 'write-file', set: { name: 'Ana María' } }),
    ]);
  });

  it('adopts the same change on both sides without a call', () => {
    const changed = withFields(anaEn, { role: 'Lead' });
    const plan = planSync(setup(changed, changed));
    expect(plan.operations).toEqual([expect.objectContaining({ kind: 'adopt', locale: 'en', cost: 0 })]);
    const op = plan.operations[0]!;
    expect(op.kind === 'adopt' && op.base.role).toBe(digestValue('Lead'));
  });

  it('a field changed differently: conflict (manual), push (git-wins), pull (cms-wins)', () => {
    const l = withFields(anaEn, { role: 'Lead' });
    const r = withFields(anaEn, { role: 'Boss' });
    expect(planSync(setup(l, r)).operations).toEqual([
      expect.objectContaining({ kind: 'conflict', field: 'role', git: 'Lead', cms: 'Boss' }),
    ]);
    expect(planSync(setup(l, r, 'git-wins')).operations).toEqual([
      expect.objectContaining({ kind: 'patch-item', body: { fields: { role: 'Lead' } } }),
    ]);
    expect(planSync(setup(l, r, 'cms-wins')).operations).toEqual([
      expect.objectContaining({ kind: 'write-file', set: { role: 'Boss' } }),
    ]);
  });

  it('a conflict on one field leaves the other fields to merge', () => {
    const l = withFields(anaEn, { role: 'Lead', years: 9 });
    const r = withFields(anaEn, { role: 'Boss' });
    expect(kinds(planSync(setup(l, r)).operations)).toEqual(['patch-item', 'conflict']);
  });

  it('a PUT for a regenerated file keeps fields the remote changed (and pulls them)', () => {
    const regenerated = withFields(anaEn, {
      name: 'Ana B',
      role: 'Lead',
      photo: 'https://x/y.png',
      years: 4,
      active: false,
      tags: [],
    });
    const plan = planSync(setup(regenerated, withFields(anaEn, { years: 7 }), 'cms-wins'));
    expect(plan.operations).toEqual([
      expect.objectContaining({ kind: 'put-item', body: { fields: { ...regenerated.fields, years: 7 } } }),
      expect.objectContaining({ kind: 'write-file', set: { years: 7 } }),
    ]);
  });

  it('an edited item deleted in ButterCMS is re-created under git-wins', () => {
    const manifest = agree(emptyManifest(), ana, { en: anaEn }, 21);
    const input = planInput({
      scope: 'both',
      config: makeConfig({ conflicts: 'git-wins' }),
      manifest,
      local: mapOf(localEntity(ana, { en: withFields(anaEn, { role: 'Lead' }) })),
      remote: new Map(),
      ids,
    });
    expect(kinds(planSync(input).operations)).toEqual(['create-item']);
  });

  it('push scope never writes files; pull scope never calls the API', () => {
    const input = setup(withFields(anaEn, { role: 'Lead' }), withFields(anaEn, { name: 'Ana María' }));
    expect(kinds(planSync({ ...input, scope: 'push' }).operations)).toEqual(['patch-item']);
    expect(kinds(planSync({ ...input, scope: 'pull' }).operations)).toEqual(['write-file']);
  });

  it('pulls page meta under the configured frontmatter keys', () => {
    const manifest = agree(emptyManifest(), faq, { en: faqEn });
    const remote = mapOf(
      remoteEntity(faq, { en: { ...faqEn, meta: { title: 'Shipping', status: 'draft' } } }),
    );
    const plan = planSync(
      planInput({ scope: 'pull', manifest, local: mapOf(localEntity(faq, { en: faqEn })), remote, ids }),
    );
    expect(plan.operations).toEqual([
      expect.objectContaining({ kind: 'write-file', set: { status: 'draft' } }),
    ]);
  });

  it('does not pull a field with a pending write the remote has not applied yet', () => {
    const input = setup(withFields(anaEn, { role: 'Lead' }), withFields(anaEn, { role: 'Boss' }));
    input.manifest.pending.push({
      id: 'w1',
      entity: 'item:team_members:ana',
      kind: 'update',
      state: 'sent',
      expect: { en: { role: digestValue('Lead') } },
      createdAt: '2025-01-01T00:00:00Z',
      deadline: '2025-01-01T00:02:00Z',
    });
    expect(planSync(input).operations).toEqual([]);
  });

  it('echo suppression: after a pull moved the base, nothing happens', () => {
    const changed = withFields(anaEn, { name: 'Ana María' });
    const input = setup(changed, changed);
    agree(input.manifest, ana, { en: changed }, 21);
    expect(planSync(input).operations).toEqual([]);
  });
});

describe('planSync: no base (fresh manifest)', () => {
  const setup = (initialSource: 'none' | 'git' | 'cms') =>
    planInput({
      scope: 'both',
      config: makeConfig({ initialSource }),
      local: mapOf(localEntity(ana, { en: withFields(anaEn, { role: 'Lead' }) })),
      remote: mapOf(remoteEntity(ana, { en: anaEn }, 21)),
      ids,
    });

  it('adopts equal fields and reports every difference as a conflict by default', () => {
    const plan = planSync(setup('none'));
    expect(plan.operations).toEqual([
      expect.objectContaining({ kind: 'adopt', remoteId: '21' }),
      expect.objectContaining({ kind: 'conflict', field: 'role' }),
    ]);
    const adopt = plan.operations[0]!;
    expect(adopt.kind === 'adopt' && Object.keys(adopt.base).sort()).toEqual([
      'active',
      'name',
      'photo',
      'slug',
      'tags',
      'years',
    ]);
  });

  it('initialSource git pushes the differences, cms pulls them', () => {
    expect(kinds(planSync(setup('git')).operations)).toEqual(['patch-item', 'adopt']);
    expect(planSync(setup('git')).operations[0]).toMatchObject({
      id: '21',
      body: { fields: { role: 'Lead' } },
    });
    expect(planSync(setup('cms')).operations).toEqual([
      expect.objectContaining({ kind: 'write-file', set: { role: 'Editor' } }),
    ]);
  });

  it('an entity only in ButterCMS becomes a new file; only in files becomes a create', () => {
    const remoteOnly = planSync(
      planInput({ scope: 'both', remote: mapOf(remoteEntity(faq, { en: faqEn, es: faqEs })), ids }),
    );
    expect(remoteOnly.operations).toEqual([
      expect.objectContaining({
        kind: 'write-file',
        locale: 'en',
        path: 'content/pages/faq/shipping.md',
        create: true,
        set: { ...faqEn.fields, title: 'Shipping', status: 'published' },
      }),
      expect.objectContaining({
        kind: 'write-file',
        locale: 'es',
        path: 'content/pages/faq/shipping.es.md',
        create: true,
      }),
    ]);
    const localOnly = planSync(
      planInput({ scope: 'both', local: mapOf(localEntity(ana, { en: anaEn })), remote: new Map(), ids }),
    );
    expect(kinds(localOnly.operations)).toEqual(['create-item']);
  });
});

describe('planSync: removals', () => {
  const tags = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map(
    (key): EntityRef => ({ kind: 'item', collection: 'tags', key }),
  );
  const tagFields = (key: string) => ({ en: { fields: { slug: key, name: key.toUpperCase(), color: '' } } });
  const manifestOfTags = (): Manifest => {
    const m = emptyManifest();
    tags.forEach((ref, i) => {
      agree(m, ref, tagFields(ref.kind === 'item' ? ref.key : ''), 100 + i);
    });
    return m;
  };
  const localTags = (keep: number) =>
    mapOf(
      ...tags.slice(0, keep).map((ref) => localEntity(ref, tagFields(ref.kind === 'item' ? ref.key : ''))),
    );

  it('a removed item file → delete-item (within maxDeletePercent)', () => {
    const plan = planSync(planInput({ scope: 'push', manifest: manifestOfTags(), local: localTags(8), ids }));
    expect(plan.operations).toEqual([
      expect.objectContaining({ kind: 'delete-item', entity: 'item:tags:i', id: '108', cost: 1 }),
      expect.objectContaining({ kind: 'delete-item', entity: 'item:tags:j', id: '109', cost: 1 }),
    ]);
    expect(plan.totalCalls).toBe(2);
  });

  it('refuses deletes over maxDeletePercent of the collection with delete-guard reports', () => {
    const plan = planSync(planInput({ scope: 'push', manifest: manifestOfTags(), local: localTags(7), ids }));
    expect(plan.operations.map((op) => [op.kind, op.kind === 'report' ? op.reason : ''])).toEqual([
      ['report', 'delete-guard'],
      ['report', 'delete-guard'],
      ['report', 'delete-guard'],
    ]);
    expect(plan.totalCalls).toBe(0);
  });

  it('a removed page file is reported, never deleted', () => {
    const manifest = agree(emptyManifest(), faq, { en: faqEn });
    const plan = planSync(planInput({ scope: 'push', manifest, ids }));
    expect(plan.operations).toEqual([
      expect.objectContaining({ kind: 'report', reason: 'page-removed', cost: 0 }),
    ]);
  });

  it('a removed item file whose remote copy was edited is a conflict, not a delete', () => {
    const manifest = agree(emptyManifest(), ana, { en: anaEn }, 21);
    const remote = mapOf(remoteEntity(ana, { en: withFields(anaEn, { role: 'Boss' }) }, 21));
    const plan = planSync(planInput({ scope: 'both', manifest, remote, ids }));
    expect(plan.operations).toEqual([
      expect.objectContaining({ kind: 'conflict', field: 'role', git: null, cms: 'Boss' }),
    ]);
  });

  it('an item gone from ButterCMS → delete-file; with a local edit → conflict; a page → report', () => {
    const manifest = agree(emptyManifest(), ana, { en: anaEn, es: anaEs }, 21);
    const gone = planSync(
      planInput({
        scope: 'pull',
        config: makeConfig({ maxDeletePercent: 100 }),
        manifest,
        local: mapOf(localEntity(ana, { en: anaEn, es: anaEs })),
        remote: new Map(),
        ids,
      }),
    );
    expect(gone.operations).toEqual([
      expect.objectContaining({
        kind: 'delete-file',
        locale: 'en',
        path: 'content/collections/team_members/ana.json',
      }),
      expect.objectContaining({
        kind: 'delete-file',
        locale: 'es',
        path: 'content/collections/team_members/ana.es.json',
      }),
    ]);
    const edited = planSync(
      planInput({
        scope: 'pull',
        manifest,
        local: mapOf(localEntity(ana, { en: withFields(anaEn, { role: 'Lead' }), es: anaEs })),
        remote: new Map(),
        ids,
      }),
    );
    expect(edited.operations).toEqual([
      expect.objectContaining({ kind: 'conflict', field: 'role', git: 'Lead', cms: null }),
    ]);
    const pageManifest = agree(emptyManifest(), faq, { en: faqEn });
    const page = planSync(
      planInput({
        scope: 'pull',
        manifest: pageManifest,
        local: mapOf(localEntity(faq, { en: faqEn })),
        remote: new Map(),
        ids,
      }),
    );
    expect(page.operations).toEqual([expect.objectContaining({ kind: 'report', reason: 'page-removed' })]);
  });

  it('remote deletions are guarded by maxDeletePercent too', () => {
    const plan = planSync(
      planInput({ scope: 'pull', manifest: manifestOfTags(), local: localTags(10), remote: new Map(), ids }),
    );
    expect(plan.operations.every((op) => op.kind === 'report' && op.reason === 'delete-guard')).toBe(true);
    expect(plan.operations).toHaveLength(10);
  });
});
