import { describe, expect, it } from 'vitest';
import { diffLocale, type LocaleDiffInput } from '../../src/core/three-way.js';

const base = { a: 'A0', b: 'B0', $status: 'S0' };
const run = (partial: Partial<LocaleDiffInput>) =>
  diffLocale({
    local: base,
    remote: base,
    base,
    conflicts: 'manual',
    initialSource: 'none',
    ...partial,
  }).map((c) => `${c.key}:${c.action}`);

describe('diffLocale', () => {
  it('leaves unchanged fields out', () => {
    expect(run({})).toEqual([]);
  });

  it('pushes a local change and pulls a remote change; different fields merge', () => {
    expect(run({ local: { ...base, a: 'A1' } })).toEqual(['a:push']);
    expect(run({ remote: { ...base, b: 'B1' } })).toEqual(['b:pull']);
    expect(run({ local: { ...base, a: 'A1' }, remote: { ...base, b: 'B1' } })).toEqual(['a:push', 'b:pull']);
  });

  it('adopts the same change on both sides', () => {
    expect(run({ local: { ...base, a: 'A1' }, remote: { ...base, a: 'A1' } })).toEqual(['a:adopt']);
  });

  it('resolves different changes of one field by the conflict policy', () => {
    const both = { local: { ...base, a: 'A1' }, remote: { ...base, a: 'A2' } };
    expect(run(both)).toEqual(['a:conflict']);
    expect(run({ ...both, conflicts: 'git-wins' })).toEqual(['a:push']);
    expect(run({ ...both, conflicts: 'cms-wins' })).toEqual(['a:pull']);
  });

  it('with no base: adopts equal fields, differing ones follow initialSource', () => {
    const noBase = { base: undefined, local: { a: 'A', b: 'B1' }, remote: { a: 'A', b: 'B2' } };
    expect(run(noBase)).toEqual(['a:adopt', 'b:conflict']);
    expect(run({ ...noBase, initialSource: 'git' })).toEqual(['a:adopt', 'b:push']);
    expect(run({ ...noBase, initialSource: 'cms' })).toEqual(['a:adopt', 'b:pull']);
  });

  it('treats a missing page meta key as no opinion', () => {
    const { $status: _, ...withoutStatus } = base;
    expect(run({ local: withoutStatus, remote: { ...base, $status: 'S1' } })).toEqual(['$status:pull']);
    expect(run({ local: { ...base, $status: 'S1' }, remote: withoutStatus })).toEqual(['$status:push']);
    expect(run({ local: withoutStatus, remote: withoutStatus })).toEqual([]);
  });

  it('does not re-push a value a pending write already sent', () => {
    const pending = new Map([['a', new Set(['A1'])]]);
    expect(run({ local: { ...base, a: 'A1' }, pending })).toEqual([]);
    expect(run({ local: { ...base, a: 'A2' }, pending })).toEqual(['a:push']);
  });

  it('does not pull a field with a pending write until the remote shows the written value', () => {
    const pending = new Map([['a', new Set(['A1'])]]);
    // Remote changed to something else while our write is in flight: wait for verification.
    expect(run({ local: { ...base, a: 'A1' }, remote: { ...base, a: 'A9' }, pending })).toEqual([]);
    // Remote shows our write: both sides agree.
    expect(run({ local: { ...base, a: 'A1' }, remote: { ...base, a: 'A1' }, pending })).toEqual(['a:adopt']);
    // Our write landed, the file moved on since: push the newer value.
    expect(run({ local: { ...base, a: 'A2' }, remote: { ...base, a: 'A1' }, pending })).toEqual(['a:push']);
  });

  it('suppresses echoes: after a pull or a verified push both sides equal the base', () => {
    const agreed = { ...base, a: 'X' };
    expect(run({ local: agreed, remote: agreed, base: agreed })).toEqual([]);
  });
});
