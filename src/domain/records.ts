// The normalized row shapes, one per kind, shared by every exchange. Nothing else in dccd
// invents a row type. Parquet column names are the snake_case forms in COLUMNS.

export interface OhlcRow {
  /** Candle open time, ns UTC. */
  ts: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Base-asset volume. */
  volume: number;
  /** Quote-asset volume, where the venue gives it; never fabricated. */
  quoteVolume: number | null;
  /** Number of trades in the candle, where the venue gives it. */
  trades: number | null;
}

export type TakerSide = 'buy' | 'sell';

export interface TradeRow {
  /** Execution time, ns UTC. */
  ts: bigint;
  /** The venue's trade id, as text (ids are numbers at some venues, UUIDs at others). */
  tradeId: string;
  price: number;
  /** Base-asset amount. */
  amount: number;
  /** Side of the taker (the aggressor). */
  side: TakerSide;
}

export type BookSide = 'bid' | 'ask';

/**
 * One level of a book snapshot, or one change of a streamed book. A snapshot's rows share its
 * ts and seq and number its levels from 0 (the best price on that side). A streamed book
 * stores a snapshot at its start, after each resync and every snapshot interval, and between
 * them every change of its top `depth` levels as a diff row: the level's new amount, 0 where
 * the level left the top (removed, or pushed below the depth), with level null, since a diff
 * names a price, not a rank. The rows of one venue event share its ts and seq.
 */
export interface BookRow {
  /** Event time (venue time where the venue gives it, else when received), ns UTC. */
  ts: bigint;
  /** The venue's update id of the book after this row's event (Binance `u`, `lastUpdateId`); null where the venue numbers none. */
  seq: bigint | null;
  /** True for a snapshot's levels, false for a diff; null in parts written before book streams (all REST snapshots). */
  isSnapshot: boolean | null;
  side: BookSide;
  price: number;
  amount: number;
  /** Snapshots: 0 = best price on that side; diffs: null. */
  level: number | null;
}

export interface RowsByKind {
  ohlc: OhlcRow;
  trades: TradeRow;
  book: BookRow;
}

export type AnyRow = OhlcRow | TradeRow | BookRow;

/**
 * Parquet columns per kind, in order, with their logical types (`?`: nullable). `bigint` is an
 * int64 carried in JS as a number (counts, exact below 2^53); `int64` one carried as a bigint (ids).
 */
export const COLUMNS = {
  ohlc: [
    ['ts', 'timestamp_ns'],
    ['open', 'double'],
    ['high', 'double'],
    ['low', 'double'],
    ['close', 'double'],
    ['volume', 'double'],
    ['quote_volume', 'double?'],
    ['trades', 'bigint?'],
  ],
  trades: [
    ['ts', 'timestamp_ns'],
    ['trade_id', 'varchar'],
    ['price', 'double'],
    ['amount', 'double'],
    ['side', 'varchar'],
  ],
  book: [
    ['ts', 'timestamp_ns'],
    ['side', 'varchar'],
    ['price', 'double'],
    ['amount', 'double'],
    ['level', 'integer?'],
    ['seq', 'int64?'],
    ['is_snapshot', 'boolean?'],
  ],
} as const;

/**
 * The key that identifies a row within a dataset, for de-duplication. Book rows: a snapshot
 * and a diff of one event share ts and seq, and a price appears once per side in each; parts
 * written before book streams have no seq nor is_snapshot (null), and their key is ts, side, price.
 */
export const DEDUP_KEY = { ohlc: ['ts'], trades: ['trade_id'], book: ['ts', 'seq', 'is_snapshot', 'side', 'price'] } as const;
