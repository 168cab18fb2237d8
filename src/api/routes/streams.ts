// Streams: every stream running now and each supervised job's stream, running or not, with
// its liveness (client/stream-runs.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listStreams } from '../../client/stream-runs.ts';
import { JOB_RUN_STATES } from '../../domain/job-run.ts';
import type { JobSpec } from '../../domain/job-spec.ts';
import type { Services } from '../../services.ts';
import { StreamLive, Target, errors } from '../schemas.ts';

const Stream = z.object({
  workflowId: z.string(),
  target: Target,
  specId: z.string().nullable(),
  supervisedBy: z.string().nullable(),
  runId: z.string().nullable(),
  state: z.enum([...JOB_RUN_STATES, 'not_started']),
  running: z.boolean(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  rowsWritten: z.number(),
  error: z.string().nullable(),
  live: StreamLive.nullable(),
});

export const streamRoutes: FastifyPluginAsyncZod<{ services: Services; jobs: () => JobSpec[] }> = async (app, { services, jobs }) => {
  app.get(
    '/api/streams',
    {
      schema: {
        summary: "Every stream running, and each supervised job's stream even when it is not (with its last run), with its liveness",
        response: { 200: z.object({ streams: z.array(Stream) }), ...errors },
      },
    },
    async () => ({ streams: await listStreams(services, jobs()) }),
  );
};
