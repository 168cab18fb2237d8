import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSim, type Sim } from '../../src/sim/index.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 4, 2, 6, 0); // a past instant with a full market around it

let sim: Sim;
before(async () => {
  sim = await startSim({ port: 0, seed: 11, markets: { quietMinuteShare: 0.1 } });
});
after(() => sim.close());

async function get(path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${sim.url}/binance${path}`);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function ok(path: string): Promise<any> {
  const r = await get(path);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const klines = (q: string) => ok(`/api/v3/klines?symbol=BTCUSDT&${q}`);
const opens = (rows: any[]) => rows.map((r) => r[0] as number);

test('klines startTime and endTime are inclusive bounds on the open time, rows ascending', async () => {
  const end = T0 + 30 * MIN;
  const all = await klines(`interval=1m&startTime=${T0}&endTime=${end}`);
  assert.ok(opens(all).every((o, i, a) => o >= T0 && o <= end && (i === 0 || o > a[i - 1]!)));
  assert.ok(all.length > 20, `${all.length} rows`);
  const first = opens(all)[0]!;
  const later = await klines(`interval=1m&startTime=${first + 1}&endTime=${end}`);
  assert.equal(opens(later)[0], opens(all)[1], 'a start after an open time skips that candle');
  const last = opens(all).at(-1)!;
  const upToLast = await klines(`interval=1m&startTime=${T0}&endTime=${last}`);
  assert.equal(opens(upToLast).at(-1), last, 'endTime equal to an open time includes that candle');
});

test('klines rows have Binance`s twelve fields with decimal strings', async () => {
  const [row] = await klines(`interval=1m&startTime=${T0}&limit=1`);
  assert.equal(row.length, 12);
  const [open, o, h, l, c, v, close, q, n, bv, bq, ignore] = row;
  assert.equal(close, open + MIN - 1);
  for (const s of [o, h, l, c, v, q, bv, bq]) assert.match(s, /^\d+\.\d{8}$/);
  assert.ok(Number(l) <= Number(o) && Number(o) <= Number(h) && Number(l) <= Number(c) && Number(c) <= Number(h));
  assert.ok(Number.isInteger(n) && n > 0);
  assert.ok(Number(bv) <= Number(v));
  assert.equal(ignore, '0');
});

test('klines limit defaults to 500 and cannot exceed 1000', async () => {
  assert.equal((await klines(`interval=1m&startTime=${T0}`)).length, 500);
  assert.equal((await klines(`interval=1m&startTime=${T0}&limit=1000`)).length, 1000);
  const over = await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${T0}&limit=1001`);
  assert.equal(over.status, 400);
  assert.deepEqual(over.body, { code: -1130, msg: "Data sent for parameter 'limit' is not valid." });
  assert.equal((await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=0`)).body.code, -1130);
});

test('klines with only endTime give the most recent candles up to it', async () => {
  const rows = await klines(`interval=5m&endTime=${T0}&limit=10`);
  assert.equal(rows.length, 10);
  assert.equal(opens(rows).at(-1), T0);
  const forward = await klines(`interval=5m&startTime=${opens(rows)[0]}&endTime=${T0}`);
  assert.deepEqual(rows, forward);
});

test('klines without a range give the most recent candles, the open one last', async () => {
  // Months: the current one has trades unless it began seconds ago.
  const rows = await klines('interval=1M&limit=3');
  const now = Date.now();
  assert.equal(rows.length, 3);
  assert.ok(rows[2][0] <= now && rows[2][6] >= now, 'the last row is the candle still open');
});

test('klines with startTime after endTime are an empty list, as on Binance spot', async () => {
  assert.deepEqual(await klines(`interval=1m&startTime=${T0 + MIN}&endTime=${T0}`), []);
});

test('klines serve every Binance interval, weeks from Monday and months from the 1st', async () => {
  for (const i of ['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M']) {
    const rows = await klines(`interval=${i}&endTime=${T0}&limit=2`);
    assert.equal(rows.length, 2, i);
  }
  const weeks = await klines(`interval=1w&endTime=${T0}&limit=5`);
  for (const w of weeks) assert.equal(new Date(w[0]).getUTCDay(), 1);
  const months = await klines(`interval=1M&endTime=${T0}&limit=3`);
  assert.deepEqual(
    months.map((m: any[]) => new Date(m[0]).toISOString().slice(0, 10)),
    ['2024-03-01', '2024-04-01', '2024-05-01'],
  );
});

