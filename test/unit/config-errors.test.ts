import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load-config.js';
import { SyncError } from '../../src/core/errors.js';

// Config errors that teach (issue 13; trial-real-content.md F20): the valid field types, "did you mean",
// the file named once, every problem of the file at once.

const base = {
  pageTypes: { post: { bodyField: 'body', fields: { body: 'richtext', headline: 'text' } } },
  collections: { tags: { keyField: 'slug', fields: { slug: 'text' } } },
};

function messages(raw: unknown): string[] {
  const result = parseConfig(raw);
  expect(result.config).toBeNull();
  return result.errors.map((e) => `${e.path}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`);
}

describe('config errors', () => {
  it('suggest the key that was meant: colections, requestPerSecond, bodyfield', () => {
    const all = messages({
      colections: {},
      rate: { requestPerSecond: 3 },
      pageTypes: { post: { bodyfield: 'body', fields: { body: 'richtext' } } },
    }).join('\n');
    expect(all).toContain('(top level): unknown key(s): "colections" (did you mean "collections"?)');
    expect(all).toContain('rate: unknown key(s): "requestPerSecond" (did you mean "requestsPerSecond"?)');
    expect(all).toContain('pageTypes.post: unknown key(s): "bodyfield" (did you mean "bodyField"?)');
    expect(all).toMatch(/The keys here are: requestsPerSecond, concurrency/);
  });

  it('list the valid field types for an unknown one, with a guess when one is close', () => {
    const [datetime, refrence] = messages({
      ...base,
      pageTypes: { post: { fields: { date: 'datetime', author: { type: 'refrence', to: 'page' } } } },
    });
    expect(datetime).toMatch(
      /^pageTypes\.post\.fields\.date: "datetime" is not a field type; the field types are: text, richtext, number, boolean, date/,
    );
    for (const type of ['reference', 'repeater', 'component', 'component-picker'])
      expect(datetime).toContain(type);
    expect(refrence).toContain('"refrence" is not a field type (did you mean "reference"?)');
  });

  it('say what is wrong inside a field spec whose type is known', () => {
    const all = messages({
      ...base,
      pageTypes: { post: { fields: { r: { type: 'reference', too: 'page' } } } },
    });
    expect(all).toContain('pageTypes.post.fields.r.to: required, and missing (expected string)');
    expect(all.join('\n')).toContain(
      'unknown key(s): "too" (did you mean "to"?) (The keys here are: type, to, many, required, path.)',
    );
  });

  it('report every problem of the file at once and name the file once', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-config-'));
    const file = path.join(dir, 'sync.config.json');
    try {
      await writeFile(
        file,
        JSON.stringify({
          colections: {},
          contentDir: 3,
          pageTypes: { a: { fields: { x: 'datetime', y: 'nope' } } },
        }),
      );
      const error = await loadConfig(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SyncError);
      const text = (error as SyncError).describe();
      expect(text.split(file)).toHaveLength(2); // the path appears exactly once
      expect(text).toContain('4 problem(s)');
      for (const at of ['(top level)', 'contentDir', 'pageTypes.a.fields.x', 'pageTypes.a.fields.y']) {
        expect(text).toContain(`- ${at}:`);
      }
      await writeFile(file, '{\n  "contentDir": "content",\n  "locales": \n}\n');
      const syntax = (await loadConfig(file).catch((e: unknown) => e)) as SyncError;
      expect(syntax.describe()).toMatch(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d+)?: not valid JSON`),
      );
      expect(syntax.hint).toContain('JSON syntax');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
