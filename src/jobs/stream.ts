// The stream verb: check a request (stream-check.ts, then the symbol listed at the venue),
// then start its run. A bad request starts nothing.
import type { StreamRequest } from '../domain/stream.ts';
import { parseExchange } from '../domain/target.ts';
import type { Services } from '../services.ts';
import type { StartedRun } from '../client/runs.ts';
import { submitStream, type StreamTuning } from '../client/streams.ts';
import { shapeStream } from './stream-check.ts';

/** Checks `req` with the venue and starts its run. */
export async function startStream(services: Services, req: StreamRequest, tuning: StreamTuning = {}): Promise<StartedRun> {
  const exchange = parseExchange(req.target.exchange, 'target.exchange');
  const adapter = services.adapter(exchange, { interactive: true });
  const request = shapeStream({ ...req, target: { ...req.target, exchange } }, adapter);
  await adapter.checkSymbol(request.target.symbol);
  return submitStream(services, request, tuning);
}
