// File-system steps of a crash-safe write: data reaches the disk before its name appears,
// and the rename is on disk before the write reports success.
import { mkdir, open, rmdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory so a rename in it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some platforms and file systems cannot fsync a directory; the rename still holds.
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh.close();
  }
}

/** Removes each directory if it is empty; leaves it when anything is left in it. */
export async function removeEmptyDirs(dirs: Iterable<string>): Promise<void> {
  for (const dir of dirs) {
    await rmdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST' && e.code !== 'ENOENT') throw e;
    });
  }
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
}

/**
 * mkdir -p that says why it failed. Node's recursive mkdir turns EROFS into ENOENT
 * (nodejs/node#47098), which reads as a transient race: on ENOENT, creating the first missing
 * folder alone surfaces the real error. A file where a folder should be (EEXIST) is reported
 * as ENOTDIR, which is what any write below it would meet.
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', path: dir });
    if (code !== 'ENOENT') throw e;
    let missing = dir;
    while (dirname(missing) !== missing && !(await fileExists(dirname(missing)))) missing = dirname(missing);
    await mkdir(missing).catch((inner: NodeJS.ErrnoException) => {
      if (inner.code !== 'EEXIST') throw inner;
    });
    await mkdir(dir, { recursive: true }); // a folder was removed meanwhile: once more
  }
}
