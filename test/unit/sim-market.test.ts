import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../../src/domain/errors.ts';
import { DEFAULT_MARKET_PARAMS, Market, type MarketParams, type SimTrade, type TradeSummary } from '../../src/sim/market.ts';
import { spanCalendar } from '../../src/sim/spans.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A fixed "now" keeps these tests independent of the wall clock. */
const NOW = Date.UTC(2024, 2, 10, 12, 30, 15, 250);
const PARAMS: MarketParams = { ...DEFAULT_MARKET_PARAMS, listing: '2024-01-01' };
const market = (key = 42, params: Partial<MarketParams> = {}) => new Market(key, { ...PARAMS, ...params });

/** What a candle must hold, computed the slow way from its trades. */
function aggregate(trades: SimTrade[]): TradeSummary {
  const taker = trades.filter((t) => !t.buyerMaker);
  return {
    open: trades[0]!.price,
    high: Math.max(...trades.map((t) => t.price)),
    low: Math.min(...trades.map((t) => t.price)),
    close: trades[trades.length - 1]!.price,
    volume: trades.reduce((s, t) => s + t.qty, 0),
    quote: trades.reduce((s, t) => s + BigInt(t.price) * BigInt(t.qty), 0n),
    count: trades.length,
    buyVolume: taker.reduce((s, t) => s + t.qty, 0),
    buyQuote: taker.reduce((s, t) => s + BigInt(t.price) * BigInt(t.qty), 0n),
    firstId: trades[0]!.id,
    lastId: trades[trades.length - 1]!.id,
  };
}

function tradesBetween(m: Market, fromMs: number, toMs: number): SimTrade[] {
  return m.trades(m.tradesBefore(fromMs, NOW), m.tradesBefore(toMs, NOW));
}

test('the same key gives the same trades and candles; another key gives others', () => {
  const from = Date.UTC(2024, 1, 3, 10);
  const a = tradesBetween(market(7), from, from + HOUR);
  const b = tradesBetween(market(7), from, from + HOUR);
  const c = tradesBetween(market(8), from, from + HOUR);
  assert.ok(a.length > 500);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const cal = spanCalendar('5m');
  assert.deepEqual(market(7).candlesForward(cal, from, from + HOUR, 100, NOW), market(7).candlesForward(cal, from, from + HOUR, 100, NOW));
});

test('a minute computed alone equals the same minute computed within a long range', () => {
  const minute = Date.UTC(2024, 1, 20, 17, 42);
  const cal = spanCalendar('1m');
  const alone = market().candlesForward(cal, minute, minute, 1, NOW);
  const ranged = market().candlesForward(cal, minute - 5 * HOUR, minute + HOUR, 1000, NOW).filter((c) => c.openMs === minute);
  assert.equal(alone.length, 1);
  assert.deepEqual(alone, ranged);

  const fresh = market();
  const from = fresh.tradesBefore(minute, NOW);
  const to = fresh.tradesBefore(minute + MIN, NOW);
  const warm = market();
  warm.candlesForward(spanCalendar('1h'), 0, minute + DAY, 10_000, NOW); // everything before, first
  assert.deepEqual(fresh.trades(from, to), warm.trades(from, to));
});

test('trade ids are gapless from 0 at the listing and follow time order', () => {
  const m = market();
  const listing = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(m.tradesBefore(listing, NOW), 0);
  const first = m.trades(0, 1)[0]!;
  assert.equal(first.id, 0);
  assert.ok(first.ms >= listing);

  const from = m.tradesBefore(Date.UTC(2024, 1, 28, 23, 50), NOW);
  const trades = m.trades(from, from + 3000); // crosses midnight
  trades.forEach((t, i) => {
    assert.equal(t.id, from + i);
    if (i > 0) assert.ok(t.ms >= trades[i - 1]!.ms);
    assert.ok(m.tradesBefore(t.ms, NOW) <= t.id && t.id < m.tradesBefore(t.ms + 1, NOW));
  });
});

test('a 1m candle is exactly the aggregate of that minute`s trades', () => {
  const m = market();
  const cal = spanCalendar('1m');
  const from = Date.UTC(2024, 1, 5, 8);
  for (const c of m.candlesForward(cal, from, from + 20 * MIN, 20, NOW)) {
    assert.deepEqual(c.summary, aggregate(tradesBetween(m, c.openMs, c.openMs + MIN)));
    assert.equal(c.closeMs, c.openMs + MIN - 1);
  }
});

