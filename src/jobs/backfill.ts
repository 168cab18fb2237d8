// The backfill verb: check a request (backfill-check.ts), then start its run.
import type { BackfillRequest } from '../domain/job.ts';
import { parseExchange } from '../domain/target.ts';
import type { Services } from '../services.ts';
import { submitBackfill, type BackfillTuning, type StartedRun } from '../client/runs.ts';
import { checkBackfill } from './backfill-check.ts';

/** Checks `req` with the venue and starts its run; `notes` are what the check found worth saying (a range clamped, say). */
export async function startBackfill(services: Services, req: BackfillRequest, tuning: BackfillTuning = {}): Promise<StartedRun & { notes: string[] }> {
  const exchange = parseExchange(req.target.exchange, 'target.exchange');
  const { request, notes } = await checkBackfill({ ...req, target: { ...req.target, exchange } }, services.adapter(exchange, { interactive: true }));
  return { ...(await submitBackfill(services, request, tuning)), notes };
}
