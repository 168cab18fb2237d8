// The read verb: a range of a dataset out of the store, for `dccd read` and GET /api/read
// alike. A request is checked once here (the target, its symbol through the venue's own
// parser, the times); its rows then stream out of the store in bounded memory. A read needs
// neither Temporal nor a daemon.
import { ValidationError } from '../domain/errors.ts';
import { checkTarget, datasetKind, parseExchange, parseKind, type ExchangeName, type Target } from '../domain/target.ts';
import { isoFromNs, parseAbsoluteTime } from '../domain/time.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';
import type { ColumnBatch } from '../storage/column-batch.ts';
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
}

export interface CheckedRead {
  target: Target;
  startNs?: bigint;
  endNs?: bigint;
}

/** A request field as the caller names it: `start` in the API, `--start` on the command line. */
export type FieldName = (field: 'exchange' | 'kind' | 'start' | 'end') => string;

export function checkRead(adapterOf: (name: ExchangeName) => ExchangeAdapter, req: ReadRequest, field: FieldName = (f) => f): CheckedRead {
  const exchange = parseExchange(req.exchange, field('exchange'));
  const shaped = checkTarget({ exchange, symbol: req.symbol, kind: parseKind(req.kind, field('kind')), ...(req.span && { span: req.span }) });
  const target = { ...shaped, symbol: adapterOf(exchange).parseSymbol(req.symbol) };
  const startNs = req.start === undefined ? undefined : parseAbsoluteTime(req.start, field('start'));
  const endNs = req.end === undefined ? undefined : parseAbsoluteTime(req.end, field('end'));
  if (startNs !== undefined && endNs !== undefined && endNs <= startNs) {
    throw new ValidationError(field('end'), `must be after ${field('start')} (ranges are [start, end))`);
  }
  return { target, ...(startNs !== undefined && { startNs }), ...(endNs !== undefined && { endNs }) };
}

/**
 * The read's batches with the first already taken, so a read that cannot start fails here,
 * before any answer has begun; `empty` when there are none. Whoever takes `batches` must
 * iterate them to the end or return() them: they hold a DuckDB connection.
 */
export async function startRows(store: ParquetStore, r: CheckedRead, signal?: AbortSignal): Promise<{ batches: AsyncIterableIterator<ColumnBatch>; empty: boolean }> {
  const it = store.stream(r.target, r.startNs, r.endNs, { signal });
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
