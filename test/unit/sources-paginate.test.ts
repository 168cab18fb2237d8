import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExchangeError, ValidationError } from '../../src/domain/errors.ts';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import { NS_PER_MIN, NS_PER_MS } from '../../src/domain/time.ts';
import type { HistoryRange, Page } from '../../src/sources/adapter.ts';
import type { FetchPage, PageRequest } from '../../src/sources/paginate.ts';
import { compareNumericIds, paginateOhlc, paginateTrades } from '../../src/sources/paginate.ts';

const T0 = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z

function candle(i: number): OhlcRow {
  return { ts: T0 + BigInt(i) * NS_PER_MIN, open: i, high: i + 1, low: i - 1, close: i, volume: 1, quoteVolume: i, trades: 3 };
}

/** `count` one-minute candles from T0, every `gapEvery`-th minute missing (a minute without trades). */
function candles(count: number, gapEvery = 0): OhlcRow[] {
  return Array.from({ length: count }, (_, i) => i).filter((i) => !gapEvery || i % gapEvery !== gapEvery - 1).map(candle);
}

/** A well-behaved venue: the first `limit` rows from startNs on, inside the range. */
function venue<R extends { ts: bigint }>(rows: R[], calls: PageRequest[] = []): FetchPage<R> {
  return async (req) => {
    calls.push(req);
    return rows.filter((r) => r.ts >= req.startNs && r.ts < req.endNs).slice(0, req.limit);
  };
}

async function collect<R>(pages: AsyncIterable<Page<R>>): Promise<{ rows: R[]; pages: Page<R>[] }> {
  const all: Page<R>[] = [];
  for await (const p of pages) all.push(p);
  return { rows: all.flatMap((p) => p.rows), pages: all };
}

const minutes = (n: number) => T0 + BigInt(n) * NS_PER_MIN;
const LATER = minutes(1_000_000); // "now" far after every candle of these tests
const ohlcOpts = { exchange: 'testex', limit: 1000, span: '1m', now: () => LATER };

test('ohlc: every candle of [start, end) exactly once, without a request past the end', async () => {
  const data = candles(3000);
  const calls: PageRequest[] = [];
  const { rows, pages } = await collect(paginateOhlc(venue(data, calls), { startNs: minutes(100), endNs: minutes(2600) }, ohlcOpts));
  assert.deepEqual(rows, data.slice(100, 2600));
  assert.deepEqual(
    pages.map((p) => p.rows.length),
    [1000, 1000, 500],
  );
  assert.equal(calls.length, 3);
  assert.equal(pages.at(-1)!.cursor.ns, String(minutes(2600)));
});

test('ohlc: rows repeated at page boundaries or inside a page are dropped', async () => {
  const data = candles(2500);
  // Each page also holds the candle just before its start, and repeats its third row.
  const fetchPage: FetchPage<OhlcRow> = async (req) => {
    const page = data.filter((r) => r.ts >= req.startNs).slice(0, req.limit - 2);
    const before = data.filter((r) => r.ts < req.startNs).at(-1);
    return [...(before ? [before] : []), ...page.slice(0, 3), page[2]!, ...page.slice(3)];
  };
  const { rows } = await collect(paginateOhlc(fetchPage, { startNs: T0, endNs: minutes(2500) }, ohlcOpts));
  assert.deepEqual(rows, data);
});

test('ohlc: a short page is not the end; only an empty page is', async () => {
  const data = candles(2000, 7);
  let n = 0;
  const fetchPage: FetchPage<OhlcRow> = async (req) => {
    const page = data.filter((r) => r.ts >= req.startNs).slice(0, req.limit);
    return ++n % 2 ? page.slice(0, 3) : page;
  };
  const { rows } = await collect(paginateOhlc(fetchPage, { startNs: T0, endNs: minutes(5000) }, ohlcOpts));
  assert.deepEqual(rows, data);
});

test('ohlc: the still-open candle is never yielded and ends the walk', async () => {
  const data = candles(500);
  const calls: PageRequest[] = [];
  // Now is 30 s into minute 300: candles 0..299 are closed, 300 is open, later ones do not exist yet.
  const now = () => minutes(300) + 30_000n * NS_PER_MS;
  const { rows, pages } = await collect(paginateOhlc(venue(data, calls), { startNs: T0, endNs: minutes(500) }, { ...ohlcOpts, now }));
  assert.deepEqual(rows, data.slice(0, 300));
  assert.equal(calls.length, 1);
  assert.equal(pages.at(-1)!.cursor.ns, String(minutes(300)));
  // The range is complete only up to the open candle, so the next run starts there.
  assert.equal(pages.at(-1)!.openFromNs, String(minutes(300)));
  assert.ok(pages.slice(0, -1).every((p) => p.openFromNs === undefined));
});

test('ohlc: an open candle right at the cursor ends the walk with an empty page saying where history is open', async () => {
  const data = candles(10);
  const { rows, pages } = await collect(paginateOhlc(venue(data), { startNs: minutes(5), endNs: minutes(10) }, { ...ohlcOpts, now: () => minutes(5) + 1n }));
  assert.deepEqual(rows, []);
  assert.deepEqual(pages, [{ rows: [], cursor: { ns: String(minutes(5)) }, openFromNs: String(minutes(5)) }]);
});

