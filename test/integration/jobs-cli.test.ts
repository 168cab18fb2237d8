// The config's jobs through the real `dccd` command: `dccd start` applies them as Temporal
// Schedules (as `temporal schedule list` shows), `dccd jobs apply` applies an edit, and a once
// job does not run again after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DccdClient } from '../../src/client/http-client.ts';
import { getRun, listRuns } from '../../src/client/run-list.ts';
import { listSchedules } from '../../src/client/schedules.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServices } from '../../src/services.ts';
import { startSim } from '../../src/sim/index.ts';
import { freePort } from '../helpers/ports.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { temporalCli } from '../helpers/temporal-cli.ts';

const jobsYaml = (hourly: string) => `
jobs:
  - { exchange: binance, symbols: [BTCUSDT, ETHUSDT], kind: ohlc, span: 1h, start: 2024-01-01, end: 2024-01-02, schedule: { every: ${hourly} } }
  - { exchange: binance, symbol: BTC/USDT, kind: ohlc, span: 1d, start: 2024-01-01, end: 2024-01-10, schedule: { cron: "0 3 * * *" } }
  - { exchange: binance, symbol: BNB/BTC, kind: ohlc, span: 1h, start: 2024-01-01, end: 2024-01-02 }
`;

test('dccd start applies the jobs as schedules; jobs apply applies an edit; a once job runs once across restarts', async (t) => {
  const sim = await startSim({ port: 0, seed: 3 });
  const dir = mkdtempSync(join(tmpdir(), 'dccd-jobs-'));
  t.after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await sim.close();
  });
  const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const config = join(dir, 'dccd.yml');
  const head = `data: ./data\ntemporal: { port: ${temporalPort}, uiPort: ${uiPort} }\napi: { port: ${apiPort} }\nexchanges: { binance: { restUrl: ${sim.url}/binance } }\n`;
  writeFileSync(config, head + jobsYaml('1h'));
  const env = { TEMPORAL_ADDRESS: '', DCCD_DATA: '', DATABASE_URL: '' };
  const address = `127.0.0.1:${temporalPort}`;

  const listed = runDccd(['jobs', 'list', '--config', config], env);
  assert.equal((await listed.exited).code, 0, listed.output());
  assert.match(listed.output(), /^backfill:binance:ETH-USDT:ohlc-1h {2}every 1h {2}config {2}backfill binance ETH\/USDT ohlc-1h every 1h, from 2024-01-01T00:00:00.000000000Z to 2024-01-02T00:00:00.000000000Z$/m);

  const first = runDccd(['start', '--config', config], env);
  await first.waitFor(/^dccd ready/, 120_000);
  assert.match(first.output(), /^dccd: jobs applied: 4 change\(s\), 0 schedule\(s\) unchanged$/m);
  const list = temporalCli(['schedule', 'list', '--address', address]);
  for (const id of ['BTC-USDT:ohlc-1h', 'ETH-USDT:ohlc-1h', 'BTC-USDT:ohlc-1d', 'BNB-BTC:ohlc-1h']) assert.match(list, new RegExp(`dccd/backfill:binance:${id}`));
  const described = temporalCli(['schedule', 'describe', '--address', address, '--schedule-id', 'dccd/backfill:binance:BTC-USDT:ohlc-1d', '-o', 'json']);
  assert.match(described, /backfill binance BTC\/USDT ohlc-1d cron 0 3 \* \* \* \(UTC\), from 2024-01-01T00:00:00.000000000Z to 2024-01-10T00:00:00.000000000Z/);

  // The once job's run completes; schedules list (through the daemon) shows it taken once.
  const onceRan = async () => {
    const r = runDccd(['schedules', 'list', '--json', '--config', config], env);
    assert.equal((await r.exited).code, 0, r.output());
    const all = JSON.parse(r.output()) as { specId: string; recent: unknown[] }[];
    return all.find((s) => s.specId === 'backfill:binance:BNB-BTC:ohlc-1h')!.recent.length;
  };
  for (const deadline = Date.now() + 60_000; (await onceRan()) !== 1; ) {
    assert.ok(Date.now() < deadline, 'the once job ran within a minute');
    await new Promise((r) => setTimeout(r, 500));
  }

  // The once job's run, the same through the CLI and the REST API.
  const cli = runDccd(['runs', '--spec', 'backfill:binance:BNB-BTC:ohlc-1h', '--json', '--config', config], env);
  assert.equal((await cli.exited).code, 0, cli.output());
  const fromCli = JSON.parse(cli.output()) as { runs: { runId: string; state: string; rowsWritten: number }[] };
  const fromApi = (await (await fetch(`http://127.0.0.1:${apiPort}/api/runs?spec_id=backfill:binance:BNB-BTC:ohlc-1h`)).json()) as { runs: { runId: string }[] };
  assert.deepEqual(fromCli, fromApi);
  // The typed client, and Temporal read directly (as the API itself does), tell the same.
  const client = new DccdClient(`http://127.0.0.1:${apiPort}`);
  assert.deepEqual(await client.listRuns({ specId: 'backfill:binance:BNB-BTC:ohlc-1h' }), fromApi);
  const direct = buildServices(parseConfig({ data: join(dir, 'data'), temporal: { address } }));
  try {
    assert.deepEqual(await listRuns(direct, { specId: 'backfill:binance:BNB-BTC:ohlc-1h' }), fromApi);
    const one = await client.getRun(fromApi.runs[0]!.runId);
    assert.deepEqual(one, await getRun(direct, fromApi.runs[0]!.runId));
    const schedulesCli = runDccd(['schedules', 'list', '--json', '--config', config], env);
    assert.equal((await schedulesCli.exited).code, 0);
    assert.deepEqual(JSON.parse(schedulesCli.output()), await client.listSchedules());
    assert.deepEqual(await client.listSchedules(), await listSchedules(direct));
    // Inventory through the daemon (it holds the embedded manifest): the CLI prints what the API answers.
    const inventoryCli = runDccd(['inventory', '--json', '--config', config], env);
    assert.equal((await inventoryCli.exited).code, 0, inventoryCli.output());
    const stored = await client.inventory();
    assert.deepEqual(JSON.parse(inventoryCli.output()).datasets, stored);
    const bnb = stored.find((d) => d.datasetId === 'binance/ohlc-1h/BNB-BTC')!;
    assert.deepEqual({ rows: bnb.rows, jobs: bnb.jobs, holes: bnb.holes }, { rows: 24, jobs: ['backfill:binance:BNB-BTC:ohlc-1h'], holes: [] });
  } finally {
    await direct.close();
  }
  assert.equal(fromCli.runs.length, 1);
  assert.equal(fromCli.runs[0]!.state, 'succeeded');
  assert.equal(fromCli.runs[0]!.rowsWritten, 24);
  const shown = runDccd(['runs', 'show', fromCli.runs[0]!.runId, '--config', config], env);
  assert.equal((await shown.exited).code, 0, shown.output());
  assert.match(shown.output(), /^progress: 1\/1 windows, 24 rows$/m);
  const followed = runDccd(['runs', 'follow', fromCli.runs[0]!.runId, '--config', config], env);
  assert.equal((await followed.exited).code, 0, followed.output());
  assert.equal(followed.output(), `succeeded: 24 rows  run ${fromCli.runs[0]!.runId}\n`);

  writeFileSync(config, head + jobsYaml('2h'));
  const applied = runDccd(['jobs', 'apply', '--config', config], env);
  assert.equal((await applied.exited).code, 0, applied.output());
  assert.equal(
    applied.output(),
    'updated schedule dccd/backfill:binance:BTC-USDT:ohlc-1h\nupdated schedule dccd/backfill:binance:ETH-USDT:ohlc-1h\njobs applied: 2 change(s), 2 schedule(s) unchanged\n',
  );

  // The API applies the file as it is now, not as it was when dccd started.
  writeFileSync(config, head + jobsYaml('1h'));
  const api = new DccdClient(`http://127.0.0.1:${apiPort}`);
  const report = await api.applyJobs();
  assert.deepEqual(report.updated, ['backfill:binance:BTC-USDT:ohlc-1h', 'backfill:binance:ETH-USDT:ohlc-1h']);
  assert.match((await api.listJobs()).find((j) => j.id === 'backfill:binance:BTC-USDT:ohlc-1h')!.summary, / every 1h, /);

  first.child.kill('SIGINT');
  assert.deepEqual(await first.exited, { code: 0, signal: null });
  const second = runDccd(['start', '--config', config], env);
  try {
    await second.waitFor(/^dccd ready/, 120_000);
    assert.match(second.output(), /^dccd: jobs applied: 0 change\(s\), 4 schedule\(s\) unchanged$/m);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await onceRan(), 1, 'the once job did not run again');
  } finally {
    second.child.kill('SIGINT');
    assert.deepEqual(await second.exited, { code: 0, signal: null });
  }
});

test('a bad cron in the config: dccd start and jobs apply refuse it in one line, naming the job, and start nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-jobs-bad-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'dccd.yml');
  writeFileSync(config, `data: ./data\njobs:\n  - { exchange: binance, symbol: BTCUSDT, kind: trades, schedule: { cron: "every day!" } }\n`);
  for (const args of [['start'], ['jobs', 'apply'], ['validate']]) {
    const r = runDccd([...args, '--config', config], { TEMPORAL_ADDRESS: '', DCCD_DATA: '' });
    const { code } = await r.exited;
    assert.equal(code, 2, r.output());
    assert.equal(r.output().trim().split('\n').length, 1, r.output());
    assert.match(r.output(), /jobs\[0\]\.schedule\.cron: 'every day!' is not a cron expression: 2 fields; it takes 5/);
  }
});
