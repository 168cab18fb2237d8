// GET /api/health: is Temporal reachable, is a worker polling dccd's task queue.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { probe } from '../../workflows/probe.ts';

/** Reports whether a worker in this process is running. */
export type WorkerProbe = () => boolean;

const TIMEOUT_MS = 3000;

export const healthRoutes: FastifyPluginAsyncZod<{ services: Services; localWorker?: WorkerProbe }> = async (app, { services, localWorker }) => {
  app.get(
    '/api/health',
    {
      schema: {
        summary: 'Is Temporal reachable, does a worker poll; probe=1 runs a workflow and an activity end to end',
        querystring: z.strictObject({ probe: z.enum(['0', '1', 'true', 'false']).optional() }),
      },
    },
    async (req, reply) => {
      const { address, namespace, taskQueue } = services.temporalTarget();
      const base = { dataPath: services.config.data, version: services.version };
      try {
        const client = await withTimeout(services.temporal(), 'connecting to Temporal');
        await client.connection.withDeadline(Date.now() + TIMEOUT_MS, () => client.workflowService.getSystemInfo({}));
        const running = localWorker ? localWorker() : await services.workerPolling();
        const body: Record<string, unknown> = {
          status: 'ok',
          temporal: { address, namespace, reachable: true },
          worker: { taskQueue, running },
          ...base,
        };
        if (req.query.probe === '1' || req.query.probe === 'true') {
          const workflowId = `probe/${Date.now()}`;
          body.probe = await client.workflow.execute(probe, { taskQueue, workflowId, workflowExecutionTimeout: '15 seconds' });
          // A probe is not a run: it leaves nothing in the workflow list.
          await client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId } });
        }
        return body;
      } catch (e) {
        return reply.code(503).send({
          status: 'unavailable',
          reason: `Temporal at ${address} is unreachable: ${(e as Error).message}`,
          temporal: { address, namespace, reachable: false },
          worker: { taskQueue, running: localWorker ? localWorker() : false },
          ...base,
        });
      }
    },
  );
};

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out ${what}`)), TIMEOUT_MS);
    p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}
