// The Binance adapter against the local simulator: whole ranges paged through the real REST
// dialect must equal the simulator's truth row for row (same checksum), with and without
// injected faults, and without ever being banned.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ValidationError } from '../../src/domain/errors.ts';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import type { HistoryRange, Page } from '../../src/sources/adapter.ts';
import { BinanceAdapter } from '../../src/sources/binance.ts';
import type { TransportSettings } from '../../src/sources/http.ts';
import { RateLimiters } from '../../src/sources/rate-limiter.ts';
import type { FaultConfig, Sim } from '../../src/sim/index.ts';
import { checksumRows, startSim } from '../../src/sim/index.ts';

const CANDLES: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' };
const TRADES: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
// Sixty days of 1m candles; two days of trades (~57 000 at the simulator's 20 a minute).
const CANDLE_RANGE = { start: '2024-01-01', end: '2024-03-01' };
const TRADE_RANGE = { start: '2024-01-01', end: '2024-01-03' };

// Fast retries: the simulator's faults are transient by construction.
const FAST: TransportSettings = { retry: { baseDelayMs: 10, maxDelayMs: 100, timeoutMs: 400 } };

const FAULTS: FaultConfig = {
  burst429: { every: 100, length: 2 },
  status5xxEvery: 7,
  truncatedEvery: 11,
  malformedEvery: 13,
  timeoutEvery: 29,
  duplicateBoundaryEvery: 3,
  shortPageEvery: 5,
};

let clean: Sim;
let faulty: Sim;

before(async () => {
  [clean, faulty] = await Promise.all([startSim({ port: 0, seed: 11 }), startSim({ port: 0, seed: 11, faults: FAULTS })]);
});
after(async () => {
  await Promise.all([clean?.close(), faulty?.close()]);
});

function rangeOf(r: { start: string; end: string }, log?: (line: string) => void): HistoryRange {
  return { startNs: parseAbsoluteTime(r.start, 'start'), endNs: parseAbsoluteTime(r.end, 'end'), log };
}

async function collect<R>(pages: AsyncIterable<Page<R>>): Promise<R[]> {
  const rows: R[] = [];
  for await (const p of pages) rows.push(...p.rows);
  return rows;
}

function truth(sim: Sim, t: Target, r: { start: string; end: string }) {
  return sim.truth({ exchange: 'binance', symbol: t.symbol, kind: t.kind as 'ohlc' | 'trades', span: t.span, start: r.start, end: r.end });
}

test('sixty days of 1m candles equal the simulator truth', async () => {
  const a = new BinanceAdapter({ restUrl: `${clean.url}/binance` }, { ...FAST, limiters: new RateLimiters() });
  const rows = await collect(a.ohlcPages(CANDLES, rangeOf(CANDLE_RANGE)));
  const expected = truth(clean, CANDLES, CANDLE_RANGE);
  assert.equal(rows.length, expected.rows);
  assert.equal(String(rows[0]!.ts), expected.first_ts);
  assert.equal(checksumRows('ohlc', rows), expected.checksum);
});

test('two days of trades (tens of thousands) equal the simulator truth', async () => {
  const a = new BinanceAdapter({ restUrl: `${clean.url}/binance` }, { ...FAST, limiters: new RateLimiters() });
  const rows = await collect(a.tradePages(TRADES, rangeOf(TRADE_RANGE)));
  const expected = truth(clean, TRADES, TRADE_RANGE);
  assert.ok(expected.rows > 20_000, `only ${expected.rows} trades in the range`);
  assert.equal(rows.length, expected.rows);
  assert.equal(checksumRows('trades', rows), expected.checksum);
});

test('with 429 bursts, 5xx, timeouts, broken bodies, duplicate rows and short pages the rows still equal the truth, with no ban', async () => {
  const log: string[] = [];
  const a = new BinanceAdapter({ restUrl: `${faulty.url}/binance` }, { ...FAST, limiters: new RateLimiters() });
  const [candles, trades] = await Promise.all([
    collect<OhlcRow>(a.ohlcPages(CANDLES, rangeOf(CANDLE_RANGE, (l) => log.push(l)))),
    collect<TradeRow>(a.tradePages(TRADES, rangeOf(TRADE_RANGE, (l) => log.push(l)))),
  ]);
  assert.equal(checksumRows('ohlc', candles), truth(faulty, CANDLES, CANDLE_RANGE).checksum);
  assert.equal(checksumRows('trades', trades), truth(faulty, TRADES, TRADE_RANGE).checksum);

  const stats = faulty.stats('binance');
  assert.equal(stats.status418, 0);
  for (const kind of ['status429', 'status5xx', 'timeout', 'truncated', 'malformed', 'duplicateBoundary', 'shortPage']) {
    assert.ok((stats.faultsInjected[kind] ?? 0) > 0, `no ${kind} fault was injected: ${JSON.stringify(stats.faultsInjected)}`);
  }
  assert.ok(log.includes('429 from binance, waiting 1 s'), log.join('\n'));
  assert.ok(log.some((l) => /^timeout from binance, retry \d+\/8 in /.test(l)));
});

test('symbols are checked against exchangeInfo and the earliest data is the listing', async () => {
  const a = new BinanceAdapter({ restUrl: `${clean.url}/binance` }, FAST);
  await a.checkSymbol('BTC/USDT');
  await assert.rejects(a.checkSymbol('FOO/BAR'), (err) => err instanceof ValidationError && err.message === "symbol: unknown symbol 'FOO/BAR' on binance (Invalid symbol.)");
  const listing = parseAbsoluteTime('2017-08-17', 'listing');
  assert.equal(await a.earliest(CANDLES), listing);
  assert.ok((await a.earliest(TRADES)) >= listing);
});

test('a book snapshot from the simulator has the asked depth on both sides, bids below asks', async () => {
  const a = new BinanceAdapter({ restUrl: `${clean.url}/binance` }, FAST);
  const rows = await a.bookSnapshot({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' }, 20);
  const bids = rows.filter((r) => r.side === 'bid');
  const asks = rows.filter((r) => r.side === 'ask');
  assert.equal(bids.length, 20);
  assert.equal(asks.length, 20);
  assert.ok(bids[0]!.price < asks[0]!.price);
  assert.ok(bids.every((b, i) => i === 0 || b.price < bids[i - 1]!.price));
});
