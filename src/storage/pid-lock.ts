// A lock file holding the pid of the one process allowed to use a resource (the embedded
// database's folder). It is created with its content in one step (a hard link of a file
// already written), so a reader never sees it empty. A lock whose process is gone is stale
// and is taken over, so a crashed process never keeps it.
import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../process-alive.ts';

export interface PidLock {
  readonly path: string;
  /** Deletes the lock file if it is still this process's. */
  release(): Promise<void>;
}

/** Lock paths this process holds: its own pid in a lock it does not hold is a previous run's. */
const heldHere = new Set<string>();
const TAKEOVER_POLL_MS = 10;

/** Takes the lock at `path`, or answers the pid of the live process that holds it. */
export async function tryLock(path: string): Promise<PidLock | { ownerPid: number }> {
  for (;;) {
    if (await createWithPid(path)) return { path, release: () => release(path) };
    const owner = await readLock(path);
    if (owner === undefined) continue; // released since we tried
    if (!isStale(path, owner.pid)) return { ownerPid: owner.pid };
    await removeStale(path, owner.text);
  }
}

async function release(path: string): Promise<void> {
  if (!heldHere.delete(path)) return;
  if ((await readLock(path))?.pid === process.pid) await rm(path, { force: true });
}

/** Creates `path` holding this pid; false when it already exists. */
async function createWithPid(path: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${process.pid}\n`);
  try {
    await link(tmp, path);
    heldHere.add(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The lock's content and pid (NaN when it holds no pid); undefined when there is no lock. */
async function readLock(path: string): Promise<{ text: string; pid: number } | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    return { text, pid: /^\d+\n?$/.test(text) ? Number.parseInt(text, 10) : Number.NaN };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Whether the process named in a lock is gone. A pid reused after a restart (containers
 * start from the same few pids) may name this very process: then only a lock this
 * process took itself is held.
 */
function isStale(path: string, pid: number): boolean {
  return pid === process.pid ? !heldHere.has(path) : !isAlive(pid);
}

/**
 * Deletes a stale lock unless it changed since it was read. Two processes that find the same
 * stale lock could otherwise both delete it, the slower one deleting the lock the faster
 * one has just taken; a guard file lets one of them check-and-delete at a time.
 */
async function removeStale(path: string, staleText: string): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await createWithPid(guard))) {
    const holder = await readLock(guard);
    // A process that died during the microseconds of a takeover leaves its guard behind.
    if (holder && isStale(guard, holder.pid)) await rm(guard, { force: true });
    await sleep(TAKEOVER_POLL_MS);
    return;
  }
  try {
    if ((await readLock(path))?.text === staleText) await rm(path, { force: true });
  } finally {
    await release(guard);
  }
}
