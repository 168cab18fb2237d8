// Jobs: listed with their schedules, created, replaced and deleted (kept in the config file by
// the JobStore, and reconciled with Temporal on every change: schedules and supervised
// streams), applied, run now. The store
// reads the file again on each call, so an edit by hand is what these routes see.
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { schedulesOf } from '../../client/schedules.ts';
import { JobEntrySchema } from '../../config/app-config.ts';
import { Conflict } from '../../domain/errors.ts';
import { TRIGGER_KINDS, type JobSpec } from '../../domain/job-spec.ts';
import { checkConfigJobs, jobById, summaryOf } from '../../jobs/job-plan.ts';
import type { JobStore } from '../../jobs/job-store.ts';
import { reconcile } from '../../jobs/reconcile.ts';
import { runJobNow } from '../../jobs/run-job.ts';
import type { Services } from '../../services.ts';
import { JobRun, SpecId, Target, errors } from '../schemas.ts';

const Job = z.object({
  id: z.string(),
  operation: z.enum(['backfill', 'stream']),
  target: Target,
  trigger: z.object({ kind: z.enum(TRIGGER_KINDS), every: z.string().optional(), cron: z.string().optional(), at: z.string().optional() }),
  params: z.object({
    start: z.string(),
    end: z.string().optional(),
    depth: z.number().optional(),
    snapshotInterval: z.string().optional(),
    flushRows: z.number().optional(),
    flushInterval: z.string().optional(),
  }),
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
  streams: z.object({ started: z.array(z.string()), restarted: z.array(z.string()), stopped: z.array(z.string()), unchanged: z.array(z.string()) }),
  notes: z.array(z.string()),
});
const Changed = z.object({ jobs: z.array(Job), report: Report });
const Deleted = z.object({ deleted: z.string(), dataKept: z.literal(true), note: z.string(), report: Report });
const IdParams = z.strictObject({ id: SpecId });

/** The request body as it came, before the schema filled in defaults: that is what the file gets. */
const bodiesAsSent = new WeakMap<FastifyRequest, unknown>();
const keepBodyAsSent = async (req: FastifyRequest) => void bodiesAsSent.set(req, req.body);

/**
 * `store` keeps the jobs (a daemon's config file); without one (an API built in-process from a
 * config alone) the jobs are those of `services.config`, and cannot be changed.
 */
export const jobRoutes: FastifyPluginAsyncZod<{ services: Services; store?: JobStore }> = async (app, { services, store }) => {
  const specs = () => store?.specs() ?? checkConfigJobs(services.config);
  const editable = () => {
    if (!store) throw new Conflict('these jobs come from a config given in-process, not from a file: they cannot be changed here (dccd start and dccd api keep theirs in the config file)');
    return store;
  };
  const withSchedules = async (list: JobSpec[]) => {
    const schedules = new Map((await schedulesOf(services, list.map((spec) => spec.id))).map((s) => [s.specId, s]));
    return list.map((spec) => {
      const s = schedules.get(spec.id);
      return { ...spec, summary: summaryOf(spec), schedule: s ? { scheduleId: s.scheduleId, paused: s.paused, nextRuns: s.nextRuns } : null };
    });
  };

  app.get('/api/jobs', { schema: { summary: 'The jobs, with their schedules', response: { 200: z.object({ jobs: z.array(Job) }) } } }, async () => ({
    jobs: await withSchedules(specs()),
  }));
  app.post(
    '/api/jobs',
    {
      schema: {
        summary: 'Create jobs from one config-style entry (one per symbol), kept in the config file as origin api; schedules and streams are reconciled',
        body: JobEntrySchema,
        response: { 201: Changed, ...errors },
      },
      preValidation: keepBodyAsSent,
    },
    async (req, reply) => {
      const { jobs, report } = await editable().create(services, bodiesAsSent.get(req));
      return reply.code(201).send({ jobs: await withSchedules(jobs), report });
    },
  );
  app.get('/api/jobs/:id', { schema: { summary: 'One job', params: IdParams, response: { 200: Job, ...errors } } }, async (req) => {
    const [job] = await withSchedules([jobById(specs(), req.params.id)]);
    return job!;
  });
  app.put(
    '/api/jobs/:id',
    {
      schema: {
        summary: "Replace a job's definition (same operation, exchange, symbol, kind and span); one of a several-symbol entry is split out of it",
        params: IdParams,
        body: JobEntrySchema,
        response: { 200: Changed, ...errors },
      },
      preValidation: keepBodyAsSent,
    },
    async (req) => {
      const { jobs, report } = await editable().update(services, req.params.id, bodiesAsSent.get(req));
      return { jobs: await withSchedules(jobs), report };
    },
  );
  app.delete('/api/jobs/:id', { schema: { summary: 'Delete a job and its schedule or stream; its data stays', params: IdParams, response: { 200: Deleted, ...errors } } }, async (req) => {
    const { report } = await editable().remove(services, req.params.id);
    return { deleted: req.params.id, dataKept: true as const, note: `the job and its schedule or stream are gone; its data stays in ${services.config.data}`, report };
  });
  app.post('/api/jobs/apply', { schema: { summary: 'Make the schedules and supervised streams match the jobs', response: { 200: Report, ...errors } } }, async () =>
    store ? store.apply(services) : reconcile(services, specs()),
  );
  app.post(
    '/api/jobs/:id/run',
    { schema: { summary: 'Run a job now; while it runs, answers that run', params: IdParams, response: { 200: JobRun, 201: JobRun, ...errors } } },
    async (req, reply) => {
      const { run, started } = await runJobNow(services, jobById(specs(), req.params.id));
      return reply.code(started ? 201 : 200).send(run);
    },
  );
};
