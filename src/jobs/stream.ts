// The stream verb: check a request against the venue (shape, a stream the venue offers and
// this dccd implements, flush settings, a book's depth and snapshot interval, the symbol
// listed), then start its run. A bad request starts nothing.
import { NoCapability, ValidationError } from '../domain/errors.ts';
import { DEFAULT_BOOK_DEPTH, DEFAULT_SNAPSHOT_INTERVAL_MS, MAX_FLUSH_MS, MAX_FLUSH_ROWS, type StreamRequest } from '../domain/stream.ts';
import { checkTarget, datasetKind, parseExchange, type Target } from '../domain/target.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';
import type { Services } from '../services.ts';
import type { StartedRun } from '../client/runs.ts';
import type { StreamTuning } from '../client/streams.ts';
import { streamedKinds } from './capabilities.ts';

/** A book snapshot at most every second (the diffs between carry every change) and at least every day. */
const MIN_SNAPSHOT_INTERVAL_MS = 1_000;
const MAX_SNAPSHOT_INTERVAL_MS = 86_400_000;

/** The checks that need no venue: target shape, the stream capability, flush settings, a book's depth (the venue's limit) and snapshot interval. */
export function shapeStream(req: StreamRequest, adapter: ExchangeAdapter): StreamRequest {
  const shaped = checkTarget(req.target);
  const target: Target = { ...shaped, symbol: adapter.parseSymbol(shaped.symbol) };
  const cap = adapter.capabilities.stream[target.kind];
  if (!cap) throw new NoCapability(target.exchange, `no live ${datasetKind(target)} stream`);
  // Declared by the venue but not built yet in this dccd: say so rather than start a run that fails.
  const built = streamedKinds(adapter);
  if (!built.includes(target.kind)) {
    throw new NoCapability(target.exchange, `live ${datasetKind(target)} streams are not implemented in this dccd yet (${built.length ? `it streams ${built.join(', ')}` : 'it streams nothing from this venue'})`);
  }
  if (target.kind === 'ohlc' && cap.spans && !cap.spans.includes(target.span!)) {
    throw new NoCapability(target.exchange, `span '${target.span}' is not streamed (spans: ${cap.spans.join(', ')})`);
  }
  const book = target.kind === 'book';
  for (const field of ['depth', 'snapshotIntervalMs'] as const) {
    if (!book && req[field] !== undefined) throw new ValidationError(field, `only applies to kind book, not ${datasetKind(target)}`);
  }
  const limits = [
    ['flushRows', req.flushRows, 1, MAX_FLUSH_ROWS, ''],
    ['flushMs', req.flushMs, 1, MAX_FLUSH_MS, ' ms'],
    ['depth', req.depth, 1, cap.maxDepth ?? DEFAULT_BOOK_DEPTH, ' levels'],
    ['snapshotIntervalMs', req.snapshotIntervalMs, MIN_SNAPSHOT_INTERVAL_MS, MAX_SNAPSHOT_INTERVAL_MS, ' ms'],
  ] as const;
  for (const [field, v, min, max, unit] of limits) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min || v > max)) throw new ValidationError(field, `must be a whole number from ${min} to ${max}${unit}, got ${v}`);
  }
  return {
    target,
    ...(req.flushRows !== undefined && { flushRows: req.flushRows }),
    ...(req.flushMs !== undefined && { flushMs: req.flushMs }),
    ...(book && { depth: req.depth ?? DEFAULT_BOOK_DEPTH, snapshotIntervalMs: req.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS }),
    ...(req.specId && { specId: req.specId }),
    ...(req.specVersion && { specVersion: req.specVersion }),
  };
}

/** Checks `req` with the venue and starts its run. */
export async function startStream(services: Services, req: StreamRequest, tuning: StreamTuning = {}): Promise<StartedRun> {
  const exchange = parseExchange(req.target.exchange, 'target.exchange');
  const adapter = services.adapter(exchange, { interactive: true });
  const request = shapeStream({ ...req, target: { ...req.target, exchange } }, adapter);
  await adapter.checkSymbol(request.target.symbol);
  // Loaded here: checking a stream job (dccd validate) loads no Temporal code.
  const { submitStream } = await import('../client/streams.ts');
  return submitStream(services, request, tuning);
}
