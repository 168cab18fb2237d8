// The long-running commands: `start` (embedded server + worker + API), `worker`, `api`.
import { existsSync } from 'node:fs';
import type { AppConfig } from '../config/app-config.ts';
import { buildApi, listenApi } from '../api/server.ts';
import { checkDataFolder } from '../config/path-checks.ts';
import { buildServices, type Services } from '../services.ts';
import { findDaemon } from '../client/daemon-state.ts';
import { checkConfigJobs } from '../jobs/job-plan.ts';
import type { JobStore } from '../jobs/job-store.ts';
import { reportLines } from '../jobs/reconcile.ts';
import { DataFolderBusy, hostDataFolder } from '../worker/embedded-stack.ts';
import { requireFreePort } from '../worker/ports.ts';
import { startWorker, type RunningWorker } from '../worker/worker.ts';
import { writeLine } from './terminal.ts';

type Stopper = () => Promise<void>;

/**
 * Runs `stoppers` in order on the first SIGINT/SIGTERM (or when `failed` rejects, after
 * saying why); a second signal exits at once. Resolves with the exit code.
 */
function onShutdown(what: string, stoppers: Stopper[], failed?: Promise<never>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (reason: string, code: number) => {
      if (stopping) return;
      stopping = true;
      writeLine(`dccd: ${reason}, stopping (${what})...`);
      void (async () => {
        for (const s of stoppers) {
          try {
            await s();
          } catch (e) {
            writeLine(`dccd: while stopping: ${(e as Error).message}`);
          }
        }
        resolve(code);
      })();
    };
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        writeLine(`dccd: ${signal} again, exiting now`);
        process.exit(130);
      }
      stop(signal, 0);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    failed?.catch((e: Error) => stop(`error: ${e.message}`, 1));
  });
}

const API_FIX = 'pick another with --api-port or DCCD_API_PORT';

async function listenOrExplain(services: Services, jobs: JobStore, worker?: RunningWorker): Promise<{ url: string; close: Stopper }> {
  const app = await buildApi({ services, jobs, localWorker: worker && (() => worker.worker.getState() === 'RUNNING') });
  const { host, port } = services.config.api;
  try {
    const url = await listenApi(app, host, port);
    if (!existsSync(jobs.file)) writeLine(`dccd: no config file; jobs created through the API will be kept in ${jobs.file} (made then)`);
    return { url, close: () => app.close() };
  } catch (e) {
    await app.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      await requireFreePort('api.port', host, port, API_FIX);
    }
    throw e;
  }
}

/** Makes the schedules match the config's jobs; a failure is said, and the daemon serves on. */
async function applyJobs(services: Services, jobs: JobStore): Promise<void> {
  try {
    for (const line of reportLines(await jobs.apply(services))) writeLine(`dccd: ${line}`);
  } catch (e) {
    writeLine(`dccd: jobs not applied: ${(e as Error).message} (retry with \`dccd jobs apply\`)`);
  }
}

export async function runStart(cfg: AppConfig, jobs: JobStore): Promise<number> {
  const t0 = performance.now();
  // A bad job, a folder that cannot serve or is already served, or a busy API port, is known before anything starts.
  checkConfigJobs(cfg);
  await checkDataFolder(cfg.data, { write: true });
  const existing = cfg.temporal.address ? undefined : await findDaemon(cfg.data);
  if (existing) throw new DataFolderBusy(cfg.data, existing);
  await requireFreePort('api.port', cfg.api.host, cfg.api.port, API_FIX);
  if (cfg.temporal.address) return runClusterStart(cfg, jobs, t0);
  const stack = await hostDataFolder(cfg, { role: 'start', command: 'dccd start', ports: 'configured', log: writeLine });
  let api: { url: string; close: Stopper };
  try {
    api = await listenOrExplain(stack.services, jobs, stack.worker);
    await stack.publish({ apiUrl: api.url });
  } catch (e) {
    await stack.close();
    throw e;
  }
  // This process runs the worker, so it owns the coverage store: open it before any run asks.
  void stack.services.coverage().catch((e) => writeLine(`dccd: coverage store: ${(e as Error).message}`));
  await applyJobs(stack.services, jobs);
  // Signal handlers first: a Ctrl-C right after the ready line must stop cleanly too.
  const stopped = onShutdown('the worker drains first', [api.close, () => stack.close()], stack.failed);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `dccd ready in ${secs} s  API ${api.url}  Temporal UI ${stack.server.uiUrl ?? 'off (headless)'}  Temporal ${stack.server.address}  data ${cfg.data}`,
  );
  return stopped;
}

/** `dccd start` against a cluster: a worker and the API, no embedded server. */
async function runClusterStart(cfg: AppConfig, jobs: JobStore, t0: number): Promise<number> {
  const services = buildServices(cfg);
  const worker = await startWorker(services);
  const api = await listenOrExplain(services, jobs, worker).catch(async (e) => {
    await worker.shutdown();
    await services.close();
    throw e;
  });
  void services.coverage().catch((e) => writeLine(`dccd: coverage store: ${(e as Error).message}`));
  await applyJobs(services, jobs);
  const failed = worker.done.then(() => Promise.reject(new Error('the worker stopped')));
  const stopped = onShutdown('the worker drains first', [api.close, () => worker.shutdown(), () => services.close()], failed);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`dccd ready in ${secs} s  API ${api.url}  Temporal ${services.temporalTarget().address}  data ${cfg.data}`);
  return stopped;
}

function requireAddress(cfg: AppConfig, command: string): string {
  if (!cfg.temporal.address) {
    throw new Error(`temporal.address: required for \`dccd ${command}\` (set TEMPORAL_ADDRESS=host:port; \`dccd start\` runs an embedded server instead)`);
  }
  return cfg.temporal.address;
}

export async function runWorkerOnly(cfg: AppConfig): Promise<number> {
  requireAddress(cfg, 'worker');
  await checkDataFolder(cfg.data, { write: true });
  const services = buildServices(cfg);
  const worker = await startWorker(services);
  const { address, taskQueue } = services.temporalTarget();
  const failed = worker.done.then(() => Promise.reject(new Error('the worker stopped')));
  const stopped = onShutdown('the worker drains first', [() => worker.shutdown(), () => services.close()], failed);
  console.log(`dccd worker ready  Temporal ${address}  task queue ${taskQueue}`);
  return stopped;
}

export async function runApiOnly(cfg: AppConfig, jobs: JobStore): Promise<number> {
  requireAddress(cfg, 'api');
  await requireFreePort('api.port', cfg.api.host, cfg.api.port, API_FIX);
  const services = buildServices(cfg);
  const api = await listenOrExplain(services, jobs);
  const stopped = onShutdown('open requests finish first', [api.close, () => services.close()]);
  console.log(`dccd api ready  API ${api.url}  Temporal ${services.temporalTarget().address}`);
  return stopped;
}
