// The columnar row buffer: pages in, the first n rows out as a batch, rows kept in between.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/domain/errors.ts';
import type { BookRow, OhlcRow, TradeRow } from '../../src/domain/records.ts';
import { NS_PER_DAY } from '../../src/domain/time.ts';
import { toRows, type ColumnBatch } from '../../src/storage/column-batch.ts';
import { ColumnBuffer, batchOf } from '../../src/storage/column-buffer.ts';
import { columnOf } from '../../src/storage/parquet-columns.ts';
import { DAY0, makeBook, makeCandles, makeTrades, random } from '../helpers/store-fixtures.ts';

const rowsOf = <R>(batch: ColumnBatch): R[] => toRows(batch as ColumnBatch & { kind: 'trades' }) as unknown as R[];
const pages = <R>(rows: readonly R[], size: number): R[][] => Array.from({ length: Math.ceil(rows.length / size) }, (_, i) => rows.slice(i * size, (i + 1) * size));

test('pages pushed in are taken out in order, n rows at a time, the rest kept', () => {
  const rows = makeTrades(5000, DAY0, NS_PER_DAY);
  const buffer = new ColumnBuffer('trades');
  for (const page of pages(rows, 1000).slice(0, 3)) buffer.push(page);
  assert.equal(buffer.length, 3000);
  assert.equal(buffer.tsAt(0), rows[0]!.ts);
  assert.equal(buffer.tsAt(2999), rows[2999]!.ts);

  const first = buffer.take(1234);
  assert.equal(first.length, 1234);
  assert.deepEqual(rowsOf<TradeRow>(first), rows.slice(0, 1234));
  assert.equal(buffer.length, 1766);
  assert.equal(buffer.tsAt(0), rows[1234]!.ts);

  for (const page of pages(rows, 1000).slice(3)) buffer.push(page);
  const rest = buffer.take(buffer.length);
  assert.deepEqual(rowsOf<TradeRow>(rest), rows.slice(1234));
  assert.equal(buffer.length, 0);
});

test('any sequence of pushes and takes gives back every row once, in order', () => {
  const rows = makeTrades(40_000, DAY0, NS_PER_DAY, 3);
  const rnd = random(5);
  const buffer = new ColumnBuffer('trades');
  const out: TradeRow[] = [];
  let next = 0;
  while (next < rows.length || buffer.length > 0) {
    if (next < rows.length && rnd() < 0.6) {
      const page = rows.slice(next, next + Math.floor(rnd() * 3000));
      buffer.push(page);
      next += page.length;
    } else {
      out.push(...rowsOf<TradeRow>(buffer.take(Math.floor(rnd() * (buffer.length + 1)))));
    }
    if (buffer.length > 0) assert.equal(buffer.tsAt(buffer.length - 1), rows[next - 1]!.ts);
  }
  assert.deepEqual(out, rows);
});

test('trade sides become codes in text order, ids stay text', () => {
  const rows = makeTrades(10, DAY0, NS_PER_DAY);
  const batch = new ColumnBuffer('trades').push(rows).take(10);
  assert.deepEqual(Array.from(columnOf(batch, 'side').values as Uint8Array), rows.map((r) => ['buy', 'sell'].indexOf(r.side)));
  assert.deepEqual(columnOf(batch, 'trade_id').values, rows.map((r) => r.tradeId));
  assert.deepEqual(Array.from(columnOf(batch, 'ts').values as BigInt64Array), rows.map((r) => r.ts));
});

test('nulls of nullable columns land in validity bitmaps, whatever row a take starts at', () => {
  const candles = makeCandles(100, DAY0);
  const buffer = new ColumnBuffer('ohlc');
  for (const page of pages(candles, 7)) buffer.push(page);
  const a = buffer.take(13);
  const b = buffer.take(buffer.length);
  assert.deepEqual([...rowsOf<OhlcRow>(a), ...rowsOf<OhlcRow>(b)], candles);
  const quote = columnOf(b, 'quote_volume');
  assert.equal(quote.nullCount, candles.slice(13).filter((c) => c.quoteVolume === null).length);
  assert.ok(quote.valid);
  // Candle 15 (i % 3 === 0) has no quote volume: bit 2 of the second batch.
  assert.equal(quote.valid[0]! & (1 << 2), 0);
  assert.notEqual(quote.valid[0]! & (1 << 1), 0);
  const full = candles.map((c) => ({ ...c, quoteVolume: 1, trades: 2 }));
  assert.equal(columnOf(batchOf('ohlc', full), 'trades').valid, undefined);
});