test('a 1s candle is exactly the aggregate of that second`s trades', () => {
  const m = market();
  const from = Date.UTC(2024, 1, 5, 8, 3);
  const candles = m.candlesForward(spanCalendar('1s'), from, from + MIN, 60, NOW);
  assert.ok(candles.length > 5 && candles.length < 60);
  for (const c of candles) assert.deepEqual(c.summary, aggregate(tradesBetween(m, c.openMs, c.openMs + 1000)));
});

test('larger candles are the aggregate of the smaller candles they contain', () => {
  const m = market();
  const merge = (parts: TradeSummary[]) => aggregate(parts.flatMap((p) => tradesOf(m, p)));
  const hour = Date.UTC(2024, 1, 6, 13);
  const [h] = m.candlesForward(spanCalendar('1h'), hour, hour, 1, NOW);
  const minutes = m.candlesForward(spanCalendar('1m'), hour, hour + HOUR - 1, 60, NOW);
  assert.deepEqual(h!.summary, merge(minutes.map((c) => c.summary)));

  const day = Date.UTC(2024, 1, 6);
  const [d] = m.candlesForward(spanCalendar('1d'), day, day, 1, NOW);
  const hours = m.candlesForward(spanCalendar('1h'), day, day + DAY - 1, 24, NOW);
  assert.equal(hours.length, 24);
  assert.equal(d!.summary.count, hours.reduce((s, c) => s + c.summary.count, 0));
  assert.equal(d!.summary.quote, hours.reduce((s, c) => s + c.summary.quote, 0n));
  assert.equal(d!.summary.high, Math.max(...hours.map((c) => c.summary.high)));
  assert.equal(d!.summary.open, hours[0]!.summary.open);
  assert.equal(d!.summary.close, hours[23]!.summary.close);
});

/** The trades a summary covers, through its first and last ids. */
function tradesOf(m: Market, s: TradeSummary): SimTrade[] {
  return m.trades(s.firstId, s.lastId + 1);
}

test('weeks open on Monday 00:00 UTC, months on the 1st, 3d candles on epoch multiples', () => {
  const m = market();
  const weeks = m.candlesForward(spanCalendar('1w'), 0, NOW, 10, NOW);
  assert.equal(new Date(weeks[0]!.openMs).toISOString(), '2024-01-01T00:00:00.000Z'); // a Monday
  for (const w of weeks) assert.equal(new Date(w.openMs).getUTCDay(), 1);
  const months = m.candlesForward(spanCalendar('1M'), 0, NOW, 10, NOW);
  assert.deepEqual(
    months.map((c) => new Date(c.openMs).toISOString().slice(0, 10)),
    ['2024-01-01', '2024-02-01', '2024-03-01'],
  );
  assert.equal(months[1]!.closeMs, Date.UTC(2024, 2, 1) - 1);
  for (const c of m.candlesForward(spanCalendar('3d'), 0, NOW, 30, NOW)) assert.equal(c.openMs % (3 * DAY), 0);
});

test('a month candle equals the aggregate of its days', () => {
  const m = market();
  const [month] = m.candlesForward(spanCalendar('1M'), Date.UTC(2024, 1, 1), Date.UTC(2024, 1, 1), 1, NOW);
  const days = m.candlesForward(spanCalendar('1d'), Date.UTC(2024, 1, 1), Date.UTC(2024, 2, 1) - 1, 40, NOW);
  assert.equal(days.length, 29);
  assert.equal(month!.summary.count, days.reduce((s, c) => s + c.summary.count, 0));
  assert.equal(month!.summary.volume, days.reduce((s, c) => s + c.summary.volume, 0));
  assert.equal(month!.summary.buyQuote, days.reduce((s, c) => s + c.summary.buyQuote, 0n));
  assert.equal(month!.summary.low, Math.min(...days.map((c) => c.summary.low)));
  assert.equal(month!.summary.firstId, days[0]!.summary.firstId);
  assert.equal(month!.summary.lastId, days[28]!.summary.lastId);
});

test('minutes without trades have no candle', () => {
  const m = market(3, { quietMinuteShare: 0.5 });
  const from = Date.UTC(2024, 1, 9);
  const candles = m.candlesForward(spanCalendar('1m'), from, from + DAY - 1, 1440, NOW);
  assert.ok(candles.length > 500 && candles.length < 940, `${candles.length} candles`);
  for (const c of candles) assert.ok(c.summary.count > 0);
});