test('ohlc: a walk that reaches the end of a closed range says nothing of open history', async () => {
  const { pages } = await collect(paginateOhlc(venue(candles(3000)), { startNs: T0, endNs: minutes(2500) }, ohlcOpts));
  assert.ok(pages.every((p) => p.openFromNs === undefined));
});

test('ohlc: a candle that ends exactly now is closed', async () => {
  const data = candles(10);
  const { rows } = await collect(paginateOhlc(venue(data), { startNs: T0, endNs: minutes(10) }, { ...ohlcOpts, now: () => minutes(5) }));
  assert.deepEqual(rows, data.slice(0, 5));
});

test('ohlc: resuming from a page cursor skips what was delivered', async () => {
  const data = candles(2500, 11);
  const range: HistoryRange = { startNs: T0, endNs: minutes(2500) };
  const first = await paginateOhlc(venue(data), range, ohlcOpts).next();
  assert.equal(first.done, false);
  const page = first.value as Page<OhlcRow>;
  const rest = await collect(paginateOhlc(venue(data), { ...range, resume: page.cursor }, ohlcOpts));
  assert.deepEqual([...page.rows, ...rest.rows], data);
  assert.ok(rest.rows[0]!.ts > page.rows.at(-1)!.ts);
});

test('ohlc: rows outside [start, end) are filtered even when the venue sends them', async () => {
  const data = candles(300);
  const sloppy: FetchPage<OhlcRow> = async (req) => data.filter((r) => r.ts >= req.startNs - 5n * NS_PER_MIN).slice(0, req.limit);
  const { rows } = await collect(paginateOhlc(sloppy, { startNs: minutes(50), endNs: minutes(120) }, ohlcOpts));
  assert.deepEqual(rows, data.slice(50, 120));
});

test('ohlc: a venue that answers the same page forever fails with a no-progress error', async () => {
  const data = candles(3000);
  let calls = 0;
  const stuck: FetchPage<OhlcRow> = async (req) => {
    calls++;
    return data.slice(0, req.limit);
  };
  await assert.rejects(collect(paginateOhlc(stuck, { startNs: T0, endNs: minutes(3000) }, ohlcOpts)), (err) => {
    assert.ok(err instanceof ExchangeError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /^testex: no progress: 3 pages in a row from 2024-01-01T16:40:00\.000000000Z/);
    return true;
  });
  assert.equal(calls, 4);
});

test('ohlc: a single stale page is tolerated', async () => {
  const data = candles(2500);
  let n = 0;
  const onceStale: FetchPage<OhlcRow> = async (req) => (++n === 2 ? data.slice(0, req.limit) : data.filter((r) => r.ts >= req.startNs).slice(0, req.limit));
  const { rows } = await collect(paginateOhlc(onceStale, { startNs: T0, endNs: minutes(2500) }, ohlcOpts));
  assert.deepEqual(rows, data);
});

test('ohlc: a page in descending order is refused, naming the venue', async () => {
  const reversed: FetchPage<OhlcRow> = async () => candles(5).reverse();
  await assert.rejects(
    collect(paginateOhlc(reversed, { startNs: T0, endNs: minutes(5) }, ohlcOpts)),
    (err) => err instanceof ValidationError && /testex page is not in ascending ts/.test(err.message),
  );
});

test('ohlc: an empty range asks nothing', async () => {
  const calls: PageRequest[] = [];
  const { rows } = await collect(paginateOhlc(venue(candles(10), calls), { startNs: minutes(5), endNs: minutes(5) }, ohlcOpts));
  assert.deepEqual(rows, []);
  assert.equal(calls.length, 0);
});

// ---- trades ------------------------------------------------------------------------------

/** Trades with ids from 0, three or four sharing each millisecond. */
function trades(count: number): TradeRow[] {
  return Array.from({ length: count }, (_, i) => ({
    ts: T0 + BigInt(Math.floor((i * 2) / 7)) * NS_PER_MS,
    tradeId: String(i),
    price: 100 + (i % 13),
    amount: 1,
    side: i % 2 ? 'buy' : 'sell',
  }));
}

/** Pages by id after the first page, the way Binance's aggTrades fromId works. */
function byIdVenue(rows: TradeRow[], calls: PageRequest[] = []): FetchPage<TradeRow> {
  return async (req) => {
    calls.push(req);
    const from = req.afterId === undefined ? rows.findIndex((r) => r.ts >= req.startNs) : Number(req.afterId) + 1;
    return from < 0 ? [] : rows.slice(from, from + req.limit);
  };
}

/** Pages by time only (inclusive start), so rows sharing the boundary ms come again. */
function byTimeVenue(rows: TradeRow[]): FetchPage<TradeRow> {
  return async (req) => rows.filter((r) => r.ts >= req.startNs).slice(0, req.limit);
}

