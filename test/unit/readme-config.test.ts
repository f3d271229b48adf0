import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildJsonSchema } from '../../src/config/schema.js';

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
}

/** Every configurable key path, leaving out the free-form content model maps. */
function keyPaths(node: SchemaNode, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (key === '$schema') continue;
    const path = prefix ? `${prefix}.${key}` : key;
    const nested =
      child.type === 'object' &&
      child.properties &&
      !['pageTypes', 'singlePages', 'collections'].includes(key);
    if (nested && !(path === 'pull.author')) out.push(...keyPaths(child, path));
    else if (path === 'pull.author') out.push('pull.author.name', 'pull.author.email');
    else out.push(path);
  }
  return out;
}

describe('README configuration reference', () => {
  it('documents exactly the keys the schema has', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Configuration reference'),
      readme.indexOf('## How it decides'),
    );
    const documented = [...section.matchAll(/^\| `([A-Za-z.$]+)` \|/gm)].map((m) => m[1]);
    const schemaKeys = keyPaths(buildJsonSchema() as SchemaNode);
    expect(schemaKeys.length).toBeGreaterThan(20);
    expect([...documented].sort()).toEqual([...schemaKeys].sort());
  });
});
