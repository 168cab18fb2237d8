// Live trades as a supervised workflow, against the simulator's aggTrade stream and a real
// worker: what it writes is the venue's trades, each once; a stop flushes every received
// row; dropped sockets leave gaps that are recorded and healed from REST, so the dataset
// ends complete, and the manifest covers the streamed span without a hole; a backfill
// beside a stream loses nothing of either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApi } from '../../src/api/server.ts';
import { getRun } from '../../src/client/run-list.ts';
import { runHandle, runResult, stopRun } from '../../src/client/runs.ts';
import { streamResult, streamStatus } from '../../src/client/streams.ts';
import { NoCapability } from '../../src/domain/errors.ts';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { unionOf } from '../../src/domain/intervals.ts';
import { startBackfill } from '../../src/jobs/backfill.ts';
import { startStream } from '../../src/jobs/stream.ts';
import { backfillEnv, type BackfillEnv } from '../helpers/backfill-env.ts';
import { streamedTruth } from '../helpers/stream-truth.ts';
import { until } from '../helpers/until.ts';

const TRADES: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
/** Trades in a minute are uniform in [1, 2·6000): some minutes are slow, so counts wait up to 90 s. */
const BUSY = { tradesPerMinute: 6_000, quietMinuteShare: 0 };
const TUNING = { staleAfterMs: 5_000, backoff: { baseMs: 50, maxMs: 200, healthyAfterMs: 60_000 } };

/** Streams until `rows` are written, stops, and returns the run's result and what is stored. */
async function streamFor(env: BackfillEnv, rows: number, flush = { flushRows: 50, flushMs: 500 }, target: Target = TRADES) {
  const started = await startStream(env.services, { target, ...flush }, TUNING);
  const handle = await runHandle(env.services, started.runId);
  await until(`${rows} rows streamed`, async () => ((await streamStatus(handle)).rowsWritten >= rows ? true : undefined), 150_000);
  const before = await streamStatus(handle);
  const t0 = Date.now();
  await stopRun(handle);
  const result = await streamResult(handle);
  const stopMs = Date.now() - t0;
  const stored = await env.services.store.readRows(target as Target & { kind: 'trades' });
  return { started, handle, result, stopMs, stored, before };
}

const truthOf = (env: BackfillEnv, stored: TradeRow[]) => streamedTruth(env.sim, 'BTCUSDT', stored);

test('a stream writes the venue’s trades each once; a stop flushes every received row and ends the run', async () => {
  const env = await backfillEnv({ seed: 11, markets: BUSY });
  const { result, stored, stopMs, started, before } = await streamFor(env, 300);
  assert.equal(result.state, 'stopped');
  assert.equal(result.runId, started.runId);
  assert.ok(result.rowsWritten >= before.rowsWritten);
  assert.equal(stored.length, result.rowsWritten, 'every row the run counted is on disk');
  assert.deepEqual(stored, truthOf(env, stored));
  assert.equal(result.gapsTotal, 0);
  console.log(`# stop to end of run: ${stopMs} ms`);
  // The run as the runs model tells it, with its liveness.
  const run = await getRun(env.services, started.runId);
  assert.equal(run.operation, 'stream');
  assert.equal(run.state, 'stopped');
  assert.equal(run.rowsWritten, stored.length);
  assert.ok(run.logTail.some((l) => /session 1 stopped/.test(l)), run.logTail.join('\n'));
  assert.equal(run.live?.rowsWritten, stored.length);
  // The API answers the same run, liveness included.
  const app = await buildApi({ services: env.services });
  try {
    const r = await app.inject({ method: 'GET', url: `/api/runs/${started.runId}` });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), JSON.parse(JSON.stringify(run)));
  } finally {
    await app.close();
  }
  // The stream's coverage is one interval from its first row to just after its last.
  const coverage = await (await env.services.coverage()).coverage(TRADES);
  assert.deepEqual(coverage.ws, [{ startNs: stored[0]!.ts, endNs: stored.at(-1)!.ts + 1n }]);
});

