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
 * mkdir -p, one level at a time. Node's recursive mkdir misreports: a read-only file system
 * comes back as ENOENT (nodejs/node#47098), which reads as a transient race, and on procfs,
 * which answers ENOENT for any new name, it retries forever. Made level by level, each mkdir
 * fails with its own reason. A file where a folder should be (EEXIST) is reported as
 * ENOTDIR, which is what any write below it would meet.
 */
export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; !(await isFolder(d)) && dirname(d) !== d; d = dirname(d)) missing.push(d);
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (await isFolder(d)) continue; // made meanwhile by another writer
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR', path: dir });
    }
  }
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
