// Book rows in the store: streamed snapshots and diffs round-trip with their seq and kind,
// bookAt finds the last snapshot before an instant and the diffs after it, a repeated event
// is read once, and book parts written before book streams (no seq, no is_snapshot) stay
// readable beside new ones, as snapshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotedString } from '@duckdb/node-api';
import { rebuildBook, snapshotRows, type BookLevels } from '../../src/domain/order-book.ts';
import type { BookRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { NS_PER_DAY, NS_PER_S } from '../../src/domain/time.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { DAY0, PROV, duckdbRows, makeBook } from '../helpers/store-fixtures.ts';

const BOOK = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' } as const satisfies Target & { kind: 'book' };
const WS = { source: 'binance:ws', adapterVersion: 'test+ws' };

async function freshStore(t: { after: (fn: () => Promise<void>) => void }): Promise<ParquetStore> {
  const dataPath = await mkdtemp(join(tmpdir(), 'dccd-book-'));
  const store = new ParquetStore(dataPath);
  t.after(async () => {
    await store.close();
    await rm(dataPath, { recursive: true, force: true });
  });
  return store;
}

const lv = (...pairs: Array<[number, number]>) => pairs.map(([price, amount]) => ({ price, amount }));
const at = (s: number) => DAY0 + BigInt(s) * NS_PER_S;
const diff = (s: number, seq: bigint, side: 'bid' | 'ask', price: number, amount: number): BookRow => ({ ts: at(s), seq, isSnapshot: false, side, level: null, price, amount });

/** A streamed book: a snapshot at 10 s (seq 100), diffs at 11, 12, 13 s, a snapshot at 20 s (seq 200) beside its diff, a diff at 21 s. */
function streamed(): { flushes: BookRow[][]; bookAt: (s: number) => BookLevels } {
  const first: BookLevels = { bids: lv([100, 1], [99, 1]), asks: lv([101, 1], [102, 1]) };
  const second: BookLevels = { bids: lv([100, 3], [98, 2]), asks: lv([101, 2], [102, 1]) };
  const flushes = [
    [...snapshotRows(first, at(10), 100n), diff(11, 101n, 'ask', 101, 2), diff(12, 105n, 'bid', 99, 0), diff(12, 105n, 'bid', 98, 2)],
    [diff(13, 107n, 'bid', 100, 3), diff(20, 200n, 'bid', 100, 3), ...snapshotRows(second, at(20), 200n), diff(21, 201n, 'ask', 103, 5)],
  ];
  const books: Array<[number, BookLevels]> = [
    [10, first],
    [11, { ...first, asks: lv([101, 2], [102, 1]) }],
    [12, { bids: lv([100, 1], [98, 2]), asks: lv([101, 2], [102, 1]) }],
    [13, second],
    [21, { ...second, asks: lv([101, 2], [102, 1], [103, 5]) }],
  ];
  return { flushes, bookAt: (s) => books.filter(([from]) => from <= s).at(-1)![1] };
}

test('streamed snapshots and diffs round-trip with seq and kind, ordered by event', async (t) => {
  const store = await freshStore(t);
  const { flushes } = streamed();
  for (const [seq, rows] of flushes.entries()) await store.append(BOOK, rows, { session: 's', seq }, WS);
  const read = await store.readRows(BOOK);
  assert.equal(read.length, flushes.flat().length);
  const key = (r: BookRow) => `${r.ts}/${r.seq}/${r.isSnapshot}/${r.side}/${r.level}/${r.price}`;
  assert.deepEqual(new Set(read.map(key)), new Set(flushes.flat().map(key)));
  // At 20 s the event's diff comes before its snapshot, asks before bids, levels from the best.
  assert.deepEqual(read.filter((r) => r.ts === at(20)).map((r) => [r.isSnapshot, r.side, r.level]), [
    [false, 'bid', null],
    [true, 'ask', 0],
    [true, 'ask', 1],
    [true, 'bid', 0],
    [true, 'bid', 1],
  ]);
});

test('the book at an instant: the last snapshot at or before it, and the diffs after it up to it', async (t) => {
  const store = await freshStore(t);
  const { flushes, bookAt } = streamed();
  for (const [seq, rows] of flushes.entries()) await store.append(BOOK, rows, { session: 's', seq }, WS);
  assert.equal(await store.bookAt(BOOK, at(10) - 1n), null, 'nothing before the first snapshot');
  for (const s of [10, 11, 12, 13, 15, 20, 21, 99]) {
    const found = (await store.bookAt(BOOK, at(s)))!;
    const book = rebuildBook(found.snapshot, found.diffs);
    assert.deepEqual({ bids: book.bids, asks: book.asks }, bookAt(s), `the book at ${s} s`);
  }
  const mid = (await store.bookAt(BOOK, at(12) + 5n))!;
  assert.deepEqual([mid.snapshot[0]!.seq, mid.diffs.map((r) => r.seq)], [100n, [101n, 105n, 105n]]);
  assert.deepEqual(rebuildBook(mid.snapshot, mid.diffs).seq, 105n);
  const later = (await store.bookAt(BOOK, at(21)))!;
  assert.deepEqual([later.snapshot[0]!.seq, later.diffs.map((r) => r.seq)], [200n, [201n]], 'the diff beside a snapshot is in it already');
});

test('an event written twice (a rollover, a retried attempt) is read once', async (t) => {
  const store = await freshStore(t);
  const { flushes } = streamed();
  await store.append(BOOK, flushes[0]!, { session: 'a', seq: 0 }, WS);
  await store.append(BOOK, [...flushes[0]!.slice(-2), ...flushes[1]!], { session: 'b', seq: 0 }, WS);
  assert.equal((await store.readRows(BOOK)).length, flushes.flat().length);
});

test('book parts written before book streams read with seq and is_snapshot null, beside new parts, as snapshots', async (t) => {
  const store = await freshStore(t);
  // A REST snapshot part of the earlier schema: written, then rewritten without the new columns, footer kept.
  const old = makeBook(2, DAY0, 3);
  await store.write(BOOK, old, { startNs: DAY0, endNs: DAY0 + 5n * NS_PER_S }, PROV);
  const [name] = (await readdir(store.datasetPath(BOOK), { recursive: true })).filter((f) => f.endsWith('.parquet'));
  const path = join(store.datasetPath(BOOK), name!);
  const kv = (await duckdbRows(`SELECT decode(key), decode(value) FROM parquet_kv_metadata(${quotedString(path)})`)) as [string, string][];
  const kvSql = kv.map(([k, v]) => `${quotedString(k)}: ${quotedString(v)}`).join(', ');
  await duckdbRows(
    `COPY (SELECT ts, side, price, amount, level FROM read_parquet(${quotedString(path)})) TO ${quotedString(`${path}.old`)} (FORMAT parquet, KV_METADATA {${kvSql}});` +
      `COPY (SELECT * FROM read_parquet(${quotedString(`${path}.old`)})) TO ${quotedString(path)} (FORMAT parquet, KV_METADATA {${kvSql}})`,
  );
  await rm(`${path}.old`);
  assert.deepEqual((await duckdbRows(`SELECT name FROM parquet_schema(${quotedString(path)}) WHERE name IN ('seq', 'is_snapshot')`)).length, 0, 'the part has the old columns only');
  const asOld = old.map((r) => ({ ...r, seq: null, isSnapshot: null }));
  assert.deepEqual(await store.readRows(BOOK), asOld);
  // Its snapshot is the book of its instant, as fetched.
  const found = (await store.bookAt(BOOK, DAY0 + NS_PER_DAY / 2n))!;
  assert.deepEqual([found.snapshot.length, found.diffs.length, found.snapshot[0]!.ts], [6, 0, old[6]!.ts]);
  // New parts beside it, one overlapping it: read together, old rows keep their nulls.
  const { flushes } = streamed();
  await store.append(BOOK, flushes[0]!, { session: 's', seq: 0 }, WS);
  await store.append(BOOK, snapshotRows({ bids: lv([5, 1]), asks: lv([6, 1]) }, DAY0 + 1n, 7n), { session: 's', seq: 1 }, WS);
  const read = await store.readRows(BOOK);
  assert.equal(read.length, old.length + flushes[0]!.length + 2);
  assert.deepEqual(read.filter((r) => r.seq === null), asOld);
  assert.equal((await store.stats(BOOK))!.rows, read.length);
});
