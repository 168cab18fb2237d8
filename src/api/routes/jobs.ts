// Jobs: the config's job specs with their schedules, applying them, running one now. The
// specs come from `jobs()`, which a daemon answers by reading its config file again.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getRun } from '../../client/run-list.ts';
import { submitBackfill } from '../../client/runs.ts';
import { listSchedules } from '../../client/schedules.ts';
import { AlreadyRunning, NoCapability, NotFound } from '../../domain/errors.ts';
import { TRIGGER_KINDS, type JobSpec } from '../../domain/job-spec.ts';
import { jobRequest, summaryOf } from '../../jobs/job-plan.ts';
import { reconcile } from '../../jobs/reconcile.ts';
import type { Services } from '../../services.ts';
import { JobRun, SpecId, Target, errors } from '../schemas.ts';

const Job = z.object({
  id: z.string(),
  operation: z.enum(['backfill', 'stream']),
  target: Target,
  trigger: z.object({ kind: z.enum(TRIGGER_KINDS), every: z.string().optional(), cron: z.string().optional(), at: z.string().optional() }),
  params: z.object({ start: z.string(), end: z.string().optional(), depth: z.number().optional(), snapshotInterval: z.string().optional() }),
  enabled: z.boolean(),
  origin: z.enum(['config', 'api']),
  summary: z.string(),
  schedule: z.object({ scheduleId: z.string(), paused: z.boolean(), nextRuns: z.array(z.string()) }).nullable(),
});
const Report = z.object({
  created: z.array(z.string()),
  updated: z.array(z.string()),
  deleted: z.array(z.string()),
  paused: z.array(z.string()),
  unpaused: z.array(z.string()),
  unchanged: z.array(z.string()),
  notes: z.array(z.string()),
});

export const jobRoutes: FastifyPluginAsyncZod<{ services: Services; jobs: () => JobSpec[] }> = async (app, { services, jobs: specs }) => {
  const withSchedules = async (list: JobSpec[]) => {
    const schedules = new Map((await listSchedules(services)).map((s) => [s.specId, s]));
    return list.map((spec) => {
      const s = schedules.get(spec.id);
      return { ...spec, summary: summaryOf(spec), schedule: s ? { scheduleId: s.scheduleId, paused: s.paused, nextRuns: s.nextRuns } : null };
    });
  };
  const find = (id: string) => {
    const spec = specs().find((s) => s.id === id);
    if (!spec) throw new NotFound(`no job ${id}`);
    return spec;
  };

  app.get('/api/jobs', { schema: { summary: "The config's jobs, with their schedules", response: { 200: z.object({ jobs: z.array(Job) }) } } }, async () => ({
    jobs: await withSchedules(specs()),
  }));
  app.get('/api/jobs/:id', { schema: { summary: 'One job', params: z.strictObject({ id: SpecId }), response: { 200: Job, ...errors } } }, async (req) => {
    const [job] = await withSchedules([find(req.params.id)]);
    return job!;
  });
  app.post('/api/jobs/apply', { schema: { summary: "Make the schedules match the config's jobs", response: { 200: Report, ...errors } } }, async () => reconcile(services, specs()));
  app.post(
    '/api/jobs/:id/run',
    { schema: { summary: 'Run a job now; while it runs, answers that run', params: z.strictObject({ id: SpecId }), response: { 200: JobRun, 201: JobRun, ...errors } } },
    async (req, reply) => {
      const spec = find(req.params.id);
      if (spec.operation !== 'backfill') throw new NoCapability(spec.target.exchange, `job ${spec.id}: this dccd does not stream yet`);
      try {
        const started = await submitBackfill(services, jobRequest((name) => services.adapter(name), spec));
        return reply.code(201).send(await getRun(services, started.runId));
      } catch (e) {
        if (e instanceof AlreadyRunning) return reply.code(200).send(await getRun(services, e.runId));
        throw e;
      }
    },
  );
};
