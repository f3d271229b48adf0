import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/state/atomic-file.js';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bs-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates missing parent folders and leaves no temp file behind', async () => {
    const file = join(dir, 'a', 'b', 'page.md');
    expect(await writeFileAtomic(file, 'héllo\n')).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('héllo\n');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['page.md']);
  });

  it('writes nothing when the bytes are identical', async () => {
    const file = join(dir, 'item.json');
    await writeFile(file, '{"a":1}\n');
    const old = new Date('2020-01-01T00:00:00Z');
    await utimes(file, old, old);
    expect(await writeFileAtomic(file, Buffer.from('{"a":1}\n'))).toBe(false);
    expect((await stat(file)).mtime.getTime()).toBe(old.getTime());
    expect(await writeFileAtomic(file, '{"a":2}\n')).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('{"a":2}\n');
  });

  it('keeps the mode of an existing file and sets an explicit one', async () => {
    const file = join(dir, 'script.sh');
    await writeFile(file, 'old', { mode: 0o750 });
    await writeFileAtomic(file, 'new');
    expect((await stat(file)).mode & 0o777).toBe(0o750);
    expect(await writeFileAtomic(file, 'new', { mode: 0o755 })).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o755);
    expect(await writeFileAtomic(file, 'new', { mode: 0o755 })).toBe(false);
  });
});
