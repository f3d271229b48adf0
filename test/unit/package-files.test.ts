import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/sync-fixture.js';

const exec = promisify(execFile);

// trial-real-content.md F15: `init` and every config error point at the JSON Schema inside the installed
// package, so `npm pack` must ship it at exactly that path.
describe('the npm package', () => {
  it('ships the JSON Schema where init and the README point "$schema"', async () => {
    const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: PROJECT_ROOT,
    });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map(
      (f) => f.path,
    );
    const init = await readFile(new URL('../../src/cli/commands/init.ts', import.meta.url), 'utf8');
    const pointer = /\$schema: '\.\/node_modules\/butter-sync\/([^']+)'/.exec(init)?.[1];
    expect(pointer).toBe('src/config/sync.config.schema.json');
    expect(files).toContain(pointer);
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`./node_modules/butter-sync/${pointer}`);
  });
});
