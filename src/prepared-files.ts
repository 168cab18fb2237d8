// Files dccd prepares once instead of on every start (the workflow bundle, the embedded
// database's template): built into dist/ by `npm run build`, or, run from the TypeScript
// sources, cached under node_modules/.cache/dccd by a key of what they are made from.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This module's folder: dist/ when running the build, src/ when running the sources. */
const HERE = fileURLToPath(new URL('.', import.meta.url));
const RUNNING_FROM_BUILD = extname(import.meta.url) === '.js';
export const PROJECT_ROOT = join(HERE, '..');

/** Where `builtName` is in the build; from the sources, the cache entry `cacheName()` names. */
export async function preparedPath(builtName: string, cacheName: () => Promise<string> | string): Promise<string> {
  return RUNNING_FROM_BUILD ? join(HERE, builtName) : join(PROJECT_ROOT, 'node_modules', '.cache', 'dccd', await cacheName());
}

/**
 * Makes `path` (a file or a folder) with `make`, whole or not at all: another process may be
 * reading or preparing the same entry, so it is made under a name of this process's, then
 * renamed into place. Returns `path`; one already there is kept.
 */
export async function prepareOnce(path: string, make: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(path)) return path;
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await make(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    // Another process finished the same entry first: a folder cannot be renamed over.
    if (!existsSync(path)) throw e;
  }
  return path;
}
