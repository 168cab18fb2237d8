// The embedded Temporal dev server: `temporal server start-dev` persisted to
// {data}/.dccd/temporal.db, run as a child that cannot outlive this process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';
import { CLI_TYPE_NAMES } from '../workflows/search-attribute-keys.ts';
import { PortBusy, portHolder, requireFreePort } from './ports.ts';
import { ServerStartOutput } from './server-output.ts';
import { resolveTemporalBinary, TemporalBinaryError } from './temporal-binary.ts';

export interface DevServerOptions {
  /** SQLite file; omit for an in-memory server (tests). */
  dbFile?: string;
  port: number;
  namespace: string;
  /** Web UI port, or undefined for headless. */
  uiPort?: number;
  searchAttributes: readonly SearchAttributeKey<SearchAttributeType>[];
  /** Extra server log lines go here (default: dropped; the server logs at warn level). */
  onLog?: (line: string) => void;
  /** Dynamic config overrides, e.g. lower continue-as-new thresholds in tests. */
  dynamicConfig?: Record<string, unknown>;
  /** How a busy port is named in the error, and how to pick another. */
  portFields?: { port: PortField; uiPort: PortField };
}

export interface PortField {
  field: string;
  fix: string;
}

const DEFAULT_PORT_FIELDS = {
  port: { field: 'port', fix: 'choose another port' },
  uiPort: { field: 'uiPort', fix: 'choose another port' },
};

/**
 * 'kill' is for a server whose only worker has drained: everything it did is committed to
 * SQLite (WAL), which a killed process cannot leave corrupt, and Temporal resumes from its
 * database after any crash, so the graceful stop's second of draining buys nothing.
 */
export type StopMode = 'graceful' | 'kill';

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  /**
   * Stops the server and waits until it has exited: 'graceful' lets it drain (~1 s), 'kill'
   * ends it at once, for a server with nothing left to do (see `StopMode`).
   */
  stop(mode?: StopMode): Promise<void>;
  /** Resolves when the server exits by itself (crash, kill). */
  exited: Promise<number | null>;
  pid: number | undefined;
}


export function devServerArgs(o: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(o.port), '--namespace', o.namespace];
  args.push('--log-level', 'warn', '--log-format', 'json');
  if (o.dbFile) {
    // WAL with synchronous=NORMAL survives a killed process without an fsync per write.
    args.push('--db-filename', o.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL');
  }
  if (o.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort), '--ui-disable-news-fetch');
  // Offline: never phone home for version checks.
  const dyn = { 'frontend.enableServerVersionCheck': false, ...o.dynamicConfig };
  for (const [k, v] of Object.entries(dyn)) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  for (const key of o.searchAttributes) args.push('--search-attribute', `${key.name}=${CLI_TYPE_NAMES[key.type]}`);
  return args;
}

// Runs the server under a tiny shell guard in its own process group: terminal signals
// (Ctrl-C) reach only dccd, which stops the server after the worker has drained; and when
// dccd dies, even by SIGKILL, the guard sees its stdin close and stops the server, so no
// orphan survives.
// (A background job's stdin is /dev/null in sh, hence the copy of stdin on fd 3.)
const GUARD = `
exec 3<&0
"$@" </dev/null &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT HUP
{ cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null; } &
watcher=$!
code=0
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; code=$?; done
kill "$watcher" 2>/dev/null
exit $code
`;

/**
 * Starts the server on ports that must be free: a busy one is an error naming its holder, never
 * a reason to use whatever answers there.
 */
export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  const bin = resolveTemporalBinary();
  const fields = o.portFields ?? DEFAULT_PORT_FIELDS;
  await requireFreePort(fields.port.field, '127.0.0.1', o.port, fields.port.fix);
  if (o.uiPort !== undefined) await requireFreePort(fields.uiPort.field, '127.0.0.1', o.uiPort, fields.uiPort.fix);
  if (o.dbFile) mkdirSync(join(o.dbFile, '..'), { recursive: true });
  const address = `127.0.0.1:${o.port}`;
  const uiUrl = o.uiPort === undefined ? undefined : `http://127.0.0.1:${o.uiPort}`;
  if (bin.type === 'sdk-download') return startWithSdkDownload(o, bin.tried);

  const child = spawn('sh', ['-c', GUARD, 'dccd-temporal-guard', bin.path, ...devServerArgs(o)], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
  });
  const output = new ServerStartOutput();
  let starting = true;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      if (starting) output.add(line);
      o.onLog?.(line);
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  try {
    await waitReachable(address, exited);
    await checkOwnServer(o.port, child, fields.port.field);
  } catch (e) {
    await stopChild(child, exited);
    throw await startFailure(e, output, o, fields);
  } finally {
    starting = false;
  }
  return { address, uiUrl, exited, pid: child.pid, stop: (mode) => stopChild(child, exited, mode) };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>, mode: StopMode = 'graceful'): Promise<void> {
  // The guard's whole group (guard, server, stdin watcher) when killed; the guard passes a TERM on.
  if (mode === 'kill' && child.pid) tryKillGroup(child.pid);
  else if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.pid && tryKillGroup(child.pid), 10_000);
  await exited;
  clearTimeout(timer);
  child.stdin?.destroy();
}

