import { describe, expect, it } from 'vitest';
import type { FieldSpec } from '../../src/config/schema.js';
import {
  counterpart,
  forEachNestedRecord,
  mapNestedRecords,
  nestedSpecs,
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

  it('lists the record specs a container can hold', () => {
    expect(nestedSpecs(repeater)).toEqual([row]);
    expect(nestedSpecs(picker)).toHaveLength(2);
    expect(nestedSpecs({ type: 'media' })).toEqual([]);
  });
});
