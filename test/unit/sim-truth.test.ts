import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import { checksumRows, startSim, type Sim } from '../../src/sim/index.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const START = Date.UTC(2024, 6, 14, 22, 17); // deliberately not on a boundary
const NS = 1_000_000n;

let sim: Sim;
before(async () => {
  sim = await startSim({
    port: 0,
    seed: 99,
    // Every kind of fault a careful client must get through.
    faults: {
      status429Every: 3,
      status5xxEvery: 5,
      truncatedEvery: 4,
      malformedEvery: 7,
      timeoutEvery: 11,
      duplicateBoundaryEvery: 2,
      shortPageEvery: 3,
    },
  });
});
after(() => sim.close());

/** GET with retries: rate limits, server errors, timeouts and broken bodies are all retried. */
async function getJson(path: string): Promise<any> {
  for (let attempt = 0; attempt < 50; attempt++) {
    let res: Response;
    try {
      res = await fetch(`${sim.url}/binance${path}`, { signal: AbortSignal.timeout(250) });
    } catch {
      continue; // timed out
    }
    const text = await res.text();
    if (res.status === 429 || res.status === 418 || res.status >= 500) {
      await sleep(Math.min(Number(res.headers.get('retry-after') ?? 0) * 1000, 20));
      continue;
    }
    assert.equal(res.status, 200, text);
    try {
      return JSON.parse(text);
    } catch {
      continue; // truncated or not JSON
    }
  }
  throw new Error(`gave up on ${path}`);
}

/** Pages klines forward; never stops on a short page, drops duplicates and open candles. */
async function downloadKlines(symbol: string, interval: string, startMs: number, endMs: number): Promise<OhlcRow[]> {
  const rows = new Map<number, OhlcRow>();
  let cursor = startMs;
  while (cursor < endMs) {
    const page: any[][] = await getJson(`/api/v3/klines?symbol=${symbol}&interval=${interval}&startTime=${cursor}&endTime=${endMs - 1}&limit=1000`);
    if (page.length === 0) break;
    for (const k of page) {
      const open = k[0] as number;
      if (open < startMs || open >= endMs || k[6] >= Date.now()) continue;
      rows.set(open, {
        ts: BigInt(open) * NS,
        open: parseFloat(k[1]),
        high: parseFloat(k[2]),
        low: parseFloat(k[3]),
        close: parseFloat(k[4]),
        volume: parseFloat(k[5]),
        quoteVolume: parseFloat(k[7]),
        trades: k[8],
      });
    }
    cursor = (page.at(-1)![0] as number) + 1;
  }
  return [...rows.values()];
}

/** Finds the first trade by time, then pages by id until past the end. */
async function downloadTrades(symbol: string, startMs: number, endMs: number): Promise<TradeRow[]> {
  const rows = new Map<number, TradeRow>();
  let page: any[] = await getJson(`/api/v3/aggTrades?symbol=${symbol}&startTime=${startMs}&endTime=${endMs - 1}&limit=1000`);
  while (page.length > 0) {
    for (const t of page) {
      if (t.T >= startMs && t.T < endMs) {
        rows.set(t.a, { ts: BigInt(t.T) * NS, tradeId: String(t.a), price: parseFloat(t.p), amount: parseFloat(t.q), side: t.m ? 'sell' : 'buy' });
      }
    }
    const last = page.at(-1);
    if (last.T >= endMs) break;
    page = await getJson(`/api/v3/aggTrades?symbol=${symbol}&fromId=${last.a + 1}&limit=1000`);
  }
  return [...rows.values()];
}

const ns = (ms: number) => String(BigInt(ms) * NS);

test('truth of 1m candles equals what a careful paging client downloads through every fault', async () => {
  sim.resetStats();
  const end = START + 2 * DAY + 7 * MIN;
  const rows = await downloadKlines('BTCUSDT', '1m', START, end);
  const truth = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1m', start: ns(START), end: ns(end) });
  assert.ok(truth.rows > 2800, `${truth.rows} rows`);
  assert.equal(rows.length, truth.rows);
  assert.equal(checksumRows('ohlc', rows), truth.checksum);
  assert.equal(truth.first_ts, String(rows[0]!.ts));
  assert.equal(truth.last_ts, String(rows.at(-1)!.ts));
  const injected = sim.stats('binance').faultsInjected;
  for (const kind of ['status429', 'status5xx', 'truncated', 'malformed', 'timeout', 'duplicateBoundary', 'shortPage']) {
    assert.ok((injected[kind] ?? 0) > 0, `${kind} happened`);
  }
});

