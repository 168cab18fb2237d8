// Backfills through the real dev server, worker, adapter and store, checked row for row
// against the simulator's truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { runResult, startedHandle } from '../../src/client/runs.ts';
import { startBackfill } from '../../src/jobs/backfill.ts';
import { AlreadyRunning } from '../../src/domain/errors.ts';
import type { BackfillRequest } from '../../src/domain/job.ts';
import type { Target } from '../../src/domain/target.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import { backfillEnv, storedTruth, type BackfillEnv } from '../helpers/backfill-env.ts';

async function run(env: BackfillEnv, request: BackfillRequest) {
  const started = await startBackfill(env.services, request);
  const result = await runResult(await startedHandle(env.services, started), started.runId);
  return { started, result };
}

function truthOf(env: BackfillEnv, t: Target, start: string, end: string) {
  const symbol = t.symbol.replace('/', '');
  return env.sim.truth({ exchange: t.exchange, symbol, kind: t.kind as 'ohlc' | 'trades', span: t.span, start, end });
}

async function assertExact(env: BackfillEnv, t: Target, start: string, end: string) {
  const truth = truthOf(env, t, start, end);
  const stored = await storedTruth(env.services, t, parseAbsoluteTime(start, 'start'), parseAbsoluteTime(end, 'end'));
  assert.deepEqual(stored, { rows: truth.rows, first_ts: truth.first_ts, last_ts: truth.last_ts, checksum: truth.checksum });
  return truth;
}

const OHLC: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' };
const TRADES: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };

test('60 days of 1m candles match the truth exactly; re-running with start=last adds nothing; an overlapping re-run leaves no duplicates', async () => {
  const env = await backfillEnv();
  const [start, end] = ['2024-01-01', '2024-03-01'];
  const { result } = await run(env, { target: { ...OHLC, symbol: 'BTCUSDT' }, start, end });
  assert.equal(result.state, 'completed');
  const truth = await assertExact(env, OHLC, start, end);
  assert.equal(result.rowsWritten, truth.rows);
  assert.ok(env.sim.stats('binance').byPath['/api/v3/klines']! >= 87, 'at least 87 pages of klines');
  // The request was checked once, before the run: the symbol listing was asked for once.
  assert.equal(env.sim.stats('binance').byPath['/api/v3/exchangeInfo'], 1);

  const again = await run(env, { target: OHLC, start: 'last', end });
  assert.equal(again.result.rowsWritten, 0);

  const overlap = await run(env, { target: OHLC, start: '2024-02-15T12:00:00Z', end });
  assert.equal(overlap.result.state, 'completed');
  await assertExact(env, OHLC, start, end);
  assert.equal(env.sim.stats('binance').status418, 0);
});

test('trades over more than 50 pages and several day partitions match the truth exactly', async () => {
  const env = await backfillEnv();
  const [start, end] = ['2024-05-01T00:00:00Z', '2024-05-03T06:00:00Z'];
  const { result } = await run(env, { target: TRADES, start, end });
  assert.equal(result.state, 'completed');
  const truth = await assertExact(env, TRADES, start, end);
  assert.ok(truth.rows > 50_000, `${truth.rows} trades is more than 50 pages`);
  assert.equal(result.rowsWritten, truth.rows);
});

test('with 429 bursts, 5xx, malformed bodies and duplicate boundary rows the result is still exact, with no 418', async () => {
  const env = await backfillEnv({
    faults: { burst429: { every: 17, length: 3 }, status5xxEvery: 11, malformedEvery: 13, truncatedEvery: 19, duplicateBoundaryEvery: 5, shortPageEvery: 7 },
  });
  const eth: Target = { exchange: 'binance', symbol: 'ETH/USDT', kind: 'ohlc', span: '1m' };
  const c = await run(env, { target: eth, start: '2024-01-01', end: '2024-01-21' });
  assert.equal(c.result.state, 'completed');
  await assertExact(env, eth, '2024-01-01', '2024-01-21');
  const t = await run(env, { target: { ...TRADES, symbol: 'ETH/USDT' }, start: '2024-01-01', end: '2024-01-02' });
  assert.equal(t.result.state, 'completed');
  await assertExact(env, { ...TRADES, symbol: 'ETH/USDT' }, '2024-01-01', '2024-01-02');
  const stats = env.sim.stats('binance');
  assert.ok(stats.status429 > 0 && stats.status5xx > 0, 'faults were injected');
  assert.equal(stats.status418, 0);
});

test('a second backfill of the same dataset is refused with the run already writing it', async () => {
  const env = await backfillEnv({}, false); // no worker: the first run stays running
  const first = await startBackfill(env.services, { target: OHLC, start: '2024-01-01', end: '2024-01-02' });
  await assert.rejects(startBackfill(env.services, { target: OHLC, start: '2024-01-01', end: '2024-01-02' }), (e: unknown) => {
    assert.ok(e instanceof AlreadyRunning);
    assert.equal(e.message, `already running: ${first.runId} (${first.workflowId})`);
    return true;
  });
  await (await startedHandle(env.services, first)).terminate('test over');
});

test('the Parquet files open in DuckDB with ts as TIMESTAMP_NS and the values the store reads', async () => {
  const env = await backfillEnv();
  await run(env, { target: TRADES, start: '2024-06-01', end: '2024-06-01T06:00:00Z' });
  const dir = env.services.store.datasetPath(TRADES);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const res = await conn.runAndReadAll(
    `SELECT any_value(typeof(ts)) AS t, count(*) AS n, epoch_ns(min(ts))::VARCHAR AS lo, epoch_ns(max(ts))::VARCHAR AS hi, sum(price * amount) AS notional
     FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true)`,
  );
  const [row] = res.getRowObjectsJS() as { t: string; n: bigint; lo: string; hi: string; notional: number }[];
  const rows = await env.services.store.readRows({ ...TRADES, kind: 'trades' });
  assert.equal(row!.t, 'TIMESTAMP_NS');
  assert.equal(Number(row!.n), rows.length);
  assert.equal(row!.lo, String(rows[0]!.ts));
  assert.equal(row!.hi, String(rows.at(-1)!.ts));
  const notional = rows.reduce((s, r) => s + r.price * r.amount, 0);
  assert.ok(Math.abs(row!.notional - notional) < 1e-6 * notional);
  conn.closeSync();
  db.closeSync();
});

test('a book backfill stores one snapshot of the requested depth, levels counted from the best price', async () => {
  const env = await backfillEnv();
  const book: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' };
  const { result } = await run(env, { target: book, start: 'last', depth: 50 });
  assert.equal(result.state, 'completed');
  assert.equal(result.rowsWritten, 100);
  const rows = await env.services.store.readRows({ ...book, kind: 'book' });
  const bids = rows.filter((r) => r.side === 'bid');
  const asks = rows.filter((r) => r.side === 'ask');
  assert.deepEqual(bids.map((r) => r.level), [...Array(50).keys()]);
  assert.deepEqual(asks.map((r) => r.level), [...Array(50).keys()]);
  assert.ok(bids.every((r, i) => i === 0 || r.price < bids[i - 1]!.price), 'bids descend');
  assert.ok(asks.every((r, i) => i === 0 || r.price > asks[i - 1]!.price), 'asks ascend');
  assert.ok(bids[0]!.price < asks[0]!.price, 'the book is not crossed');
  assert.equal(new Set(rows.map((r) => r.ts)).size, 1, 'one snapshot time');
});
