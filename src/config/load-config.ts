import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { SyncError } from '../core/errors.js';
import { checkConfigRules } from './rules.js';
import {
  type CollectionModel,
  configSchema,
  expandFieldMap,
  type PageTypeModel,
  type SyncConfig,
} from './schema.js';

/** One problem in the config, located by its JSON path (`collections.team.keyField`). */
export interface ConfigProblem {
  path: string;
  message: string;
  hint?: string;
}

export interface ConfigResult {
  config: SyncConfig | null;
  warnings: ConfigProblem[];
  errors: ConfigProblem[];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function zodProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.code === 'unrecognized_keys' ? `unknown key(s): ${issue.keys.join(', ')}` : issue.message,
    hint:
      issue.code === 'unrecognized_keys'
        ? 'Remove the key or check its spelling against sync.config.schema.json.'
        : undefined,
  })) as ConfigProblem[];
}

/** parse → validate (zod) → cross-field rules → `{config, warnings, errors}` (changesets' config pipeline). */
export function parseConfig(raw: unknown): ConfigResult {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) return { config: null, warnings: [], errors: zodProblems(parsed.error) };
  const data = parsed.data;
  const config: SyncConfig = {
    ...data,
    pageTypes: Object.fromEntries(
      Object.entries(data.pageTypes).map(([k, v]): [string, PageTypeModel] => [
        k,
        { bodyField: v.bodyField, fields: expandFieldMap(v.fields), slugs: v.slugs, gitOnly: v.gitOnly },
      ]),
    ),
    singlePages: Object.fromEntries(
      Object.entries(data.singlePages).map(([k, v]) => [
        k,
        { fields: expandFieldMap(v.fields), gitOnly: v.gitOnly },
      ]),
    ),
    collections: Object.fromEntries(
      Object.entries(data.collections).map(([k, v]): [string, CollectionModel] => [
        k,
        { keyField: v.keyField, fields: expandFieldMap(v.fields), gitOnly: v.gitOnly },
      ]),
    ),
  };
  const { warnings, errors } = checkConfigRules(config);
  return { config: errors.length ? null : config, warnings, errors };
}

/** Read and validate a config file; throws CONFIG_NOT_FOUND / CONFIG_INVALID with every problem listed. */
export async function loadConfig(file: string): Promise<{ config: SyncConfig; warnings: ConfigProblem[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SyncError('CONFIG_NOT_FOUND', `Cannot read config file ${file}`, { file, cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const line = lineOfJsonError(text, error);
    throw new SyncError('CONFIG_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, {
      file,
      ...(line ? { line } : {}),
    });
  }
  const result = parseConfig(raw);
  if (!result.config) {
    const list = result.errors
      .map((e) => `  - ${e.path}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`)
      .join('\n');
    throw new SyncError('CONFIG_INVALID', `${file} has ${result.errors.length} problem(s):\n${list}`, {
      file,
      details: { errors: result.errors },
    });
  }
  return { config: result.config, warnings: result.warnings };
}

/** Node's JSON.parse errors carry a character position; turn it into a 1-based line. */
export function lineOfJsonError(text: string, error: unknown): number | undefined {
  const match = /position (\d+)/.exec(String((error as Error)?.message ?? ''));
  if (!match) return undefined;
  const pos = Number(match[1]);
  return text.slice(0, pos).split('\n').length;
}
