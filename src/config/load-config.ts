import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { SyncError } from '../core/errors.js';
import { didYouMean, fieldTypes, keysAt } from './config-hints.js';
import { checkConfigRules } from './rules.js';
import {
  type CollectionModel,
  type ConfigProblem,
  configSchema,
  expandFieldMap,
  type PageTypeModel,
  type SyncConfig,
} from './schema.js';

/** What loading a config found: the config when it has no errors, and every problem located by path. */
export interface ConfigResult {
  config: SyncConfig | null;
  warnings: ConfigProblem[];
  errors: ConfigProblem[];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

/** The raw value at `path` of the config as written (to say what was given, not only what was wrong). */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/** A field spec is one of several forms: say which types exist, or what is wrong with the form that was meant. */
function fieldSpecProblems(issue: z.core.$ZodIssue, raw: unknown): ConfigProblem[] {
  const at = formatPath(issue.path);
  const given = valueAt(raw, issue.path);
  const types = fieldTypes();
  const typeName = typeof given === 'string' ? given : (given as { type?: unknown } | undefined)?.type;
  const list = `the field types are: ${types.join(', ')}`;
  if (typeof typeName !== 'string') {
    return [
      {
        path: at,
        message: `a field is a type name ("text") or an object with a "type" ({"type": "reference", "to": "page"}); ${list}`,
      },
    ];
  }
  if (!types.includes(typeName)) {
    const near = didYouMean(typeName, types);
    return [
      {
        path: at,
        message: `"${typeName}" is not a field type${near ? ` (did you mean "${near}"?)` : ''}; ${list}`,
      },
    ];
  }
  // The type is known: the problem is in the rest of that form (a key missing, misspelt or of the wrong type).
  if (issue.code !== 'invalid_union') return [];
  // Other forms fail on the whole value (a bare name, an object) or on "type"; the meant one fails inside.
  const otherForm = (i: z.core.$ZodIssue) =>
    ((i.code === 'invalid_value' || i.code === 'invalid_type') && i.path.length === 0) ||
    (i.code === 'invalid_value' && i.path.length === 1 && i.path[0] === 'type');
  const meant = issue.errors.find((branch) => !branch.some(otherForm)) ?? [];
  return meant.flatMap((inner) =>
    zodProblem({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, raw),
  );
}

function zodProblem(issue: z.core.$ZodIssue, raw: unknown): ConfigProblem[] {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const valid = keysAt(issue.path, (valueAt(raw, issue.path) as { type?: unknown } | undefined)?.type);
    const guesses = issue.keys.map((key) => ({ key, near: didYouMean(key, valid) }));
    const named = guesses.map(({ key, near }) => (near ? `"${key}" (did you mean "${near}"?)` : `"${key}"`));
    return [
      {
        path: at,
        message: `unknown key(s): ${named.join(', ')}`,
        hint: valid.length ? `The keys here are: ${valid.join(', ')}.` : 'Remove the key.',
      },
    ];
  }
  const inFieldMap = issue.path.length >= 2 && issue.path[issue.path.length - 2] === 'fields';
  if (inFieldMap && (issue.code === 'invalid_union' || issue.code === 'invalid_value')) {
    const problems = fieldSpecProblems(issue, raw);
    if (problems.length) return problems;
  }
  if (issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined) {
    return [{ path: at, message: `required, and missing (expected ${issue.expected})` }];
  }
  return [{ path: at, message: issue.message }];
}

function zodProblems(error: z.ZodError, raw: unknown): ConfigProblem[] {
  return error.issues.flatMap((issue) => zodProblem(issue, raw));
}

/** parse → validate (zod) → cross-field rules → `{config, warnings, errors}` (changesets' config pipeline). */
export function parseConfig(raw: unknown): ConfigResult {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) return { config: null, warnings: [], errors: zodProblems(parsed.error, raw) };
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
    // The file is named once, by describe(): `file:line: not valid JSON …`.
    throw new SyncError('CONFIG_INVALID', `not valid JSON: ${(error as Error).message}`, {
      file,
      hint: 'Fix the JSON syntax at that line (a missing comma, quote or brace is the usual cause; JSON allows no comments or trailing commas).',
      ...(line ? { line } : {}),
    });
  }
  const result = parseConfig(raw);
  if (!result.config) {
    const list = result.errors
      .map((e) => `  - ${e.path}: ${e.message}${e.hint ? ` (${e.hint})` : ''}`)
      .join('\n');
    throw new SyncError('CONFIG_INVALID', `${result.errors.length} problem(s) in the config:\n${list}`, {
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
