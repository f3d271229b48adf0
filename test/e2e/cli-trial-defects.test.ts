import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/state/manifest-file.js';
import { type CliFixture, cliPushedTemplate, templatePerFile } from '../helpers/cli-fixture.js';
import { runCliOn } from '../helpers/cli-process.js';
import { git, writesIn } from '../helpers/sync-fixture.js';

// The smaller defects of the real-content trial (issue 9, trial-real-content.md F11, F12, F19), run through
// the CLI as a user would: a real temp repo, the built binary, the emulator over HTTP.

const TAGS = 'content-example/collections/tags';
const MEMBER = 'content-example/collections/team_members/ada-lovelace.json';

// The CLI on the test's repo, in the fixture's environment unless a test passes its own.
const cli = runCliOn;

async function remoteIdOf(fx: CliFixture, entity: string): Promise<number> {
  const manifest = await readManifest(fx.repoDir, 'x');
  const id = manifest.entities[entity]?.remoteId;
  // Ids are opaque text in the state (issue 10); the emulator's are ButterCMS's whole numbers.
  if (typeof id !== 'string' || !/^[1-9][0-9]*$/.test(id)) throw new Error(`no remote id for ${entity}`);
  return Number(id);
}

const commitCount = async (fx: CliFixture) => Number(await git(fx.repoDir, 'rev-list', '--count', 'HEAD'));

