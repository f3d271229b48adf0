import { describe, expect, it } from 'vitest';
import { BUTTER_RULES, estimateButterWrite } from '../../src/cms/butter/index.js';
import { planPostReads } from '../../src/cms/butter/post-backend.js';
import type { WriteIntent } from '../../src/cms/port.js';
import { planSync } from '../../src/core/plan.js';
import type { EntityRef, Operation, WriteOperation } from '../../src/core/types.js';
import {
  agree,
  emptyManifest,
  localEntity,
  makeConfig,
  mapOf,
  planInput,
  remoteEntity,
} from './core-fixtures.js';

// Blog posts in the pure planner (issue 11 part 2): a post is planned like a page, and where posts differ
// the planner asks BackendRules.posts rather than assuming ButterCMS.

const cfg = makeConfig({ posts: {}, maxDeletePercent: 100 });
const hello: EntityRef = { kind: 'post', slug: 'hello' };
const FILE = {
  fields: { author: 'parkr', body: 'Some *text*.', tags: ['news'] },
  meta: { title: 'Hello', status: 'published' as const },
};
const estimate = (intent: WriteIntent) =>
  estimateButterWrite(intent, { defaultLocale: 'en', defaultStatus: 'published' });

const writes = (ops: Operation[]) => ops.filter((op): op is WriteOperation => op.kind === 'write');

describe('posts in the planner', () => {
  it('a new post file is one create with its title, status and every property', () => {
    const plan = planSync(
      planInput({ config: cfg, scope: 'push', local: mapOf(localEntity(hello, { en: FILE })), estimate }),
    );
    const [write] = writes(plan.operations);
    expect(write?.intent).toMatchObject({
      kind: 'create',
      entity: 'post:hello',
      locales: { en: { title: 'Hello', status: 'published', fields: { author: 'parkr', tags: ['news'] } } },
    });
    expect(plan.totalCalls).toBe(1);
  });

  it('a changed title is sent where the backend says post titles are writable, reported where not', () => {
    const manifest = agree(emptyManifest(), hello, { en: FILE }, undefined, cfg);
    const edited = localEntity(hello, { en: { ...FILE, meta: { ...FILE.meta, title: 'Hello again' } } });
    const sent = planSync(
      planInput({ config: cfg, manifest, scope: 'push', local: mapOf(edited), estimate }),
    );
    expect(writes(sent.operations).map((w) => w.intent.locales.en)).toEqual([
      { fields: {}, status: 'published', title: 'Hello again' },
    ]);
    const rules = { ...BUTTER_RULES, posts: { ...BUTTER_RULES.posts!, titlesWritable: false } };
    const held = planSync(
      planInput({ config: cfg, manifest, scope: 'push', local: mapOf(edited), estimate, rules }),
    );
    expect(writes(held.operations)).toEqual([]);
    expect(held.operations).toContainEqual(
      expect.objectContaining({ kind: 'report', reason: 'title-changed' }),
    );
  });

  it('a removed post file is a delete where posts are deletable, a report where not', () => {
    const manifest = agree(emptyManifest(), hello, { en: FILE }, undefined, cfg);
    const deleted = planSync(planInput({ config: cfg, manifest, scope: 'push', estimate }));
    expect(writes(deleted.operations).map((w) => [w.intent.kind, w.entity, w.cost])).toEqual([
      ['delete', 'post:hello', 1],
    ]);
    const rules = { ...BUTTER_RULES, posts: { ...BUTTER_RULES.posts!, deletable: false } };
    const kept = planSync(planInput({ config: cfg, manifest, scope: 'push', estimate, rules }));
    expect(writes(kept.operations)).toEqual([]);
    expect(kept.operations).toContainEqual(
      expect.objectContaining({ kind: 'report', entity: 'post:hello', reason: 'unsupported' }),
    );
  });

  it('a removed post file is guarded by maxDeletePercent like an item', () => {
    const guarded = makeConfig({ posts: {}, maxDeletePercent: 20 });
    const manifest = agree(emptyManifest(), hello, { en: FILE }, undefined, guarded);
    const plan = planSync(planInput({ config: guarded, manifest, scope: 'push', estimate }));
    expect(writes(plan.operations)).toEqual([]);
    expect(plan.operations).toContainEqual(
      expect.objectContaining({ kind: 'report', reason: 'delete-guard' }),
    );
  });

  it('the same property changed on both sides is a conflict; a change on one side is pushed or pulled', () => {
    const manifest = agree(emptyManifest(), hello, { en: FILE }, undefined, cfg);
    const local = localEntity(hello, {
      en: {
        ...FILE,
        meta: { ...FILE.meta, title: 'Git title' },
        fields: { ...FILE.fields, summary: 'From git' },
      },
    });
    const remote = remoteEntity(hello, {
      en: { ...FILE, meta: { ...FILE.meta, title: 'CMS title' }, fields: { ...FILE.fields, tags: ['cms'] } },
    });
    const plan = planSync(
      planInput({
        config: cfg,
        manifest,
        scope: 'both',
        local: mapOf(local),
        remote: mapOf(remote),
        estimate,
      }),
    );
    expect(plan.operations).toContainEqual(
      expect.objectContaining({
        kind: 'conflict',
        entity: 'post:hello',
        field: '$title',
        git: 'Git title',
        cms: 'CMS title',
      }),
    );
    expect(writes(plan.operations).map((w) => w.intent.locales.en?.fields)).toEqual([
      { summary: 'From git' },
    ]);
    expect(plan.operations).toContainEqual(
      expect.objectContaining({ kind: 'write-file', entity: 'post:hello', set: { tags: ['cms'] } }),
    );
  });

  it('a post with no publish date does not expect one back (the CMS fills it)', () => {
    const plan = planSync(
      planInput({ config: cfg, scope: 'push', local: mapOf(localEntity(hello, { en: FILE })), estimate }),
    );
    expect(Object.keys(writes(plan.operations)[0]?.expect?.en ?? {})).not.toContain('published');
    expect(Object.keys(writes(plan.operations)[0]?.expect?.en ?? {})).toContain('body');
  });
});

describe('ButterCMS post reads and writes at the call floor', () => {
  const manifest = emptyManifest();
  for (let n = 0; n < 150; n++)
    agree(manifest, { kind: 'post', slug: `p${n}` }, { en: FILE }, undefined, cfg);
  const targets = (count: number) =>
    Array.from({ length: count }, (_, n) => ({ entity: `post:p${n}`, locales: ['en'] }));

  it('reads a few posts one GET each, many through the list pages of 100', () => {
    expect(planPostReads(targets(2), manifest).map((s) => [s.how, s.calls])).toEqual([['get', 2]]);
    expect(planPostReads(targets(10), manifest).map((s) => [s.how, s.calls])).toEqual([['list', 2]]);
    // Pages and items are not the post planner's.
    expect(planPostReads([{ entity: 'item:tags:x', locales: ['en'] }], manifest)).toEqual([]);
  });

  it('estimates one request per locale of a create or update, one for a delete', () => {
    const change = { fields: {}, status: 'published' as const, title: 'T' };
    const intent = (kind: WriteIntent['kind'], locales: string[]): WriteIntent => ({
      kind,
      entity: 'post:hello',
      ref: hello,
      locales: Object.fromEntries(locales.map((l) => [l, change])),
    });
    expect(estimate(intent('create', ['en', 'es']))).toBe(2);
    expect(estimate(intent('update', ['es']))).toBe(1);
    expect(estimate(intent('delete', []))).toBe(1);
  });
});
