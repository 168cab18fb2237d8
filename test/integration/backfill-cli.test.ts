// `dccd backfill` and `dccd read` as a user types them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DuckDBInstance } from '@duckdb/node-api';
import { startSim, type Sim } from '../../src/sim/index.ts';
import type { AppConfig } from '../../src/config/app-config.ts';
import { testConfig } from '../helpers/temporal.ts';
import { buildServices } from '../../src/services.ts';
import { startWorker } from '../../src/worker/worker.ts';
import { runDccd } from '../helpers/dccd-process.ts';

// A 40 ms round trip keeps a year of candles busy long enough to interrupt.
const sim: Sim = await startSim({ port: 0, seed: 3, latencyMs: 40 });
after(() => sim.close());
const cfg: AppConfig = await testConfig({ exchanges: { binance: { restUrl: `${sim.url}/binance` } } });
// Cluster mode, as the commands see it: TEMPORAL_ADDRESS is set and workers run elsewhere.
const workerServices = buildServices(cfg);
const worker = await startWorker(workerServices);
after(async () => {
  await worker.shutdown();
  await workerServices.close();
});
const env: NodeJS.ProcessEnv = {
  DCCD_DATA: cfg.data,
  TEMPORAL_ADDRESS: cfg.temporal.address,
  TEMPORAL_NAMESPACE: cfg.temporal.namespace,
  DCCD_TASK_QUEUE: cfg.temporal.taskQueue,
  DCCD_BINANCE_REST_URL: `${sim.url}/binance`,
};

async function dccd(...args: string[]) {
  const p = runDccd(args, env, cfg.data);
  const { code } = await p.exited;
  return { code, output: p.output() };
}

async function runCount(): Promise<number> {
  const connection = await Connection.connect({ address: cfg.temporal.address! });
  try {
    return (await new Client({ connection, namespace: cfg.temporal.namespace }).workflow.count()).count;
  } finally {
    await connection.close();
  }
}

test('bad requests get a one-line error naming the field, and start no run', async () => {
  const cases: [string[], RegExp][] = [
    [['binance', 'FOOUSDT', '--kind', 'ohlc', '--span', '1m'], /^error: symbol: unknown symbol 'FOO\/USDT' on binance \(Invalid symbol\.\)$/],
    [['binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '7x'], /^error: span: '7x' is not a span/],
    [['binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '2d'], /^error: binance: span '2d' is not served/],
    [['binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1m', '--start', '2024-02-01', '--end', '2024-01-01'], /^error: end: must be after start/],
    [['binance', 'BTCUSDT', '--kind', 'book', '--span', '1m'], /^error: span: only applies to kind ohlc, not book$/],
    [['binance', 'BTCUSDT', '--kind', 'candles'], /^error: --kind: unknown kind 'candles'/],
    [['krakken', 'BTCUSDT', '--kind', 'trades'], /^error: exchange: unknown exchange 'krakken'/],
  ];
  for (const [args, expected] of cases) {
    const r = await dccd('backfill', ...args);
    assert.equal(r.code, 1, r.output);
    const lines = r.output.trim().split('\n');
    assert.equal(lines.length, 1, r.output);
    assert.match(lines[0]!, expected);
  }
  assert.equal(await runCount(), 0);
});

test('backfill --wait --json returns the result; read prints exactly what DuckDB sees in the files', async () => {
  const r = await dccd('backfill', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1h', '--start', '2024-01-01', '--end', '2024-01-04', '--wait', '--json');
  assert.equal(r.code, 0, r.output);
  const result = JSON.parse(r.output.trim().split('\n').at(-1)!);
  const truth = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-04' });
  assert.equal(result.state, 'completed');
  assert.equal(result.rowsWritten, truth.rows);

  const json = await dccd('read', 'binance', 'BTC/USDT', '--kind', 'ohlc', '--span', '1h', '--start', '2024-01-02', '--end', '2024-01-03', '--format', 'json');
  assert.equal(json.code, 0, json.output);
  const rows = JSON.parse(json.output) as Record<string, unknown>[];
  assert.equal(rows[0]!.ts, '2024-01-02T00:00:00.000000000Z');
  assert.equal(rows[0]!.ts_ns, '1704153600000000000');

  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const dir = join(cfg.data, 'ohlc-1h', 'exchange=binance', 'symbol=BTC-USDT');
  const res = await conn.runAndReadAll(
    `SELECT epoch_ns(ts)::VARCHAR AS ts_ns, open, high, low, close, volume FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true)
     WHERE ts >= '2024-01-02' AND ts < '2024-01-03' ORDER BY ts`,
  );
  const duck = res.getRowObjectsJS() as Record<string, unknown>[];
  assert.deepEqual(
    rows.map((x) => ({ ts_ns: x.ts_ns, open: x.open, high: x.high, low: x.low, close: x.close, volume: x.volume })),
    duck,
  );

  const csv = await dccd('read', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1h', '--start', '2024-01-02', '--end', '2024-01-03');
  const lines = csv.output.trim().split('\n');
  assert.equal(lines[0], 'ts,ts_ns,open,high,low,close,volume,quote_volume,trades');
  assert.equal(lines.length, duck.length + 1);

  const out = join(cfg.data, 'export.parquet');
  const pq = await dccd('read', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1h', '--format', 'parquet', '--out', out);
  assert.equal(pq.code, 0, pq.output);
  const exported = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n, any_value(typeof(ts)) AS t FROM read_parquet('${out}')`);
  assert.deepEqual(exported.getRowObjectsJS(), [{ n: truth.rows, t: 'TIMESTAMP_NS' }]);
  assert.ok(readFileSync(out).subarray(0, 4).toString() === 'PAR1');
  conn.closeSync();
  db.closeSync();
});

test('Ctrl-C during backfill --wait detaches by default, and stops the run with --stop-on-exit', async () => {
  const args = ['backfill', 'binance', 'BNBBTC', '--kind', 'ohlc', '--span', '1m', '--start', '2023-01-01', '--end', '2024-01-01', '--wait'];
  const stopping = runDccd([...args, '--stop-on-exit'], env);
  await stopping.waitFor(/window 1\//);
  stopping.child.kill('SIGINT');
  assert.equal((await stopping.exited).code, 0, stopping.output());
  assert.match(stopping.output(), /stopping the run: windows in flight finish, or end at once if they are retrying/);
  assert.match(stopping.output(), /^stopped: [\d,]+ rows \[2023-01-01T00:00:00\.000000000Z, 2024-01-01T00:00:00\.000000000Z\)/m);

  const detaching = runDccd(args.map((a) => (a === '2023-01-01' ? 'last' : a)), env);
  await detaching.waitFor(/window 1\//);
  detaching.child.kill('SIGINT');
  assert.equal((await detaching.exited).code, 0, detaching.output());
  assert.match(detaching.output(), /detached from run [0-9a-f-]{36}; it goes on in the background\. Stop it with: dccd stop /);
});