describe('trial defects (issue 9, smaller defects)', () => {
  let fx: CliFixture;
  // The setup (and its first CLI push) runs once; each test gets its own copy of the result and a new emulator
  // whose request log holds only its own calls.
  const pushed = templatePerFile(() =>
    cliPushedTemplate(
      {},
      {
        // Three more tags, so removing two of five is over maxDeletePercent (20%) without emptying the collection.
        before: async (first) => {
          for (const slug of ['alpha', 'beta', 'gamma']) {
            const tag = { slug, name: slug, color: '#000000' };
            await first.write(`${TAGS}/${slug}.json`, `${JSON.stringify(tag)}\n`);
          }
          await first.commitAll('more tags');
        },
      },
    ),
  );
  beforeEach(async () => {
    fx = await pushed.fresh();
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('F11: push after a model change stays a push (no pull, no commit) and says a reconcile is due', async () => {
    const config = JSON.parse(await fx.read('sync.config.json'));
    config.collections.team_members.fields.bio = 'text';
    await fx.write('sync.config.json', `${JSON.stringify(config, null, 2)}\n`);
    await fx.commitAll('model: a bio field');
    // An editor's dashboard change, and a writer's file change.
    fx.emulator.editItem('tags', await remoteIdOf(fx, 'item:tags:engineering'), { name: 'Dashboard edit' });
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Pushed role"'));
    const tagBefore = await fx.read(`${TAGS}/engineering.json`);
    const commits = await commitCount(fx);

    const push = await cli(fx, ['push']);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toMatch(/^PATCH item team_members\/ada-lovelace: role$/m);
    expect(push.stderr).toContain('run `butter-sync reconcile`');
    expect(push.stderr.match(/content model in the config changed/g)).toHaveLength(1);
    expect(await fx.read(`${TAGS}/engineering.json`)).toBe(tagBefore);
    expect(await commitCount(fx)).toBe(commits);
    expect(writesIn(fx.emulator).map((w) => w.method)).toEqual(['PATCH']);

    // The reconcile the notice asks for brings the dashboard edit in and settles the model.
    const reconcile = await cli(fx, ['reconcile']);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(await fx.read(`${TAGS}/engineering.json`)).toContain('"Dashboard edit"');
    expect(await commitCount(fx)).toBe(commits + 1);
    const after = await cli(fx, ['push']);
    expect(after.code).toBe(0);
    expect(after.stderr).not.toContain('content model');
  });

  it('F12: a refused delete exits 4 with one line naming the items and how to go ahead; --allow-delete goes ahead', async () => {
    await git(fx.repoDir, 'rm', '-q', `${TAGS}/beta.json`, `${TAGS}/gamma.json`);
    await git(fx.repoDir, 'commit', '-q', '-m', 'drop two tags');

    const refused = await cli(fx, ['push']);
    expect(refused.code).toBe(4);
    expect(writesIn(fx.emulator)).toEqual([]);
    const lines = refused.stderr.split('\n').filter((l) => l.includes('refused to delete'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/tags\/beta\b/);
    expect(lines[0]).toMatch(/tags\/gamma\b/);
    expect(refused.stderr).toContain('--allow-delete');
    expect(refused.stderr).toContain('maxDeletePercent');
    expect((await cli(fx, ['push', '--dry-run'])).code).toBe(4);

    const allowed = await cli(fx, ['push', '--allow-delete']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(writesIn(fx.emulator).map((w) => w.method)).toEqual(['DELETE', 'DELETE']);
    expect(allowed.stdout).toMatch(/^DELETE item tags\/beta$/m);
    // The limit in the config is untouched: the next large delete is refused again.
    expect(JSON.parse(await fx.read('sync.config.json')).maxDeletePercent).toBe(20);
  });

  it('F19: push of a path that is no content file, does not exist or lies outside the repo is a usage error (2)', async () => {
    for (const [arg, says] of [
      ['NOPE.json', 'not a content file'],
      ['README.md', 'not a content file'],
      [`${TAGS}/nope.json`, 'no such content file'],
      ['../outside.md', 'outside the repository'],
    ] as const) {
      const run = await cli(fx, ['push', arg]);
      expect(run.code, `${arg}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(`${arg}: ${says}`);
      expect(run.stderr).not.toMatch(/at .*\.js:\d+/);
    }
    const commit = await cli(fx, ['push', '--commit', 'nonexist']);
    expect(commit.code).toBe(2);
    expect(commit.stderr).toContain('no such commit');
    expect(writesIn(fx.emulator)).toEqual([]);

    // A removed file the sync knows is a valid path: pushing it pushes the removal.
    await rm(path.join(fx.repoDir, TAGS, 'alpha.json'));
    const removed = await cli(fx, ['push', '--allow-delete', `${TAGS}/alpha.json`]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(writesIn(fx.emulator).map((w) => w.method)).toEqual(['DELETE']);
  });

  it('F14: a collection ButterCMS answers 404 for fails that one (exit 4), the rest still syncs', async () => {
    // The config knows a collection the account (here the emulator, started with the old model) does not.
    const config = JSON.parse(await fx.read('sync.config.json'));
    config.collections.authors = { keyField: 'slug', fields: { slug: 'text', name: 'text' } };
    await fx.write('sync.config.json', `${JSON.stringify(config, null, 2)}\n`);
    await mkdir(path.join(fx.repoDir, 'content-example/collections/authors'));
    await fx.write('content-example/collections/authors/kim.json', '{ "slug": "kim", "name": "Kim" }\n');
    await fx.write(MEMBER, (await fx.read(MEMBER)).replace('"Head of Content"', '"Still synced"'));

    const push = await cli(fx, ['push']);
    expect(push.code, push.stderr).toBe(4);
    expect(push.stderr).toContain('the CMS has no collection "authors"');
    expect(push.stdout).toMatch(/^PATCH item team_members\/ada-lovelace: role$/m);
    expect(writesIn(fx.emulator).map((w) => w.method)).toEqual(['PATCH']);

    fx.emulator.clearLog();
    fx.emulator.editItem('tags', await remoteIdOf(fx, 'item:tags:engineering'), { name: 'Pulled anyway' });
    const reconcile = await cli(fx, ['reconcile']);
    expect(reconcile.code, reconcile.stderr).toBe(4);
    expect(reconcile.stderr.match(/the CMS has no collection "authors"/g)).toHaveLength(1);
    expect(await fx.read(`${TAGS}/engineering.json`)).toContain('"Pulled anyway"');
    expect(writesIn(fx.emulator)).toEqual([]);
  });
});
