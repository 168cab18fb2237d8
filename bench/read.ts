// Read: how fast rows come back out of the store, against DuckDB querying the same files
// directly (the floor: the store reads through DuckDB too), and what a row costs on disk.
// The 10 M trades are synthetic and written straight through ParquetStore.write: generating
// them is far faster than fetching them, and the files are the same as a backfill's.
import { statSync } from 'node:fs';
import { DuckDBInstance, quotedString } from '@duckdb/node-api';
import type { BookRow, OhlcRow, TradeRow } from '../src/domain/records.ts';
import { COLUMNS } from '../src/domain/records.ts';
import type { Kind, Target } from '../src/domain/target.ts';
import { NS_PER_DAY, NS_PER_MS, NS_PER_S, parseAbsoluteTime } from '../src/domain/time.ts';
import { listParts } from '../src/storage/dataset-files.ts';
import { ParquetStore } from '../src/storage/parquet-store.ts';
import { median, report, RUNS, tempDir, time } from './lib.ts';

const BENCH = 'read';
const PROVENANCE = { source: 'bench:synthetic', adapterVersion: 'bench/1' };
const START_NS = parseAbsoluteTime('2024-01-01', 'start');
const DAYS = 10;
/** Rows per generated chunk, one chunk a day: ~12 trades a second, a busy pair's pace. */
const TRADES_PER_DAY = 1_000_000;
const SLICE_ROUNDS_PER_RUN = 3;

const TRADES: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
const OHLC: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' };
const BOOK: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' };

/** mulberry32: a small seeded PRNG, so every run writes the same bytes. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (x: number, step: number): number => Math.round(x / step) * step;
/** Log-normal sizes in lots, the shape of real trade sizes. */
const size = (rnd: () => number, lot: number, scale: number): number =>
  Number(Math.max(lot, round(scale * Math.exp(Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd())), lot)).toFixed(8));

/**
 * One day of trades as a venue serves them: ms timestamps with exponential gaps (several
 * share a millisecond), sequential ids, a tick random walk with half the trades at the same
 * price, log-normal sizes, random taker sides.
 */
function tradesOfDay(day: number, firstId: number, rnd: () => number, price: { ticks: number }): TradeRow[] {
  const rows: TradeRow[] = new Array(TRADES_PER_DAY);
  const dayMs = Number((START_NS + BigInt(day) * NS_PER_DAY) / NS_PER_MS);
  const meanGapMs = 86_400_000 / TRADES_PER_DAY;
  let t = 0;
  for (let i = 0; i < TRADES_PER_DAY; i++) {
    t = Math.min(t - meanGapMs * Math.log(1 - rnd()), 86_399_999);
    if (rnd() < 0.5) price.ticks += rnd() < 0.5 ? -1 : 1;
    rows[i] = {
      ts: BigInt(dayMs + Math.floor(t)) * NS_PER_MS,
      tradeId: String(firstId + i),
      price: price.ticks / 100,
      amount: size(rnd, 1e-5, 0.01),
      side: rnd() < 0.5 ? 'buy' : 'sell',
    };
  }
  return rows;
}

/** A year of 1m candles on a geometric random walk; a few quiet minutes have none. */
function candlesOfYear(rnd: () => number): OhlcRow[] {
  const rows: OhlcRow[] = [];
  const minutes = Number((parseAbsoluteTime('2025-01-01', 'end') - START_NS) / (60n * NS_PER_S));
  let close = 42_000;
  for (let m = 0; m < minutes; m++) {
    if (rnd() < 0.02) continue;
    const open = close;
    close = round(open * Math.exp((rnd() - 0.5) * 0.002), 0.01);
    const volume = size(rnd, 1e-5, 5);
    rows.push({
      ts: START_NS + BigInt(m) * 60n * NS_PER_S,
      open,
      high: round(Math.max(open, close) * (1 + rnd() * 0.0005), 0.01),
      low: round(Math.min(open, close) * (1 - rnd() * 0.0005), 0.01),
      close,
      volume,
      quoteVolume: Number((volume * (open + close) * 0.5).toFixed(8)),
      trades: 1 + Math.floor(rnd() * 2000),
    });
  }
  return rows;
}

/** Snapshots a second apart, each `levels` deep per side, in the store's order (asks, then bids). */
function bookSnapshots(rnd: () => number, snapshots: number, levels: number): BookRow[] {
  const rows: BookRow[] = [];
  let mid = 4_200_000; // ticks of 0.01
  for (let s = 0; s < snapshots; s++) {
    mid += Math.round((rnd() - 0.5) * 20);
    const ts = START_NS + BigInt(s) * NS_PER_S;
    for (const side of ['ask', 'bid'] as const) {
      for (let level = 0; level < levels; level++) {
        const ticks = side === 'ask' ? mid + 1 + level : mid - 1 - level;
        rows.push({ ts, seq: BigInt(s + 1), isSnapshot: true, side, level, price: ticks / 100, amount: size(rnd, 1e-5, 0.5) });
      }
    }
  }
  return rows;
}

async function datasetBytes(store: ParquetStore, t: Target): Promise<number> {
  const parts = await listParts(store.datasetPath(t));
  return parts.reduce((s, p) => s + statSync(p.path).size, 0);
}

/**
 * Bytes a row takes as plain fixed-width columns: 8 per timestamp, double and bigint, 4
 * per integer, trade ids as int64 and sides as one byte. What the Parquet files compress.
 */
