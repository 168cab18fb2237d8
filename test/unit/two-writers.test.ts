// Two writers, one dataset: a backfill (write) and a stream (append) of the same dataset,
// in either order or at once, leave the union of their rows de-duplicated by key, a REST row
// winning over a streamed one and the latest flush winning among streamed ones, on every
// read path.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ValidationError } from '../../src/domain/errors.ts';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { NS_PER_DAY, NS_PER_MIN } from '../../src/domain/time.ts';
import { inventory } from '../../src/jobs/inventory.ts';
import { toRows } from '../../src/storage/column-batch.ts';
import type { ColumnBatch } from '../../src/storage/column-batch.ts';
import { ColumnBuffer } from '../../src/storage/column-buffer.ts';
import type { CoverageStore } from '../../src/storage/coverage-store.ts';
import { listParts } from '../../src/storage/dataset-files.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { parsePartFileName, partFileName, streamPartFileName } from '../../src/storage/parquet-layout.ts';
import type { ChildOutcome } from '../helpers/store-write-child.ts';
import { DAY0, PROV, WS_PROV, duckdbRows, makeBook, makeCandles, makeTrades, streamedTrades, tradeOrder } from '../helpers/store-fixtures.ts';

const TRADES = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' } as const satisfies Target;
const OHLC = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' } as const satisfies Target;
const BOOK = { exchange: 'kraken', symbol: 'ETH/USD', kind: 'book' } as const satisfies Target;
const DAY = { startNs: DAY0, endNs: DAY0 + NS_PER_DAY };
const CHILD = fileURLToPath(new URL('../helpers/store-write-child.ts', import.meta.url));

/** A store on a fresh data folder, closed and removed when the test ends. */
async function freshStore(t: TestContext): Promise<{ store: ParquetStore; dataPath: string }> {
  const dataPath = await mkdtemp(join(tmpdir(), 'dccd-two-writers-'));
  const store = new ParquetStore(dataPath);
  t.after(() => store.close().finally(() => rm(dataPath, { recursive: true, force: true })));
  return { store, dataPath };
}

/** The union of REST rows and streamed flushes (oldest first) by key: REST rows win, then the latest flush. */
function union<R>(key: (r: R) => string, order: (a: R, b: R) => number, rest: readonly R[], flushes: readonly (readonly R[])[]): R[] {
  const byKey = new Map<string, R>();
  for (const r of flushes.flat()) byKey.set(key(r), r);
  for (const r of rest) byKey.set(key(r), r);
  return [...byKey.values()].sort(order);
}
const tradesUnion = (rest: readonly TradeRow[], ...flushes: TradeRow[][]) => union((r) => r.tradeId, tradeOrder, rest, flushes);
const byTs = (a: { ts: bigint }, b: { ts: bigint }) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);
const candlesUnion = (rest: readonly OhlcRow[], ...flushes: OhlcRow[][]) => union((r) => String(r.ts), byTs, rest, flushes);

/** `rows` cut into `n` flushes in order. */
const flushesOf = <R>(rows: readonly R[], n: number): R[][] =>
  Array.from({ length: n }, (_, i) => rows.slice(Math.floor((i * rows.length) / n), Math.floor(((i + 1) * rows.length) / n)));

async function fileNames(store: ParquetStore, target: Target): Promise<string[]> {
  return (await listParts(store.datasetPath(target))).map((p) => basename(p.path));
}

