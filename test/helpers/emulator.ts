import { readFile } from 'node:fs/promises';
import { parseConfig } from '../../src/config/load-config.js';
import type { SyncConfig } from '../../src/config/schema.js';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js';

export const TEST_READ_TOKEN = 'test-read-token';
export const TEST_WRITE_TOKEN = 'test-write-token';

/** The example content model (faq, article, homepage, tags, team_members; locales en + es). */
export async function loadExampleConfig(): Promise<SyncConfig> {
  const text = await readFile(new URL('../../sync.config.json', import.meta.url), 'utf8');
  const result = parseConfig(JSON.parse(text));
  if (!result.config) throw new Error(`sync.config.json is invalid: ${JSON.stringify(result.errors)}`);
  return result.config;
}

/** An emulator on 127.0.0.1 with a random port, the example config and the test tokens; close it in afterAll/afterEach. */
export async function startTestEmulator(options: Partial<EmulatorOptions> = {}): Promise<EmulatorHandle> {
  return startEmulator({
    config: options.config ?? (await loadExampleConfig()),
    readToken: TEST_READ_TOKEN,
    writeToken: TEST_WRITE_TOKEN,
    port: 0,
    ...options,
  });
}

export interface EmulatorCall {
  method?: string;
  /** Defaults to the write token (accepted for reads too); `null` sends no Authorization header. */
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One raw HTTP call against the emulator's API (no redirects followed); the body parsed as JSON when present. */
export async function callEmulator(
  em: EmulatorHandle,
  path: string,
  init: EmulatorCall = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect response bodies ad hoc; the assertions are the type check
): Promise<{ status: number; headers: Headers; json: any }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.authorization = `Token ${init.token ?? TEST_WRITE_TOKEN}`;
  if (init.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${em.origin}${path}`, {
    method: init.method ?? 'GET',
    headers,
    redirect: 'manual',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}
