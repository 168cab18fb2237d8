// Runs: list (filters, newest first, cursor pages), one run, stop; ad-hoc backfills.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getRun, listRuns, MAX_PAGE } from '../../client/run-list.ts';
import { runHandle, stopRun } from '../../client/runs.ts';
import { isFinal, JOB_RUN_STATES } from '../../domain/job-run.ts';
import { OPERATIONS } from '../../domain/job-spec.ts';
import { KINDS } from '../../domain/target.ts';
import { startBackfill } from '../../jobs/backfill.ts';
import type { Services } from '../../services.ts';
import { DatasetKind, ExchangeName, JobRun, RunId, SpecId, Symbol, TimeText, errors } from '../schemas.ts';

const RunQuery = z.strictObject({
  spec_id: SpecId.optional(),
  state: z.enum(JOB_RUN_STATES).optional(),
  operation: z.enum(OPERATIONS).optional(),
  exchange: ExchangeName.optional(),
  /** The unified symbol, BTC/USDT. */
  symbol: z.string().regex(/^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/, 'a unified symbol such as BTC/USDT').optional(),
  kind: DatasetKind.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
  cursor: z.string().max(4000).optional(),
});

const BackfillBody = z.strictObject({
  exchange: ExchangeName,
  symbol: Symbol,
  kind: z.enum(KINDS),
  span: z.string().max(8).optional(),
  start: TimeText.optional(),
  end: TimeText.optional(),
  depth: z.number().int().positive().max(100_000).optional(),
});

export const runRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/runs',
    { schema: { summary: 'List runs, newest first', querystring: RunQuery, response: { 200: z.object({ runs: z.array(JobRun), nextCursor: z.string().nullable() }), ...errors } } },
    async (req) => {
      const q = req.query;
      return listRuns(services, { specId: q.spec_id, state: q.state, operation: q.operation, exchange: q.exchange, symbol: q.symbol, kind: q.kind, limit: q.limit, cursor: q.cursor });
    },
  );
  app.get(
    '/api/runs/:id',
    { schema: { summary: 'One run: state, progress, log tail, result', params: z.strictObject({ id: RunId }), response: { 200: JobRun, ...errors } } },
    async (req) => getRun(services, req.params.id),
  );
  app.post(
    '/api/runs/:id/stop',
    {
      schema: {
        summary: 'Ask a run to stop (windows in flight finish): 202 while it stops, 200 with the run when it had ended already',
        params: z.strictObject({ id: RunId }),
        response: { 200: JobRun, 202: JobRun, ...errors },
      },
    },
    async (req, reply) => {
      const before = await getRun(services, req.params.id);
      if (isFinal(before.state)) return reply.code(200).send(before);
      await stopRun(await runHandle(services, req.params.id));
      return reply.code(202).send(await getRun(services, req.params.id));
    },
  );
  app.post(
    '/api/backfill',
    {
      schema: {
        summary: 'Start an ad-hoc backfill (409 with the running id while the dataset has one)',
        body: BackfillBody,
        response: { 201: z.object({ runId: z.string(), workflowId: z.string(), notes: z.array(z.string()) }), ...errors },
      },
    },
    async (req, reply) => {
      const { exchange, symbol, kind, span, start, end, depth } = req.body;
      const started = await startBackfill(services, { target: { exchange, symbol, kind, ...(span && { span }) }, start, end, depth });
      return reply.code(201).send(started);
    },
  );
};