function tryKillGroup(pid: number) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Whether a Temporal frontend answers at `address` within a couple of seconds. */
export async function temporalAnswers(address: string): Promise<boolean> {
  // Loaded here: the server is spawned before the SDK is, so the two start side by side.
  const { Connection } = await import('@temporalio/client');
  try {
    const conn = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await conn.withDeadline(Date.now() + 2000, () => conn.healthService.check({}));
      return true;
    } finally {
      await conn.close();
    }
  } catch {
    return false;
  }
}

/**
 * The server answering on `port` must be the one just spawned (a child of its guard): another
 * process that took the port between the check and the bind would otherwise be used silently.
 */
async function checkOwnServer(port: number, guard: ChildProcess, field: string): Promise<void> {
  const holder = await portHolder(port);
  if (holder && holder.ppid !== guard.pid && holder.pid !== guard.pid) {
    throw new PortBusy(field, port, `127.0.0.1:${port} was taken by pid ${holder.pid} while the Temporal server started`);
  }
}

/** The server exited or did not answer in time; `startFailure` says why from its output. */
class NotReady extends Error {}

async function waitReachable(address: string, exited: Promise<number | null>): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((c) => (gone = c));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone !== undefined) throw new NotReady(`the Temporal dev server exited (code ${gone}) before it was ready`);
    if (await temporalAnswers(address)) return;
    if (Date.now() > deadline) throw new NotReady(`the Temporal dev server at ${address} was not ready after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A port of the server's own services (it picks them itself) was taken by another process
 * between its pick and its bind: starting again picks others.
 */
export class InternalPortTaken extends Error {}

/** The error a failed start ends with: a port taken while the server bound it, or its reason. */
async function startFailure(e: unknown, output: ServerStartOutput, o: DevServerOptions, fields: { port: PortField; uiPort: PortField }): Promise<Error> {
  const busy = output.busyPort;
  // Free when checked, taken when bound: another process got there first.
  const taken = (f: PortField, port: number) => new PortBusy(f.field, port, `127.0.0.1:${port} was taken while the Temporal server started; ${f.fix}`);
  if (busy !== undefined && busy === o.port) return taken(fields.port, busy);
  if (busy !== undefined && busy === o.uiPort) return taken(fields.uiPort, busy);
  if (busy !== undefined) return new InternalPortTaken(`the Temporal server's internal port ${output.busyAddress} was taken by another process while it started`);
  if (!(e instanceof NotReady)) return e as Error;
  const why = `${e.message}: ${output.reason ?? 'it printed no reason'}`;
  if (!o.dbFile) return new Error(`${why}\n${output.tail()}`);
  // The whole output (a panic is every goroutine's stack) goes beside the database, not on the terminal.
  const file = join(dirname(o.dbFile), 'temporal-server.log');
  await writeFile(file, `${output.lines.join('\n')}\n`).catch(() => undefined);
  return new Error(`${why} (its output: ${file})`);
}

/** Last resort for users with internet: the SDK downloads and runs the CLI itself. */
async function startWithSdkDownload(o: DevServerOptions, tried: string[]): Promise<DevServer> {
  let env: TestWorkflowEnvironment;
  try {
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download' },
        ip: '127.0.0.1',
        port: o.port,
        namespace: o.namespace,
        dbFilename: o.dbFile,
        ui: o.uiPort !== undefined,
        uiPort: o.uiPort,
        searchAttributes: [...o.searchAttributes],
        extraArgs: o.uiPort !== undefined ? ['--ui-disable-news-fetch'] : [],
      },
    });
  } catch (e) {
    throw new TemporalBinaryError([...tried, `the Temporal SDK download: ${(e as Error).message.split('\n')[0]}`]);
  }
  let resolveExit!: (c: number | null) => void;
  const exited = new Promise<number | null>((r) => (resolveExit = r));
  return {
    address: `127.0.0.1:${o.port}`,
    uiUrl: o.uiPort === undefined ? undefined : `http://127.0.0.1:${o.uiPort}`,
    exited,
    pid: undefined,
    stop: async () => {
      await env.teardown();
      resolveExit(0);
    },
  };
}
