// Command prefixes that put a child process in front of a disk that really refuses it. Tests
// run as root (CI does too), which permission bits do not stop, so a test that wants
// EACCES, EROFS or ENOSPC runs its child as nobody, or in a mount namespace of its own where
// a folder is read-only or a tiny tmpfs; the mounts vanish with the child.

/** As the unprivileged user nobody: permission bits apply again. */
export const asNobody = (): string[] => ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

/** With `dir` read-only (a bind mount over itself): EROFS for any write under it. */
export const withReadOnly = (dir: string): string[] => inMountNamespace('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"', dir);

/** With an empty tmpfs of `size` (e.g. '64k') mounted at `dir`: ENOSPC once it is full. */
export const withTinyDisk = (dir: string, size: string): string[] => inMountNamespace(`mount -t tmpfs -o size=${size} tmpfs "$0"`, dir);

/** Runs `setup` (a shell command; $0 is `dir`) in a new mount namespace, then execs the command that follows. */
const inMountNamespace = (setup: string, dir: string): string[] => ['unshare', '--mount', 'sh', '-c', `${setup} && exec "$@"`, dir];