test('klines accept a UTC timeZone and refuse others', async () => {
  assert.equal((await klines(`interval=1h&startTime=${T0}&limit=1&timeZone=0`)).length, 1);
  assert.equal((await get(`/api/v3/klines?symbol=BTCUSDT&interval=1h&timeZone=8`)).body.code, -1130);
});

test('aggTrades page by fromId, by time range and from an end time, with gapless ids', async () => {
  const byTime = await ok(`/api/v3/aggTrades?symbol=BTCUSDT&startTime=${T0}&endTime=${T0 + 10 * MIN}&limit=1000`);
  assert.ok(byTime.length > 50 && byTime.length < 1000);
  assert.ok(byTime[0].T >= T0 && byTime.at(-1).T <= T0 + 10 * MIN);
  byTime.forEach((t: any, i: number) => {
    assert.deepEqual(Object.keys(t), ['a', 'p', 'q', 'f', 'l', 'T', 'm', 'M']);
    assert.equal(t.f, t.a);
    assert.equal(t.l, t.a);
    if (i > 0) assert.equal(t.a, byTime[i - 1].a + 1);
  });
  const byId = await ok(`/api/v3/aggTrades?symbol=BTCUSDT&fromId=${byTime[5].a}&limit=10`);
  assert.deepEqual(byId, byTime.slice(5, 15));
  const before = await ok(`/api/v3/aggTrades?symbol=BTCUSDT&fromId=${byTime[0].a - 1}&limit=1`);
  assert.ok(before[0].T < T0, 'the trade before the first one in range is before startTime');
  const upTo = await ok(`/api/v3/aggTrades?symbol=BTCUSDT&endTime=${byTime.at(-1).T}&limit=3`);
  assert.deepEqual(upTo, byTime.slice(-3));
});

test('aggTrades refuse fromId together with a time range', async () => {
  const r = await get(`/api/v3/aggTrades?symbol=BTCUSDT&fromId=5&startTime=${T0}`);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { code: -1128, msg: 'Combination of optional parameters invalid.' });
});

test('historicalTrades and aggTrades describe the same trades', async () => {
  const agg = await ok(`/api/v3/aggTrades?symbol=ETHUSDT&startTime=${T0}&limit=20`);
  const hist = await ok(`/api/v3/historicalTrades?symbol=ETHUSDT&fromId=${agg[0].a}&limit=20`);
  assert.deepEqual(
    hist.map((t: any) => [t.id, t.price, t.qty, t.time, t.isBuyerMaker]),
    agg.map((t: any) => [t.a, t.p, t.q, t.T, t.m]),
  );
  for (const t of hist) {
    assert.equal(Number(t.quoteQty).toFixed(6), (Number(t.price) * Number(t.qty)).toFixed(6));
    assert.equal(t.isBestMatch, true);
  }
});

test('trades and historicalTrades without fromId give the most recent trades', async () => {
  const recent = await ok('/api/v3/trades?symbol=BTCUSDT&limit=5');
  assert.equal(recent.length, 5);
  assert.ok(recent.at(-1).time <= Date.now());
  const hist = await ok('/api/v3/historicalTrades?symbol=BTCUSDT&limit=5');
  assert.ok(hist[0].id >= recent[0].id);
});

test('depth is a book around the price, best levels first, truncated at 5000', async () => {
  const book = await ok('/api/v3/depth?symbol=BTCUSDT&limit=5');
  assert.equal(book.bids.length, 5);
  assert.equal(book.asks.length, 5);
  assert.ok(Number.isInteger(book.lastUpdateId));
  const bids = book.bids.map((l: string[]) => Number(l[0]));
  const asks = book.asks.map((l: string[]) => Number(l[0]));
  assert.ok(bids.every((p: number, i: number) => i === 0 || p < bids[i - 1]));
  assert.ok(asks.every((p: number, i: number) => i === 0 || p > asks[i - 1]));
  assert.ok(bids[0] < asks[0]);
  const deep = await get('/api/v3/depth?symbol=BTCUSDT&limit=6000');
  assert.equal(deep.body.asks.length, 5000);
});

