// Local ports dccd listens on: whether one is free, and, when it is not, which process holds
// it — so a clash is one line naming the other process instead of a silent attach to it.
// The holder is found through /proc (Linux); elsewhere the message says only that it is busy.
import { readFile, readdir, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { ValidationError } from '../domain/errors.ts';

/** Whether `host:port` can be listened on right now. */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * Ports handed out lately: the kernel may give a port just closed to the next bind of port 0,
 * and two picks in a row (a server's gRPC and UI ports) must differ.
 */
const handedOut = new Set<number>();
const REMEMBERED = 1000;

/** A free port on `host`, chosen by the kernel, and not one handed out before. */
export async function ephemeralPort(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = await anyFreePort(host);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (handedOut.size > REMEMBERED) handedOut.delete(handedOut.values().next().value!);
    return port;
  }
}

function anyFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const addr = probe.address();
      probe.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface PortHolder {
  pid: number;
  /** Its command line, arguments joined by spaces. */
  command: string;
  /** Parent pid, to tell a server dccd spawned from one it did not. */
  ppid: number;
}

const LISTEN = '0A';

/** The process listening on TCP `port` (any address), when /proc can tell. */
export async function portHolder(port: number): Promise<PortHolder | undefined> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || cols[3] !== LISTEN) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(cols[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) return describeProcess(Number(entry));
    }
  }
  return undefined;
}

async function describeProcess(pid: number): Promise<PortHolder> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the parenthesised command name: state, ppid, ...
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
  return { pid, command: cmdline.split('\0').filter(Boolean).join(' '), ppid };
}

/** "pid 123, the embedded Temporal server of dccd data folder /srv/data", "pid 99, dccd start", or "pid 7 (nginx: master)". */
export function describeHolder(h: PortHolder | undefined): string {
  if (!h) return 'another process';
  const db = /--db-filename (\S+)\/\.dccd\/temporal\.db/.exec(h.command);
  if (db) return `pid ${h.pid}, the embedded Temporal server of dccd data folder ${db[1]}`;
  // dccd's entry points: bin/dccd(.js), or its main module from src/ or dist/.
  const dccd = /(?:^|\s)\S*(?:\/bin\/dccd(?:\.js)?|\/cli\/main\.[jt]s)(?:\s(.*))?$/.exec(h.command);
  if (dccd) return `pid ${h.pid}, ${shorten(`dccd ${dccd[1] ?? ''}`.trim())}`;
  return `pid ${h.pid} (${shorten(h.command) || 'unknown command'})`;
}

function shorten(command: string): string {
  return command.length > 80 ? `${command.slice(0, 80)}…` : command;
}

/** A port dccd must listen on is taken. */
export class PortBusy extends ValidationError {
  constructor(
    field: string,
    readonly port: number,
    reason: string,
  ) {
    super(field, reason);
  }
}

/**
 * Fails with one line naming `field`, the process that holds the port and `fix` unless
 * `host:port` is free. Port 0 (any free port) is always free.
 */
export async function requireFreePort(field: string, host: string, port: number, fix: string): Promise<void> {
  if (port === 0 || (await portIsFree(host, port))) return;
  throw new PortBusy(field, port, `${host}:${port} is in use by ${describeHolder(await portHolder(port))}; ${fix}`);
}