const byId = { exchange: 'testex', limit: 1000, pagesBy: 'id' } as const;
const byTime = { exchange: 'testex', limit: 1000, pagesBy: 'time' } as const;
const msAfter = (ms: number) => T0 + BigInt(ms) * NS_PER_MS;

test('trades: id-paged venue gives every trade of [start, end) once, stopping at the first trade past the end', async () => {
  const data = trades(5000);
  const calls: PageRequest[] = [];
  const range = { startNs: msAfter(100), endNs: msAfter(1200) };
  const { rows, pages } = await collect(paginateTrades(byIdVenue(data, calls), range, { ...byId, compareIds: compareNumericIds }));
  assert.deepEqual(
    rows,
    data.filter((r) => r.ts >= range.startNs && r.ts < range.endNs),
  );
  assert.equal(calls[0]!.afterId, undefined);
  assert.equal(calls[1]!.afterId, pages[0]!.cursor.id);
  assert.equal(calls.length, pages.length);
});

test('trades: time-paged venue repeating the boundary millisecond gives each trade once', async () => {
  const data = trades(4000);
  const { rows } = await collect(paginateTrades(byTimeVenue(data), { startNs: T0, endNs: msAfter(10_000) }, { ...byTime, limit: 100 }));
  assert.deepEqual(rows, data);
});

test('trades: a time-paged venue that only repeats the boundary on a short page, twice, has nothing more', async () => {
  const data = trades(1500);
  const calls: PageRequest[] = [];
  const counting: FetchPage<TradeRow> = async (req) => (calls.push(req), byTimeVenue(data)(req));
  const { rows } = await collect(paginateTrades(counting, { startNs: T0, endNs: msAfter(1_000_000) }, byTime));
  assert.deepEqual(rows, data);
  assert.equal(calls.length, 4); // 1000 rows; the boundary ms and 500 more; then the boundary alone, twice
});

test('trades: a time-paged venue whose short page once holds only the boundary goes on', async () => {
  const data = trades(3000);
  let n = 0;
  const faulty: FetchPage<TradeRow> = async (req) => {
    const page = await byTimeVenue(data)(req);
    return ++n === 2 ? page.filter((r) => r.ts === req.startNs) : page;
  };
  const { rows } = await collect(paginateTrades(faulty, { startNs: T0, endNs: msAfter(1_000_000) }, byTime));
  assert.deepEqual(rows, data);
});

test('trades: duplicated boundary rows and short pages change nothing', async () => {
  const data = trades(3000);
  let n = 0;
  const faulty: FetchPage<TradeRow> = async (req) => {
    const page = await byIdVenue(data)(req);
    const from = Number(page[0]?.tradeId ?? 0);
    const withDup = from > 0 ? [data[from - 1]!, ...page] : page;
    return ++n % 3 === 0 ? withDup.slice(0, 5) : withDup;
  };
  const { rows } = await collect(paginateTrades(faulty, { startNs: T0, endNs: msAfter(10_000) }, { ...byId, compareIds: compareNumericIds }));
  assert.deepEqual(rows, data);
});

test('trades: resuming from a cursor continues after the last delivered trade', async () => {
  const data = trades(2500);
  const range: HistoryRange = { startNs: T0, endNs: msAfter(10_000) };
  const first = (await paginateTrades(byTimeVenue(data), range, byTime).next()).value as Page<TradeRow>;
  // Resume against a venue paging by time: the cursor's ms comes again, with trades delivered and not.
  const rest = await collect(paginateTrades(byTimeVenue(data), { ...range, resume: first.cursor }, { ...byTime, compareIds: compareNumericIds }));
  assert.deepEqual([...first.rows, ...rest.rows], data);
  assert.deepEqual(first.cursor, { ns: String(data[999]!.ts), id: '999' });
});

test('trades: more trades in one millisecond than a page holds is reported as no progress', async () => {
  const burst: TradeRow[] = Array.from({ length: 50 }, (_, i) => ({ ts: T0, tradeId: String(i), price: 1, amount: 1, side: 'buy' }));
  await assert.rejects(
    collect(paginateTrades(byTimeVenue(burst), { startNs: T0, endNs: msAfter(1) }, { ...byTime, limit: 10 })),
    (err) => err instanceof ExchangeError && /no progress/.test(err.message),
  );
});

test('trades: the walk stops at an empty page when the venue has nothing more', async () => {
  const data = trades(1500);
  const calls: PageRequest[] = [];
  const { rows } = await collect(paginateTrades(byIdVenue(data, calls), { startNs: T0, endNs: msAfter(1_000_000) }, byId));
  assert.deepEqual(rows, data);
  assert.equal(calls.length, 3); // 1000 + 500 + the empty answer
});

test('an aborted range stops between pages with the abort reason', async () => {
  const ctl = new AbortController();
  const reason = new Error('stop');
  const pages = paginateOhlc(venue(candles(3000)), { startNs: T0, endNs: minutes(3000), signal: ctl.signal }, ohlcOpts);
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const p of pages) {
        seen.push(p.rows.length);
        ctl.abort(reason);
      }
    })(),
    (err) => err === reason,
  );
  assert.deepEqual(seen, [1000]);
});
