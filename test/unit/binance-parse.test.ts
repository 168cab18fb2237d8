import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ValidationError } from '../../src/domain/errors.ts';
import { parseAggTrades, parseDepth, parseKlines } from '../../src/sources/binance.ts';

/** Response examples from Binance's docs; see test/fixtures/binance-adapter/README.md. */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/binance-adapter/${name}`, import.meta.url), 'utf8'));
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

test('the documented order book parses into levels per side, best first, stamped with the given ts', () => {
  assert.deepEqual(parseDepth(fixture('depth.json'), 42n, 100), [
    { ts: 42n, side: 'bid', price: 4, amount: 431, level: 0 },
    { ts: 42n, side: 'ask', price: 4.000002, amount: 12, level: 0 },
  ]);
});

test('an order book deeper than asked is cut to the depth', () => {
  const body = { lastUpdateId: 1, bids: [['3', '1'], ['2', '1'], ['1', '1']], asks: [['4', '1'], ['5', '1']] };
  const rows = parseDepth(body, 0n, 1);
  assert.deepEqual(
    rows.map((r) => [r.side, r.price, r.level]),
    [
      ['bid', 3, 0],
      ['ask', 4, 0],
    ],
  );
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
  rejects(() => parseDepth({ lastUpdateId: 1, bids: [] }, 0n, 5), 'depth.asks', /not an array/);
});
