import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { ValidationError } from '../../src/domain/errors.ts';
import type { Target } from '../../src/domain/target.ts';
import { NS_PER_DAY, NS_PER_MIN } from '../../src/domain/time.ts';
import type { ColumnBatch } from '../../src/storage/column-batch.ts';
import { ColumnBuffer, batchOf } from '../../src/storage/column-buffer.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { tempFileName } from '../../src/storage/parquet-layout.ts';
import { spawnSync } from 'node:child_process';
import { DAY0, PROV, duckdbRows, makeBook, makeCandles, makeTrades, random } from '../helpers/store-fixtures.ts';

const TRADES = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' } as const satisfies Target;
const OHLC = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' } as const satisfies Target;
const BOOK = { exchange: 'kraken', symbol: 'ETH/USD', kind: 'book' } as const satisfies Target;

async function withStore(fn: (store: ParquetStore, dataPath: string) => Promise<void>): Promise<void> {
  const dataPath = await mkdtemp(join(tmpdir(), 'dccd-store-'));
  const store = new ParquetStore(dataPath);
  try {
    await fn(store, dataPath);
  } finally {
    await store.close();
    await rm(dataPath, { recursive: true, force: true });
  }
}

const inRange = <R extends { ts: bigint }>(rows: readonly R[], start: bigint, end: bigint): R[] =>
  rows.filter((r) => r.ts >= start && r.ts < end);

async function partsOf(store: ParquetStore, target: Target): Promise<string[]> {
  const dir = store.datasetPath(target);
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.parquet')).sort();
}

test('trades round-trip exactly, ns digits included', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(5000, DAY0, NS_PER_DAY / 2n);
    assert.ok(rows.filter((r) => r.ts % 1000n !== 0n).length > 4900, 'fixture has sub-µs digits');
    const result = await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    assert.equal(result.rows, rows.length);
    assert.deepEqual(await store.readRows(TRADES), rows);
  });
});

test('candles round-trip exactly, with null quote volume and trade count', async () => {
  await withStore(async (store) => {
    const rows = makeCandles(500, DAY0);
    await store.write(OHLC, rows, { startNs: DAY0, endNs: DAY0 + 500n * NS_PER_MIN }, PROV);
    assert.deepEqual(await store.readRows(OHLC), rows);
  });
});

test('book snapshots round-trip exactly, ordered by ts, side, level', async () => {
  await withStore(async (store) => {
    const rows = makeBook(20, DAY0 + 17n, 5);
    await store.write(BOOK, [...rows].reverse(), { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    assert.deepEqual(await store.readRows(BOOK), rows);
  });
});

test('read returns Arrow with COLUMNS names and ts as Timestamp(ns) without a time zone, exact', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(1000, DAY0, NS_PER_DAY);
    await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    const table = await store.read(TRADES);
    assert.deepEqual(
      table.schema.fields.map((f) => `${f.name}:${f.type}`),
      ['ts:Timestamp<NANOSECOND>', 'trade_id:Utf8', 'price:Float64', 'amount:Float64', 'side:Utf8'],
    );
    const ts = table.getChild('ts')!;
    assert.equal(ts.type.timezone ?? null, null);
    const values = ts.data.flatMap((d) => Array.from(d.values as BigInt64Array));
    assert.deepEqual(values, rows.map((r) => r.ts));
    assert.deepEqual(table.getChild('trade_id')!.toArray(), rows.map((r) => r.tradeId));
    assert.deepEqual(Array.from(table.getChild('side')!), rows.map((r) => r.side));
  });
});

test('ohlc Arrow columns keep nulls and type trades as Int64', async () => {
  await withStore(async (store) => {
    const rows = makeCandles(10, DAY0);
    await store.write(OHLC, rows, { startNs: DAY0, endNs: DAY0 + 10n * NS_PER_MIN }, PROV);
    const table = await store.read(OHLC);
    assert.equal(String(table.getChild('trades')!.type), 'Int64');
    assert.deepEqual(Array.from(table.getChild('quote_volume')!), rows.map((r) => r.quoteVolume));
    assert.deepEqual(Array.from(table.getChild('trades')!, (v) => (v === null ? null : Number(v))), rows.map((r) => r.trades));
  });
});