function rawBytesPerRow(kind: Kind): number {
  const width: Record<string, number> = { timestamp_ns: 8, double: 8, bigint: 8, integer: 4 };
  return COLUMNS[kind].reduce((s, [name, type]) => s + (type === 'varchar' ? (name === 'side' ? 1 : 8) : width[type.replace('?', '')]!), 0);
}

/**
 * The same columns as store.read(), from DuckDB over the dataset's files, into typed arrays;
 * the taker side as a one-byte code, as the store carries it before building Arrow.
 */
async function duckdbRead(conn: Awaited<ReturnType<DuckDBInstance['connect']>>, dir: string, startNs?: bigint, endNs?: bigint): Promise<number> {
  const where = startNs === undefined || endNs === undefined ? '' : ` WHERE ts >= make_timestamp_ns(${startNs}) AND ts < make_timestamp_ns(${endNs})`;
  const result = await conn.run(
    `SELECT epoch_ns(ts) AS ts, trade_id, price, amount, (side = 'sell')::UTINYINT AS side FROM read_parquet(${quotedString(`${dir}/**/*.parquet`)}, hive_partitioning = true)${where}`,
  );
  const n = result.rowCount;
  const ts = new BigInt64Array(n);
  const ids = new Array<string>(n);
  const price = new Float64Array(n);
  const amount = new Float64Array(n);
  const side = new Uint8Array(n);
  let at = 0;
  for (let k = 0; k < result.chunkCount; k++) {
    const chunk = result.getChunk(k);
    const [vt, vi, vp, va, vs] = [0, 1, 2, 3, 4].map((c) => chunk.getColumnVector(c));
    for (let j = 0; j < chunk.rowCount; j++, at++) {
      ts[at] = vt!.getItem(j) as bigint;
      ids[at] = vi!.getItem(j) as string;
      price[at] = vp!.getItem(j) as number;
      amount[at] = va!.getItem(j) as number;
      side[at] = vs!.getItem(j) as number;
    }
  }
  return n;
}

const data = tempDir('read');
const store = new ParquetStore(data.path);
const duck = await DuckDBInstance.create(':memory:');
const conn = await duck.connect();
try {
  // ---- the dataset ----
  const rnd = random(7);
  const price = { ticks: 4_200_000 };
  let rows = 0;
  for (let day = 0; day < DAYS; day++) {
    const chunk = tradesOfDay(day, 3_000_000_000 + rows, rnd, price);
    const startNs = START_NS + BigInt(day) * NS_PER_DAY;
    rows += (await store.write(TRADES, chunk, { startNs, endNs: startNs + NS_PER_DAY }, PROVENANCE)).rows;
  }
  const dir = store.datasetPath(TRADES);

  // ---- reads: the middle 10 % of the time range (across a day boundary), then everything ----
  const span = BigInt(DAYS) * NS_PER_DAY;
  const slice = { startNs: START_NS + (span * 45n) / 100n, endNs: START_NS + (span * 55n) / 100n };
  const cases = [
    { name: '10 % time slice', startNs: slice.startNs, endNs: slice.endNs },
    { name: 'full scan', startNs: undefined, endNs: undefined },
  ];
  for (const c of cases) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let n = 0;
    // The first round warms the page cache and both engines; it is not counted. A slice
    // takes a fraction of a second, so it gets more rounds to steady its median.
    const rounds = c.startNs === undefined ? RUNS : RUNS * SLICE_ROUNDS_PER_RUN;
    for (let i = 0; i <= rounds; i++) {
      const [table, msStore] = await time(() => store.read(TRADES, c.startNs, c.endNs));
      const [nDuck, msDuck] = await time(() => duckdbRead(conn, dir, c.startNs, c.endNs));
      if (table.numRows !== nDuck) throw new Error(`${c.name}: store read ${table.numRows} rows, DuckDB ${nDuck}`);
      n = nDuck;
      if (i === 0) continue;
      ours.push((n * 1000) / msStore);
      theirs.push((n * 1000) / msDuck);
    }
    report({
      bench: BENCH,
      name: `trades ${c.name}: store.read() to Arrow`,
      value: median(ours),
      unit: 'rows/s',
      baseline: { name: 'DuckDB read_parquet to typed arrays', value: median(theirs) },
      note: `${n.toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} rows, median of ${rounds}`,
    });
  }

  // ---- bytes per row on disk ----
  const sizes: { kind: string; target: Target; rows: number }[] = [{ kind: `trades, ${DAYS} days`, target: TRADES, rows }];
  const candles = candlesOfYear(random(11));
  await store.write(OHLC, candles, { startNs: START_NS, endNs: parseAbsoluteTime('2025-01-01', 'end') }, PROVENANCE);
  sizes.push({ kind: 'ohlc 1m, 1 year', target: OHLC, rows: candles.length });
  const book = bookSnapshots(random(13), 1000, 100);
  await store.write(BOOK, book, { startNs: START_NS, endNs: START_NS + 1000n * NS_PER_S }, PROVENANCE);
  sizes.push({ kind: 'book, 1000 snapshots × 100 levels × 2 sides', target: BOOK, rows: book.length });
  for (const s of sizes) {
    const bytes = await datasetBytes(store, s.target);
    report({
      bench: BENCH,
      name: `bytes/row on disk: ${s.kind}`,
      value: bytes / s.rows,
      unit: 'B/row',
      baseline: { name: 'plain fixed-width columns', value: rawBytesPerRow(s.target.kind) },
      note: `${s.rows.toLocaleString('en-US')} rows, ${(bytes / 1e6).toFixed(1)} MB`,
    });
  }
} finally {
  conn.closeSync();
  duck.closeSync();
  await store.close();
  data.remove();
}
