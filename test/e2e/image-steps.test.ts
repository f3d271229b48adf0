import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('container image steps (replayed without a Docker engine)', () => {
  it('installs for production, builds, starts watch against the emulator and answers /healthz and the console', async () => {
    const script = fileURLToPath(new URL('./image-steps.sh', import.meta.url));
    const { stdout } = await exec('bash', [script], { timeout: 240_000, maxBuffer: 10 * 1024 * 1024 });
    expect(stdout).toMatch(/healthz answered on port \d+/);
    expect(stdout).toMatch(/console answered on port \d+/);
  }, 300_000);
});