test('depth weight follows the limit', async () => {
  const weight = async (limit: number) => {
    const before = Number((await get('/api/v3/ping')).headers.get('x-mbx-used-weight-1m'));
    const after = Number((await get(`/api/v3/depth?symbol=BNBBTC&limit=${limit}`)).headers.get('x-mbx-used-weight-1m'));
    return after - before;
  };
  // A minute rollover between the two requests would reset the count; such a sample is retried.
  const settled = async (limit: number) => {
    for (;;) {
      const w = await weight(limit);
      if (w > 0) return w;
    }
  };
  assert.equal(await settled(100), 5);
  assert.equal(await settled(500), 25);
  assert.equal(await settled(1000), 50);
  assert.equal(await settled(5000), 250);
});

test('exchangeInfo lists the symbols, the weight budget and the filters', async () => {
  const all = await ok('/api/v3/exchangeInfo');
  assert.deepEqual(all.symbols.map((s: any) => s.symbol).sort(), ['BNBBTC', 'BTCUSDT', 'ETHUSDT']);
  assert.deepEqual(all.rateLimits[0], { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 });
  const one = await ok('/api/v3/exchangeInfo?symbol=BNBBTC');
  assert.equal(one.symbols.length, 1);
  assert.equal(one.symbols[0].baseAsset, 'BNB');
  assert.equal(one.symbols[0].quoteAsset, 'BTC');
  assert.equal(one.symbols[0].filters.find((f: any) => f.filterType === 'PRICE_FILTER').tickSize, '0.00000010');
  const two = await ok(`/api/v3/exchangeInfo?symbols=${encodeURIComponent('["BTCUSDT","ETHUSDT"]')}`);
  assert.equal(two.symbols.length, 2);
  assert.deepEqual((await get('/api/v3/exchangeInfo?symbol=DOGEUSDT')).body, { code: -1121, msg: 'Invalid symbol.' });
});

test('time and ping answer like Binance', async () => {
  assert.deepEqual(await ok('/api/v3/ping'), {});
  const { serverTime } = await ok('/api/v3/time');
  assert.ok(Math.abs(serverTime - Date.now()) < DAY);
});

test('bad requests get Binance`s error codes and messages with HTTP 400', async () => {
  const cases: [string, number, string][] = [
    ['/api/v3/klines?symbol=XRPUSDT&interval=1m', -1121, 'Invalid symbol.'],
    ['/api/v3/klines?symbol=BTCUSDT&interval=2m', -1120, 'Invalid interval.'],
    ['/api/v3/klines?interval=1m', -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."],
    ['/api/v3/klines?symbol=BTCUSDT', -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."],
    ['/api/v3/klines?symbol=btcusdt&interval=1m', -1100, "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'."],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=2024-01-01', -1100, "Illegal characters found in parameter 'startTime'; legal range is '^[0-9]{1,20}$'."],
    ['/api/v3/aggTrades?symbol=BTCUSDT&limit=None', -1100, "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1m&start_time=1', -1104, "Not all sent parameters were read; read '2' parameter(s) but was sent '3'."],
    ['/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1&limit=2', -1101, 'Duplicate values for a parameter detected.'],
    ['/api/v3/aggTrades?symbol=BTCUSDT&fromId=', -1105, "Parameter 'fromId' was empty."],
  ];
  for (const [path, code, msg] of cases) {
    const r = await get(path);
    assert.equal(r.status, 400, path);
    assert.deepEqual(r.body, { code, msg }, path);
    assert.ok(r.headers.get('x-mbx-used-weight-1m'), 'errors carry the used weight too');
  }
});

test('unknown paths are 404', async () => {
  const r = await fetch(`${sim.url}/binance/api/v3/nothing`);
  assert.equal(r.status, 404);
  await r.text();
  const other = await fetch(`${sim.url}/nowhere/api/v3/klines`);
  assert.equal(other.status, 404);
  await other.text();
});

test('stats count requests by path', async () => {
  sim.resetStats();
  await ok('/api/v3/ping');
  await ok('/api/v3/ping');
  await get('/api/v3/klines');
  const s = sim.stats('binance');
  assert.equal(s.requests, 3);
  assert.deepEqual(s.byPath, { '/api/v3/ping': 2, '/api/v3/klines': 1 });
  assert.equal(sim.stats().byPath['/binance/api/v3/ping'], 2);
  const viaHttp = (await (await fetch(`${sim.url}/_sim/stats?exchange=binance`)).json()) as { requests: number };
  assert.equal(viaHttp.requests, 3);
});
