// The backfill verb: check a request (backfill-check.ts), then start its run.
import type { BackfillRequest } from '../domain/job.ts';
import { parseExchange } from '../domain/target.ts';
import type { Services } from '../services.ts';
import { submitBackfill, type BackfillTuning, type StartedRun } from '../client/runs.ts';
import { checkBackfill } from './backfill-check.ts';

/** Checks `req` with the venue and starts its run. */
export async function startBackfill(services: Services, req: BackfillRequest, tuning: BackfillTuning = {}): Promise<StartedRun> {
  const exchange = parseExchange(req.target.exchange, 'target.exchange');
  const { request } = await checkBackfill({ ...req, target: { ...req.target, exchange } }, services.adapter(exchange, { interactive: true }));
  return submitBackfill(services, request, tuning);
}
