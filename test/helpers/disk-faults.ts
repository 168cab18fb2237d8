// Command prefixes that put a child process in front of a disk that really refuses it. Tests
// run as root (CI does too), which permission bits do not stop, so a test that wants
// EACCES, EROFS or ENOSPC runs its child as root without the capabilities that override
// permissions (on folders `lockForWriting` gave away), or in a mount namespace of its own
// where a folder is read-only or a tiny tmpfs; the mounts vanish with the child. (A child
// run as another user would also need to read the project, which a checkout in a private
// folder does not allow.)
import { chmod, chown, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const NOBODY = 65534;
const OVERRIDES = '-dac_override,-dac_read_search';

/** As root that permission bits bind again: no CAP_DAC_OVERRIDE, no CAP_DAC_READ_SEARCH. */
export const withoutOverride = (): string[] => ['setpriv', `--bounding-set=${OVERRIDES}`, `--inh-caps=${OVERRIDES}`];

/** Makes everything under `dir` nobody's and read-only: a withoutOverride child may read, not write. */
export async function lockForWriting(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await lockForWriting(join(dir, e.name));
    else await lockFile(join(dir, e.name), 0o444);
  }
  await lockFile(dir, 0o555);
}

async function lockFile(path: string, mode: number): Promise<void> {
  await chown(path, NOBODY, NOBODY);
  await chmod(path, mode);
}

/** With `dir` read-only (a bind mount over itself): EROFS for any write under it. */
export const withReadOnly = (dir: string): string[] => inMountNamespace('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"', dir);

/** With an empty tmpfs of `size` (e.g. '64k') mounted at `dir`: ENOSPC once it is full. */
export const withTinyDisk = (dir: string, size: string): string[] => inMountNamespace(`mount -t tmpfs -o size=${size} tmpfs "$0"`, dir);

/** Runs `setup` (a shell command; $0 is `dir`) in a new mount namespace, then execs the command that follows. */
const inMountNamespace = (setup: string, dir: string): string[] => ['unshare', '--mount', 'sh', '-c', `${setup} && exec "$@"`, dir];