test('stream parts are named after their flush and the rows they hold, REST parts as before, and footers say which', async (t) => {
  const w = { startNs: DAY0, endNs: DAY0 + 5n };
  assert.equal(streamPartFileName({ session: 'ab12', seq: 7 }, w), `part-ws-ab12-7-${DAY0}-${DAY0 + 5n}.parquet`);
  assert.deepEqual(parsePartFileName(streamPartFileName({ session: 'ab12', seq: 7 }, w)), { ...w, stream: { session: 'ab12', seq: 7 } });
  assert.deepEqual(parsePartFileName(partFileName(w)), w);
  assert.deepEqual(parsePartFileName('part-ws-s-0--10--5.parquet'), { startNs: -10n, endNs: -5n, stream: { session: 's', seq: 0 } });
  for (const bad of ['part-ws-AB-1-0-5.parquet', 'part-ws--1-0-5.parquet', 'part-ws-a-1-5-5.parquet', 'part-ws-a--1-0-5.parquet']) {
    assert.equal(parsePartFileName(bad), undefined, bad);
  }
  const { store } = await freshStore(t);
  const rows = makeTrades(100, DAY0 + NS_PER_DAY / 2n, NS_PER_DAY);
  const { files } = await store.append(TRADES, rows, { session: 's1', seq: 3 }, WS_PROV);
  const today = rows.filter((r) => r.ts < DAY.endNs);
  assert.deepEqual(files.map((f) => basename(f)), [
    `part-ws-s1-3-${today[0]!.ts}-${today.at(-1)!.ts + 1n}.parquet`,
    `part-ws-s1-3-${rows[today.length]!.ts}-${rows.at(-1)!.ts + 1n}.parquet`,
  ]);
  const written = await store.write(TRADES, makeTrades(10, DAY0, NS_PER_DAY), DAY, PROV);
  const kv = async (path: string) => new Map((await duckdbRows(`SELECT decode(key), decode(value) FROM parquet_kv_metadata('${path}')`)) as [string, string][]);
  const ws = await kv(files[0]!);
  assert.equal(ws.get('dccd.source'), 'ws');
  assert.equal(ws.get('dccd.session'), 's1');
  assert.equal(ws.get('dccd.seq'), '3');
  assert.equal(JSON.parse(ws.get('dccd.provenance')!).source, 'binance:ws');
  assert.equal((await kv(written.files[0]!)).get('dccd.source'), 'rest');
  const listed = await listParts(store.datasetPath(TRADES));
  assert.deepEqual(listed.map((p) => p.stream ?? 'rest'), ['rest', { session: 's1', seq: 3 }, { session: 's1', seq: 3 }]);
});

test('a flush given as a batch lands as the same stream parts as its rows', async (t) => {
  const { store } = await freshStore(t);
  const rows = makeTrades(500, DAY0 + NS_PER_DAY / 2n, NS_PER_DAY);
  const other = { ...TRADES, symbol: 'ETH/USDT' } as const;
  const flush = { session: 's1', seq: 4 };
  const fromRows = await store.append(TRADES, rows, flush, WS_PROV);
  const fromBatch = await store.append(other, new ColumnBuffer('trades').push(rows).take(rows.length), flush, WS_PROV);
  assert.equal(fromBatch.rows, fromRows.rows);
  assert.deepEqual(await fileNames(store, other), await fileNames(store, TRADES));
  assert.deepEqual(await store.readRows(other), rows);
});

test('bad flushes are refused with a ValidationError naming the field, and an empty flush writes nothing', async (t) => {
  const { store } = await freshStore(t);
  const rows = makeTrades(3, DAY0, NS_PER_DAY);
  const refused = async (flush: { session: string; seq: number }, field: string) =>
    assert.rejects(store.append(TRADES, rows, flush, WS_PROV), (e: unknown) => e instanceof ValidationError && e.field === field);
  await refused({ session: 'Bad', seq: 0 }, 'flush.session');
  await refused({ session: '', seq: 0 }, 'flush.session');
  await refused({ session: 'a-b', seq: 0 }, 'flush.session');
  await refused({ session: 'x'.repeat(33), seq: 0 }, 'flush.session');
  await refused({ session: 'ok', seq: -1 }, 'flush.seq');
  await refused({ session: 'ok', seq: 1.5 }, 'flush.seq');
  await assert.rejects(store.append(TRADES, [{ ...rows[0]!, ts: 5 as unknown as bigint }], { session: 'ok', seq: 0 }, WS_PROV), (e: unknown) => e instanceof ValidationError && e.field === 'rows[0].ts');
  await assert.rejects(store.append(TRADES, rows, { session: 'ok', seq: 0 }, { source: '', adapterVersion: 'x' }), ValidationError);
  assert.deepEqual(await store.append(TRADES, [], { session: 'ok', seq: 0 }, WS_PROV), { rows: 0, files: [] });
  assert.deepEqual(await fileNames(store, TRADES), []);
});

