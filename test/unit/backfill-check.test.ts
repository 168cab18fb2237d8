// A backfill request is checked once, against the venue, and handed on normalized.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/domain/errors.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import { checkBackfill } from '../../src/jobs/backfill-check.ts';
import { startSim } from '../../src/sim/index.ts';
import { BinanceAdapter } from '../../src/sources/binance.ts';

const sim = await startSim({ port: 0 });
after(() => sim.close());
const adapter = new BinanceAdapter({ restUrl: `${sim.url}/binance` });
const NOW = parseAbsoluteTime('2024-06-01', 'now');
const candles = { exchange: 'binance' as const, symbol: 'BTCUSDT', kind: 'ohlc' as const, span: '1h' };

async function refusal(p: Promise<unknown>): Promise<ValidationError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e;
  }
  throw new Error('the request was accepted');
}

test('a checked request carries the unified symbol and times as ns text, and notes a start before the venue has data', async () => {
  const { request, notes } = await checkBackfill({ target: candles, start: '2017-01-01', end: '2017-09-01' }, adapter, { now: NOW });
  assert.deepEqual(request, {
    target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1h' },
    start: String(parseAbsoluteTime('2017-01-01', 's')),
    end: String(parseAbsoluteTime('2017-09-01', 'e')),
  });
  assert.deepEqual(notes, ["binance's BTC/USDT ohlc-1h history starts 2017-08-17T00:00:00.000000000Z; the run begins there"]);
  const last = await checkBackfill({ target: candles }, adapter, { now: NOW });
  assert.deepEqual([last.request.start, last.request.end, last.notes], ['last', undefined, []]);
});

test('a start in the future, a range before the venue has data, and a book with a range are refused naming the field', async () => {
  const future = await refusal(checkBackfill({ target: candles, start: '2024-06-02' }, adapter, { now: NOW }));
  assert.deepEqual([future.field, future.reason], ['start', '2024-06-02T00:00:00.000000000Z is in the future']);
  const before = await refusal(checkBackfill({ target: candles, start: '2015-01-01', end: '2016-01-01' }, adapter, { now: NOW }));
  assert.equal(before.field, 'end');
  assert.match(before.reason, /^binance's BTC\/USDT ohlc-1h history starts 2017-08-17T00:00:00\.000000000Z; the range ends before it$/);
  const book = await refusal(checkBackfill({ target: { exchange: 'binance', symbol: 'BTCUSDT', kind: 'book' }, start: '2024-01-01' }, adapter, { now: NOW }));
  assert.equal(book.field, 'start');
  const bookDepth = await checkBackfill({ target: { exchange: 'binance', symbol: 'BTCUSDT', kind: 'book' }, start: 'last' }, adapter, { now: NOW });
  assert.deepEqual(bookDepth.request, { target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' }, start: 'last', depth: 100 });
});