test('a trades write spanning 3 days lands in 3 day partitions named after the covered window', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(3000, DAY0, 3n * NS_PER_DAY);
    const { files } = await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + 3n * NS_PER_DAY }, PROV);
    assert.deepEqual(await partsOf(store, TRADES), [
      `date=2024-01-01/part-${DAY0}-${DAY0 + NS_PER_DAY}.parquet`,
      `date=2024-01-02/part-${DAY0 + NS_PER_DAY}-${DAY0 + 2n * NS_PER_DAY}.parquet`,
      `date=2024-01-03/part-${DAY0 + 2n * NS_PER_DAY}-${DAY0 + 3n * NS_PER_DAY}.parquet`,
    ]);
    assert.deepEqual(files.map((f) => relative(store.datasetPath(TRADES), f)).sort(), await partsOf(store, TRADES));
  });
});

test('1m candles are partitioned by month', async () => {
  await withStore(async (store) => {
    const start = DAY0 - 60n * NS_PER_MIN; // 2023-12-31T23:00Z
    const rows = makeCandles(120, start);
    await store.write(OHLC, rows, { startNs: start, endNs: start + 120n * NS_PER_MIN }, PROV);
    assert.deepEqual(await partsOf(store, OHLC), [
      `month=2023-12/part-${start}-${DAY0}.parquet`,
      `month=2024-01/part-${DAY0}-${DAY0 + 60n * NS_PER_MIN}.parquet`,
    ]);
    assert.deepEqual(await store.readRows(OHLC), rows);
  });
});

test('repeating a write leaves the same files and the same rows', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(2000, DAY0, 2n * NS_PER_DAY);
    const range = { startNs: DAY0, endNs: DAY0 + 2n * NS_PER_DAY };
    const first = await store.write(TRADES, rows, range, PROV);
    const filesBefore = await partsOf(store, TRADES);
    const second = await store.write(TRADES, rows, range, PROV);
    assert.deepEqual(second, first);
    assert.deepEqual(await partsOf(store, TRADES), filesBefore);
    assert.deepEqual(await store.readRows(TRADES), rows);
  });
});

test('an overlapping write replaces exactly its range and keeps the rest', async () => {
  await withStore(async (store) => {
    const [a, b, c, d] = [DAY0, DAY0 + NS_PER_DAY / 2n, DAY0 + NS_PER_DAY + NS_PER_DAY / 3n, DAY0 + 2n * NS_PER_DAY];
    const older = makeTrades(3000, a, c - a, 1, 1000);
    const newer = makeTrades(1500, b, d - b, 2, 900_000);
    await store.write(TRADES, older, { startNs: a, endNs: c }, PROV);
    await store.write(TRADES, newer, { startNs: b, endNs: d }, { source: 'binance:ws', adapterVersion: 'binance-ws/1' });
    assert.deepEqual(await store.readRows(TRADES), [...inRange(older, a, b), ...newer]);
  });
});

test('a write strictly inside an older part splits it around the new rows', async () => {
  await withStore(async (store) => {
    const older = makeCandles(600, DAY0);
    await store.write(OHLC, older, { startNs: DAY0, endNs: DAY0 + 600n * NS_PER_MIN }, PROV);
    const [b, c] = [DAY0 + 100n * NS_PER_MIN, DAY0 + 200n * NS_PER_MIN];
    const newer = makeCandles(100, b).map((r) => ({ ...r, close: -1 }));
    await store.write(OHLC, newer, { startNs: b, endNs: c }, PROV);
    assert.deepEqual(await store.readRows(OHLC), [...inRange(older, DAY0, b), ...newer, ...inRange(older, c, DAY0 + 600n * NS_PER_MIN)]);
    assert.deepEqual(await partsOf(store, OHLC), [
      `month=2024-01/part-${DAY0}-${b}.parquet`,
      `month=2024-01/part-${b}-${c}.parquet`,
      `month=2024-01/part-${c}-${DAY0 + 600n * NS_PER_MIN}.parquet`,
    ]);
  });
});