test('with sockets dropped every 60 messages, every gap is recorded and healed from REST: the dataset ends complete', async () => {
  const env = await backfillEnv({ seed: 11, markets: BUSY, faults: { dropSocketEvery: 60 } });
  const { result, stored, handle } = await streamFor(env, 400);
  const status = await streamStatus(handle).catch(() => undefined);
  assert.ok(result.reconnects >= 3, `${result.reconnects} reconnects`);
  assert.ok(result.gapsTotal >= 1, `${result.gapsTotal} gaps`);
  const ids = stored.map((r) => r.tradeId);
  assert.equal(new Set(ids).size, ids.length, 'no trade twice');
  assert.deepEqual(stored, truthOf(env, stored), 'the streamed span is complete after healing');
  if (status) assert.ok(status.gaps.every((g) => g.state === 'healed'), JSON.stringify(status.gaps));
  // What the stream covered and what REST healed leave no hole in the streamed span.
  const coverage = await (await env.services.coverage()).coverage(TRADES);
  const all = unionOf([...(coverage.ws ?? []), ...(coverage.rest ?? [])]);
  assert.equal(all.length, 1, JSON.stringify(coverage, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
  assert.ok(all[0]!.startNs <= stored[0]!.ts && all[0]!.endNs > stored.at(-1)!.ts);
});

test('a stream and a backfill of one trades dataset at once, over overlapping ranges: afterwards it is exactly the truth', async () => {
  const env = await backfillEnv({ seed: 11, markets: BUSY });
  const started = await startStream(env.services, { target: TRADES, flushRows: 50, flushMs: 500 }, TUNING);
  const handle = await runHandle(env.services, started.runId);
  await until('100 rows streamed', async () => ((await streamStatus(handle)).rowsWritten >= 100 ? true : undefined), 150_000);
  // A backfill of the last minute: it reaches back before the stream began and over what it wrote.
  const endNs = BigInt(Date.now()) * 1_000_000n;
  const backfilled = await startBackfill(env.services, { target: TRADES, start: String(endNs - 60_000_000_000n), end: String(endNs) });
  const b = await runResult(await runHandle(env.services, backfilled.runId), backfilled.runId);
  assert.equal(b.state, 'completed');
  const afterBackfill = (await streamStatus(handle)).rowsWritten;
  await until('100 more rows streamed', async () => ((await streamStatus(handle)).rowsWritten >= afterBackfill + 100 ? true : undefined), 150_000);
  await stopRun(handle);
  const s = await streamResult(handle);
  const stored = (await env.services.store.readRows(TRADES as Target & { kind: 'trades' })) as TradeRow[];
  assert.deepEqual(stored, truthOf(env, stored), 'one contiguous run of the venue’s trades, each once');
  assert.ok(BigInt(stored[0]!.ts) < endNs - 50_000_000_000n, 'the backfill’s rows are kept');
  assert.ok(stored.length >= s.rowsWritten, 'the stream’s rows are kept');
});

test('a candle stream stores each candle once it has closed, exactly the venue’s, and its status shows the last close', async () => {
  const env = await backfillEnv({ seed: 13, markets: BUSY });
  const CANDLES: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1s' };
  const { result, stored, before } = await streamFor(env, 5, { flushRows: 2, flushMs: 500 }, CANDLES);
  const candles = stored as unknown as OhlcRow[];
  assert.equal(result.state, 'stopped');
  assert.equal(candles.length, result.rowsWritten);
  const truth = env.sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1s', start: candles[0]!.ts, end: candles.at(-1)!.ts + 1n, withRows: true });
  assert.deepEqual(candles, truth.records, 'every closed candle of the streamed span, each once, as the venue has it');
  assert.equal(typeof before.lastSample?.price, 'number');
  const coverage = await (await env.services.coverage()).coverage(CANDLES);
  assert.deepEqual(coverage.ws, [{ startNs: candles[0]!.ts, endNs: candles.at(-1)!.ts + 1n }]);
});

test('a bad stream request is refused before anything starts', async () => {
  const env = await backfillEnv({}, false);
  await assert.rejects(startStream(env.services, { target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '2m' } }), NoCapability);
  await assert.rejects(startStream(env.services, { target: TRADES, flushRows: 0 }), /flushRows: must be a whole number/);
  await assert.rejects(startStream(env.services, { target: TRADES, depth: 20 }), /depth: only applies to kind book, not trades/);
});