test('a backfill over streamed rows keeps every one, a stream over backfilled rows keeps every one: the union by key, REST copies winning', async (t) => {
  const rest = makeTrades(3000, DAY0, NS_PER_DAY);
  const streamed = flushesOf(streamedTrades(rest), 6);
  const expected = tradesUnion(rest, ...streamed);
  assert.ok(expected.length > rest.length, 'the stream holds trades the backfill lacks');
  for (const order of ['stream first', 'backfill first'] as const) {
    const { store } = await freshStore(t);
    const append = async () => {
      for (const [seq, rows] of streamed.entries()) await store.append(TRADES, rows, { session: 'live', seq }, WS_PROV);
    };
    if (order === 'stream first') await append();
    // The whole day, then its middle third again: a REST part replaced in part and clipped.
    await store.write(TRADES, rest, DAY, PROV);
    const [a, b] = [DAY0 + NS_PER_DAY / 3n, DAY0 + (2n * NS_PER_DAY) / 3n];
    await store.write(TRADES, rest.filter((r) => r.ts >= a && r.ts < b), { startNs: a, endNs: b }, PROV);
    if (order === 'backfill first') await append();
    assert.deepEqual(await store.readRows(TRADES), expected, order);
    const names = await fileNames(store, TRADES);
    assert.equal(names.filter((n) => n.startsWith('part-ws-live-')).length, 6, `${order}: every flush kept its file`);
    // A backfill that finds nothing in a window clears only REST rows there.
    await store.write(TRADES, [], { startNs: a, endNs: b }, PROV);
    const left = tradesUnion(rest.filter((r) => r.ts < a || r.ts >= b), ...streamed);
    assert.deepEqual(await store.readRows(TRADES), left, `${order}, window cleared`);
  }
});

test('a REST candle wins over a streamed candle of its ts whatever the order, and among streamed candles the latest flush', async (t) => {
  const rest = makeCandles(30, DAY0);
  const snapshot = (from: number, n: number, bump: number) => makeCandles(n, DAY0 + BigInt(from) * NS_PER_MIN).map((c) => ({ ...c, close: c.close + bump }));
  for (const order of ['stream first', 'backfill first'] as const) {
    const { store } = await freshStore(t);
    // Each flush repeats the candle still open at the end of the one before, updated.
    const flushes = [snapshot(20, 6, 0.5), snapshot(25, 10, 0.25), snapshot(34, 3, 0.125)];
    const append = async () => {
      for (const [seq, rows] of flushes.entries()) await store.append(OHLC, rows, { session: 'k1', seq }, WS_PROV);
    };
    if (order === 'stream first') await append();
    await store.write(OHLC, rest, { startNs: DAY0, endNs: DAY0 + 30n * NS_PER_MIN }, PROV);
    if (order === 'backfill first') await append();
    const got = await store.readRows(OHLC);
    assert.deepEqual(got, candlesUnion(rest, ...flushes), order);
    assert.equal(got.find((c) => c.ts === DAY0 + 25n * NS_PER_MIN)!.close, rest[25]!.close, 'REST over stream');
    assert.equal(got.find((c) => c.ts === DAY0 + 34n * NS_PER_MIN)!.close, flushes[2]![0]!.close, 'the later flush');
    // A later session outranks an earlier one, and a flush number outranks its write order.
    await store.append(OHLC, snapshot(36, 1, 9), { session: 'k2', seq: 0 }, WS_PROV);
    await store.append(OHLC, snapshot(36, 1, 4), { session: 'k1', seq: 3 }, WS_PROV);
    await store.append(OHLC, snapshot(36, 1, 7), { session: 'k2', seq: 1 }, WS_PROV);
    await store.append(OHLC, snapshot(36, 1, 8), { session: 'k2', seq: 0 }, WS_PROV); // a late retry of seq 0
    assert.equal((await store.readRows(OHLC, DAY0 + 36n * NS_PER_MIN, DAY0 + 37n * NS_PER_MIN))[0]!.close, snapshot(36, 1, 7)[0]!.close);
  }
});

