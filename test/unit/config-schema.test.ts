import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderJsonSchema } from '../../src/config/write-schema.js';

describe('shipped JSON Schema', () => {
  it('is current with the zod source (run `npm run schema` after changing src/config/schema.ts)', async () => {
    const shipped = await readFile(
      new URL('../../src/config/sync.config.schema.json', import.meta.url),
      'utf8',
    );
    expect(shipped).toBe(renderJsonSchema());
  });

  it('describes the keys an editor needs to autocomplete', () => {
    const schema = JSON.parse(renderJsonSchema()) as { properties: Record<string, unknown>; $schema: string };
    expect(schema.$schema).toContain('draft-07');
    for (const key of [
      'contentDir',
      'locales',
      'rate',
      'conflicts',
      'initialSource',
      'pageTypes',
      'collections',
    ]) {
      expect(schema.properties).toHaveProperty(key);
    }
  });
});