test('an empty write clears its range', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(3000, DAY0, 3n * NS_PER_DAY);
    await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + 3n * NS_PER_DAY }, PROV);
    const [b, c] = [DAY0 + NS_PER_DAY / 2n, DAY0 + 2n * NS_PER_DAY];
    const result = await store.write(TRADES, [], { startNs: b, endNs: c }, PROV);
    assert.deepEqual(result, { rows: 0, files: [] });
    assert.deepEqual(await store.readRows(TRADES), [...inRange(rows, DAY0, b), ...inRange(rows, c, DAY0 + 3n * NS_PER_DAY)]);
    assert.equal((await partsOf(store, TRADES)).some((p) => p.startsWith('date=2024-01-02/')), false);
  });
});

test('a key repeated within one batch is stored once, the last occurrence winning', async () => {
  await withStore(async (store) => {
    const trades = makeTrades(10, DAY0, NS_PER_MIN);
    const dupTrade = { ...trades[3]!, price: 1 };
    await store.write(TRADES, [...trades, dupTrade], { startNs: DAY0, endNs: DAY0 + NS_PER_MIN }, PROV);
    assert.deepEqual(await store.readRows(TRADES), trades.map((r, i) => (i === 3 ? dupTrade : r)));

    const candles = makeCandles(5, DAY0);
    const dupCandle = { ...candles[1]!, close: 7 };
    const withDup = [candles[0]!, candles[1]!, dupCandle, ...candles.slice(2)];
    await store.write(OHLC, withDup, { startNs: DAY0, endNs: DAY0 + 5n * NS_PER_MIN }, PROV);
    assert.deepEqual(await store.readRows(OHLC), candles.map((r, i) => (i === 1 ? dupCandle : r)));

    const book = makeBook(2, DAY0, 2);
    const dupLevel = { ...book[0]!, amount: 99 };
    await store.write(BOOK, [...book, dupLevel], { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    assert.deepEqual(await store.readRows(BOOK), book.map((r, i) => (i === 0 ? dupLevel : r)));
  });
});

test('rows outside the range are rejected with a ValidationError and nothing is written', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(10, DAY0, NS_PER_MIN);
    await assert.rejects(
      store.write(TRADES, rows, { startNs: DAY0, endNs: rows[9]!.ts }, PROV),
      (e: unknown) => e instanceof ValidationError && e.field === 'rows[9].ts' && /outside/.test(e.reason),
    );
    await assert.rejects(
      store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 }, PROV),
      (e: unknown) => e instanceof ValidationError && e.field === 'range',
    );
    assert.deepEqual(await partsOf(store, TRADES), []);
  });
});

test('a side outside its values or a missing trade id is rejected with a ValidationError naming the row', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(3, DAY0, NS_PER_MIN);
    const bad = [rows[0]!, { ...rows[1]!, side: 'bid' as unknown as 'buy' }];
    const range = { startNs: DAY0, endNs: DAY0 + NS_PER_MIN };
    await assert.rejects(store.write(TRADES, bad, range, PROV), (e: unknown) => e instanceof ValidationError && e.field === 'rows[1].side');
    const noId = [rows[0]!, { ...rows[1]!, tradeId: undefined as unknown as string }];
    await assert.rejects(store.write(TRADES, noId, range, PROV), (e: unknown) => e instanceof ValidationError && e.field === 'rows[1].tradeId');
    assert.deepEqual(await partsOf(store, TRADES), []);
  });
});

test('a write given a batch (a ColumnBuffer\'s) leaves the same files and rows as one given row objects', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(3000, DAY0, 3n * NS_PER_DAY);
    const range = { startNs: DAY0, endNs: DAY0 + 3n * NS_PER_DAY };
    const other = { ...TRADES, symbol: 'ETH/USDT' } as const;
    const buffer = new ColumnBuffer('trades');
    for (let i = 0; i < rows.length; i += 1000) buffer.push(rows.slice(i, i + 1000));
    const fromRows = await store.write(TRADES, rows, range, PROV);
    const fromBatch = await store.write(other, buffer.take(buffer.length), range, PROV);
    assert.equal(fromBatch.rows, fromRows.rows);
    assert.deepEqual(await partsOf(store, other), await partsOf(store, TRADES));
    assert.deepEqual(await store.readRows(other), rows);

    // Out of order, a key repeated: sorted and de-duplicated as for rows, the last occurrence winning.
    const candles = makeCandles(50, DAY0);
    const dup = { ...candles[7]!, close: -7 };
    const shuffled = [...candles.slice(25), ...candles.slice(0, 25), dup];
    await store.write(OHLC, batchOf('ohlc', shuffled), { startNs: DAY0, endNs: DAY0 + 50n * NS_PER_MIN }, PROV);
    assert.deepEqual(await store.readRows(OHLC), candles.map((c, i) => (i === 7 ? dup : c)));
  });
});