test('book rows merge by ts, seq, kind, side and price, a REST snapshot winning', async (t) => {
  const { store } = await freshStore(t);
  const rest = makeBook(4, DAY0, 3);
  const streamed = makeBook(6, DAY0, 4).map((r) => ({ ...r, amount: r.amount + 1 }));
  await store.append(BOOK, streamed, { session: 'b', seq: 0 }, WS_PROV);
  await store.write(BOOK, rest, { startNs: DAY0, endNs: rest.at(-1)!.ts + 1n }, PROV);
  const key = (r: (typeof rest)[number]) => `${r.ts}/${r.seq}/${r.isSnapshot}/${r.side}/${r.price}`;
  const order = (a: (typeof rest)[number], b: (typeof rest)[number]) => byTs(a, b) || (a.side < b.side ? -1 : a.side > b.side ? 1 : a.level! - b.level!);
  assert.deepEqual(await store.readRows(BOOK), union(key, order, rest, [streamed]));
});

test('a retried flush replaces its own file: no duplicate rows, one file', async (t) => {
  const { store } = await freshStore(t);
  const rows = makeTrades(500, DAY0, NS_PER_DAY / 4n);
  await store.append(TRADES, rows, { session: 'r', seq: 0 }, WS_PROV);
  await store.append(TRADES, rows, { session: 'r', seq: 0 }, WS_PROV);
  assert.equal((await fileNames(store, TRADES)).length, 1);
  assert.deepEqual(await store.readRows(TRADES), rows);
  // A retry that carries more rows (and so another window) still leaves one file for the flush.
  const more = makeTrades(600, DAY0, NS_PER_DAY / 2n, 5);
  await store.append(TRADES, more, { session: 'r', seq: 0 }, WS_PROV);
  assert.deepEqual(await fileNames(store, TRADES), [`part-ws-r-0-${more[0]!.ts}-${more.at(-1)!.ts + 1n}.parquet`]);
  assert.deepEqual(await store.readRows(TRADES), more);
  assert.deepEqual(await store.stats(TRADES), { rows: more.length, minTs: more[0]!.ts, maxTs: more.at(-1)!.ts });
});

test('a backfill and a stream of one dataset written at once from two processes end with exactly the union', async (t) => {
  const { store, dataPath } = await freshStore(t);
  const n = 4000;
  const rest = makeTrades(n, DAY0, NS_PER_DAY); // what the children write (store-write-child.ts)
  // Older REST rows the backfill replaces as it goes.
  await store.write(TRADES, rest.map((r) => ({ ...r, price: r.price * 2 })), DAY, PROV);
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, dataPath, String(n), ...args]).then(
      ({ stdout }) => JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildOutcome,
    );
  const outcomes = await Promise.all([run(['write', '7']), run(['append', '25', 'c1'])]);
  for (const o of outcomes) assert.equal(o.error, undefined, JSON.stringify(o.error));
  const streamed = streamedTrades(rest);
  assert.deepEqual(await store.readRows(TRADES), tradesUnion(rest, streamed));
  const names = await fileNames(store, TRADES);
  assert.equal(names.filter((f) => f.startsWith('part-ws-c1-')).length, 25);
  assert.deepEqual((await readdir(join(store.datasetPath(TRADES), 'date=2024-01-01'))).filter((f) => !f.endsWith('.parquet')), []);
});

