// The Temporal worker: runs dccd's workflows and activities on one task queue.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import { ensureSearchAttributes } from '../client/search-attributes.ts';
import type { Services } from '../services.ts';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/definitions.ts';
import { installRuntime } from './runtime.ts';
import { workflowBundle } from './workflow-bundle.ts';

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
    // A cluster's namespace may lack them; the embedded server already has them.
    const added = await ensureSearchAttributes(connection.operatorService, namespace, SEARCH_ATTRIBUTE_KEYS);
    if (added.length > 0) process.stderr.write(`dccd: registered search attributes on namespace '${namespace}': ${added.join(', ')}\n`);
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(services),
      // In-flight activities get this long to finish their window before they are cancelled.
      shutdownGraceTime: '10 seconds',
      // Heartbeats carry a stream's liveness and the point a retried session resumes from, and a
      // stop reaches a running activity in the answer to one; left alone, the SDK passes one on
      // only every 0.8 × the heartbeat timeout (24 s for a stream session).
      maxHeartbeatThrottleInterval: '1 second',
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
