// {data}/.dccd/daemon.json: how a client finds the dccd that serves *its* data folder. The
// process hosting the folder's embedded Temporal server (a `dccd start`, or a one-shot command
// while it runs) writes it once its server and worker are up and removes it when it stops; a
// client trusts it only while the pid named in it is alive. Nothing ever attaches to a server
// because something answers on a port.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isAlive } from '../process-alive.ts';

const DaemonStateSchema = z.object({
  pid: z.number().int().positive(),
  /** 'start': a `dccd start`, there until stopped. 'command': a one-shot command, there while it runs. */
  role: z.enum(['start', 'command']),
  /** What the user ran, for messages: 'dccd start', 'dccd backfill binance BTCUSDT ...'. */
  command: z.string(),
  dataPath: z.string(),
  version: z.string(),
  startedAt: z.string(),
  temporal: z.object({
    address: z.string(),
    namespace: z.string(),
    taskQueue: z.string(),
    uiUrl: z.string().optional(),
  }),
  apiUrl: z.string().optional(),
  /** The venue URLs its worker uses: a client whose own differ is told so. */
  exchanges: z.record(z.string(), z.object({ restUrl: z.string().optional(), wsUrl: z.string().optional() })),
});

export type DaemonState = z.infer<typeof DaemonStateSchema>;

export const stateDir = (dataPath: string): string => join(dataPath, '.dccd');
export const daemonStatePath = (dataPath: string): string => join(stateDir(dataPath), 'daemon.json');

/** The live daemon of `dataPath`, or undefined when none runs (no file, a dead pid, a file from another layout). */
export async function findDaemon(dataPath: string): Promise<DaemonState | undefined> {
  let text: string;
  try {
    text = await readFile(daemonStatePath(dataPath), 'utf8');
  } catch (e) {
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // written by a process killed mid-write of an older version: not trustworthy
  }
  const state = DaemonStateSchema.safeParse(parsed);
  if (!state.success || !isAlive(state.data.pid)) return undefined;
  return state.data;
}

/** "dccd start (pid 123, API http://127.0.0.1:8080)" */
export function describeDaemon(d: DaemonState): string {
  return `${d.command} (pid ${d.pid}${d.apiUrl ? `, API ${d.apiUrl}` : ''})`;
}