test('a batch is checked like rows: its kind, and each ts inside the range, naming the row', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(10, DAY0, NS_PER_MIN);
    const batch = batchOf('trades', rows);
    await assert.rejects(
      store.write(TRADES, batch, { startNs: DAY0, endNs: rows[9]!.ts }, PROV),
      (e: unknown) => e instanceof ValidationError && e.field === 'rows[9].ts' && /outside/.test(e.reason),
    );
    await assert.rejects(
      store.write(OHLC, batch, { startNs: DAY0, endNs: DAY0 + NS_PER_MIN }, PROV),
      (e: unknown) => e instanceof ValidationError && e.field === 'rows' && /trades rows cannot be written as ohlc/.test(e.reason),
    );
    await assert.rejects(
      store.write(TRADES, { length: 1 } as unknown as ColumnBatch, { startNs: DAY0, endNs: DAY0 + NS_PER_MIN }, PROV),
      (e: unknown) => e instanceof ValidationError && e.field === 'rows' && /array of rows or a ColumnBatch/.test(e.reason),
    );
    assert.deepEqual(await partsOf(store, TRADES), []);
  });
});

test('temp files of interrupted writes are ignored by read; cleanTemp removes those of dead local writers at once, others once stale', async () => {
  await withStore(async (store, dataPath) => {
    const rows = makeTrades(100, DAY0, NS_PER_DAY);
    const { files } = await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    // Written by another host: its writer may be alive, so only age makes it removable.
    const stale = join(dirname(files[0]!), '.tmp-0badc0de-123-00112233445566aa.parquet-partial');
    const fresh = join(dirname(files[0]!), '.tmp-0badc0de-123-ffeeddccbbaa9988.parquet-partial');
    // Written by a process of this host that has exited.
    const deadPid = spawnSync('true').pid!;
    const orphan = join(dirname(files[0]!), tempFileName().replace(`-${process.pid}-`, `-${deadPid}-`));
    await copyFile(files[0]!, stale);
    await copyFile(files[0]!, fresh);
    await copyFile(files[0]!, orphan);
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(stale, hourAgo, hourAgo);
    await writeFile(join(dataPath, '.dccd-unrelated'), 'not data');

    assert.deepEqual(await store.readRows(TRADES), rows);
    const [[count]] = (await duckdbRows(`SELECT count(*) FROM read_parquet('${store.datasetPath(TRADES)}/**/*.parquet')`)) as [[bigint]];
    assert.equal(Number(count), rows.length);
    assert.equal(await store.cleanTemp(), 2);
    assert.deepEqual((await readdir(dirname(files[0]!))).sort(), [basename(fresh), basename(files[0]!)].sort());
    assert.equal(await store.cleanTemp(0), 1);
    assert.deepEqual(await readdir(dirname(files[0]!)), [basename(files[0]!)]);
  });
});

test('maxTs and minTs give the stored extremes, and null for an empty dataset', async () => {
  await withStore(async (store) => {
    assert.equal(await store.maxTs(TRADES), null);
    assert.equal(await store.minTs(TRADES), null);
    const rows = makeTrades(3000, DAY0 + 5n, 3n * NS_PER_DAY - 10n);
    await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + 3n * NS_PER_DAY }, PROV);
    assert.equal(await store.maxTs(TRADES), rows.at(-1)!.ts);
    assert.equal(await store.minTs(TRADES), rows[0]!.ts);
    // Clearing the last day moves maxTs back into the previous partition.
    await store.write(TRADES, [], { startNs: DAY0 + 2n * NS_PER_DAY, endNs: DAY0 + 3n * NS_PER_DAY }, PROV);
    assert.equal(await store.maxTs(TRADES), inRange(rows, DAY0, DAY0 + 2n * NS_PER_DAY).at(-1)!.ts);
  });
});

