// The embedded stack, built here and nowhere else: the Temporal dev server persisted in
// {data}/.dccd/temporal.db (restarted if it dies), the services and a worker, and the
// claim on the data folder. `dccd start`, one-shot commands with nothing running, tests and
// benches all build it through these functions.
import { join } from 'node:path';
import { rename, rm, writeFile } from 'node:fs/promises';
import type { AppConfig } from '../config/app-config.ts';
import { DccdError } from '../domain/errors.ts';
import { daemonStatePath, describeDaemon, findDaemon, stateDir, type DaemonState } from '../client/daemon-state.ts';
import type { Services } from '../services.ts';
import { tryLock } from '../storage/pid-lock.ts';
import { VERSION } from '../version.ts';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attribute-keys.ts';
import { InternalPortTaken, startDevServer, type DevServer, type DevServerOptions, type StopMode } from './dev-server.ts';
import { ephemeralPort, PortBusy, portIsFree } from './ports.ts';
import type { RunningWorker } from './worker.ts';

/** A dev server with dccd's namespace and search attributes; in memory unless `dbFile` is set. */
export function startEmbeddedServer(o: Partial<DevServerOptions> & { port: number }): Promise<DevServer> {
  return startDevServer({ namespace: 'default', searchAttributes: SEARCH_ATTRIBUTE_KEYS, ...o });
}

/** Another dccd process hosts this data folder. */
export class DataFolderBusy extends DccdError {
  override readonly type = 'DataFolderBusy';
  constructor(
    readonly dataPath: string,
    readonly holder: DaemonState | { pid: number },
  ) {
    const who = 'command' in holder ? describeDaemon(holder) : `dccd process ${holder.pid}`;
    const fix =
      'role' in holder && holder.role === 'command'
        ? 'wait for it to end, or run `dccd start` to let several commands share the folder'
        : 'use that one, or give this one another data folder (DCCD_DATA)';
    super(`data: ${dataPath} is in use by ${who}; ${fix}`);
  }
}

export interface SupervisedServer {
  readonly address: string;
  readonly uiUrl: string | undefined;
  /** Rejects with the reason once the server cannot be brought back. */
  readonly failed: Promise<never>;
  stop(mode?: StopMode): Promise<void>;
}

const RESTART_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000];
/** A server that stayed up this long has recovered: its next death starts the delays over. */
const STABLE_MS = 60_000;

/**
 * Runs a dev server and starts it again when it dies (with growing delays, saying so);
 * gives up, through `failed`, when it will not stay up.
 */
async function superviseServer(options: DevServerOptions, log: (line: string) => void): Promise<SupervisedServer> {
  let current = await startDevServer(options);
  let stopping = false;
  let fail!: (e: Error) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const watch = (server: DevServer, since: number, attempt: number) => {
    void server.exited.then(async (code) => {
      if (stopping) return;
      let tries = Date.now() - since > STABLE_MS ? 0 : attempt;
      for (;;) {
        const delay = RESTART_DELAYS_MS[tries];
        if (delay === undefined) {
          fail(new Error(`the embedded Temporal server keeps exiting (last exit code ${code}); see ${options.dbFile ?? 'its log'}`));
          return;
        }
        log(`dccd: the embedded Temporal server exited (code ${code}); restarting in ${delay / 1000} s`);
        await new Promise((r) => setTimeout(r, delay));
        if (stopping) return;
        try {
          current = await startDevServer(options);
          log(`dccd: the embedded Temporal server is back at ${current.address}`);
          watch(current, Date.now(), tries + 1);
          return;
        } catch (e) {
          log(`dccd: restarting the embedded Temporal server failed: ${(e as Error).message.split('\n')[0]}`);
          tries++;
        }
      }
    });
  };
  watch(current, Date.now(), 0);
  return {
    address: current.address,
    uiUrl: current.uiUrl,
    failed,
    async stop(mode) {
      stopping = true;
      await current.stop(mode);
    },
  };
}

export interface HostOptions {
  role: DaemonState['role'];
  /** What the user ran, for other processes' messages. */
  command: string;
  /**
   * 'configured': the configured Temporal ports, or an error naming what holds them.
   * 'any': the configured ports when free, else free ones (a one-shot command's server is
   * reached through daemon.json, never by a fixed port).
   */
  ports: 'configured' | 'any';
  log: (line: string) => void;
}

export interface HostedStack {
  services: Services;
  server: SupervisedServer;
  worker: RunningWorker;
  /** Records the stack in {data}/.dccd/daemon.json, so clients of the folder find it. */
  publish(extra?: { apiUrl?: string }): Promise<void>;
  /** Rejects with the reason once the stack can no longer work. */
  failed: Promise<never>;
  close(): Promise<void>;
}