test('nothing exists at or after now; the open candle holds the trades so far', () => {
  const m = market();
  const total = m.tradesBefore(NOW + DAY, NOW);
  assert.equal(total, m.tradesBefore(NOW, NOW));
  const last = m.trades(total - 1, total)[0]!;
  assert.ok(last.ms < NOW);
  const cal = spanCalendar('1h');
  const recent = m.candlesBackward(cal, Number.MAX_SAFE_INTEGER, 3, NOW);
  const open = recent[2]!;
  assert.equal(open.openMs, cal.floor(NOW));
  assert.ok(open.closeMs >= NOW);
  assert.equal(open.summary.lastId, total - 1);
  assert.deepEqual(m.candlesForward(cal, NOW + 1, Infinity, 10, NOW), []);
});

test('candles walk backward from an end time, skipping empty periods, oldest first', () => {
  const m = market(3, { quietMinuteShare: 0.3 });
  const cal = spanCalendar('1m');
  const end = Date.UTC(2024, 1, 12, 9, 30, 30);
  const back = m.candlesBackward(cal, end, 50, NOW);
  assert.equal(back.length, 50);
  assert.equal(back[49]!.openMs <= end, true);
  const fwd = m.candlesForward(cal, back[0]!.openMs, end, 1000, NOW);
  assert.deepEqual(back, fwd);
});

test('prices and sizes are whole ticks and lots within the declared precision', () => {
  const m = market(5, { startPrice: 0.0025, tickSize: 0.0000001, lotSize: 0.1, tradesPerMinute: 8 });
  const trades = tradesBetween(m, Date.UTC(2024, 1, 1), Date.UTC(2024, 1, 1, 1));
  for (const t of trades) {
    assert.ok(Number.isInteger(t.price) && t.price > 0);
    assert.ok(Number.isInteger(t.qty) && t.qty >= 1 && t.qty <= 10);
  }
});

test('tradeCountSpread 0 gives every minute the same count: a steady rate', () => {
  const m = market(5, { tradesPerMinute: 250_000, tradeCountSpread: 0, quietMinuteShare: 0, startPrice: 100, lotSize: 0.01 });
  const minute = Date.UTC(2024, 1, 9, 13, 7);
  for (let k = 0; k < 5; k++) assert.equal(m.tradesBefore(minute + (k + 1) * MIN, NOW) - m.tradesBefore(minute + k * MIN, NOW), 250_000);
  // Half a minute in, about half of it: the trades spread over the minute.
  const half = m.tradesBefore(minute + MIN / 2, NOW) - m.tradesBefore(minute, NOW);
  assert.ok(half > 240_000 / 2 && half < 260_000 / 2, `${half}`);
  // A spread between keeps the mean and bounds the counts.
  const narrow = market(5, { tradesPerMinute: 1000, tradeCountSpread: 0.1 });
  const counts = Array.from({ length: 200 }, (_, k) => narrow.tradesBefore(minute + (k + 1) * MIN, NOW) - narrow.tradesBefore(minute + k * MIN, NOW)).filter((n) => n > 0);
  assert.ok(counts.every((n) => n >= 900 && n <= 1100), `${Math.min(...counts)}..${Math.max(...counts)}`);
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  assert.ok(Math.abs(mean - 1000) < 20, `${mean}`);
});

test('market parameters are validated with the field and the reason', () => {
  assert.throws(() => market(1, { tradeCountSpread: 1.5 }), (e: unknown) => e instanceof ValidationError && e.field === 'markets.tradeCountSpread');
  assert.throws(() => market(1, { tickSize: 0.03 }), (e: unknown) => e instanceof ValidationError && e.field === 'markets.tickSize');
  assert.throws(() => market(1, { quietMinuteShare: 1 }), (e: unknown) => e instanceof ValidationError && e.field === 'markets.quietMinuteShare');
  assert.throws(() => market(1, { listing: 'soon' }), (e: unknown) => e instanceof ValidationError && e.field === 'markets.listing');
  assert.throws(
    () => market(1, { tickSize: 1e-6, lotSize: 1e-5 }),
    (e: unknown) => e instanceof ValidationError && e.field === 'markets.pricePrecision',
  );
});
