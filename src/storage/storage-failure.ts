// Local file-system failures that no retry mends, turned into StorageErrors that name the
// path and the reason, so a run fails at once instead of retrying for an hour. Node reports
// them as errno codes; DuckDB only as text holding the C library's message, e.g.
//   IO Error: Cannot open file "/data/…/.tmp-….parquet-partial": Permission denied
//   IO Error: Could not write file "/data/…": No space left on device
// (DuckDB 1.5.6), so that message is mapped back to its code. Anything else (a vanished
// file, EIO, EMFILE, a network file system hiccup) keeps its own behaviour.
import { StorageError } from '../domain/errors.ts';

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
};

/** strerror(3) text of each code above, in glibc's words. */
const CODE_OF_STRERROR: Readonly<Record<string, string>> = {
  'Permission denied': 'EACCES',
  'Operation not permitted': 'EPERM',
  'No space left on device': 'ENOSPC',
  'Disk quota exceeded': 'EDQUOT',
  'Read-only file system': 'EROFS',
  'Not a directory': 'ENOTDIR',
  'Is a directory': 'EISDIR',
};

const DUCKDB_IO_ERROR = /^IO Error: [^\n]*": ([^\n]+?)\s*$/m;

/** The errno code of a failure no retry mends, from Node or from DuckDB; undefined otherwise. */
export function permanentCode(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined) return code in REASONS ? code : undefined;
  const m = DUCKDB_IO_ERROR.exec(e.message);
  return m ? CODE_OF_STRERROR[m[1]!] : undefined;
}

/** Runs `fn`; a permanent failure becomes a StorageError naming `path`, anything else is rethrown. */
export async function guardStorage<T>(path: string, fn: () => Promise<T>, action: 'read' | 'write' = 'write'): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof StorageError) throw e; // an inner step already named a more precise path
    const code = permanentCode(e);
    if (code === undefined) throw e;
    throw new StorageError(path, `${REASONS[code]} (${code})`, action);
  }
}
