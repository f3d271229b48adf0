import { describe, expect, it } from 'vitest';
import { isSyncError } from '../../src/core/errors.js';
import type { PendingWrite } from '../../src/core/types.js';
import { emptyManifest } from '../../src/state/manifest-file.js';
import {
  endSupersededFailures,
  failPending,
  markSent,
  overduePending,
  pendingFor,
  recordIntent,
  settlePending,
} from '../../src/state/outbox.js';

function pending(id: string, entity: string, deadline = '2030-01-01T00:00:00Z'): PendingWrite {
  return {
    id,
    entity,
    kind: 'create',
    state: 'sent',
    expect: { en: { name: 'd1' } },
    createdAt: '2025-01-01T00:00:00Z',
    deadline,
  };
}

describe('outbox', () => {
  it('records an intent, marks it sent, then settles it', () => {
    const manifest = emptyManifest('cfg');
    const write = pending('w1', 'item:tags:news');
    const entry = recordIntent(manifest, write);
    expect(entry).toBe(write);
    expect(entry.state).toBe('intent');
    expect(manifest.pending).toHaveLength(1);

    const sent = markSent(manifest, 'w1', '2025-01-01T00:00:01Z');
    expect(sent).toMatchObject({ state: 'sent', sentAt: '2025-01-01T00:00:01Z' });

    expect(settlePending(manifest, 'w1')?.id).toBe('w1');
    expect(manifest.pending).toEqual([]);
    expect(settlePending(manifest, 'w1')).toBeUndefined();
    expect(markSent(manifest, 'missing', 'x')).toBeUndefined();
  });

  it('refuses a second intent with the same id', () => {
    const manifest = emptyManifest('cfg');
    recordIntent(manifest, pending('w1', 'item:tags:news'));
    let error: unknown;
    try {
      recordIntent(manifest, pending('w1', 'item:tags:other'));
    } catch (caught) {
      error = caught;
    }
    expect(isSyncError(error) && error.code).toBe('INTERNAL');
    expect(manifest.pending).toHaveLength(1);
  });

  it('moves a failed write to failed, naming the file of the entity', () => {
    const manifest = emptyManifest('cfg');
    manifest.entities['item:tags:news'] = {
      remoteId: '4',
      locales: {
        es: { base: {}, path: 'collections/tags/news.es.json' },
        en: { base: {}, path: 'collections/tags/news.json' },
      },
    };
    recordIntent(manifest, pending('w1', 'item:tags:news'));
    const failed = failPending(manifest, 'w1', 'read-back never matched', '2025-01-02T00:00:00Z');
    expect(failed).toEqual({
      id: 'w1',
      entity: 'item:tags:news',
      kind: 'create',
      reason: 'read-back never matched',
      at: '2025-01-02T00:00:00Z',
      path: 'collections/tags/news.json',
      // Kept so a write that lands after all can still move the base.
      expect: { en: { name: 'd1' } },
    });
    expect(manifest.pending).toEqual([]);
    expect(manifest.failed).toEqual([failed]);
    expect(failPending(manifest, 'w1', 'again', 'x')).toBeUndefined();

    recordIntent(manifest, { ...pending('w2', 'item:tags:news'), path: 'collections/tags/news.es.json' });
    expect(failPending(manifest, 'w2', 'rejected', 'y')?.path).toBe('collections/tags/news.es.json');
  });

  it('a proven write ends the failures of its entity whose every field it wrote again', () => {
    const manifest = emptyManifest('cfg');
    const fail = (id: string, entity: string, expect: PendingWrite['expect']) => {
      recordIntent(manifest, { ...pending(id, entity), expect });
      failPending(manifest, id, 'dropped', '2025-01-02T00:00:00Z');
    };
    fail('role', 'item:team_members:ada', { en: { role: 'r1' } });
    fail('role+name', 'item:team_members:ada', { en: { role: 'r1', name: 'n1' } });
    fail('es', 'item:team_members:ada', { es: { role: 'r1' } });
    fail('other', 'item:team_members:bo', { en: { role: 'r1' } });
    const left = () => manifest.failed.map((f) => f.id);

    expect(endSupersededFailures(manifest, 'item:team_members:ada', { en: { role: 'r2' } })).toBe(1);
    expect(left()).toEqual(['role+name', 'es', 'other']);
    expect(endSupersededFailures(manifest, 'item:team_members:ada', { en: { role: 'r3', name: 'n3' } })).toBe(
      1,
    );
    expect(left()).toEqual(['es', 'other']);
    // The entity is gone (a proven delete): every failure of it ends.
    expect(endSupersededFailures(manifest, 'item:team_members:ada', undefined)).toBe(1);
    expect(left()).toEqual(['other']);
  });

  it('lists pending writes per entity and those past their deadline', () => {
    const manifest = emptyManifest('cfg');
    recordIntent(manifest, pending('a', 'item:tags:x', '2025-01-01T00:00:00Z'));
    recordIntent(manifest, pending('b', 'item:tags:y', '2025-06-01T00:00:00Z'));
    recordIntent(manifest, pending('c', 'item:tags:x', '2025-03-01T00:00:00Z'));
    expect(pendingFor(manifest, 'item:tags:x').map((p) => p.id)).toEqual(['a', 'c']);
    expect(pendingFor(manifest, 'item:tags:z')).toEqual([]);
    expect(overduePending(manifest, '2025-03-01T00:00:00Z').map((p) => p.id)).toEqual(['a', 'c']);
  });
});
