// The pure order book: levels kept best first, amount 0 removing a level, the top N, the
// crossed check, the changes between two top-N views, and a book rebuilt from stored rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderBook, levelChanges, rebuildBook, snapshotRows } from '../../src/domain/order-book.ts';
import type { BookRow } from '../../src/domain/records.ts';

const lv = (...pairs: Array<[number, number]>) => pairs.map(([price, amount]) => ({ price, amount }));

test('levels stay sorted best first whatever order they are set in; amount 0 removes a level', () => {
  const book = new OrderBook();
  for (const p of [99, 101, 97, 100, 98]) book.set('bid', p, p / 100);
  for (const p of [105, 102, 104, 103]) book.set('ask', p, 1);
  assert.deepEqual(book.top(3), { bids: lv([101, 1.01], [100, 1], [99, 0.99]), asks: lv([102, 1], [103, 1], [104, 1]) });
  book.set('bid', 101, 0);
  book.set('ask', 103, 0);
  book.set('ask', 200, 0); // removing a level the book lacks: venues send such diffs
  book.set('bid', 100, 7);
  assert.deepEqual(book.top(2), { bids: lv([100, 7], [99, 0.99]), asks: lv([102, 1], [104, 1]) });
  assert.deepEqual(book.size, { bids: 4, asks: 3 });
  assert.equal(book.bestBid, 100);
  assert.equal(book.bestAsk, 102);
});

test('a snapshot replaces the whole book', () => {
  const book = new OrderBook();
  book.set('bid', 1, 1);
  book.applySnapshot({ bids: lv([10, 2], [9, 3]), asks: lv([11, 4]) });
  assert.deepEqual(book.top(10), { bids: lv([10, 2], [9, 3]), asks: lv([11, 4]) });
});

test('a bid at or above the best ask is a crossed book', () => {
  const book = new OrderBook();
  book.applySnapshot({ bids: lv([10, 1]), asks: lv([11, 1]) });
  assert.equal(book.crossed, false);
  book.set('bid', 11, 1);
  assert.equal(book.crossed, true);
  book.set('bid', 11, 0);
  book.set('ask', 9.5, 1);
  assert.equal(book.crossed, true);
  assert.equal(new OrderBook().crossed, false, 'an empty book is not crossed');
});

test('a negative or non-finite amount is refused', () => {
  const book = new OrderBook();
  assert.throws(() => book.set('bid', 10, -1), RangeError);
  assert.throws(() => book.set('ask', Number.NaN, 1), RangeError);
});

test('the changes between two top-N views: new or resized levels with their amount, levels gone at 0', () => {
  const before = { bids: lv([10, 1], [9, 1], [8, 1]), asks: lv([11, 1], [12, 1], [13, 1]) };
  const after = { bids: lv([10, 1], [9, 2], [7, 5]), asks: lv([11.5, 3], [12, 1], [13, 1]) };
  assert.deepEqual(levelChanges(before, after), [
    { side: 'ask', price: 11, amount: 0 },
    { side: 'ask', price: 11.5, amount: 3 },
    { side: 'bid', price: 7, amount: 5 },
    { side: 'bid', price: 8, amount: 0 },
    { side: 'bid', price: 9, amount: 2 },
  ]);
  assert.deepEqual(levelChanges(after, after), []);
});

test('stored rows rebuild the book: a snapshot, then diffs in seq order, cut to the depth asked', () => {
  const snap = snapshotRows({ bids: lv([10, 1], [9, 1], [8, 1]), asks: lv([11, 1], [12, 1]) }, 100n, 5n);
  assert.deepEqual(snap.map((r) => [r.side, r.level, r.price]), [['ask', 0, 11], ['ask', 1, 12], ['bid', 0, 10], ['bid', 1, 9], ['bid', 2, 8]]);
  assert.ok(snap.every((r) => r.isSnapshot && r.ts === 100n && r.seq === 5n));
  const diff = (ts: bigint, seq: bigint, side: 'bid' | 'ask', price: number, amount: number): BookRow => ({ ts, seq, isSnapshot: false, side, level: null, price, amount });
  const diffs = [diff(110n, 6n, 'bid', 10, 0), diff(110n, 6n, 'ask', 10.5, 2), diff(120n, 8n, 'bid', 9, 4)];
  assert.deepEqual(rebuildBook(snap, diffs, 2), { ts: 120n, seq: 8n, bids: lv([9, 4], [8, 1]), asks: lv([10.5, 2], [11, 1]) });
  assert.deepEqual(rebuildBook(snap, []), { ts: 100n, seq: 5n, bids: lv([10, 1], [9, 1], [8, 1]), asks: lv([11, 1], [12, 1]) });
  assert.throws(() => rebuildBook([], diffs), /from a snapshot/);
});
