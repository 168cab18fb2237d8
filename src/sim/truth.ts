// The oracle: exactly the rows a perfect download of [start, end) must hold, summarized by
// the checksum of checksum.ts. Only closed candles count (their whole period lies before
// now) and trades executed before now.
import { ValidationError } from '../domain/errors.ts';
import type { OhlcRow, TradeRow } from '../domain/records.ts';
import { parseAbsoluteTime } from '../domain/time.ts';
import type { ChecksumSummary } from './checksum.ts';

export type TruthKind = 'ohlc' | 'trades';

export interface TruthQuery {
  exchange: string;
  /** The venue's symbol (BTCUSDT) or the unified form (BTC/USDT, BTC-USDT). */
  symbol: string;
  kind: TruthKind;
  /** Candle span in the venue's notation, required for ohlc ('1m', '1h', '1M'). */
  span?: string;
  /** Inclusive start: ns (bigint, integer or digits) or an ISO date / date-time. */
  start: bigint | number | string;
  /** Exclusive end, same forms. */
  end: bigint | number | string;
  /** Also return the rows (programmatic calls only). */
  withRows?: boolean;
}

export interface TruthResult extends ChecksumSummary {
  /** The rows themselves, when asked for with withRows. */
  records?: OhlcRow[] | TradeRow[];
}

/** A validated truth query, as a venue receives it. */
export interface TruthRange {
  symbol: string;
  kind: TruthKind;
  span: string | undefined;
  startNs: bigint;
  endNs: bigint;
  withRows: boolean;
}

export function parseTruthQuery(q: TruthQuery): TruthRange {
  if (!q.symbol) throw new ValidationError('symbol', 'required');
  if (q.kind !== 'ohlc' && q.kind !== 'trades') throw new ValidationError('kind', `'${String(q.kind)}' is not ohlc or trades`);
  if (q.kind === 'ohlc' && !q.span) throw new ValidationError('span', 'required for kind ohlc');
  if (q.start === undefined || q.start === '') throw new ValidationError('start', 'required');
  if (q.end === undefined || q.end === '') throw new ValidationError('end', 'required');
  const startNs = parseAbsoluteTime(q.start, 'start');
  const endNs = parseAbsoluteTime(q.end, 'end');
  if (endNs < startNs) throw new ValidationError('end', 'is before start');
  return { symbol: q.symbol, kind: q.kind, span: q.kind === 'ohlc' ? q.span : undefined, startNs, endNs, withRows: q.withRows === true };
}

/** The venue's own symbol from 'BTC/USDT', 'btc-usdt' or 'BTCUSDT' (venues without separators). */
export function joinedSymbol(symbol: string): string {
  return symbol.replace(/[/\-_]/g, '').toUpperCase();
}