test('truth of 1h and 1M candles equals the download too', async () => {
  const end = START + 40 * DAY;
  const hours = await downloadKlines('ETHUSDT', '1h', START, end);
  const hTruth = sim.truth({ exchange: 'binance', symbol: 'ETH/USDT', kind: 'ohlc', span: '1h', start: ns(START), end: ns(end) });
  assert.equal(checksumRows('ohlc', hours), hTruth.checksum);
  const months = await downloadKlines('BNBBTC', '1M', Date.UTC(2023, 0, 1), Date.UTC(2024, 0, 1));
  const mTruth = sim.truth({ exchange: 'binance', symbol: 'BNBBTC', kind: 'ohlc', span: '1M', start: '2023-01-01', end: '2024-01-01' });
  assert.equal(mTruth.rows, 12);
  assert.equal(checksumRows('ohlc', months), mTruth.checksum);
});

test('truth of trades equals what a careful paging client downloads through every fault', async () => {
  const end = START + 3 * HOUR + 123;
  const rows = await downloadTrades('BTCUSDT', START, end);
  const truth = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', start: ns(START), end: ns(end), withRows: true });
  assert.ok(truth.rows > 2000, `${truth.rows} trades`);
  assert.equal(rows.length, truth.rows);
  assert.equal(checksumRows('trades', rows), truth.checksum);
  assert.deepEqual(rows, truth.records);
});

test('truth bounds are half-open in nanoseconds', () => {
  const all = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', start: ns(START), end: ns(START + MIN), withRows: true });
  const records = all.records as TradeRow[];
  const firstTs = records[0]!.ts;
  const from = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', start: String(firstTs), end: ns(START + MIN) });
  const after = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', start: String(firstTs + 1n), end: ns(START + MIN) });
  const sameMs = records.filter((r) => r.ts === firstTs).length;
  assert.equal(from.rows, all.rows, 'start is inclusive');
  assert.equal(after.rows, all.rows - sameMs, 'a start 1 ns later excludes that millisecond');
  const upTo = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', start: ns(START), end: String(firstTs) });
  assert.equal(upTo.rows, 0, 'end is exclusive');
  assert.equal(upTo.first_ts, null);
  assert.equal(upTo.last_ts, null);
});

test('truth holds only closed candles', () => {
  const now = Date.now();
  const hourStart = Math.floor(now / HOUR) * HOUR;
  const q = { exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1h' } as const;
  const toFuture = sim.truth({ ...q, start: ns(hourStart - 5 * HOUR), end: ns(now + DAY) });
  const toHour = sim.truth({ ...q, start: ns(hourStart - 5 * HOUR), end: ns(hourStart) });
  assert.equal(toFuture.checksum, toHour.checksum);
  assert.ok(BigInt(toFuture.last_ts!) < BigInt(hourStart) * NS);
});

test('GET /_sim/truth answers the same as sim.truth, with ISO or ns bounds', async () => {
  const q = new URLSearchParams({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '15m', start: '2024-07-01', end: ns(Date.UTC(2024, 6, 2)) });
  const res = await fetch(`${sim.url}/_sim/truth?${q}`);
  const body = await res.json();
  const direct = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '15m', start: '2024-07-01', end: '2024-07-02' });
  assert.deepEqual(body, direct);
  assert.equal(body.rows, 96);
  assert.equal(body.first_ts, ns(Date.UTC(2024, 6, 1)));

  const bad = await fetch(`${sim.url}/_sim/truth?exchange=binance&symbol=BTCUSDT&kind=ohlc&start=2024-07-01&end=2024-07-02`);
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { error: 'span: required for kind ohlc', field: 'span' });
  const unknown = await fetch(`${sim.url}/_sim/truth?exchange=binance&symbol=DOGEUSDT&kind=trades&start=2024-07-01&end=2024-07-02`);
  assert.equal(unknown.status, 400);
  assert.match(((await unknown.json()) as { error: string }).error, /DOGEUSDT/);
});

test('checksumRows hashes one line per row in ts order (ties by numeric trade id)', () => {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const ohlc: OhlcRow[] = [
    { ts: 2_000n, open: 2, high: 3, low: 1.5, close: 2.5, volume: 0.1, quoteVolume: null, trades: null },
    { ts: 1_000n, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, quoteVolume: 15, trades: 3 },
  ];
  assert.equal(checksumRows('ohlc', ohlc), sha('1000,1,2,0.5,1.5,10,15,3\n2000,2,3,1.5,2.5,0.1,,\n'));
  const trades: TradeRow[] = [
    { ts: 5n, tradeId: '10', price: 1.25, amount: 2, side: 'sell' },
    { ts: 5n, tradeId: '9', price: 1.5, amount: 1e-8, side: 'buy' },
  ];
  assert.equal(checksumRows('trades', trades), sha('5,9,1.5,1e-8,buy\n5,10,1.25,2,sell\n'));
  assert.equal(checksumRows('trades', []), sha(''));
});
