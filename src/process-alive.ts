// Whether a process still runs, by pid: lock files, temp files and daemon.json name their
// writer, and what a dead process left behind is taken over or removed.
export function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