test('a null seen before the rows move to the front does not mark the row that later takes its place', () => {
  const candles = makeCandles(3000, DAY0);
  const buffer = new ColumnBuffer('ohlc');
  const out: OhlcRow[] = [];
  // Small pages, 10 rows kept: the arrays fill up at the end with most of them free, and the rows move in place.
  for (const page of pages(candles, 100)) {
    buffer.push(page);
    out.push(...rowsOf<OhlcRow>(buffer.take(buffer.length - 10)));
  }
  out.push(...rowsOf<OhlcRow>(buffer.take(buffer.length)));
  assert.deepEqual(out, candles);
});

test('book rows keep their bigint seq, boolean kind, side codes and null levels', () => {
  const snapshot = makeBook(2, DAY0, 3);
  const diff: BookRow = { ts: DAY0 + 5n, seq: null, isSnapshot: false, side: 'bid', price: 1999.5, amount: 0, level: null };
  const rows = [...snapshot, diff, { ...diff, isSnapshot: null, seq: 7n }];
  const batch = batchOf('book', rows);
  assert.deepEqual(toRows(batch as ColumnBatch & { kind: 'book' }), rows);
  assert.equal(columnOf(batch, 'level').nullCount, 2);
  assert.equal(columnOf(batch, 'seq').nullCount, 1);
  assert.equal(columnOf(batch, 'is_snapshot').nullCount, 1);
});

test('a bad value is a ValidationError naming its row and field, and nothing of the page is added', () => {
  const rows = makeTrades(3, DAY0, NS_PER_DAY);
  const buffer = new ColumnBuffer('trades').push(rows);
  const bad = (change: Partial<Record<keyof TradeRow, unknown>>) => [rows[0]!, { ...rows[1]!, ...change }] as TradeRow[];
  const cases: Array<[Partial<Record<keyof TradeRow, unknown>>, string, RegExp]> = [
    [{ ts: 5 }, 'rows[1].ts', /must be a bigint of ns, got number/],
    [{ side: 'bid' }, 'rows[1].side', /"bid" is not one of buy, sell/],
    [{ side: undefined }, 'rows[1].side', /undefined is not one of buy, sell/],
    [{ tradeId: undefined }, 'rows[1].tradeId', /must be a string, got undefined/],
    [{ price: null }, 'rows[1].price', /must be a number, got null/],
    [{ amount: '1.5' }, 'rows[1].amount', /must be a number, got string/],
  ];
  for (const [change, field, reason] of cases) {
    assert.throws(() => buffer.push(bad(change)), (e: unknown) => e instanceof ValidationError && e.field === field && reason.test(e.reason), field);
    assert.equal(buffer.length, 3);
  }
  const candle = makeCandles(1, DAY0)[0]!;
  assert.throws(() => batchOf('ohlc', [{ ...candle, trades: 1.5 }]), (e: unknown) => e instanceof ValidationError && e.field === 'rows[0].trades' && /integer number, got 1.5/.test(e.reason));
  assert.deepEqual(rowsOf<TradeRow>(buffer.take(3)), rows);
});

test('take and tsAt refuse rows the buffer does not hold', () => {
  const buffer = new ColumnBuffer('trades').push(makeTrades(5, DAY0, NS_PER_DAY));
  assert.throws(() => buffer.take(6), RangeError);
  assert.throws(() => buffer.take(-1), RangeError);
  assert.throws(() => buffer.tsAt(5), RangeError);
  assert.equal(buffer.take(0).length, 0);
  assert.equal(buffer.length, 5);
});
