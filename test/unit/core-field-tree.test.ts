import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../src/config/schema.js';
import {
  counterpart,
  forEachNestedRecord,
  mapNestedRecords,
  nestedPath,
  nestedSpecs,
  type ShapeGuard,
} from '../../src/core/field-tree.js';

const row: Record<string, FieldSpec> = { question: { type: 'text' } };
const repeater: FieldSpec = { type: 'repeater', fields: row };
const component: FieldSpec = { type: 'component', fields: row };
const picker: FieldSpec = {
  type: 'component-picker',
  components: { hero: { fields: { image: { type: 'media' } } }, quote: { fields: row } },
};
const upper = (_specs: Record<string, FieldSpec>, record: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, typeof v === 'string' ? v.toUpperCase() : v]),
  );

describe('the nested-field walk (core/field-tree.ts)', () => {
  it('maps repeater rows and a component, keeping what is not a record where one belongs', () => {
    expect(mapNestedRecords(repeater, [{ question: 'a' }, 'stray', { question: 'b' }], upper)).toEqual([
      { question: 'A' },
      'stray',
      { question: 'B' },
    ]);
    expect(mapNestedRecords(repeater, 'not a list', upper)).toBe('not a list');
    expect(mapNestedRecords(component, { question: 'a' }, upper)).toEqual({ question: 'A' });
    expect(mapNestedRecords(component, 42, upper)).toBe(42);
    expect(mapNestedRecords({ type: 'text' }, 'plain', upper)).toBe('plain');
  });

  it('maps picker entries by their type; an unknown type keeps its fields; missing fields only when asked', () => {
    const value = [
      { type: 'quote', fields: { question: 'q' }, extra: 1 },
      { type: 'unknown', fields: { question: 'u' } },
      { type: 'quote' },
      { fields: {} },
    ];
    expect(mapNestedRecords(picker, value, upper)).toEqual([
      { type: 'quote', fields: { question: 'Q' } },
      { type: 'unknown', fields: { question: 'u' } },
      { type: 'quote' },
      { fields: {} },
    ]);
    expect((mapNestedRecords(picker, value, upper, { entryFields: 'empty' }) as unknown[])[2]).toEqual({
      type: 'quote',
      fields: {},
    });
  });

  it('visits each nested record with its place, and finds the same place in another value', () => {
    const sent = [
      { type: 'hero', fields: { image: 'a.jpg' } },
      { type: 'quote', fields: { question: 'q' } },
    ];
    const back = [
      { type: 'hero', fields: { image: 'cdn/1' } },
      { type: 'quote', fields: { question: 'q' } },
    ];
    const seen: unknown[] = [];
    forEachNestedRecord(picker, sent, (_specs, record, step) => seen.push([record, counterpart(back, step)]));
    expect(seen).toEqual([
      [{ image: 'a.jpg' }, { image: 'cdn/1' }],
      [{ question: 'q' }, { question: 'q' }],
    ]);
    expect(counterpart([{ question: 'x' }], { kind: 'row', index: 0 })).toEqual({ question: 'x' });
    expect(counterpart('not a list', { kind: 'row', index: 0 })).toBeUndefined();
    expect(counterpart({ question: 'x' }, { kind: 'component' })).toEqual({ question: 'x' });
  });

  it('a picker entry typed with a name every object has ("constructor") names no component', () => {
    const seen: string[] = [];
    const value = [{ type: 'constructor', fields: { question: 'q' } }];
    const out = mapNestedRecords(picker, value, (_specs, record) => {
      seen.push(JSON.stringify(record));
      return record;
    });
    expect(seen).toEqual([]);
    expect(out).toEqual([{ type: 'constructor', fields: { question: 'q' } }]);
  });

  it('a guard refuses, in the order the walk meets them, what the lenient walk keeps', () => {
    const refused: string[] = [];
    const refuse = (what: string): never => {
      refused.push(what);
      throw new Error(what);
    };
    const guard: ShapeGuard = {
      container: (v) => refuse(`container ${JSON.stringify(v)}`),
      element: (e, i) => refuse(`element ${i} ${JSON.stringify(e)}`),
      entry: (e, i) => {
        if ('extra' in e) refuse(`entry ${i} extra`);
      },
      entryType: (e, i) => refuse(`type ${i} ${String(e.type)}`),
      entryFields: (f, i) => refuse(`fields ${i} ${JSON.stringify(f)}`),
    };
    const run = (spec: FieldSpec, value: unknown) => {
      try {
        return mapNestedRecords(spec, value, upper, { guard });
      } catch {
        return refused.at(-1);
      }
    };
    expect(run(repeater, 'x')).toBe('container "x"');
    expect(run(repeater, [{ question: 'a' }, 'x'])).toBe('element 1 "x"');
    expect(run(component, [1])).toBe('container [1]');
    expect(run(picker, [{ type: 'quote', extra: 1 }])).toBe('entry 0 extra');
    expect(run(picker, [{ type: 'video' }])).toBe('type 0 video');
    expect(run(picker, [{ type: 'constructor' }])).toBe('type 0 constructor');
    expect(run(picker, [{ type: 'quote', fields: 'x' }])).toBe('fields 0 "x"');
    // Missing fields read as {}; the first entry's problem is met before the second's.
    expect(run(picker, [{ type: 'quote' }, { type: 'video' }, 'x'])).toBe('type 1 video');
    expect(run(picker, [{ type: 'quote', fields: { question: 'q' } }, { type: 'quote' }])).toEqual([
      { type: 'quote', fields: { question: 'Q' } },
      { type: 'quote', fields: {} },
    ]);
  });

  it('names a nested place for messages', () => {
    expect(nestedPath('questions', { kind: 'row', index: 2 })).toBe('questions[2]');
    expect(nestedPath('seo', { kind: 'component' })).toBe('seo');
    expect(nestedPath('sections', { kind: 'entry', index: 1, type: 'hero' })).toBe('sections[1].hero');
  });

  it('lists the record specs a container can hold', () => {
    expect(nestedSpecs(repeater)).toEqual([row]);
    expect(nestedSpecs(picker)).toHaveLength(2);
    expect(nestedSpecs({ type: 'media' })).toEqual([]);
  });
});
