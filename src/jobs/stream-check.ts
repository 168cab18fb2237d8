// The checks a stream request passes before anything starts, without Temporal or the venue:
// the target's shape, a stream the venue offers and this dccd implements, flush settings, a
// book's depth (the venue's limit) and snapshot interval. `dccd stream`, stream jobs and the
// stream verb share them.
import { NoCapability, ValidationError } from '../domain/errors.ts';
import { DEFAULT_BOOK_DEPTH, DEFAULT_SNAPSHOT_INTERVAL_MS, type StreamRequest } from '../domain/stream.ts';
import { checkTarget, datasetKind, type Target } from '../domain/target.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';

const MAX_FLUSH_ROWS = 1_000_000;
const MAX_FLUSH_MS = 3_600_000;
/** A book snapshot at most every second (the diffs between carry every change) and at least every day. */
const MIN_SNAPSHOT_INTERVAL_MS = 1_000;
const MAX_SNAPSHOT_INTERVAL_MS = 86_400_000;

/** The checks that need no venue: target shape, the stream capability, flush settings, a book's depth (the venue's) and snapshot interval. */
export function shapeStream(req: StreamRequest, adapter: ExchangeAdapter): StreamRequest {
  const shaped = checkTarget(req.target);
  const target: Target = { ...shaped, symbol: adapter.parseSymbol(shaped.symbol) };
  const cap = adapter.capabilities.stream[target.kind];
  if (!cap) throw new NoCapability(target.exchange, `no live ${datasetKind(target)} stream`);
  // Declared by the venue but not built yet in this dccd: say so rather than start a run that fails.
  if (!adapter.streams?.[target.kind]) throw new NoCapability(target.exchange, `live ${datasetKind(target)} streams are not implemented in this dccd yet`);
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
  };
}
