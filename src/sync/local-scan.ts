import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SyncConfig } from '../config/schema.js';
import { isContentPath, locateFile, pathForEntity, readContentFile } from '../content/index.js';
import { SyncError } from '../core/errors.js';
import { type EntityKey, entityKey, type LocalEntity, type Manifest } from '../core/types.js';

/** What the files say, plus the files that could not be read (each with its own error). */
export interface LocalScan {
  local: Map<EntityKey, LocalEntity>;
  errors: SyncError[];
  /** Entities the scan covered: everything for a full scan, the touched entities for a scoped one. */
  scope: Set<EntityKey> | undefined;
  filesRead: number;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Every file under the content dir's pages/ and collections/, repo-relative. Symlinks are not followed. */
async function listContentFiles(repoDir: string, config: SyncConfig): Promise<string[]> {
  const root = path.join(repoDir, config.contentDir);
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() && !entry.isSymbolicLink()) continue;
    const parent =
      (entry as { parentPath?: string; path?: string }).parentPath ?? (entry as { path: string }).path;
    files.push(toPosix(path.relative(repoDir, path.join(parent, entry.name))));
  }
  return files.sort();
}

async function readOne(
  repoDir: string,
  relPath: string,
  config: SyncConfig,
  local: Map<EntityKey, LocalEntity>,
  errors: SyncError[],
): Promise<boolean> {
  const abs = path.join(repoDir, relPath);
  let bytes: Buffer;
  try {
    const { lstat } = await import('node:fs/promises');
    const stat = await lstat(abs);
    if (stat.isSymbolicLink()) {
      errors.push(
        new SyncError(
          'CONTENT_PATH',
          'symbolic links are not synced (the target may lie outside the content folder)',
          {
            file: relPath,
          },
        ),
      );
      return false;
    }
    bytes = await readFile(abs);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    errors.push(
      new SyncError('CONTENT_PARSE', `cannot read file: ${(error as Error).message}`, { file: relPath }),
    );
    return false;
  }
  try {
    const { location, variant } = readContentFile(relPath, bytes, config);
    const key = entityKey(location.ref);
    const entity = local.get(key) ?? { key, ref: location.ref, locales: {} };
    const existing = entity.locales[location.locale];
    if (existing && existing.path !== relPath) {
      errors.push(
        new SyncError(
          'CONTENT_PATH',
          `two files hold the same entity and locale: ${existing.path} and ${relPath}`,
          {
            file: relPath,
            hint: 'Keep one of them (for example .md or .mdx, not both).',
          },
        ),
      );
      return true;
    }
    entity.locales[location.locale] = variant;
    local.set(key, entity);
  } catch (error) {
    errors.push(
      error instanceof SyncError
        ? error
        : new SyncError('CONTENT_PARSE', (error as Error).message, { file: relPath, cause: error }),
    );
  }
  return true;
}

/**
 * Read the content files into entities. With `paths`, only the entities those paths belong to are read
 * (all of their locale files, so an untouched locale is not mistaken for a deleted one). A full scan is
 * just the batch with every file in it (STYLE.md principle 5).
 */
export async function scanLocal(
  repoDir: string,
  config: SyncConfig,
  manifest: Manifest,
  paths?: string[],
): Promise<LocalScan> {
  const local = new Map<EntityKey, LocalEntity>();
  const errors: SyncError[] = [];
  let filesRead = 0;

  if (!paths) {
    const files = await listContentFiles(repoDir, config);
    for (const file of files) {
      if (!isContentPath(file, config)) {
        if (
          file.startsWith(`${config.contentDir}/pages/`) ||
          file.startsWith(`${config.contentDir}/collections/`)
        ) {
          errors.push(
            new SyncError('CONTENT_PATH', 'not a content file (unknown extension)', {
              file,
              hint: 'Use .md, .mdx, .markdown or .json, or move the file out of the content folder.',
            }),
          );
        }
        continue;
      }
      if (await readOne(repoDir, file, config, local, errors)) filesRead += 1;
    }
    return { local, errors, scope: undefined, filesRead };
  }

  const scope = new Set<EntityKey>();
  const candidates = new Set<string>();
  for (const raw of paths) {
    const rel = toPosix(path.isAbsolute(raw) ? path.relative(repoDir, raw) : path.normalize(raw));
    if (!isContentPath(rel, config)) continue;
    let key: EntityKey;
    try {
      const location = locateFile(rel, config);
      key = entityKey(location.ref);
      candidates.add(rel);
      for (const locale of config.locales.all) {
        try {
          candidates.add(pathForEntity(location.ref, locale, config));
        } catch {
          // an unsafe name cannot have a sibling file; the touched path itself reports the problem
        }
      }
    } catch (error) {
      errors.push(
        error instanceof SyncError ? error : new SyncError('CONTENT_PATH', String(error), { file: rel }),
      );
      continue;
    }
    scope.add(key);
    for (const known of Object.values(manifest.entities[key]?.locales ?? {})) {
      if (known.path) candidates.add(known.path);
    }
  }
  for (const file of [...candidates].sort()) {
    if (await readOne(repoDir, file, config, local, errors)) filesRead += 1;
  }
  return { local, errors, scope, filesRead };
}
