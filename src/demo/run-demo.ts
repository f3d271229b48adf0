import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { startEmulator } from '../emulator/index.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = path.join(root, 'dist/cli/main.js');
const READ = 'demo-read-token';
const WRITE = 'demo-write-token';
const SECRET = 'demo-webhook-secret';

const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[22m` : s);
function say(step: string, text: string): void {
  process.stdout.write(`\n${bold(step)}\n${text}\n`);
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await exec('git', args, { cwd })).stdout.trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * `npm run demo`: both directions against the bundled emulator, explained step by step, on a temp copy
 * of content-example/. Needs nothing but `npm ci` (no account, no network beyond 127.0.0.1). Rejects on the
 * first failed step; `cli/demo.ts` turns that into the exit code (only `cli/` exits the process).
 */
export async function runDemo(): Promise<void> {
  const repo = await mkdtemp(path.join(os.tmpdir(), 'butter-sync-demo-'));
  let daemon: ChildProcess | undefined;
  const { config } = await loadConfig(path.join(root, 'sync.config.json'));
  const emulator = await startEmulator({
    config,
    readToken: READ,
    writeToken: WRITE,
    port: 0,
    applyDelayMs: 300,
  });
  const env = {
    ...process.env,
    BUTTER_API_URL: emulator.url,
    BUTTER_READ_TOKEN: READ,
    BUTTER_WRITE_TOKEN: WRITE,
    BUTTER_WEBHOOK_SECRET: SECRET,
  };
  try {
    say(
      '1. A content repository',
      `Copying content-example/ and sync.config.json into a new git repository at ${repo}.\n` +
        'Writers edit these Markdown and JSON files; sync.config.json describes the ButterCMS content model.',
    );
    await cp(path.join(root, 'content-example'), path.join(repo, 'content-example'), { recursive: true });
    const rawConfig = JSON.parse(await readFile(path.join(root, 'sync.config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    delete rawConfig.$schema;
    rawConfig.pull = { ...(rawConfig.pull as object), intervalSeconds: 0, fetchIntervalSeconds: 0 };
    await writeFile(path.join(repo, 'sync.config.json'), `${JSON.stringify(rawConfig, null, 2)}\n`);
    await writeFile(path.join(repo, '.gitignore'), '.butter-sync/\n');
    await git(repo, 'init', '-q', '-b', 'main');
    await git(repo, 'config', 'user.email', 'writer@example.com');
    await git(repo, 'config', 'user.name', 'Demo Writer');
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'Our content');

    say(
      '2. A stand-in for ButterCMS',
      `The bundled emulator speaks the ButterCMS API at ${emulator.url}. It is empty, and like the real\n` +
        'service it answers writes with "202 pending" and applies them a moment later.',
    );

    say(
      '3. First sync',
      'Running `butter-sync reconcile`: every entity exists only in git, so each is created in the CMS.',
    );
    const first = await exec(process.execPath, [cli, 'reconcile', '--repo', repo, '--log-level', 'warn'], {
      env,
    }).catch((error: { stdout?: string; code?: number }) => error);
    process.stdout.write(`${(first as { stdout?: string }).stdout ?? ''}`);

    const port = await freePort();
    say(
      '4. The daemon',
      `Starting \`butter-sync watch\` (files → ButterCMS; webhooks → files) with health checks on port ${port}\nand its web console at http://127.0.0.1:${port}/ while the demo runs.`,
    );
    daemon = spawn(
      process.execPath,
      [
        cli,
        'watch',
        '--repo',
        repo,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--no-fetch',
        '--log-level',
        'warn',
      ],
      {
        env,
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    await waitFor('the daemon to answer /healthz', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    });
    emulator.setWebhooks([
      { url: `http://127.0.0.1:${port}${config.webhook.path}`, headers: { [config.webhook.header]: SECRET } },
    ]);

    say(
      '5. A writer edits a file',
      'Changing the role of Ada Lovelace in content-example/collections/team_members/ada-lovelace.json.\n' +
        'The daemon sees the save and sends one PATCH carrying only the changed field.',
    );
    const memberFile = path.join(repo, 'content-example/collections/team_members/ada-lovelace.json');
    await writeFile(
      memberFile,
      (await readFile(memberFile, 'utf8')).replace('Head of Content', 'Editor in Chief'),
    );
    const patched = await waitFor('the edit to reach the CMS', async () => {
      const item = await readItem(emulator.url, 'ada-lovelace');
      return item?.role === 'Editor in Chief' ? item : undefined;
    });
    const patch = emulator
      .requestLog()
      .filter((r) => r.method === 'PATCH')
      .at(-1);
    process.stdout.write(
      `   CMS now says role = "${String(patched.role)}" (request: PATCH ${patch?.path} ${patch?.body ?? ''})\n`,
    );

    say(
      '6. An editor changes the dashboard',
      "An editor renames Grace Hopper's role in ButterCMS (here: a PATCH through the Write API).\n" +
        'ButterCMS fires a webhook; the daemon pulls that one item, rewrites only the changed key and commits.',
    );
    const grace = await readItem(emulator.url, 'grace-hopper');
    const id = (grace?.meta as { id?: number } | undefined)?.id;
    const response = await fetch(`${emulator.url}/content/team_members/${id}/`, {
      method: 'PATCH',
      headers: { Authorization: `Token ${WRITE}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ fields: { role: 'Principal Engineer' } }),
    });
    process.stdout.write(`   Write API answered ${response.status} ${await response.text()}\n`);
    const commit = await waitFor('the pull commit', async () => {
      const log = await git(repo, 'log', '-1', '--format=%H%n%B');
      return log.includes('Butter-Sync: pull') ? log.split('\n')[0] : undefined;
    });
    const diff = await git(repo, 'show', '--stat', '--format=%s%n%n%b', commit ?? 'HEAD');
    process.stdout.write(`${diff.replace(/^/gm, '   ')}\n`);
    const lines = await git(repo, 'show', '--format=', '-U0', commit ?? 'HEAD');
    process.stdout.write(
      `${lines
        .split('\n')
        .filter((l) => /^[-+]\s/.test(l))
        .map((l) => `   ${l}`)
        .join('\n')}\n`,
    );

    say(
      '7. Rich text both ways',
      'The article body is Markdown in git and HTML in ButterCMS (a WYSIWYG field): the bold word\n' +
        '"**butter-sync**" in content-example/pages/article/hello-world.md reached the CMS as <strong>.',
    );
    const article = await readPage(emulator.url, 'article', 'hello-world');
    const sentHtml = String(article?.fields?.body ?? '');
    process.stdout.write(`   CMS body: ${sentHtml.replace(/\n/g, '\n             ')}\n`);
    process.stdout.write(
      "   An editor italicises a word in the dashboard's WYSIWYG editor; the daemon pulls it back as Markdown,\n" +
        '   rewriting only that paragraph:\n',
    );
    const before = commit;
    const pageEdit = await fetch(`${emulator.url}/pages/*/hello-world/?locale=en`, {
      method: 'PATCH',
      headers: { Authorization: `Token ${WRITE}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        status: 'draft',
        fields: { body: sentHtml.replace('our marketing team', 'our <em>marketing</em> team') },
      }),
    });
    process.stdout.write(`   Write API answered ${pageEdit.status}\n`);
    const richCommit = await waitFor('the rich-text pull commit', async () => {
      const log = await git(repo, 'log', '-1', '--format=%H%n%B');
      const head = log.split('\n')[0];
      return log.includes('Butter-Sync: pull') && head !== before ? head : undefined;
    });
    const richLines = await git(repo, 'show', '--format=', '-U0', richCommit ?? 'HEAD');
    process.stdout.write(
      `${richLines
        .split('\n')
        .filter((l) => /^[-+][^-+]/.test(l))
        .map((l) => `   ${l}`)
        .join('\n')}\n`,
    );

    say(
      '8. Done',
      "Both directions worked: a file edit reached ButterCMS, and an editor's change came back as a commit\n" +
        '(rich text as Markdown in the file, HTML in the CMS),\n' +
        'with the "Butter-Sync: pull" trailer (which the post-commit hook skips, so nothing echoes back).\n' +
        'Next: read README.md to run butter-sync on your own content.',
    );
  } finally {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    await emulator.close();
    await rm(repo, { recursive: true, force: true });
  }
}

async function readPage(
  apiUrl: string,
  pageType: string,
  slug: string,
): Promise<{ fields?: Record<string, unknown> } | undefined> {
  const url = `${apiUrl}/pages/${pageType}/${slug}/?auth_token=${READ}&preview=1&locale=en`;
  const body = (await (await fetch(url)).json()) as { data?: { fields?: Record<string, unknown> } };
  return body.data;
}

async function readItem(apiUrl: string, slug: string): Promise<Record<string, unknown> | undefined> {
  const url = `${apiUrl}/content/team_members/?auth_token=${READ}&preview=1&fields.slug=${slug}`;
  const body = (await (await fetch(url)).json()) as {
    data?: { team_members?: Array<Record<string, unknown>> };
  };
  return body.data?.team_members?.[0];
}
