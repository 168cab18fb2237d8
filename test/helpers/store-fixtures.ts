// Rows and queries for store tests: deterministic synthetic trades, candles and book
// snapshots, and a throw-away DuckDB to read the files the way a user would.
import { DuckDBInstance } from '@duckdb/node-api';
import type { BookRow, OhlcRow, TradeRow } from '../../src/domain/records.ts';
import { NS_PER_MIN } from '../../src/domain/time.ts';

export const PROV = { source: 'binance:rest', adapterVersion: 'binance-rest/1' };
export const WS_PROV = { source: 'binance:ws', adapterVersion: 'binance-ws/1' };
export const DAY0 = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z

/** Deterministic pseudo-random numbers, so a failure reproduces. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Trades at random ns (sub-µs digits almost never zero), ids increasing, over `spanNs`. */
export function makeTrades(n: number, startNs: bigint, spanNs: bigint, seed = 1, firstId = 1000): TradeRow[] {
  const rnd = random(seed);
  const ts = Array.from({ length: n }, () => startNs + BigInt(Math.floor(rnd() * Number(spanNs))));
  ts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return ts.map((t, i) => ({
    ts: t,
    tradeId: String(firstId + i),
    price: Math.round(42_000 + rnd() * 1000) / 100,
    amount: Math.round(rnd() * 1e6) / 1e6,
    side: rnd() < 0.5 ? 'buy' : 'sell',
  }));
}

/**
 * What a stream saw of `rest`: every other trade, its price a cent off (so a test sees which
 * copy a read keeps), and one trade in four of its own (ids from 10^7, which the REST rows lack).
 */
export function streamedTrades(rest: readonly TradeRow[]): TradeRow[] {
  const own = makeTrades(Math.ceil(rest.length / 4), rest[0]?.ts ?? 0n, (rest.at(-1)?.ts ?? 0n) - (rest[0]?.ts ?? 0n) + 1n, 99, 10_000_000);
  return [...rest.filter((_, i) => i % 2 === 0).map((r) => ({ ...r, price: r.price + 0.01 })), ...own].sort(tradeOrder);
}

/** The store's trade order: ts, then ids as numbers (shorter first). */
export function tradeOrder(a: TradeRow, b: TradeRow): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.tradeId.length !== b.tradeId.length) return a.tradeId.length - b.tradeId.length;
  return a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0;
}

export function makeCandles(n: number, startNs: bigint): OhlcRow[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: startNs + BigInt(i) * NS_PER_MIN,
    open: 100 + i,
    high: 101.25 + i,
    low: 99.5 + i,
    close: 100.75 + i,
    volume: 3.141592653589793 * (i + 1),
    quoteVolume: i % 3 === 0 ? null : 1234.5 * i,
    trades: i % 4 === 0 ? null : i * 7,
  }));
}

export function makeBook(snapshots: number, startNs: bigint, depth: number): BookRow[] {
  const rows: BookRow[] = [];
  for (let s = 0; s < snapshots; s++) {
    const ts = startNs + BigInt(s) * 1_000_000_007n;
    for (const side of ['ask', 'bid'] as const) {
      for (let level = 0; level < depth; level++) {
        rows.push({ ts, seq: 1000n + BigInt(s), isSnapshot: true, side, level, price: side === 'bid' ? 2000 - level * 0.01 : 2000.01 + level * 0.01, amount: 0.1 * (level + 1) });
      }
    }
  }
  return rows;
}

/** Rows of `sql` from a fresh in-memory DuckDB. */
export async function duckdbRows(sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRows() as unknown[][];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
