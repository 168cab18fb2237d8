// How a one-shot command (backfill, stop) reaches Temporal: the configured cluster (whose
// workers run the work), else the embedded server of a running `dccd start` (whose worker
// does), else an embedded server and worker hosted by this command for as long as it runs —
// so `dccd backfill ... --wait` works with nothing else started. A command never runs a
// worker next to a running `dccd start`: in embedded mode one process owns the local state.
import type { AppConfig } from '../config/app-config.ts';
import { checkDataFolder } from '../config/path-checks.ts';
import { buildServices, type Services } from '../services.ts';
import { temporalAnswers, type DevServer } from '../worker/dev-server.ts';
import { startWorker, type RunningWorker } from '../worker/worker.ts';
import { embeddedServer } from './daemon.ts';

export interface TemporalSession {
  services: Services;
  /** This process runs the server and a worker for the command: runs pause when it exits. */
  hosted: boolean;
  uiUrl: string | undefined;
  close(): Promise<void>;
}

export async function openSession(cfg: AppConfig): Promise<TemporalSession> {
  await checkDataFolder(cfg.data, { write: !cfg.temporal.address }); // only an embedded server and worker write here
  let server: DevServer | undefined;
  let address = cfg.temporal.address;
  const uiUrl = cfg.temporal.address || !cfg.temporal.ui ? undefined : `http://127.0.0.1:${cfg.temporal.uiPort}`;
  if (!address) {
    address = `127.0.0.1:${cfg.temporal.port}`;
    if (!(await temporalAnswers(address))) {
      server = await embeddedServer(cfg);
      address = server.address;
    }
  } else if (!(await temporalAnswers(address))) {
    throw new Error(`temporal.address: no Temporal server answers at ${address}`);
  }
  const services = buildServices(cfg, { temporalAddress: address });
  const worker: RunningWorker | undefined = server ? await startWorker(services) : undefined;
  return {
    services,
    hosted: Boolean(server),
    uiUrl,
    async close() {
      await worker?.shutdown();
      await services.close();
      await server?.stop();
    },
  };
}
