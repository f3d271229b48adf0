import { describe, expect, it } from 'vitest';
import { isStaleCopy } from '../../src/core/tombstone.js';
import type { Manifest, PendingWrite } from '../../src/core/types.js';
import { emptyManifest } from '../../src/state/manifest-file.js';
import { adoptUnknownCache, mergeManifests } from '../../src/state/state-merge.js';

function pending(id: string, state: PendingWrite['state'] = 'sent'): PendingWrite {
  return {
    id,
    entity: 'item:tags:x' as PendingWrite['entity'],
    kind: 'update',
    state,
    expect: {},
    createdAt: '2026-01-01T00:00:00Z',
    deadline: '2026-01-01T00:02:00Z',
  };
}

function state(patch: Partial<Manifest>): Manifest {
  return { ...emptyManifest('d'), ...patch };
}

describe('mergeManifests (three-way, issue 14)', () => {
  it('drops a pending write the other machine verified, keeps one either side added', () => {
    const ancestor = state({ pending: [pending('old')] });
    const ours = state({ pending: [pending('old'), pending('mine')] });
    const theirs = state({ pending: [pending('theirs')] }); // verified "old", added "theirs"
    const merged = mergeManifests(ancestor, ours, theirs);
    expect(merged.pending.map((w) => w.id).sort()).toEqual(['mine', 'theirs']);
  });

  it('keeps a write removed on one side but changed on the other (news the remover never saw)', () => {
    const ancestor = state({ pending: [pending('w', 'intent')] });
    const ours = state({ pending: [] });
    const theirs = state({ pending: [pending('w', 'sent')] });
    expect(mergeManifests(ancestor, ours, theirs).pending.map((w) => w.state)).toEqual(['sent']);
  });

  it('unions media and ids, merges one entity locale by locale, and adds call counts', () => {
    const ancestor = state({
      entities: { 'item:tags:x': { locales: { en: { base: { name: 'a' } } } } },
      calls: { '2026-01': 10 },
    });
    const ours = state({
      media: { 'https://cdn/a': 'a.png' },
      entities: {
        'item:tags:x': {
          remoteId: '7',
          locales: { en: { base: { name: 'a' } }, es: { base: { name: 'e' } } },
        },
      },
      calls: { '2026-01': 13 },
    });
    const theirs = state({
      media: { 'https://cdn/b': 'b.png' },
      entities: { 'item:tags:x': { locales: { en: { base: { name: 'b' } } } } },
      calls: { '2026-01': 15 },
    });
    const merged = mergeManifests(ancestor, ours, theirs);
    expect(merged.media).toEqual({ 'https://cdn/a': 'a.png', 'https://cdn/b': 'b.png' });
    expect(merged.entities['item:tags:x']).toEqual({
      remoteId: '7',
      locales: { en: { base: { name: 'b' } }, es: { base: { name: 'e' } } },
    });
    expect(merged.calls['2026-01']).toBe(18);
  });

  it('unions the rich-text maps two machines learned, and reads a state written before the map (issue 11)', () => {
    const ancestor = state({});
    const ours = state({ richText: { h1: 'm1' } });
    const theirs = state({ richText: { h2: 'm2' } });
    expect(mergeManifests(ancestor, ours, theirs).richText).toEqual({ h1: 'm1', h2: 'm2' });
    expect(mergeManifests(ancestor, state({}), state({})).richText).toEqual({});
  });

  it('keeps a conflict either side recorded', () => {
    const conflict = { entity: 'item:tags:x' as never, locale: 'en', field: 'name', git: 1, cms: 2, at: 't' };
    const merged = mergeManifests(state({}), state({}), state({ conflicts: [conflict] }));
    expect(merged.conflicts).toEqual([conflict]);
  });
});

describe('tombstones', () => {
  it('merge: a tombstone either machine wrote is kept; both wrote one, the later wins', () => {
    const ancestor = emptyManifest('c');
    const ours = {
      ...emptyManifest('c'),
      tombstones: {
        'item:tags:a': { side: 'cms' as const, at: '2026-01-02T00:00:00Z', locales: { en: { name: 'x' } } },
      },
    };
    const theirs = {
      ...emptyManifest('c'),
      tombstones: {
        'item:tags:a': { side: 'git' as const, at: '2026-01-01T00:00:00Z', locales: { en: { name: 'y' } } },
        'item:tags:b': { side: 'git' as const, at: '2026-01-01T00:00:00Z', locales: { en: { name: 'z' } } },
      },
    };
    const merged = mergeManifests(ancestor, ours, theirs);
    expect(merged.tombstones?.['item:tags:a']?.side).toBe('cms');
    expect(merged.tombstones?.['item:tags:b']?.side).toBe('git');
  });

  it('a stale copy has the buried digests in every locale; an edited one is news', () => {
    const tombstone = {
      side: 'cms' as const,
      at: '2026-01-01T00:00:00Z',
      locales: { en: { name: 'x', slug: 's' } },
    };
    expect(isStaleCopy(tombstone, { en: { name: 'x', slug: 's' } })).toBe(true);
    expect(isStaleCopy(tombstone, { en: { name: 'edited', slug: 's' } })).toBe(false);
    expect(isStaleCopy(tombstone, { en: { name: 'x', slug: 's' }, es: { name: 'x' } })).toBe(false);
  });
});

describe('adoptUnknownCache (a cache with no known common ancestor, issue 14)', () => {
  it('takes the shared base on every clash and keeps what only the cache holds; call counts are not summed', () => {
    const cache = state({
      entities: {
        'item:tags:a': { remoteId: '1', locales: { en: { base: { name: 'old' } } } },
        'item:tags:only-cached': { remoteId: '9', locales: { en: { base: { name: 'c' } } } },
      },
      media: { 'https://cdn/x.png': 'x.png', 'https://cdn/clash.png': 'cache.png' },
      pending: [pending('unpublished')],
      conflicts: [{ entity: 'item:tags:a', locale: 'en', field: 'color', git: '#111', cms: '#222', at: 't' }],
      calls: { '2026-01': 40 },
    });
    const shared = state({
      entities: { 'item:tags:a': { remoteId: '1', locales: { en: { base: { name: 'verified later' } } } } },
      media: { 'https://cdn/clash.png': 'shared.png' },
      calls: { '2026-01': 55 },
    });
    const merged = adoptUnknownCache(cache, shared);
    expect(merged.entities['item:tags:a']?.locales.en?.base).toEqual({ name: 'verified later' });
    expect(merged.entities['item:tags:only-cached']?.remoteId).toBe('9');
    expect(merged.media).toEqual({ 'https://cdn/x.png': 'x.png', 'https://cdn/clash.png': 'shared.png' });
    expect(merged.pending.map((w) => w.id)).toEqual(['unpublished']);
    expect(merged.conflicts).toHaveLength(1);
    expect(merged.calls).toEqual({ '2026-01': 55 });
  });
});
