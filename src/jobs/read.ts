// The read verb: a range of a dataset out of the store, for `dccd read` and GET /api/read
// alike. A request is checked once here (the target, its symbol through the venue's own
// parser, the times); its rows then stream out of the store in bounded memory. A read needs
// neither Temporal nor a daemon. A book can instead be read at one instant (`at`): the store
// gives the last snapshot before it and the diffs after that, the order book replays them.
import { NotFound, ValidationError } from '../domain/errors.ts';
import { checkTarget, datasetKind, parseExchange, parseKind, type ExchangeName, type Target } from '../domain/target.ts';
import { isoFromNs, parseAbsoluteTime } from '../domain/time.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';
import { rebuildBook, snapshotRows } from '../domain/order-book.ts';
import type { ColumnBatch } from '../storage/column-batch.ts';
import { batchOf } from '../storage/column-buffer.ts';
import type { ParquetStore } from '../storage/parquet-store.ts';
import { ROW_FORMATS } from '../storage/row-formats.ts';

export const READ_FORMATS = [...ROW_FORMATS, 'parquet'] as const;
export type ReadFormat = (typeof READ_FORMATS)[number];

export interface ReadRequest {
  exchange: string;
  symbol: string;
  kind: string;
  span?: string;
  start?: string;
  end?: string;
  /** Books: the book at this instant instead of a range, at most `depth` levels per side. */
  at?: string;
  depth?: string;
}

export interface CheckedRead {
  target: Target;
  startNs?: bigint;
  endNs?: bigint;
  /** A book at one instant; `field` names `at` as the caller does, for the error when no snapshot precedes it. */
  at?: { ns: bigint; depth?: number; field: string };
}

/** A request field as the caller names it: `start` in the API, `--start` on the command line. */
export type FieldName = (field: 'exchange' | 'kind' | 'start' | 'end' | 'at' | 'depth') => string;

/** Levels per side a rebuilt book may be cut to, at most. */
const MAX_READ_DEPTH = 100_000;

export function checkRead(adapterOf: (name: ExchangeName) => ExchangeAdapter, req: ReadRequest, field: FieldName = (f) => f): CheckedRead {
  const exchange = parseExchange(req.exchange, field('exchange'));
  const shaped = checkTarget({ exchange, symbol: req.symbol, kind: parseKind(req.kind, field('kind')), ...(req.span && { span: req.span }) });
  const target = { ...shaped, symbol: adapterOf(exchange).parseSymbol(req.symbol) };
  if (req.at !== undefined) return { target, at: checkAt(target, req, field) };
  if (req.depth !== undefined) throw new ValidationError(field('depth'), `only applies with ${field('at')} (a book at one instant)`);
  const startNs = req.start === undefined ? undefined : parseAbsoluteTime(req.start, field('start'));
  const endNs = req.end === undefined ? undefined : parseAbsoluteTime(req.end, field('end'));
  if (startNs !== undefined && endNs !== undefined && endNs <= startNs) {
    throw new ValidationError(field('end'), `must be after ${field('start')} (ranges are [start, end))`);
  }
  return { target, ...(startNs !== undefined && { startNs }), ...(endNs !== undefined && { endNs }) };
}

function checkAt(target: Target, req: ReadRequest, field: FieldName): NonNullable<CheckedRead['at']> {
  if (target.kind !== 'book') throw new ValidationError(field('at'), `only applies to kind book, not ${datasetKind(target)}`);
  for (const f of ['start', 'end'] as const) {
    if (req[f] !== undefined) throw new ValidationError(field('at'), `reads the book at one instant: leave out ${field(f)}`);
  }
  const ns = parseAbsoluteTime(req.at!, field('at'));
  if (req.depth === undefined) return { ns, field: field('at') };
  const depth = /^\d{1,6}$/.test(req.depth) ? Number(req.depth) : NaN;
  if (!(depth >= 1 && depth <= MAX_READ_DEPTH)) throw new ValidationError(field('depth'), `'${req.depth}' is not a whole number of levels from 1 to ${MAX_READ_DEPTH}`);
  return { ns, depth, field: field('at') };
}

/**
 * The read's batches with the first already taken, so a read that cannot start fails here,
 * before any answer has begun; `empty` when there are none. Whoever takes `batches` must
 * iterate them to the end or return() them: they hold a DuckDB connection.
 */
export async function startRows(store: ParquetStore, r: CheckedRead, signal?: AbortSignal): Promise<{ batches: AsyncIterableIterator<ColumnBatch>; empty: boolean }> {
  // A range streams out of the store; a book at one instant is rebuilt whole.
  const it = r.at ? bookBatches(store, r) : store.stream(r.target, r.startNs, r.endNs, { signal });
  const first = await it.next();
  let taken = first.done === true;
  const batches: AsyncIterableIterator<ColumnBatch> = {
    next: () => (taken ? it.next() : ((taken = true), Promise.resolve(first))),
    return: (value?: unknown) => it.return(value as undefined),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return { batches, empty: first.done === true };
}

/**
 * The book at `r.at` as one batch of its levels, snapshot rows carrying the ts and seq of the
 * last update applied. No snapshot at or before the instant is an error naming `at`; a book
 * with nothing stored is not found.
 */
async function* bookBatches(store: ParquetStore, r: CheckedRead): AsyncGenerator<ColumnBatch> {
  const { ns, depth, field } = r.at!;
  const t = r.target as Target & { kind: 'book' };
  const found = await store.bookAt(t, ns);
  if (!found) {
    const stats = await store.stats(t);
    if (!stats) throw new NotFound(`nothing stored for ${t.exchange} ${t.symbol} book`);
    throw new ValidationError(field, `no snapshot of the ${t.exchange} ${t.symbol} book at or before ${isoFromNs(ns)} to rebuild it from; its rows run from ${isoFromNs(stats.minTs)} to ${isoFromNs(stats.maxTs)}`);
  }
  const book = rebuildBook(found.snapshot, found.diffs, depth);
  yield batchOf('book', snapshotRows(book, book.ts, book.seq));
}

/**
 * For a read with no rows: `note: no rows in [start, end) for binance BTC/USDT ohlc-1m`, and
 * what the dataset does hold; `held` is false when it holds nothing at all.
 */
export async function noRowsNote(store: ParquetStore, r: CheckedRead): Promise<{ note: string; held: boolean }> {
  const { target, startNs, endNs } = r;
  const bound = (ns: bigint | undefined) => (ns === undefined ? '…' : isoFromNs(ns));
  const range = startNs === undefined && endNs === undefined ? '' : ` in [${bound(startNs)}, ${bound(endNs)})`;
  const stats = await store.stats(target);
  const held = stats ? `its rows run from ${isoFromNs(stats.minTs)} to ${isoFromNs(stats.maxTs)}` : 'the dataset has no data at all';
  return { note: `note: no rows${range} for ${target.exchange} ${target.symbol} ${datasetKind(target)}; ${held}`, held: stats !== null };
}
