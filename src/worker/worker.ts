// The Temporal worker: runs dccd's workflows and activities on one task queue.
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import type { Services } from '../services.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

let runtimeInstalled = false;
/**
 * The SDK runtime is process-wide and must be configured before the first connection.
 * dccd handles SIGINT/SIGTERM itself (drain the worker, then stop API and server), so the
 * runtime installs no signal handlers of its own.
 */
export function installRuntime(level: LogLevel = 'WARN'): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger(level), shutdownSignals: [] });
  runtimeInstalled = true;
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown() or a fatal error). */
  done: Promise<void>;
  /** Drains in-flight tasks (up to the grace time), then stops and closes the connection. */
  shutdown(): Promise<void>;
}

export async function startWorker(services: Services): Promise<RunningWorker> {
  installRuntime();
  // Temp files of writes a crash interrupted are invisible to readers; remove them now.
  await services.store.cleanTemp();
  const { address, namespace, taskQueue } = services.temporalTarget();
  const connection = await NativeConnection.connect({ address }).catch((e: Error) => {
    const why = /Connection refused/i.test(e.message) ? 'connection refused' : e.message;
    throw new Error(`temporal.address: no Temporal server answers at ${address} (${why})`);
  });
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities(services),
      // In-flight activities get this long to finish their window before they are cancelled.
      shutdownGraceTime: '10 seconds',
    });
    const done = worker.run().finally(() => connection.close());
    return {
      worker,
      done,
      async shutdown() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      },
    };
  } catch (e) {
    await connection.close();
    throw e;
  }
}
