// Binance trades and candles live from the simulator's aggTrade and kline streams: exactly
// the venue's rows of the streamed interval, each once; the server's pings are answered in
// time; with sockets dropped, every row missed is inside a reported gap and none appears twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { startSim } from '../../src/sim/index.ts';
import { binanceCandles, binanceTrades } from '../../src/sources/binance-stream.ts';
import type { StreamEvent, StreamGap } from '../../src/sources/stream-events.ts';
import { streamedTruth } from '../helpers/stream-truth.ts';

const BTC: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
const CANDLES: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1s' };
/**
 * About 100 trades a second on average, and no minute without trades; a minute's count is
 * uniform in [1, 12000), so a slow minute may come: the deadline spans a few minutes.
 */
const BUSY = { tradesPerMinute: 6_000, quietMinuteShare: 0 };

type Live<R> = (o: { wsUrl: string; signal: AbortSignal; backoff: { baseMs: number; maxMs: number; healthyAfterMs: number } }) => AsyncIterable<StreamEvent<R>>;

/** Collects a live stream's rows and gaps until `until` holds (or a deadline passes). */
const QUICK_RECONNECT = { baseMs: 20, maxMs: 100, healthyAfterMs: 60_000 };

async function collect<R>(wsUrl: string, live: Live<R>, until: (rows: R[]) => boolean, backoff = QUICK_RECONNECT) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 150_000);
  const rows: R[] = [];
  const gaps: StreamGap[] = [];
  let reconnects = 0;
  try {
    for await (const e of live({ wsUrl, signal: ac.signal, backoff })) {
      if (e.kind === 'rows') rows.push(...e.rows);
      else if (e.kind === 'gap') gaps.push(e.gap);
      else if (e.kind === 'connected' && e.reconnect) reconnects++;
      if (until(rows)) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  assert.ok(until(rows), `the stream delivered ${rows.length} rows before the deadline`);
  return { rows, gaps, reconnects };
}

const stream = (wsUrl: string, until: (rows: TradeRow[]) => boolean) => collect(wsUrl, (o) => binanceTrades(BTC, 'BTCUSDT', o), until);
const candles = (wsUrl: string, until: (rows: OhlcRow[]) => boolean, backoff?: typeof QUICK_RECONNECT) =>
  collect(wsUrl, (o) => binanceCandles(CANDLES, 'BTCUSDT', o), until, backoff);

test('the stream delivers exactly the venue’s trades of the interval, in id order, with no gap', async (t) => {
  const sim = await startSim({ port: 0, seed: 11, markets: BUSY });
  t.after(() => sim.close());
  const { rows, gaps, reconnects } = await stream(`${sim.url.replace('http', 'ws')}/binance`, (r) => r.length >= 300);
  assert.deepEqual({ gaps, reconnects }, { gaps: [], reconnects: 0 });
  assert.deepEqual(rows, streamedTruth(sim, 'BTCUSDT', rows));
});

test('the stream answers the server’s pings: with a pong owed within a second, it lives through many ping periods', async (t) => {
  const sim = await startSim({ port: 0, seed: 11, markets: BUSY, wsPingEveryMs: 400, wsPongTimeoutMs: 1_000 });
  t.after(() => sim.close());
  const { gaps, reconnects } = await stream(`${sim.url.replace('http', 'ws')}/binance`, () => sim.stats('binance').wsPings >= 12);
  assert.deepEqual({ gaps, reconnects }, { gaps: [], reconnects: 0 });
  assert.deepEqual(sim.stats('binance').wsCut, {});
});

test('with sockets dropped every 40 messages: no trade twice, and every trade missed lies in a gap naming its ids', async (t) => {
  const sim = await startSim({ port: 0, seed: 12, faults: { dropSocketEvery: 40 }, markets: BUSY });
  t.after(() => sim.close());
  const { rows, gaps, reconnects } = await stream(`${sim.url.replace('http', 'ws')}/binance`, (r) => r.length >= 400);
  assert.ok(reconnects >= 5, `${reconnects} reconnects`);
  const ids = rows.map((r) => BigInt(r.tradeId));
  assert.equal(new Set(ids).size, ids.length, 'no trade twice');
  assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!), 'in id order');
  const truth = streamedTruth(sim, 'BTCUSDT', rows);
  const streamed = new Set(rows.map((r) => r.tradeId));
  const missed = truth.filter((r) => !streamed.has(r.tradeId));
  const inGap = (r: TradeRow) => gaps.some((g) => BigInt(r.tradeId) >= BigInt(g.missingIds!.from) && BigInt(r.tradeId) <= BigInt(g.missingIds!.to));
  assert.ok(missed.every(inGap), 'every missed trade is in a reported gap');
  // Each gap names exactly ids the stream lacks, and a span from the trade before to the one after.
  for (const g of gaps) {
    const inside = truth.filter((r) => BigInt(r.tradeId) >= BigInt(g.missingIds!.from) && BigInt(r.tradeId) <= BigInt(g.missingIds!.to));
    assert.ok(inside.length > 0 && inside.every((r) => !streamed.has(r.tradeId)));
    assert.ok(g.afterTs !== null && g.afterTs <= inside[0]!.ts && inside.at(-1)!.ts <= g.beforeTs);
    assert.match(g.reason, /^trades missed while reconnecting \(closed \(1006/);
  }
  // What was streamed is the truth minus the gaps.
  assert.deepEqual(rows, truth.filter((r) => streamed.has(r.tradeId)));
});

/** The simulator's closed 1s candles opening from the first streamed to the last. */
function candleTruth(sim: Awaited<ReturnType<typeof startSim>>, rows: OhlcRow[]): OhlcRow[] {
  return sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1s', start: rows[0]!.ts, end: rows.at(-1)!.ts + 1n, withRows: true }).records as OhlcRow[];
}

test('the candle stream delivers each candle once, when it has closed, equal to the venue’s', async (t) => {
  const sim = await startSim({ port: 0, seed: 13, markets: BUSY });
  t.after(() => sim.close());
  const { rows, gaps } = await candles(`${sim.url.replace('http', 'ws')}/binance`, (r) => r.length >= 6);
  assert.deepEqual(gaps, []);
  assert.deepEqual(rows, candleTruth(sim, rows));
  assert.ok(rows.every((c) => c.ts + 1_000_000_000n <= BigInt(Date.now()) * 1_000_000n), 'only closed candles');
});

test('with sockets dropped: no candle twice, and every candle missed lies in a gap', async (t) => {
  const sim = await startSim({ port: 0, seed: 14, faults: { dropSocketEvery: 3 }, markets: BUSY });
  t.after(() => sim.close());
  // Each reconnect waits longer than a candle lasts (1 s), so every one misses a candle for sure.
  const slowReconnect = { baseMs: 1_500, maxMs: 1_500, healthyAfterMs: 60_000 };
  const { rows, gaps, reconnects } = await candles(`${sim.url.replace('http', 'ws')}/binance`, (r) => r.length >= 8, slowReconnect);
  assert.ok(reconnects >= 2, `${reconnects} reconnects`);
  const opens = rows.map((c) => c.ts);
  assert.ok(opens.every((ts, i) => i === 0 || ts > opens[i - 1]!), 'each once, in order');
  const truth = candleTruth(sim, rows);
  const streamed = new Set(opens);
  assert.deepEqual(rows, truth.filter((c) => streamed.has(c.ts)), 'what came is the venue’s candles');
  const missed = truth.filter((c) => !streamed.has(c.ts));
  assert.ok(missed.length > 0 && gaps.length > 0, `${missed.length} candles missed, ${gaps.length} gaps`);
  assert.ok(missed.every((c) => gaps.some((g) => g.afterTs! < c.ts && c.ts < g.beforeTs)), 'every missed candle is inside a gap');
  assert.ok(gaps.every((g) => g.healable && /^candles missed while reconnecting/.test(g.reason)), JSON.stringify(gaps, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
});