/**
 * Claims `cfg.data` for this process, then starts its embedded server and a worker. A folder
 * another live dccd claims is a DataFolderBusy error naming it. The caller has checked the
 * folder (config/path-checks.ts checkDataFolder with write), which also made {data}/.dccd.
 */
export async function hostDataFolder(cfg: AppConfig, o: HostOptions): Promise<HostedStack> {
  const lock = await tryLock(join(stateDir(cfg.data), 'daemon.lock'));
  if (!('release' in lock)) throw new DataFolderBusy(cfg.data, (await findDaemon(cfg.data)) ?? { pid: lock.ownerPid });
  const undo: (() => Promise<void>)[] = [() => lock.release()];
  const unwind = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    const starting = startServer(cfg, o);
    // Stopped after the worker has drained: a one-shot command's server has nothing left to do.
    undo.push(async () => (await starting.catch(() => undefined))?.stop(o.role === 'command' ? 'kill' : 'graceful'));
    // Loaded and opened while the server starts (a second or more): the SDK's worker, the
    // stores and the manifest.
    const [{ buildServices, openManifest }, { startWorker }] = await Promise.all([import('../services.ts'), import('./worker.ts')]);
    const manifest = openManifest(cfg);
    manifest.catch(() => undefined); // a failure is the first use's to report
    const closeManifest = async () => (await manifest.catch(() => undefined))?.close();
    undo.push(closeManifest);
    const server = await starting;
    const services = buildServices(cfg, { temporal: { address: server.address }, coverage: manifest });
    // The services own the manifest from here on.
    undo[undo.indexOf(closeManifest)] = () => services.close();
    const worker = await startWorker(services);
    undo.push(() => worker.shutdown());
    const statePath = daemonStatePath(cfg.data);
    undo.push(() => rm(statePath, { force: true }));
    const failed = Promise.race([server.failed, worker.done.then(() => Promise.reject(new Error('the worker stopped')))]);
    failed.catch(() => undefined);
    let closing: Promise<void> | undefined;
    return {
      services,
      server,
      worker,
      failed,
      async publish(extra = {}) {
        const state: DaemonState = {
          pid: process.pid,
          role: o.role,
          command: o.command,
          dataPath: cfg.data,
          version: VERSION,
          startedAt: new Date().toISOString(),
          temporal: { address: server.address, namespace: cfg.temporal.namespace, taskQueue: cfg.temporal.taskQueue, ...(server.uiUrl && { uiUrl: server.uiUrl }) },
          ...(extra.apiUrl && { apiUrl: extra.apiUrl }),
          exchanges: Object.fromEntries(Object.entries(cfg.exchanges).map(([name, x]) => [name, { restUrl: x?.restUrl, wsUrl: x?.wsUrl }])),
        };
        // Written whole, then renamed: a reader never sees half a file.
        const tmp = `${statePath}.${process.pid}.tmp`;
        await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
        await rename(tmp, statePath);
      },
      close: () => (closing ??= unwind()),
    };
  } catch (e) {
    await unwind();
    throw e;
  }
}

const PORT_FIELDS = {
  port: { field: 'temporal.port', fix: 'pick another with --temporal-port or DCCD_TEMPORAL_PORT' },
  uiPort: { field: 'temporal.uiPort', fix: 'pick another with --temporal-ui-port or DCCD_TEMPORAL_UI_PORT, or run --headless' },
};
/** Ports found free and taken a moment later by another process: tries before giving up. */
const PORT_TRIES = 3;

async function startServer(cfg: AppConfig, o: HostOptions): Promise<SupervisedServer> {
  let mode: HostOptions['ports'] | 'free' = o.ports;
  for (let attempt = 1; ; attempt++) {
    const ports = await choosePorts(cfg, mode);
    try {
      return await superviseServer(
        {
          dbFile: join(stateDir(cfg.data), 'temporal.db'),
          namespace: cfg.temporal.namespace,
          searchAttributes: SEARCH_ATTRIBUTE_KEYS,
          ...ports,
          portFields: PORT_FIELDS,
        },
        o.log,
      );
    } catch (e) {
      if (attempt >= PORT_TRIES) throw e;
      // One of the server's own ports: started again, it picks others.
      if (e instanceof InternalPortTaken) continue;
      // A one-shot command's ports are its own business: another free pair will do.
      if (!(e instanceof PortBusy) || o.ports === 'configured') throw e;
      mode = 'free';
    }
  }
}

async function choosePorts(cfg: AppConfig, mode: HostOptions['ports'] | 'free'): Promise<{ port: number; uiPort?: number }> {
  // Port 0 means any free port; the dev server itself needs a real one.
  const pick = async (port: number) =>
    port === 0 || mode === 'free' || (mode === 'any' && !(await portIsFree('127.0.0.1', port))) ? ephemeralPort() : port;
  const port = await pick(cfg.temporal.port);
  return { port, ...(cfg.temporal.ui && { uiPort: await pick(cfg.temporal.uiPort) }) };
}