test('a range read equals the same range filtered out of a full read', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(6000, DAY0, 3n * NS_PER_DAY);
    await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + 3n * NS_PER_DAY }, PROV);
    const full = await store.readRows(TRADES);
    const rnd = random(7);
    const cuts: Array<[bigint | undefined, bigint | undefined]> = [
      [DAY0 + NS_PER_DAY, DAY0 + 2n * NS_PER_DAY],
      [undefined, DAY0 + NS_PER_DAY + 1n],
      [DAY0 + 2n * NS_PER_DAY - 1n, undefined],
      [rows[100]!.ts, rows[101]!.ts],
      [DAY0 + 10n * NS_PER_DAY, undefined],
    ];
    for (let i = 0; i < 5; i++) {
      const x = DAY0 + BigInt(Math.floor(rnd() * 3 * Number(NS_PER_DAY)));
      cuts.push([x, x + BigInt(Math.floor(rnd() * Number(NS_PER_DAY)))]);
    }
    for (const [s, e] of cuts) {
      const expected = full.filter((r) => (s === undefined || r.ts >= s) && (e === undefined || r.ts < e));
      assert.deepEqual(await store.readRows(TRADES, s, e), expected, `range [${s}, ${e})`);
      assert.equal((await store.read(TRADES, s, e)).numRows, expected.length);
    }
  });
});

test('DuckDB reads the dataset by glob with ts as TIMESTAMP_NS equal to readRows', async () => {
  await withStore(async (store) => {
    const rows = makeTrades(2000, DAY0, 2n * NS_PER_DAY);
    await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + 2n * NS_PER_DAY }, PROV);
    const glob = `${store.datasetPath(TRADES)}/**/*.parquet`;
    const types = await duckdbRows(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${glob}', hive_partitioning = true))`,
    );
    assert.deepEqual(types, [
      ['ts', 'TIMESTAMP_NS'],
      ['trade_id', 'VARCHAR'],
      ['price', 'DOUBLE'],
      ['amount', 'DOUBLE'],
      ['side', 'VARCHAR'],
      ['date', 'DATE'],
      ['exchange', 'VARCHAR'],
      ['symbol', 'VARCHAR'],
    ]);
    const got = await duckdbRows(
      `SELECT epoch_ns(ts), trade_id, price, amount, side FROM read_parquet('${glob}', hive_partitioning = true) ORDER BY ts, trade_id`,
    );
    assert.deepEqual(got, (await store.readRows(TRADES)).map((r) => [r.ts, r.tradeId, r.price, r.amount, r.side]));
  });
});

test('one glob over a kind reads every venue and symbol, with exchange and symbol columns that filter and prune', async () => {
  await withStore(async (store, dataPath) => {
    const range = { startNs: DAY0, endNs: DAY0 + 2n * NS_PER_DAY };
    const datasets = [
      { target: TRADES, rows: makeTrades(300, DAY0, 2n * NS_PER_DAY, 1, 1000) },
      { target: { ...TRADES, symbol: 'ETH/USDT' }, rows: makeTrades(200, DAY0, 2n * NS_PER_DAY, 2, 5000) },
      { target: { ...TRADES, exchange: 'kraken', symbol: 'ETH/USD' }, rows: makeTrades(100, DAY0, NS_PER_DAY, 3, 9000) },
    ] as const;
    for (const d of datasets) await store.write(d.target, d.rows, range, PROV);
    const all = `read_parquet('${dataPath}/trades/**/*.parquet', hive_partitioning = true)`;
    assert.deepEqual(await duckdbRows(`SELECT exchange, symbol, count(*)::INTEGER FROM ${all} GROUP BY ALL ORDER BY ALL`), [
      ['binance', 'BTC-USDT', 300],
      ['binance', 'ETH-USDT', 200],
      ['kraken', 'ETH-USD', 100],
    ]);
    const eth = await duckdbRows(`SELECT exchange, epoch_ns(ts), trade_id, price, amount, side FROM ${all} WHERE symbol = 'ETH-USDT' ORDER BY ts, trade_id`);
    assert.deepEqual(eth, datasets[1].rows.map((r) => ['binance', r.ts, r.tradeId, r.price, r.amount, r.side]));
    // dccd's own reads list the files themselves and show only the kind's columns.
    const table = await store.read(datasets[1].target);
    assert.deepEqual(table.schema.fields.map((f) => f.name), ['ts', 'trade_id', 'price', 'amount', 'side']);
    const out = join(dataPath, 'eth.parquet');
    await store.exportParquet(datasets[2].target, out);
    assert.deepEqual((await duckdbRows(`DESCRIBE SELECT * FROM read_parquet('${out}')`)).map((r) => r[0]), ['ts', 'trade_id', 'price', 'amount', 'side']);
    // A file DuckDB cannot parse among binance's ETH parts (not the first file, whose schema
    // DuckDB reads): a filter on exchange and symbol must never open it.
    await writeFile(join(store.datasetPath(datasets[1].target), 'date=2024-01-02', `part-${DAY0}-${DAY0 + 1n}.parquet`), 'not parquet');
    const [[n]] = (await duckdbRows(`SELECT count(*)::INTEGER FROM ${all} WHERE symbol = 'ETH-USD' AND exchange = 'kraken'`)) as [[number]];
    assert.equal(n, 100);
  });
});

