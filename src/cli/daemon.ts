// The long-running commands: `start` (embedded server + worker + API), `worker`, `api`.
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config.ts';
import { buildApi, listenApi } from '../api/server.ts';
import { checkDataFolder } from '../config/path-checks.ts';
import { buildServices, type Services } from '../services.ts';
import { startDevServer, type DevServer } from '../worker/dev-server.ts';
import { startWorker, type RunningWorker } from '../worker/worker.ts';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/definitions.ts';

type Stopper = () => Promise<void>;

/** Runs `stoppers` in order on the first SIGINT/SIGTERM; a second signal exits at once. */
function onShutdown(stoppers: Stopper[]): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`dccd: ${signal} again, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`dccd: ${signal}, stopping (worker drains first)...\n`);
      void (async () => {
        for (const stop of stoppers) {
          try {
            await stop();
          } catch (e) {
            process.stderr.write(`dccd: while stopping: ${(e as Error).message}\n`);
          }
        }
        resolve();
      })();
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

export function embeddedServer(cfg: AppConfig): Promise<DevServer> {
  return startDevServer({
    dbFile: join(cfg.data, '.dccd', 'temporal.db'),
    port: cfg.temporal.port,
    namespace: cfg.temporal.namespace,
    uiPort: cfg.temporal.ui ? cfg.temporal.uiPort : undefined,
    searchAttributes: SEARCH_ATTRIBUTE_KEYS,
  });
}

async function listenOrExplain(services: Services, worker?: RunningWorker): Promise<{ url: string; close: Stopper }> {
  const app = await buildApi({ services, localWorker: worker && (() => worker.worker.getState() === 'RUNNING') });
  const { host, port } = services.config.api;
  try {
    const url = await listenApi(app, host, port);
    return { url, close: () => app.close() };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`api.port: ${host}:${port} is already in use (set DCCD_API_PORT or api.port)`);
    }
    throw e;
  }
}

export async function runStart(cfg: AppConfig): Promise<void> {
  const t0 = performance.now();
  await checkDataFolder(cfg.data, { write: true });
  const server = cfg.temporal.address ? undefined : await embeddedServer(cfg);
  const stoppers: Stopper[] = [];
  try {
    const services = buildServices(cfg, { temporalAddress: server?.address });
    const worker = await startWorker(services);
    stoppers.push(() => worker.shutdown());
    const api = await listenOrExplain(services, worker);
    stoppers.unshift(api.close);
    stoppers.push(() => services.close());
    if (server) stoppers.push(() => server.stop());
    // This process runs the worker, so it owns the coverage store: open it before any run asks.
    void services.coverage().catch((e) => process.stderr.write(`dccd: coverage store: ${(e as Error).message}\n`));
    // Signal handlers first: a Ctrl-C right after the ready line must stop cleanly too.
    const stopped = onShutdown(stoppers);
    const ui = server ? (server.uiUrl ?? 'off (headless)') : 'see your Temporal cluster';
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`dccd ready in ${secs} s  API ${api.url}  Temporal UI ${ui}  Temporal ${services.temporalTarget().address}  data ${cfg.data}`);
    void worker.done.catch((e) => {
      process.stderr.write(`dccd: the worker stopped: ${(e as Error).message}\n`);
      process.kill(process.pid, 'SIGTERM');
    });
    await stopped;
  } catch (e) {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    await server?.stop();
    throw e;
  }
}

function requireAddress(cfg: AppConfig, command: string): string {
  if (!cfg.temporal.address) {
    throw new Error(`temporal.address: required for \`dccd ${command}\` (set TEMPORAL_ADDRESS=host:port; \`dccd start\` runs an embedded server instead)`);
  }
  return cfg.temporal.address;
}

export async function runWorkerOnly(cfg: AppConfig): Promise<void> {
  requireAddress(cfg, 'worker');
  await checkDataFolder(cfg.data, { write: true });
  const services = buildServices(cfg);
  const worker = await startWorker(services);
  const { address, taskQueue } = services.temporalTarget();
  const stopped = onShutdown([() => worker.shutdown(), () => services.close()]);
  console.log(`dccd worker ready  Temporal ${address}  task queue ${taskQueue}`);
  await Promise.race([stopped, worker.done]);
}

export async function runApiOnly(cfg: AppConfig): Promise<void> {
  requireAddress(cfg, 'api');
  const services = buildServices(cfg);
  const api = await listenOrExplain(services);
  const stopped = onShutdown([api.close, () => services.close()]);
  console.log(`dccd api ready  API ${api.url}  Temporal ${services.temporalTarget().address}`);
  await stopped;
}
