// Inventory, the fourth verb: what is stored, from footers and the coverage manifest, with the
// holes between covered intervals and the covered spans whose files are gone; the same
// answer from the module, GET /api/inventory and `dccd inventory --json` as a real process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildApi } from '../../src/api/server.ts';
import type { Target } from '../../src/domain/target.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import { runResult, startedHandle } from '../../src/client/runs.ts';
import type { JobSpec } from '../../src/domain/job-spec.ts';
import { startBackfill } from '../../src/jobs/backfill.ts';
import { inventory, inventoryEntry } from '../../src/jobs/inventory.ts';
import { listParts } from '../../src/storage/dataset-files.ts';
import { backfillEnv } from '../helpers/backfill-env.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { DAY0, PROV, makeCandles } from '../helpers/store-fixtures.ts';

const OHLC: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' };
const TRADES: Target = { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' };
const ns = (iso: string) => parseAbsoluteTime(iso, 'test');
const MINUTE = 60_000_000_000n;

const env = await backfillEnv();
async function runBackfill(request: Parameters<typeof startBackfill>[1]) {
  const started = await startBackfill(env.services, request);
  const result = await runResult(await startedHandle(env.services, started), started.runId);
  assert.equal(result.state, 'completed');
  return result;
}
const first = await runBackfill({ target: OHLC, start: '2024-01-01', end: '2024-01-03' });
const second = await runBackfill({ target: OHLC, start: '2024-01-05', end: '2024-01-06' });
await runBackfill({ target: TRADES, start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' });
const byId = async () => new Map((await inventory(env.services, [])).map((d) => [d.datasetId, d]));

test('each dataset has the rows, files, bytes and ts range its footers hold, and the manifest records its coverage', async () => {
  const all = await byId();
  assert.deepEqual([...all.keys()], ['binance/ohlc-1m/BTC-USDT', 'binance/trades/ETH-USDT']);
  for (const [id, target] of [['binance/ohlc-1m/BTC-USDT', OHLC], ['binance/trades/ETH-USDT', TRADES]] as const) {
    const d = all.get(id)!;
    const stats = (await env.services.store.stats(target))!;
    const parts = await listParts(env.services.store.datasetPath(target));
    assert.deepEqual({ rows: d.rows, firstTs: d.firstTs, lastTs: d.lastTs, files: d.files }, { rows: stats.rows, firstTs: stats.minTs, lastTs: stats.maxTs, files: parts.length });
    assert.ok(d.bytes > 0);
    assert.equal(d.recordedRows, stats.rows);
  }
  const ohlc = all.get('binance/ohlc-1m/BTC-USDT')!;
  assert.deepEqual(ohlc.coverage, { rest: [{ startNs: ns('2024-01-01'), endNs: ns('2024-01-03') }, { startNs: ns('2024-01-05'), endNs: ns('2024-01-06') }] });
  assert.equal(first.rowsWritten + second.rowsWritten, ohlc.rows);
});

test('the span between two backfills is a hole: not covered', async () => {
  const ohlc = (await byId()).get('binance/ohlc-1m/BTC-USDT')!;
  assert.deepEqual(ohlc.holes, [{ startNs: ns('2024-01-03'), endNs: ns('2024-01-05'), reason: 'not covered' }]);
  assert.deepEqual((await byId()).get('binance/trades/ETH-USDT')!.holes, []);
});

test('a deleted candle file is a hole of its window (no files), and the rows it held are missing against the manifest', async (t) => {
  const dir = env.services.store.datasetPath(OHLC);
  const parts = await listParts(dir);
  const victim = parts[1]!;
  const before = (await byId()).get('binance/ohlc-1m/BTC-USDT')!.rows;
  const saved = await readFile(victim.path);
  await rm(victim.path);
  t.after(() => writeFile(victim.path, saved));
  const ohlc = (await byId()).get('binance/ohlc-1m/BTC-USDT')!;
  const expected = [
    { startNs: victim.startNs, endNs: victim.endNs, reason: 'no files' },
    { startNs: ns('2024-01-03'), endNs: ns('2024-01-05'), reason: 'not covered' },
  ];
  assert.deepEqual(ohlc.holes, expected.sort((a, b) => (a.startNs < b.startNs ? -1 : 1)));
  assert.ok(ohlc.rows < before);
  assert.equal(ohlc.recordedRows! - ohlc.rows, before - ohlc.rows);
});

test('footers are read once: the cache on size and mtime answers until a file changes', async (t) => {
  const target = { ...OHLC, symbol: 'SOL/USDT' };
  await env.services.store.write(target, makeCandles(100, DAY0), { startNs: DAY0, endNs: DAY0 + 100n * MINUTE }, PROV);
  const [part] = await listParts(env.services.store.datasetPath(target));
  assert.equal((await byId()).get('binance/ohlc-1m/SOL-USDT')!.rows, 100);
  // Tamper with the cached count: an unchanged file is not opened again, so the tampered count shows.
  const cachePath = join(env.services.config.data, '.dccd', 'footer-cache.json');
  const cache = JSON.parse(await readFile(cachePath, 'utf8')) as { entries: Record<string, { rows: number }> };
  assert.ok(Object.keys(cache.entries).length >= 4);
  cache.entries[part!.path]!.rows = 7;
  await writeFile(cachePath, JSON.stringify(cache));
  const reopened = (await import('../../src/storage/parquet-store.ts')).ParquetStore;
  const store = new reopened(env.services.config.data);
  t.after(() => store.close());
  const fresh = async () => new Map((await inventory({ store, coverage: env.services.coverage }, [])).map((d) => [d.datasetId, d]));
  assert.equal((await fresh()).get('binance/ohlc-1m/SOL-USDT')!.rows, 7);
  // A changed mtime means a changed file: its footer is read again.
  const later = new Date(Date.now() + 5_000);
  await utimes(part!.path, later, later);
  assert.equal((await fresh()).get('binance/ohlc-1m/SOL-USDT')!.rows, 100);
});

test('files the manifest knows nothing of are listed with their own windows as coverage, and tracked datasets name their jobs', async () => {
  const target = { ...OHLC, symbol: 'XRP/USDT' };
  const a = makeCandles(60, DAY0);
  const b = makeCandles(60, DAY0 + 120n * MINUTE);
  await env.services.store.write(target, a, { startNs: DAY0, endNs: DAY0 + 60n * MINUTE }, PROV);
  await env.services.store.write(target, b, { startNs: DAY0 + 120n * MINUTE, endNs: DAY0 + 180n * MINUTE }, PROV);
  const spec = { id: 'backfill:binance:XRP-USDT:ohlc-1m', target } as JobSpec;
  const xrp = (await inventory(env.services, [spec])).find((d) => d.datasetId === 'binance/ohlc-1m/XRP-USDT')!;
  assert.deepEqual(xrp.coverage, { files: [{ startNs: DAY0, endNs: DAY0 + 60n * MINUTE }, { startNs: DAY0 + 120n * MINUTE, endNs: DAY0 + 180n * MINUTE }] });
  assert.deepEqual(xrp.holes, [{ startNs: DAY0 + 60n * MINUTE, endNs: DAY0 + 120n * MINUTE, reason: 'not covered' }]);
  assert.equal(xrp.recordedRows, null);
  assert.deepEqual(xrp.jobs, [spec.id]);
});

test('GET /api/inventory answers the same as the module, filters by exchange and kind, and refuses bad filters naming the field', async (t) => {
  const app = await buildApi({ services: env.services });
  t.after(() => app.close());
  const expected = (await inventory(env.services, [])).map(inventoryEntry);
  const all = await app.inject({ method: 'GET', url: '/api/inventory' });
  assert.equal(all.statusCode, 200);
  assert.deepEqual(all.json().datasets, JSON.parse(JSON.stringify(expected)));
  const trades = await app.inject({ method: 'GET', url: '/api/inventory?kind=trades' });
  assert.deepEqual(trades.json().datasets.map((d: { datasetId: string }) => d.datasetId), ['binance/trades/ETH-USDT']);
  assert.deepEqual((await app.inject({ method: 'GET', url: '/api/inventory?exchange=kraken' })).json().datasets, []);
  for (const [url, field] of [['/api/inventory?exchange=nope', 'exchange'], ['/api/inventory?kind=../../etc', 'kind'], ['/api/inventory?colour=red', 'colour']] as const) {
    const r = await app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 400, url);
    assert.match(`${r.json().field} ${r.json().error}`, new RegExp(field), url);
  }
});

test('`dccd inventory` as a real process: --json is what the API answers; the text names each dataset and its holes', async () => {
  const cfg = env.services.config;
  const processEnv = { DCCD_DATA: cfg.data, ...(cfg.database.url && { DATABASE_URL: cfg.database.url }) };
  // The embedded manifest is one process's at a time: this process lets go of it first.
  if (!cfg.database.url) await (await env.services.coverage()).close();
  const json = runDccd(['inventory', '--json'], processEnv);
  const { code } = await json.exited;
  assert.equal(code, 0, json.output());
  const listed = JSON.parse(json.output()) as { datasets: ReturnType<typeof inventoryEntry>[] };
  assert.deepEqual(listed.datasets.map((d) => d.datasetId), ['binance/ohlc-1m/BTC-USDT', 'binance/ohlc-1m/SOL-USDT', 'binance/ohlc-1m/XRP-USDT', 'binance/trades/ETH-USDT']);
  const btc = listed.datasets[0]!;
  assert.deepEqual(btc.holes.map((h) => [h.start, h.end, h.reason]), [['2024-01-03T00:00:00.000000000Z', '2024-01-05T00:00:00.000000000Z', 'not covered']]);
  const text = runDccd(['inventory', '--kind', 'ohlc-1m'], processEnv);
  assert.equal((await text.exited).code, 0, text.output());
  assert.match(text.output(), /^binance\/ohlc-1m\/BTC-USDT {2}[\d,]+ rows {2}2 files {2}[\d.]+ KiB {2}2024-01-01T00:00:00\.000000000Z → 2024-01-05T23:59:00\.000000000Z {2}1 hole {2}no job$/m);
  assert.match(text.output(), /^ {2}hole 2024-01-03T00:00:00\.000000000Z → 2024-01-05T00:00:00\.000000000Z {2}not covered$/m);
  assert.doesNotMatch(text.output(), /trades/);
  const bad = runDccd(['inventory', '--kind', 'ohlc-1x'], processEnv);
  assert.equal((await bad.exited).code, 1);
  assert.match(bad.output().trim(), /^error: --kind: /);
  assert.equal(bad.output().trim().split('\n').length, 1);
});
