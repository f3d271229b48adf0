import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

// No Docker engine runs on our machines: these checks read the Dockerfile for the essentials,
// and test/e2e/image-steps.sh replays its steps for real.
const dockerfile = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
const dockerignore = await readFile(new URL('../../.dockerignore', import.meta.url), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const froms = instructions.filter((line) => line.startsWith('FROM '));
const finalStage = instructions.slice(instructions.lastIndexOf(froms.at(-1) ?? ''));

describe('Dockerfile', () => {
  it('is multi-stage on a Node 22 slim base', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:22(\.\d+)*-(bookworm-)?slim\b/);
  });

  it('installs git and tini in the runtime image and enters through tini', () => {
    const runs = finalStage.filter((l) => l.startsWith('RUN ')).join('\n');
    expect(runs).toMatch(/apt-get install[^\n]*\bgit\b/);
    expect(runs).toMatch(/apt-get install[^\n]*\btini\b/);
    const entrypoint = finalStage.find((l) => l.startsWith('ENTRYPOINT '));
    expect(JSON.parse(entrypoint?.slice('ENTRYPOINT '.length) ?? 'null')?.[0]).toMatch(/tini$/);
  });

  it('runs as a non-root user', () => {
    const users = finalStage.filter((l) => l.startsWith('USER '));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)\b/);
  });

  it('runs watch with an exec-form CMD', () => {
    const cmd = finalStage.find((l) => l.startsWith('CMD '));
    const args = JSON.parse(cmd?.slice('CMD '.length) ?? 'null') as string[];
    expect(Array.isArray(args)).toBe(true);
    expect(args[0]).toBe('watch');
  });

  it('logs pino JSON lines in the container (human lines stay the default elsewhere)', () => {
    expect(finalStage).toContain('ENV BUTTER_SYNC_LOG_FORMAT=json');
  });

  it('has a HEALTHCHECK that needs no curl', () => {
    const health = finalStage.find((l) => l.startsWith('HEALTHCHECK '));
    expect(health).toBeDefined();
    expect(health).toContain('/healthz');
    expect(health).not.toMatch(/curl|wget/);
  });

  it('declares the content repo as a volume and marks it safe for git', () => {
    expect(finalStage.some((l) => l.startsWith('VOLUME ') && l.includes('/content'))).toBe(true);
    expect(finalStage.join('\n')).toMatch(/safe\.directory\s+\/content/);
  });

  it('installs from the lock file and keeps dev dependencies out of the runtime image', () => {
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });

  it('has a .dockerignore that keeps local state and dependencies out of the build context', () => {
    const ignored = dockerignore.split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', '.git', '.butter-sync', 'dist']) expect(ignored).toContain(entry);
  });
});
