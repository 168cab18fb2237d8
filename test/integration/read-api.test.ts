// GET /api/read and the streamed read under it: every format gives back exactly the rows the
// store holds, bad requests are 400 naming the field, a large read goes out in bounded
// batches, a client that goes away frees its DuckDB connection, and a failure after the
// answer has begun aborts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { quotedString } from '@duckdb/node-api';
import { buildApi, listenApi } from '../../src/api/server.ts';
import { DccdClient } from '../../src/client/http-client.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import type { AnyRow } from '../../src/domain/records.ts';
import type { Kind, Target } from '../../src/domain/target.ts';
import { isoFromNs, NS_PER_DAY, NS_PER_HOUR, parseAbsoluteTime } from '../../src/domain/time.ts';
import { buildServices, type Services } from '../../src/services.ts';
import { toRows, type ColumnBatch } from '../../src/storage/column-batch.ts';
import { listParts } from '../../src/storage/dataset-files.ts';
import { KIND_COLUMNS } from '../../src/storage/parquet-columns.ts';
import { READ_BATCH_ROWS } from '../../src/storage/parquet-store.ts';
import { SLICE_BYTES, sliceCuts } from '../../src/storage/read-slices.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { DAY0, PROV, duckdbRows, makeCandles, makeTrades } from '../helpers/store-fixtures.ts';