test('every file records provenance, UTC, its covered window and the schema version in its footer', async () => {
  await withStore(async (store) => {
    const rows = makeCandles(10, DAY0);
    const { files } = await store.write(OHLC, rows, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    const kv = new Map(
      (await duckdbRows(`SELECT decode(key), decode(value) FROM parquet_kv_metadata('${files[0]}')`)) as [string, string][],
    );
    const provenance = JSON.parse(kv.get('dccd.provenance')!) as Record<string, string>;
    assert.equal(provenance.source, 'binance:rest');
    assert.equal(provenance.adapter_version, 'binance-rest/1');
    assert.ok(!Number.isNaN(Date.parse(provenance.written_at!)));
    assert.equal(kv.get('dccd.timezone'), 'UTC');
    assert.equal(kv.get('dccd.range'), `{"start_ns":${DAY0},"end_ns":${DAY0 + NS_PER_DAY}}`);
    assert.equal(kv.get('dccd.schema'), '1');
    const schema = await duckdbRows(`SELECT logical_type FROM parquet_schema('${files[0]}') WHERE name = 'ts'`);
    assert.match(String(schema[0]![0]), /isAdjustedToUTC=0.*NANOS/);
    const codecs = await duckdbRows(`SELECT DISTINCT compression FROM parquet_metadata('${files[0]}')`);
    assert.deepEqual(codecs, [['ZSTD']]);
  });
});

test('a part left behind by an interrupted rewrite does not show its superseded rows', async () => {
  await withStore(async (store) => {
    const older = makeTrades(1000, DAY0, NS_PER_DAY, 3, 1000);
    const { files } = await store.write(TRADES, older, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    const saved = `${files[0]}.saved`;
    await copyFile(files[0]!, saved);
    const [b, c] = [DAY0 + NS_PER_DAY / 4n, DAY0 + NS_PER_DAY / 2n];
    const newer = makeTrades(50, b, c - b, 4, 500_000);
    await store.write(TRADES, newer, { startNs: b, endNs: c }, PROV);
    const expected = [...inRange(older, DAY0, b), ...newer, ...inRange(older, c, DAY0 + NS_PER_DAY)].sort((x, y) =>
      x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0,
    );
    // The process died before deleting the superseded part: it is back next to its remnants.
    await copyFile(saved, files[0]!);
    await rm(saved);
    assert.deepEqual(await store.readRows(TRADES), expected);
    assert.equal(await store.maxTs(TRADES), expected.at(-1)!.ts);
    // A later write over another range still leaves exactly the expected rows.
    const [d, e] = [DAY0 + (3n * NS_PER_DAY) / 4n, DAY0 + NS_PER_DAY];
    await store.write(TRADES, [], { startNs: d, endNs: e }, PROV);
    assert.deepEqual(await store.readRows(TRADES), inRange(expected, DAY0, d));
  });
});

test('concurrent writes to different datasets and to one dataset all land', async () => {
  await withStore(async (store) => {
    const trades = makeTrades(4000, DAY0, NS_PER_DAY);
    const candles = makeCandles(1440, DAY0);
    const book = makeBook(50, DAY0, 10);
    const halves = [inRange(trades, DAY0, DAY0 + NS_PER_DAY / 2n), inRange(trades, DAY0 + NS_PER_DAY / 2n, DAY0 + NS_PER_DAY)];
    await Promise.all([
      store.write(OHLC, candles, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV),
      store.write(BOOK, book, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV),
      store.write(TRADES, halves[0]!, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY / 2n }, PROV),
      store.write(TRADES, halves[1]!, { startNs: DAY0 + NS_PER_DAY / 2n, endNs: DAY0 + NS_PER_DAY }, PROV),
      store.readRows(TRADES),
    ]);
    assert.deepEqual(await store.readRows(TRADES), trades);
    assert.deepEqual(await store.readRows(OHLC), candles);
    assert.deepEqual(await store.readRows(BOOK), book);
  });
});

test('exportParquet writes the rows of a range into one file with ts as TIMESTAMP_NS', async () => {
  await withStore(async (store, dataPath) => {
    const rows = makeTrades(3000, DAY0, 3n * NS_PER_DAY);
    await store.write(TRADES, rows, { startNs: DAY0, endNs: DAY0 + 3n * NS_PER_DAY }, PROV);
    const out = join(dataPath, 'export.parquet');
    const [s, e] = [DAY0 + NS_PER_DAY / 2n, DAY0 + 2n * NS_PER_DAY];
    await store.exportParquet(TRADES, out, s, e);
    const got = await duckdbRows(`SELECT epoch_ns(ts), trade_id, price, amount, side, typeof(ts) FROM read_parquet('${out}')`);
    assert.deepEqual(got, inRange(rows, s, e).map((r) => [r.ts, r.tradeId, r.price, r.amount, r.side, 'TIMESTAMP_NS']));
    assert.deepEqual(await readdir(dataPath).then((names) => names.filter((n) => n.startsWith('.tmp-'))), []);
  });
});

test('drop deletes every file of a dataset and leaves the others', async () => {
  await withStore(async (store) => {
    await store.write(TRADES, makeTrades(10, DAY0, NS_PER_DAY), { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    const candles = makeCandles(10, DAY0);
    await store.write(OHLC, candles, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    await store.drop(TRADES);
    assert.deepEqual(await partsOf(store, TRADES), []);
    assert.deepEqual(await store.readRows(TRADES), []);
    const empty = await store.read(TRADES);
    assert.equal(empty.numRows, 0);
    assert.deepEqual(empty.schema.fields.map((f) => f.name), ['ts', 'trade_id', 'price', 'amount', 'side']);
    assert.equal(await store.maxTs(TRADES), null);
    assert.deepEqual(await store.readRows(OHLC), candles);
  });
});

test('dataset paths follow kind/exchange=…/symbol=… and refuse unsafe names', async () => {
  await withStore(async (store, dataPath) => {
    assert.equal(store.datasetPath(OHLC), join(dataPath, 'ohlc-1m', 'exchange=binance', 'symbol=BTC-USDT'));
    assert.equal(store.datasetPath(BOOK), join(dataPath, 'book', 'exchange=kraken', 'symbol=ETH-USD'));
    assert.throws(() => store.datasetPath({ ...TRADES, symbol: '../etc' }), ValidationError);
    assert.throws(() => store.datasetPath({ ...TRADES, exchange: '..' as 'binance' }), ValidationError);
    assert.throws(() => store.datasetPath({ ...OHLC, span: undefined }), ValidationError);
  });
});

test('stats give the row count and ts extent of the whole dataset, null when empty', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dccd-stats-'));
  const store = new ParquetStore(dir);
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' } as const;
  assert.equal(await store.stats(target), null);
  const day = 86_400_000_000_000n;
  const rows = [0n, 1n, day + 5n].map((ts, i) => ({ ts: 1_704_067_200_000_000_000n + ts, tradeId: String(i), price: 1, amount: 1, side: 'buy' as const }));
  await store.write(target, rows, { startNs: rows[0]!.ts, endNs: rows[2]!.ts + 1n }, { source: 'test', adapterVersion: 't' });
  assert.deepEqual(await store.stats(target), { rows: 3, minTs: rows[0]!.ts, maxTs: rows[2]!.ts });
});
