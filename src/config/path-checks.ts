// Checks that a path the user gave will serve before any work starts: the data folder
// (`data`, DCCD_DATA) and an output file (`read --out`). A bad one is one line naming the
// field, the path and the reason, instead of a raw errno deep in a run, or a hang.
//
// This lives in config/ rather than storage/: it is the last check of a configured value,
// against the machine, made once by the commands before they build anything; the store,
// the embedded Temporal server and PGlite all take a usable folder for granted.
//
// Folders are made one level at a time, never with mkdir's `recursive` flag: procfs answers
// mkdir of a new name with ENOENT although the parent exists, and Node's recursive mkdir
// takes ENOENT for a missing parent and retries it forever at 100 % CPU (sync and async
// alike) — which is how `DCCD_DATA=/proc/x dccd start` used to hang.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { ValidationError } from '../domain/errors.ts';

/**
 * The data folder: with `write`, created if missing and proved writable by creating and
 * removing a probe file in {data}/.dccd/ (which it creates too); without, only refused when
 * it exists and is not a folder (a command that reads finds no data in a missing folder).
 */
export async function checkDataFolder(path: string, opts: { write: boolean }): Promise<void> {
  const fail = (reason: string) => new ValidationError('data', reason);
  const { existing, missing } = await nearestExisting(path, fail);
  if (!existing.isFolder) {
    if (missing.length === 0) throw fail(`${path} is a file, not a folder`);
    throw fail(`cannot ${opts.write ? 'create' : 'read'} ${path}: ${existing.path} is a file, not a folder`);
  }
  if (!opts.write) return;
  for (const dir of missing) {
    await makeFolder(dir).catch((e: unknown) => {
      throw fail(`cannot create ${dir} (${explain(e)})`);
    });
  }
  const state = join(path, '.dccd');
  try {
    await makeFolder(state);
    await probeWrite(state);
  } catch (e) {
    throw fail(`${path} is not writable (${explain(e)})`);
  }
}

/** A file to be written: not a folder, in an existing folder where a file can be created. */
export async function checkOutFile(path: string, field: string): Promise<void> {
  const fail = (reason: string) => new ValidationError(field, reason);
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw fail(`${path} is a folder (EISDIR)`);
  const dir = dirname(path);
  const { existing, missing } = await nearestExisting(dir, fail);
  if (!existing.isFolder) throw fail(`cannot write ${path}: ${existing.path} is a file, not a folder (ENOTDIR)`);
  if (missing.length > 0) throw fail(`cannot write ${path}: folder ${dir} does not exist (ENOENT)`);
  await probeWrite(dir).catch((e: unknown) => {
    throw fail(`cannot write ${path} (${explain(e)})`);
  });
}

/** The deepest ancestor-or-self of `path` that exists, and the folders below it still missing (top first). */
async function nearestExisting(path: string, fail: (reason: string) => Error) {
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = await stat(p);
      return { existing: { path: p, isFolder: s.isDirectory() }, missing: missing.reverse() };
    } catch (e) {
      // ENOTDIR: some ancestor is a file; walking up finds it.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw fail(`cannot use ${path} (${explain(e)})`);
      missing.push(p);
    }
  }
}

/** One level of mkdir; an existing folder is fine (another process may have just made it). */
async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(dir)).isDirectory()) return;
    throw e;
  }
}

async function probeWrite(dir: string): Promise<void> {
  const probe = join(dir, `.dccd-write-probe-${process.pid}`);
  try {
    await writeFile(probe, '', { flag: 'wx' });
  } finally {
    await rm(probe, { force: true });
  }
}

/**
 * `EACCES: permission denied`, in the system's words, but for procfs's misleading ENOENT:
 * names are made only in folders known to exist, so ENOENT there means the folder takes none.
 */
function explain(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.errno !== 'number') throw e;
  if (err.code === 'ENOENT' && err.path && (err.syscall === 'mkdir' || err.syscall === 'open')) {
    return `ENOENT: ${dirname(err.path)} does not accept new ${err.syscall === 'mkdir' ? 'folders' : 'files'}`;
  }
  const [code, message] = getSystemErrorMap().get(err.errno) ?? [err.code, err.message];
  return `${code}: ${message}`;
}