test('stats, minTs, maxTs, exportParquet, stream and inventory agree with readRows on a dataset both writers wrote', async (t) => {
  const { store, dataPath } = await freshStore(t);
  // Trades: a REST-only day, a day REST and stream both wrote, a day streamed alone, and
  // a stream reaching past the last REST part into a day of its own.
  const rest = makeTrades(2000, DAY0, 2n * NS_PER_DAY);
  await store.write(TRADES, rest, { startNs: DAY0, endNs: DAY0 + 2n * NS_PER_DAY }, PROV);
  const streamed = flushesOf(streamedTrades(makeTrades(800, DAY0 + NS_PER_DAY, 3n * NS_PER_DAY, 7, 1_000_000)), 9);
  for (const [seq, rows] of streamed.entries()) await store.append(TRADES, rows, { session: 'z', seq }, WS_PROV);
  // Candles: REST over the first half hour, snapshots flushed over the whole hour.
  const candles = makeCandles(30, DAY0);
  await store.write(OHLC, candles, { startNs: DAY0, endNs: DAY0 + 30n * NS_PER_MIN }, PROV);
  const snapshots = flushesOf(makeCandles(60, DAY0).map((c) => ({ ...c, volume: c.volume + 1 })), 4);
  for (const [seq, rows] of snapshots.entries()) await store.append(OHLC, rows, { session: 'z', seq }, WS_PROV);

  const fake = { coverageOfAll: async () => new Map(), list: async () => [] } as unknown as CoverageStore;
  const listed = new Map((await inventory({ store, coverage: async () => fake }, [])).map((d) => [d.datasetId, d]));
  for (const [target, id] of [[TRADES, 'binance/trades/BTC-USDT'], [OHLC, 'binance/ohlc-1m/BTC-USDT']] as const) {
    const all = await store.readRows(target);
    assert.ok(all.length > 0);
    const [first, last] = [all[0]!.ts, all.at(-1)!.ts];
    assert.deepEqual(await store.stats(target), { rows: all.length, minTs: first, maxTs: last }, id);
    assert.equal(await store.minTs(target), first);
    assert.equal(await store.maxTs(target), last);
    const d = listed.get(id)!;
    const parts = await listParts(store.datasetPath(target));
    assert.ok(parts.some((p) => p.stream));
    assert.deepEqual({ rows: d.rows, firstTs: d.firstTs, lastTs: d.lastTs, files: d.files }, { rows: all.length, firstTs: first, lastTs: last, files: parts.length }, id);
    for (const sliceBytes of [1, 1 << 30]) {
      const got: unknown[] = [];
      for await (const b of store.stream(target, undefined, undefined, { sliceBytes, batchRows: 100 })) got.push(...toRows(b as ColumnBatch & { kind: typeof target.kind }));
      assert.deepEqual(got, all, `${id} streamed, slices of ${sliceBytes} B`);
    }
    const [s, e] = [first + (last - first) / 3n, first + (2n * (last - first)) / 3n];
    const out = join(dataPath, `${target.kind}.parquet`);
    assert.equal(await store.exportParquet(target, out, s, e), all.filter((r) => r.ts >= s && r.ts < e).length);
    const exported = await duckdbRows(`SELECT epoch_ns(ts) FROM read_parquet('${out}')`);
    assert.deepEqual(exported.map(([ts]) => ts), all.filter((r) => r.ts >= s && r.ts < e).map((r) => r.ts));
    assert.deepEqual(await store.readRows(target, s, e), all.filter((r) => r.ts >= s && r.ts < e));
  }
  assert.deepEqual(await store.readRows(TRADES), tradesUnion(rest, ...streamed));
  assert.deepEqual(await store.readRows(OHLC), candlesUnion(candles, ...snapshots));
});

test('a REST part without a source in its footer (written before streams) is a REST part', async (t) => {
  const { store } = await freshStore(t);
  const rest = makeCandles(10, DAY0);
  const { files } = await store.write(OHLC, rest, { startNs: DAY0, endNs: DAY0 + 10n * NS_PER_MIN }, PROV);
  const path = files[0]!;
  // Rewrite the part as the previous version of the store did: the same footer less dccd.source.
  const kv = (await duckdbRows(`SELECT decode(key), decode(value) FROM parquet_kv_metadata('${path}') WHERE decode(key) <> 'dccd.source'`)) as [string, string][];
  const kvSql = kv.map(([k, v]) => `"${k}": '${v.replace(/'/g, "''")}'`).join(', ');
  await duckdbRows(`COPY (SELECT * FROM read_parquet('${path}')) TO '${path}.old' (FORMAT parquet, KV_METADATA {${kvSql}})`);
  await rename(`${path}.old`, path);
  assert.equal((await duckdbRows(`SELECT count(*) FROM parquet_kv_metadata('${path}') WHERE decode(key) = 'dccd.source'`))[0]![0], 0n);
  await store.append(OHLC, rest.map((c) => ({ ...c, close: 1 })), { session: 'o', seq: 0 }, WS_PROV);
  assert.deepEqual(await store.readRows(OHLC), rest);
  await store.write(OHLC, rest.slice(0, 5), { startNs: DAY0, endNs: DAY0 + 5n * NS_PER_MIN }, PROV);
  assert.deepEqual(await store.readRows(OHLC), rest);
  assert.equal((await fileNames(store, OHLC)).length, 3, 'the old part clipped, the stream part kept');
});