const OHLC = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' } as const;
const TRADES = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' } as const;
/** A few million trades, for the bounded-memory, abort and mid-stream failure cases. */
const BIG = { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' } as const;
const BIG_ROWS = 3_000_000;
const BIG_WRITES = 6;

function fixture(after: (fn: () => Promise<void>) => void = test.after): Services {
  const data = mkdtempSync(join(tmpdir(), 'dccd-read-api-'));
  const services = buildServices(parseConfig({ data }));
  after(async () => {
    await services.close();
    rmSync(data, { recursive: true, force: true });
  });
  return services;
}

const services = fixture();
const store = services.store;
// Candles across a month boundary (two partitions), with null quote volumes and trade counts.
const OHLC_START = DAY0 - NS_PER_DAY;
await store.write(OHLC, makeCandles(3000, OHLC_START), { startNs: OHLC_START, endNs: OHLC_START + 3n * NS_PER_DAY }, PROV);
await store.write(TRADES, makeTrades(30_000, DAY0, 3n * NS_PER_DAY), { startNs: DAY0, endNs: DAY0 + 3n * NS_PER_DAY }, PROV);
const app = await buildApi({ services });
test.after(() => app.close());

let bigWritten: Promise<void> | undefined;
/** Written once, on first use: six half-day writes of 500k trades, six parts. */
function bigDataset(): Promise<void> {
  return (bigWritten ??= (async () => {
    const per = BIG_ROWS / BIG_WRITES;
    for (let i = 0; i < BIG_WRITES; i++) {
      const startNs = DAY0 + BigInt(i) * 12n * NS_PER_HOUR;
      await store.write(BIG, makeTrades(per, startNs, 12n * NS_PER_HOUR, i + 1, 1_000_000 + i * per), { startNs, endNs: startNs + 12n * NS_PER_HOUR }, PROV);
    }
  })());
}

type Canon = (string | null)[];
/** Rows as text in KIND_COLUMNS order, ts as its ns: what every format must give back. */
const canon = (kind: Kind, rows: readonly AnyRow[]): Canon[] =>
  rows.map((r) => KIND_COLUMNS[kind].map((c) => {
    const v = (r as unknown as Record<string, unknown>)[c.prop];
    return v === null ? null : String(v);
  }));

function fromJson(kind: Kind, objects: Record<string, unknown>[]): Canon[] {
  return objects.map((o) => {
    assert.equal(typeof o.ts_ns, 'string', 'ts_ns is a string');
    assert.equal(o.ts, isoFromNs(BigInt(o.ts_ns as string)));
    return KIND_COLUMNS[kind].map((c) => {
      const v = c.name === 'ts' ? o.ts_ns : o[c.name];
      if (c.codec === 'i64' && v !== null) assert.equal(typeof v, 'string', `${c.name}, an int64, is a string`);
      return v === null ? null : String(v);
    });
  });
}

function fromCsv(kind: Kind, text: string): Canon[] {
  const [header, ...lines] = text.trimEnd().split('\n');
  assert.equal(header, ['ts', 'ts_ns', ...KIND_COLUMNS[kind].slice(1).map((c) => c.name)].join(','));
  return lines.map((line) => {
    const [iso, ns, ...rest] = line.split(',');
    assert.equal(iso, isoFromNs(BigInt(ns!)));
    return [ns!, ...rest.map((v) => (v === '' ? null : v))];
  });
}

function fromArrow(kind: Kind, bytes: Uint8Array): Canon[] {
  const table = tableFromIPC(bytes);
  assert.deepEqual(table.schema.fields.map((f) => f.name), KIND_COLUMNS[kind].map((c) => c.name));
  const ts = table.getChild('ts')!;
  assert.equal(String(ts.type), 'Timestamp<NANOSECOND>');
  // Arrow's own accessor gives ns timestamps as ms: the int64 values themselves are read.
  const tsValues = ts.data.flatMap((d) => Array.from((d.values as BigInt64Array).subarray(d.offset, d.offset + d.length), String));
  return Array.from({ length: table.numRows }, (_, i) =>
    KIND_COLUMNS[kind].map((c) => {
      if (c.name === 'ts') return tsValues[i]!;
      const v = table.getChild(c.name)!.get(i) as unknown;
      return v === null ? null : String(v);
    }),
  );
}

async function fromParquet(kind: Kind, bytes: Uint8Array): Promise<Canon[]> {
  const file = join(store.dataPath, `check-${kind}.parquet`);
  writeFileSync(file, bytes);
  try {
    const types = await duckdbRows(`SELECT column_type FROM (DESCRIBE SELECT ts FROM read_parquet(${quotedString(file)}))`);
    assert.deepEqual(types, [['TIMESTAMP_NS']]);
    const cols = KIND_COLUMNS[kind].map((c) => (c.name === 'ts' ? 'epoch_ns(ts)' : c.name)).join(', ');
    const rows = await duckdbRows(`SELECT ${cols} FROM read_parquet(${quotedString(file)})`);
    return rows.map((r) => r.map((v) => (v === null ? null : String(v))));
  } finally {
    rmSync(file);
  }
}

async function parsed(kind: Kind, format: string, res: { body: string; rawPayload: Buffer }): Promise<Canon[]> {
  switch (format) {
    case 'json':
      return fromJson(kind, JSON.parse(res.body));
    case 'jsonl':
      return fromJson(kind, res.body.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
    case 'csv':
      return fromCsv(kind, res.body);
    case 'arrow':
      return fromArrow(kind, res.rawPayload);
    default:
      return fromParquet(kind, res.rawPayload);
  }
}

const MEDIA: Record<string, RegExp> = {
  json: /^application\/json/,
  jsonl: /^application\/x-ndjson/,
  csv: /^text\/csv/,
  arrow: /^application\/vnd\.apache\.arrow\.stream$/,
  parquet: /^application\/vnd\.apache\.parquet$/,
};

const readUrl = (q: Record<string, string>) => `/api/read?${new URLSearchParams(q)}`;

test('every format gives back exactly the rows the store holds, for candles and trades, whole or in a range', async () => {
  const cases: [Target, Record<string, string>, bigint | undefined, bigint | undefined][] = [
    [OHLC, { exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1m' }, undefined, undefined],
    [OHLC, { exchange: 'binance', symbol: 'BTC-USDT', kind: 'ohlc', span: '1m', start: '2023-12-31T12:00:00Z', end: '2024-01-01T06:00:00.5Z' }, parseAbsoluteTime('2023-12-31T12:00:00Z', 's'), parseAbsoluteTime('2024-01-01T06:00:00.5Z', 'e')],
    [TRADES, { exchange: 'binance', symbol: 'btc/usdt', kind: 'trades' }, undefined, undefined],
    [TRADES, { exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', start: String(DAY0 + 123_456_789n), end: '2024-01-02T12:00:00Z' }, DAY0 + 123_456_789n, parseAbsoluteTime('2024-01-02T12:00:00Z', 'e')],
  ];
  for (const [target, q, startNs, endNs] of cases) {
    const expected = canon(target.kind, await store.readRows(target as Target & { kind: 'ohlc' }, startNs, endNs));
    assert.ok(expected.length > 1000, 'a read of many rows');
    for (const format of ['json', 'jsonl', 'csv', 'arrow', 'parquet']) {
      const res = await app.inject({ url: readUrl({ ...q, format }) });
      assert.equal(res.statusCode, 200, `${format}: ${res.body.slice(0, 300)}`);
      assert.match(res.headers['content-type'] as string, MEDIA[format]!);
      assert.match(res.headers['content-disposition'] as string, new RegExp(`^attachment; filename="binance_BTC-USDT_${target.kind === 'ohlc' ? 'ohlc-1m' : 'trades'}[\\w.-]*\\.\\w+"$`));
      assert.deepEqual(await parsed(target.kind, format, res), expected, `${format} ${JSON.stringify(q)}`);
    }
  }
  const ranged = await app.inject({ url: readUrl({ ...cases[1]![1], format: 'csv' }) });
  assert.equal(ranged.headers['content-disposition'], 'attachment; filename="binance_BTC-USDT_ohlc-1m_2023-12-31T120000Z_2024-01-01T060000.5Z.csv"');
  assert.equal((await app.inject({ url: readUrl(cases[0]![1]) })).headers['content-type'], 'application/json; charset=utf-8', 'json by default');
});

test('the streamed read equals read() whatever the slices and batch sizes', async () => {
  for (const target of [OHLC, TRADES] as Target[]) {
    const expected = await store.readRows(target as Target & { kind: 'trades' });
    for (const [sliceBytes, batchRows] of [[1, 2048], [50_000, 4096], [SLICE_BYTES, READ_BATCH_ROWS]] as const) {
      const got: AnyRow[] = [];
      for await (const b of store.stream(target, undefined, undefined, { sliceBytes, batchRows })) got.push(...toRows(b as ColumnBatch & { kind: 'trades' }));
      assert.deepEqual(got, expected, `${target.kind}, slices of ${sliceBytes} B, batches of ${batchRows}`);
    }
  }
});

test('dccd read writes each format from the same streamed read', async () => {
  const expected = canon('trades', await store.readRows(TRADES));
  for (const format of ['arrow', 'json', 'jsonl', 'csv', 'parquet']) {
    const out = join(store.dataPath, `cli-read.${format}`);
    const r = runDccd(['read', 'binance', 'BTCUSDT', '--kind', 'trades', '--format', format, '--out', out], { DCCD_DATA: store.dataPath, TEMPORAL_ADDRESS: '', DATABASE_URL: '' }, store.dataPath);
    assert.equal((await r.exited).code, 0, r.output());
    const bytes = readFileSync(out);
    rmSync(out);
    assert.deepEqual(await parsed('trades', format, { body: bytes.toString(), rawPayload: bytes }), expected, format);
  }
});

test('an empty range is an empty answer with a note; a dataset with nothing stored is 404', async () => {
  const q = { exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1m', start: '2025-01-01', end: '2025-01-02' };
  const bodies: Record<string, string> = { json: '[]\n', jsonl: '', csv: 'ts,ts_ns,open,high,low,close,volume,quote_volume,trades\n' };
  for (const format of ['json', 'jsonl', 'csv', 'arrow', 'parquet']) {
    const res = await app.inject({ url: readUrl({ ...q, format }) });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.headers['x-dccd-note'] as string, /^note: no rows in \[2025-01-01T00:00:00\.000000000Z, 2025-01-02T00:00:00\.000000000Z\) for binance BTC\/USDT ohlc-1m; its rows run from 2023-12-31T00:00:00\.000000000Z to /);
    if (format in bodies) assert.equal(res.body, bodies[format]);
    else assert.deepEqual(await parsed('ohlc', format, res), []);
  }
  const open = await app.inject({ url: readUrl({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', start: '2025-01-01' }) });
  assert.match(open.headers['x-dccd-note'] as string, /^note: no rows in \[2025-01-01T00:00:00\.000000000Z, \.\.\.\) for /);
  for (const format of ['json', 'parquet']) {
    const none = await app.inject({ url: readUrl({ exchange: 'binance', symbol: 'DOGEUSDT', kind: 'trades', format }) });
    assert.equal(none.statusCode, 404);
    assert.match(none.headers['content-type'] as string, /^application\/json/);
    assert.deepEqual(none.json(), { error: 'nothing stored for binance DOGE/USDT trades', field: null, reason: 'nothing stored for binance DOGE/USDT trades' });
  }
});

test('bad requests are 400 naming the field', async () => {
  const base = { exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades' };
  const cases: [Record<string, string>, number, string | null][] = [
    [{ ...base, format: 'xlsx' }, 400, 'format'],
    [{ ...base, exchange: 'nyse' }, 400, 'exchange'],
    [{ ...base, exchange: 'kraken' }, 422, null],
    [{ ...base, symbol: '../../etc/passwd' }, 400, 'symbol'],
    [{ ...base, symbol: 'BTC%2F..%2F..' }, 400, 'symbol'],
    [{ ...base, symbol: 'BTC/USDT/X' }, 400, 'symbol'],
    [{ ...base, symbol: 'NOTAPAIR' }, 400, 'symbol'],
    [{ ...base, kind: 'candles' }, 400, 'kind'],
    [{ ...base, kind: 'ohlc' }, 400, 'span'],
    [{ ...base, kind: 'ohlc', span: '7x' }, 400, 'span'],
    [{ ...base, span: '1m' }, 400, 'span'],
    [{ ...base, start: '2024-01-02', end: '2024-01-01' }, 400, 'end'],
    [{ ...base, start: '2024-01-01', end: '2024-01-01' }, 400, 'end'],
    [{ ...base, start: 'yesterday' }, 400, 'start'],
    [{ ...base, start: '1704067200' }, 400, 'start'],
    [{ ...base, end: '99999999999999999999' }, 400, 'end'],
    [{ ...base, colour: 'red' }, 400, 'colour'],
    [{ exchange: 'binance', kind: 'trades' }, 400, 'symbol'],
  ];
  const wrong: string[] = [];
  for (const [q, status, field] of cases) {
    const res = await app.inject({ url: readUrl(q) });
    const body = res.json();
    if (res.statusCode !== status || body.field !== field || typeof body.reason !== 'string') wrong.push(`${JSON.stringify(q)} → ${res.statusCode} ${res.body}`);
  }
  assert.deepEqual(wrong, []);
});

test('a read of millions of rows goes out in batches of at most READ_BATCH_ROWS, in order', async () => {
  await bigDataset();
  let batches = 0;
  let rows = 0;
  let largest = 0;
  let last = -1n;
  for await (const b of store.stream(BIG)) {
    batches++;
    rows += b.length;
    largest = Math.max(largest, b.length);
    const ts = b.columns[0]!.values as BigInt64Array;
    assert.ok(ts[0]! >= last && ts.every((t, i) => i === 0 || ts[i - 1]! <= t), 'ts never goes back');
    last = ts[b.length - 1]!;
  }
  assert.equal(rows, BIG_ROWS);
  assert.ok(batches >= BIG_ROWS / READ_BATCH_ROWS, `${batches} batches`);
  assert.ok(largest <= READ_BATCH_ROWS, `the largest batch held ${largest} rows`);
});

test('clients that go away mid-read free their connections: later reads still run, and the store closes', { timeout: 300_000 }, async (t) => {
  await bigDataset();
  const own = fixture((fn) => t.after(fn));
  // The same files under a second store, so closing it proves no connection is left out.
  const big = services.store.datasetPath(BIG).replace(services.store.dataPath, own.store.dataPath);
  cpSync(services.store.datasetPath(BIG), big, { recursive: true });
  const api = await buildApi({ services: own });
  const client = new DccdClient(await listenApi(api, '127.0.0.1', 0));
  try {
    // More clients than the store has connections: a leaked one would leave the last waiting.
    for (const format of ['json', 'arrow', 'csv', 'jsonl', 'json'] as const) {
      const stop = new AbortController();
      const { body } = await client.read({ exchange: 'binance', symbol: 'ETHUSDT', kind: 'trades', format }, stop.signal);
      const reader = body.getReader();
      assert.ok((await reader.read()).value!.length > 0);
      stop.abort();
      await reader.closed.catch(() => undefined);
    }
    const { body, note } = await client.read({ exchange: 'binance', symbol: 'ETHUSDT', kind: 'trades', start: '2024-01-01T00:00:00Z', end: '2024-01-01T00:01:00Z', format: 'csv' });
    const text = await new Response(body).text();
    assert.equal(note, null);
    assert.equal(text.split('\n').length - 2, (await own.store.readRows(BIG, DAY0, DAY0 + 60_000_000_000n)).length);
    await assert.rejects(client.read({ exchange: 'binance', symbol: 'ETHUSDT', kind: 'trades', format: 'xlsx' as 'csv' }), (e) => e instanceof ValidationError && e.field === 'format');
  } finally {
    await api.close();
  }
  await own.store.close();
});

test('a read that fails after its answer has begun aborts the answer', { timeout: 300_000 }, async () => {
  await bigDataset();
  const parts = await listParts(store.datasetPath(BIG));
  const cuts = sliceCuts(parts.map((p) => ({ ...p, bytes: statSync(p.path).size })), SLICE_BYTES);
  assert.ok(cuts.length >= 1, 'the read runs in more than one slice');
  // The last slice's files are no Parquet any more: the first slices go out, then it fails.
  for (const p of parts.filter((p) => p.startNs >= cuts.at(-1)!)) writeFileSync(p.path, 'not parquet');
  const api = await buildApi({ services });
  const url = await listenApi(api, '127.0.0.1', 0);
  try {
    for (const format of ['json', 'arrow']) {
      const res = await fetch(`${url}${readUrl({ exchange: 'binance', symbol: 'ETHUSDT', kind: 'trades', format })}`);
      assert.equal(res.status, 200);
      await assert.rejects(res.arrayBuffer(), 'the body ends in an error, not as if it were whole');
    }
  } finally {
    await api.close();
  }
});
