import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/state/manifest-file.js';
import { type FixtureTemplate, inStepTemplate } from '../helpers/cli-fixture.js';
import { callEmulator } from '../helpers/emulator.js';
import { git } from '../helpers/sync-fixture.js';

// The CLI e2e files copy one starting state per test (test/helpers/cli-fixture.ts). What makes that as good as
// building it each time: a copy holds the template's repo, state and ButterCMS content with the same ids, and
// nothing one copy does reaches another copy or the template.
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';

async function memberRole(fx: { emulator: Parameters<typeof callEmulator>[0] }, id: number): Promise<string> {
  const { json } = await callEmulator(fx.emulator, `/v2/content/?keys=team_members[_id=${id}]`);
  return json.data.team_members[0].role;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('fixture templates', () => {
  let template: FixtureTemplate;
  beforeAll(async () => {
    template = await inStepTemplate();
  });
  afterAll(() => template?.close());

  it('a copy starts where the template was and is private: repo, state and emulator', async () => {
    const a = await template.fresh();
    const b = await template.fresh();
    try {
      expect(a.repoDir).not.toBe(b.repoDir);
      expect(a.emulator.port).not.toBe(b.emulator.port);
      const manifest = await readManifest(a.repoDir, 'x');
      const id = Number(manifest.entities['item:team_members:ada-lovelace']?.remoteId);
      expect(await memberRole(b, id)).toBe('Head of Content');
      expect(await git(a.repoDir, 'status', '--porcelain')).toBe('');
      // No path in the copy's state or git config points back at the template or at another copy.
      for (const file of [
        ...(await filesUnder(path.join(a.repoDir, '.butter-sync'))),
        `${a.repoDir}/.git/config`,
      ]) {
        const text = await readFile(file, 'utf8');
        expect(text, file).not.toMatch(/butter-sync-(template|test|copy)-/);
      }

      await a.write(MEMBER, (await a.read(MEMBER)).replace('"Head of Content"', '"Edited in a"'));
      a.emulator.editItem('team_members', id, { role: 'Dashboard in a' });
      expect(await b.read(MEMBER)).toContain('"Head of Content"');
      expect(await memberRole(b, id)).toBe('Head of Content');
      const c = await template.fresh();
      try {
        expect(c.emulator.requestLog()).toEqual([]); // a new emulator: no log carried over
        expect(await c.read(MEMBER)).toContain('"Head of Content"');
        expect(await memberRole(c, id)).toBe('Head of Content');
      } finally {
        await c.cleanup();
      }
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  it('derive keeps what its setup did, for its copies only', async () => {
    let id = 0;
    const edited = await template.derive(async (fx) => {
      id = Number((await readManifest(fx.repoDir, 'x')).entities['item:team_members:ada-lovelace']?.remoteId);
      fx.emulator.editItem('team_members', id, { role: 'Set by derive' });
    });
    try {
      const d = await edited.fresh();
      const t = await template.fresh();
      try {
        expect(await memberRole(d, id)).toBe('Set by derive');
        expect(await memberRole(t, id)).toBe('Head of Content');
      } finally {
        await d.cleanup();
        await t.cleanup();
      }
    } finally {
      await edited.close();
    }
  });
});
