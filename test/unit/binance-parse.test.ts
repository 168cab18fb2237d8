import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ValidationError } from '../../src/domain/errors.ts';
import { parseAggTrades, parseDepth, parseDepthUpdate, parseKlines } from '../../src/sources/binance.ts';

/** Response and event examples from Binance's docs; see the README.md of each fixture folder. */
function fixture(name: string, folder = 'binance-adapter'): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/${folder}/${name}`, import.meta.url), 'utf8'));
}

function rejects(fn: () => unknown, field: string, reason: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(err.field, field);
    assert.match(err.reason, reason);
    return true;
  });
}

test('the documented kline parses to one candle with ns open time, decimals parsed once', () => {
  assert.deepEqual(parseKlines(fixture('klines.json')), [
    {
      ts: 1_499_040_000_000_000_000n,
      open: 0.0163479,
      high: 0.8,
      low: 0.015758,
      close: 0.015771,
      volume: 148976.11427815,
      quoteVolume: 2434.19055334,
      trades: 308,
    },
  ]);
});

test('the documented aggregate trade parses with its id as text and the taker side', () => {
  assert.deepEqual(parseAggTrades(fixture('aggTrades.json')), [
    { ts: 1_498_793_709_153_000_000n, tradeId: '26129', price: 0.01633102, amount: 4.70443515, side: 'sell' },
  ]);
});

test('an aggregate trade whose buyer was the taker is a buy', () => {
  const [row] = parseAggTrades([{ a: 1, p: '2.5', q: '1', f: 1, l: 1, T: 1, m: false, M: true }]);
  assert.equal(row!.side, 'buy');
});

test('the documented order book parses into its update id and levels per side, best first', () => {
  assert.deepEqual(parseDepth(fixture('depth.json')), {
    lastUpdateId: 1027024n,
    bids: [{ price: 4, amount: 431 }],
    asks: [{ price: 4.000002, amount: 12 }],
  });
});

test('an order book deeper than asked is cut to the depth', () => {
  const body = { lastUpdateId: 1, bids: [['3', '1'], ['2', '1'], ['1', '1']], asks: [['4', '1'], ['5', '1']] };
  const { bids, asks } = parseDepth(body, 1);
  assert.deepEqual([bids.map((l) => l.price), asks.map((l) => l.price)], [[3], [4]]);
});

test('the documented diff depth event parses into its update ids, event time and changed levels', () => {
  assert.deepEqual(parseDepthUpdate(fixture('ws-depthUpdate.json', 'binance')), {
    E: 1672515782136,
    U: 157n,
    u: 160n,
    bids: [{ price: 0.0024, amount: 10 }],
    asks: [{ price: 0.0026, amount: 100 }],
  });
});

test('a diff depth event whose last update id precedes its first is refused', () => {
  rejects(() => parseDepthUpdate({ e: 'depthUpdate', E: 1, U: 9, u: 8, b: [], a: [] }), 'depthUpdate.u', /before its U 9/);
});

test('a number sent where Binance writes a decimal string is refused, naming the field', () => {
  const row = (fixture('klines.json') as unknown[][])[0]!;
  rejects(() => parseKlines([[row[0], 0.0163479, ...row.slice(2)]]), 'klines[0].open', /^binance sent 0\.0163479, not a decimal string$/);
});

test('a kline with too few fields is refused', () => {
  rejects(() => parseKlines([[1499040000000, '1', '1']]), 'klines[0]', /3 fields, expected at least 9/);
});

test('a non-array answer to klines is refused', () => {
  rejects(() => parseKlines(fixture('error-invalid-symbol.json')), 'klines', /not an array/);
});

test('an aggregate trade without the maker flag is refused', () => {
  rejects(() => parseAggTrades([{ a: 1, p: '1', q: '1', T: 1 }]), 'aggTrades[0].m', /^binance sent undefined, not a boolean$/);
});

test('a negative or fractional time is refused', () => {
  rejects(() => parseAggTrades([{ a: 1, p: '1', q: '1', T: -5, m: true }]), 'aggTrades[0].T', /not a non-negative integer/);
  rejects(() => parseAggTrades([{ a: 1.5, p: '1', q: '1', T: 5, m: true }]), 'aggTrades[0].a', /not a non-negative integer/);
});

test('an order book without asks is refused', () => {
  rejects(() => parseDepth({ lastUpdateId: 1, bids: [] }, 5), 'depth.asks', /not an array/);
});
