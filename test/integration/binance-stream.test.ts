// Binance trades live from the simulator's aggTrade stream: exactly the venue's trades of the
// streamed interval, each once; the server's pings are answered in time; with sockets dropped
// every few dozen messages, every trade missed is inside a reported gap (ids and span) and
// none appears twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TradeRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { startSim } from '../../src/sim/index.ts';
import { binanceTrades } from '../../src/sources/binance-stream.ts';
import type { StreamGap } from '../../src/sources/stream-events.ts';
import { streamedTruth } from '../helpers/stream-truth.ts';

const BTC: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
/**
 * About 100 trades a second on average, and no minute without trades; a minute's count is
 * uniform in [1, 12000), so a slow minute may come: the deadline spans a few minutes.
 */
const BUSY = { tradesPerMinute: 6_000, quietMinuteShare: 0 };

async function stream(wsUrl: string, until: (rows: TradeRow[]) => boolean) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 150_000);
  const rows: TradeRow[] = [];
  const gaps: StreamGap[] = [];
  let reconnects = 0;
  try {
    for await (const e of binanceTrades(BTC, 'BTCUSDT', { wsUrl, signal: ac.signal, backoff: { baseMs: 20, maxMs: 100, healthyAfterMs: 60_000 } })) {
      if (e.kind === 'rows') rows.push(...e.rows);
      else if (e.kind === 'gap') gaps.push(e.gap);
      else if (e.kind === 'connected' && e.reconnect) reconnects++;
      if (until(rows)) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  assert.ok(until(rows), `the stream delivered ${rows.length} trades before the deadline`);
  return { rows, gaps, reconnects };
}

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
