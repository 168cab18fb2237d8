// Schedules of scheduled jobs: list, pause, unpause, trigger.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listSchedules, scheduleAction, type ScheduleAction } from '../../client/schedules.ts';
import { scheduleIdOf } from '../../domain/job-spec.ts';
import type { Services } from '../../services.ts';
import { SpecId, errors } from '../schemas.ts';

const Schedule = z.object({
  scheduleId: z.string(),
  specId: z.string(),
  specVersion: z.string().optional(),
  paused: z.boolean(),
  note: z.string(),
  nextRuns: z.array(z.string()),
  recent: z.array(z.object({ scheduledAt: z.string(), workflowId: z.string(), runId: z.string() })),
});

const ACTIONS: ScheduleAction[] = ['pause', 'unpause', 'trigger'];

export const scheduleRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get('/api/schedules', { schema: { summary: "The scheduled jobs' Temporal Schedules", response: { 200: z.object({ schedules: z.array(Schedule) }) } } }, async () => ({
    schedules: await listSchedules(services),
  }));
  for (const action of ACTIONS) {
    app.post(
      `/api/schedules/:id/${action}`,
      { schema: { summary: `${action[0]!.toUpperCase()}${action.slice(1)} a schedule (id: the job id)`, params: z.strictObject({ id: SpecId }), response: { 200: z.object({ scheduleId: z.string(), done: z.string() }), ...errors } } },
      async (req) => {
        await scheduleAction(services, req.params.id, action, 'the API');
        return { scheduleId: scheduleIdOf(req.params.id), done: action };
      },
    );
  }
};
