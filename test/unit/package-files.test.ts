import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { INSTALLED_SCHEMA_PATH } from '../../src/cli/commands/init.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the npm package', () => {
  it('ships the JSON Schema at the path init writes into "$schema"', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
    });
    const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const shipped = pack.files.map((f) => f.path);
    expect(INSTALLED_SCHEMA_PATH.startsWith('./node_modules/butter-sync/')).toBe(true);
    expect(shipped).toContain(INSTALLED_SCHEMA_PATH.slice('./node_modules/butter-sync/'.length));
  });
});
