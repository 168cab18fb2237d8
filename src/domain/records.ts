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

export interface BookRow {
  /** Snapshot time, ns UTC; every level of one snapshot shares it. */
  ts: bigint;
  side: 'bid' | 'ask';
  price: number;
  amount: number;
  /** 0 = best price on that side. */
  level: number;
}

export interface RowsByKind {
  ohlc: OhlcRow;
  trades: TradeRow;
  book: BookRow;
}

export type AnyRow = OhlcRow | TradeRow | BookRow;

/** Parquet columns per kind, in order, with their logical types. */
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
    ['level', 'integer'],
  ],
} as const;

/** The key that identifies a row within a dataset, for de-duplication. */
export const DEDUP_KEY = { ohlc: ['ts'], trades: ['trade_id'], book: ['ts', 'side', 'level'] } as const;
