import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { NoCapability, ValidationError } from '../../src/domain/errors.ts';
import type { Page } from '../../src/sources/adapter.ts';
import { BinanceAdapter } from '../../src/sources/binance.ts';
import type { Clock } from '../../src/sources/rate-limiter.ts';
import { RateLimiters } from '../../src/sources/rate-limiter.ts';

const MIN = 60_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

/** A kline row as Binance writes it, for a one-minute candle opening at `openMs`. */
function kline(openMs: number): (number | string)[] {
  return [openMs, '1.00000000', '2.00000000', '0.50000000', '1.50000000', '10.00000000', openMs + MIN - 1, '15.00000000', 7, '5.00000000', '7.50000000', '0'];
}

/** Aggregate trades with ids from 0, one every 10 ms from T0. */
function aggTrade(id: number) {
  return { a: id, p: '100.00000000', q: '0.10000000', f: id, l: id, T: T0 + id * 10, m: id % 2 === 0, M: true };
}

type Handler = (q: URLSearchParams) => { status?: number; body: unknown };
let routes: Record<string, Handler> = {};
let seen: URL[] = [];
const server = createServer((req, res) => {
  const url = new URL(req.url!, 'http://x');
  seen.push(url);
  const path = url.pathname.replace(/^\/binance/, '');
  const handler = routes[path];
  const { status = 200, body } = handler ? handler(url.searchParams) : { status: 404, body: '' };
  res.writeHead(status, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': '10' });
  res.end(JSON.stringify(body));
});
let restUrl = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  restUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/binance`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  routes = {};
  seen = [];
});

/** Serves 1m klines from T0 for `count` minutes with Binance's startTime/endTime/limit semantics. */
function serveKlines(count: number): void {
  routes['/api/v3/klines'] = (q) => {
    const start = Number(q.get('startTime') ?? 0);
    const end = Number(q.get('endTime') ?? Infinity);
    const limit = Number(q.get('limit') ?? 500);
    const rows = [];
    for (let i = 0; i < count && rows.length < limit; i++) {
      const open = T0 + i * MIN;
      if (open >= start && open <= end) rows.push(kline(open));
    }
    return { body: rows };
  };
}

/** Serves `count` aggregate trades, by startTime or by fromId, as Binance does. */
function serveAggTrades(count: number): void {
  routes['/api/v3/aggTrades'] = (q) => {
    const limit = Number(q.get('limit') ?? 500);
    const fromId = q.get('fromId');
    const first = fromId !== null ? Number(fromId) : Math.max(0, Math.ceil((Number(q.get('startTime')) - T0) / 10));
    const rows = [];
    for (let id = first; id < count && rows.length < limit; id++) rows.push(aggTrade(id));
    return { body: rows };
  };
}

async function collect<R>(pages: AsyncIterable<Page<R>>): Promise<R[]> {
  const rows: R[] = [];
  for await (const p of pages) rows.push(...p.rows);
  return rows;
}

function adapter(clock?: Clock) {
  return new BinanceAdapter({ restUrl }, { clock, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
}

test('symbols are accepted as BTCUSDT, btcusdt, BTC/USDT, BTC-USDT and BTC_USDT', () => {
  const a = adapter();
  for (const raw of ['BTCUSDT', 'btcusdt', 'BTC/USDT', 'BTC-USDT', 'BTC_USDT', ' btc/usdt ']) assert.equal(a.parseSymbol(raw), 'BTC/USDT');
  assert.equal(a.parseSymbol('ETHBTC'), 'ETH/BTC');
  assert.equal(a.parseSymbol('BTCFDUSD'), 'BTC/FDUSD');
  assert.equal(a.parseSymbol('BNBTUSD'), 'BNB/TUSD');
  assert.equal(a.parseSymbol('USDTTRY'), 'USDT/TRY');
});

test('a native symbol without a known quote suffix, or with stray characters, is refused', () => {
  const a = adapter();
  assert.throws(() => a.parseSymbol('FOOBAR'), (err) => err instanceof ValidationError && err.field === 'symbol' && /write it as BASE\/QUOTE/.test(err.reason));
  assert.throws(() => a.parseSymbol('BTC$USDT'), (err) => err instanceof ValidationError && err.field === 'symbol');
  assert.throws(() => a.parseSymbol('USDT'), (err) => err instanceof ValidationError && err.field === 'symbol');
});

test('checkSymbol turns -1121 into a ValidationError that carries the venue message', async () => {
  routes['/api/v3/exchangeInfo'] = () => ({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
  await assert.rejects(adapter().checkSymbol('FOO/BAR'), (err) => {
    assert.ok(err instanceof ValidationError);
    assert.equal(err.message, "symbol: unknown symbol 'FOO/BAR' on binance (Invalid symbol.)");
    return true;
  });
  assert.equal(seen[0]!.searchParams.get('symbol'), 'FOOBAR');
});

test('checkSymbol asks exchangeInfo once per symbol and remembers a listed one', async () => {
  routes['/api/v3/exchangeInfo'] = (q) => ({ body: { timezone: 'UTC', symbols: [{ symbol: q.get('symbol'), status: 'TRADING' }] } });
  const a = adapter();
  await a.checkSymbol('ETH/BTC');
  await a.checkSymbol('ETHBTC');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.pathname, '/binance/api/v3/exchangeInfo');
});

test('ohlc pages ask klines by open time with an inclusive ms end, 1000 per page', async () => {
  serveKlines(2500);
  const startNs = ns(T0) + 1n; // one ns after a candle opened: that candle is not in range
  const endNs = ns(T0 + 2200 * MIN);
  const rows = await collect(adapter().ohlcPages({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' }, { startNs, endNs }));
  assert.equal(rows.length, 2199);
  assert.equal(rows[0]!.ts, ns(T0 + MIN));
  assert.deepEqual(rows[0], { ts: ns(T0 + MIN), open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, quoteVolume: 15, trades: 7 });
  const first = seen[0]!.searchParams;
  assert.equal(first.get('symbol'), 'BTCUSDT');
  assert.equal(first.get('interval'), '1m');
  assert.equal(first.get('startTime'), String(T0 + 1));
  assert.equal(first.get('endTime'), String(T0 + 2200 * MIN - 1));
  assert.equal(first.get('limit'), '1000');
  assert.equal(seen.length, 3);
});

test('the current, still-open candle is not delivered', async () => {
  serveKlines(100);
  const now = T0 + 50 * MIN + 30_000; // half-way through minute 50
  const clock: Clock = { now: () => now, sleep: async () => {} };
  const rows = await collect(
    adapter(clock).ohlcPages({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1m' }, { startNs: ns(T0), endNs: ns(T0 + 100 * MIN) }),
  );
  assert.equal(rows.length, 50);
  assert.equal(rows.at(-1)!.ts, ns(T0 + 49 * MIN));
});

test('trade pages start by time, then follow aggregate trade ids with fromId alone', async () => {
  serveAggTrades(2500);
  const target = { exchange: 'binance' as const, symbol: 'BTC/USDT', kind: 'trades' as const };
  const pages: Page<unknown>[] = [];
  for await (const p of adapter().tradePages(target, { startNs: ns(T0 + 1000), endNs: ns(T0 + 24_000) })) pages.push(p);
  const rows = pages.flatMap((p) => p.rows) as { tradeId: string; side: string }[];
  assert.equal(rows.length, 2300);
  assert.equal(rows[0]!.tradeId, '100');
  assert.equal(rows.at(-1)!.tradeId, '2399');
  assert.equal(rows[0]!.side, 'sell'); // even ids: buyer is maker
  assert.equal(seen[0]!.searchParams.get('startTime'), String(T0 + 1000));
  assert.equal(seen[0]!.searchParams.get('fromId'), null);
  assert.equal(seen[1]!.searchParams.get('fromId'), '1100');
  assert.equal(seen[1]!.searchParams.get('startTime'), null);
  assert.deepEqual(pages[0]!.cursor, { ns: String(ns(T0 + 10_990)), id: '1099' });
});

test('trade pages resume after the cursor id', async () => {
  serveAggTrades(3000);
  const target = { exchange: 'binance' as const, symbol: 'BTC/USDT', kind: 'trades' as const };
  const resume = { ns: String(ns(T0 + 9_990)), id: '999' };
  const rows = await collect(adapter().tradePages(target, { startNs: ns(T0), endNs: ns(T0 + 30_000), resume }));
  assert.equal(rows[0]!.tradeId, '1000');
  assert.equal(rows.length, 2000);
  assert.equal(seen[0]!.searchParams.get('fromId'), '1000');
});

test('earliest asks the first kline from time 0 and the first aggregate trade from id 0', async () => {
  serveKlines(10);
  serveAggTrades(10);
  const a = adapter();
  assert.equal(await a.earliest({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' }), ns(T0));
  assert.equal(await a.earliest({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' }), ns(T0));
  assert.equal(seen[0]!.searchParams.get('startTime'), '0');
  assert.equal(seen[0]!.searchParams.get('limit'), '1');
  assert.equal(seen[1]!.searchParams.get('fromId'), '0');
  await assert.rejects(a.earliest({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' }), NoCapability);
});

test('a book snapshot asks depth with the requested limit and returns both sides', async () => {
  routes['/api/v3/depth'] = (q) => ({
    body: {
      lastUpdateId: 1,
      bids: Array.from({ length: Number(q.get('limit')) }, (_, i) => [String(100 - i), '1']),
      asks: Array.from({ length: Number(q.get('limit')) }, (_, i) => [String(101 + i), '2']),
    },
  });
  const clock: Clock = { now: () => T0, sleep: async () => {} };
  const rows = await adapter(clock).bookSnapshot({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' }, 3);
  assert.equal(seen[0]!.searchParams.get('limit'), '3');
  assert.equal(rows.length, 6);
  assert.deepEqual(rows[0], { ts: ns(T0), seq: 1n, isSnapshot: true, side: 'ask', level: 0, price: 101, amount: 2 });
  assert.deepEqual(rows[5], { ts: ns(T0), seq: 1n, isSnapshot: true, side: 'bid', level: 2, price: 98, amount: 1 });
});

test('a book depth outside 1..5000 is refused before any request', async () => {
  const a = adapter();
  const book = { exchange: 'binance' as const, symbol: 'BTC/USDT', kind: 'book' as const };
  await assert.rejects(a.bookSnapshot(book, 0), (err) => err instanceof ValidationError && err.field === 'depth');
  await assert.rejects(a.bookSnapshot(book, 5001), (err) => err instanceof ValidationError && err.field === 'depth');
  assert.equal(seen.length, 0);
});

test('a span Binance does not serve fails with NoCapability before any request', () => {
  assert.throws(
    () => adapter().ohlcPages({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '2m' }, { startNs: 0n, endNs: 1n }),
    (err) => err instanceof NoCapability && /span '2m' is not served/.test(err.message),
  );
  assert.equal(seen.length, 0);
});

test('the adapter spends from the limiter the wiring code shares, keyed by its base URL', async () => {
  serveKlines(5);
  const limiters = new RateLimiters();
  const a = new BinanceAdapter({ restUrl }, { limiters });
  await a.earliest({ exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' });
  const limiter = limiters.for('binance', restUrl, { budget: 1, windowMs: 1 });
  assert.equal(limiter.limit.budget, 6000);
  assert.ok(limiter.used() >= 10, `limiter counts ${limiter.used()}`);
});
