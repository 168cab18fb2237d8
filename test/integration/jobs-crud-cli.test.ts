// Jobs changed through the REST API of a real `dccd start`: each change is a schedule change
// `temporal schedule list` shows, the jobs and schedules survive a restart unchanged, a
// deleted job leaves its data, and `dccd jobs run` twice names the one run going.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DccdClient } from '../../src/client/http-client.ts';
import { startSim } from '../../src/sim/index.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { freePort } from '../helpers/ports.ts';
import { temporalCli } from '../helpers/temporal-cli.ts';

const HOURLY = 'backfill:binance:BTC-USDT:ohlc-1h';
const LONG = 'backfill:binance:ETH-USDT:ohlc-1m';

/** Every file under the data folder but dccd's own state, with its size and modification time. */
function dataFiles(data: string): string[] {
  return (readdirSync(data, { recursive: true }) as string[])
    .map((f) => join(data, f))
    .filter((f) => !relative(data, f).startsWith('.dccd') && statSync(f).isFile())
    .map((f) => `${relative(data, f)} ${statSync(f).size} ${statSync(f).mtimeMs}`)
    .sort();
}

test('jobs created, changed and deleted through the API of dccd start: schedules follow, a restart changes nothing, data stays, jobs run is idempotent', async (t) => {
  const sim = await startSim({ port: 0, seed: 3, latencyMs: 100 });
  const dir = mkdtempSync(join(tmpdir(), 'dccd-jobs-crud-'));
  t.after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await sim.close();
  });
  const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const config = join(dir, 'dccd.yml');
  const kept = `# the desk's dccd
data: ./data
temporal: { port: ${temporalPort}, uiPort: ${uiPort} }
api: { port: ${apiPort} }
exchanges: { binance: { restUrl: ${sim.url}/binance } }
jobs:
  # by hand, stays as it is
  - { exchange: binance, symbol: BNB/BTC, kind: ohlc, span: 1d, start: 2024-01-01, end: 2024-01-03, schedule: { every: 12h } }
`;
  writeFileSync(config, kept);
  const env = { TEMPORAL_ADDRESS: '', DCCD_DATA: '', DATABASE_URL: '' };
  const address = `127.0.0.1:${temporalPort}`;
  const interval = (id: string) => {
    const d = JSON.parse(temporalCli(['schedule', 'describe', '--address', address, '--schedule-id', `dccd/${id}`, '-o', 'json']));
    return d.schedule.spec.interval[0].interval as string;
  };
  const scheduleList = () => temporalCli(['schedule', 'list', '--address', address]);

  const first = runDccd(['start', '--config', config], env);
  await first.waitFor(/^dccd ready/, 120_000);
  const api = new DccdClient(`http://127.0.0.1:${apiPort}`);
  const created = await api.createJob({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-02', schedule: { every: '1h' } });
  assert.deepEqual(created.report.created, [HOURLY]);
  assert.match(scheduleList(), new RegExp(`dccd/${HOURLY}`));
  assert.equal(interval(HOURLY), '3600s');

  const changed = await api.updateJob(HOURLY, { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-02', schedule: { every: '2h' } });
  assert.deepEqual(changed.report.updated, [HOURLY]);
  assert.equal(interval(HOURLY), '7200s');
  await api.createJob({ exchange: 'binance', symbol: 'ETHUSDT', kind: 'ohlc', span: '1m', start: '2023-01-01', end: '2024-01-01', schedule: 'manual' });
  assert.ok(readFileSync(config, 'utf8').startsWith(kept), 'the hand-written part as it was');

  const listed = runDccd(['jobs', 'list', '--config', config], env);
  assert.equal((await listed.exited).code, 0, listed.output());
  assert.match(listed.output(), new RegExp(`^${HOURLY} {2}every 2h {2}api {2}`, 'm'));
  assert.match(listed.output(), /^backfill:binance:BNB-BTC:ohlc-1d {2}every 12h {2}config {2}/m);

  // Run the long job twice while the first run goes on: one run.
  const runs: string[] = [];
  for (const expect of [/^started: run (\S+)/m, /^already running: run (\S+)/m]) {
    const r = runDccd(['jobs', 'run', LONG, '--config', config], env);
    assert.equal((await r.exited).code, 0, r.output());
    runs.push(expect.exec(r.output())?.[1] ?? `no match in ${r.output()}`);
  }
  assert.equal(runs[1], runs[0]);
  const stopped = runDccd(['stop', runs[0]!, '--config', config], env);
  assert.equal((await stopped.exited).code, 0, stopped.output());
  const fileBefore = readFileSync(config, 'utf8');

  first.child.kill('SIGINT');
  assert.deepEqual(await first.exited, { code: 0, signal: null });
  const second = runDccd(['start', '--config', config], env);
  try {
    await second.waitFor(/^dccd ready/, 120_000);
    assert.match(second.output(), /^dccd: jobs applied: 0 change\(s\), 2 schedule\(s\) unchanged$/m);
    assert.equal(readFileSync(config, 'utf8'), fileBefore);
    const jobs = await api.listJobs();
    assert.deepEqual(jobs.map((j) => [j.id, j.origin, j.schedule?.scheduleId ?? null]), [
      ['backfill:binance:BNB-BTC:ohlc-1d', 'config', 'dccd/backfill:binance:BNB-BTC:ohlc-1d'],
      [HOURLY, 'api', `dccd/${HOURLY}`],
      [LONG, 'api', null],
    ]);
    assert.equal(interval(HOURLY), '7200s');

    // Deleted: the schedule goes, the data the job wrote stays.
    const data = join(dir, 'data');
    const before = dataFiles(data);
    assert.ok(before.some((f) => f.startsWith('ohlc-1m/exchange=binance/symbol=ETH-USDT/')), 'the run wrote parts');
    for (const id of [HOURLY, LONG]) {
      const gone = await api.deleteJob(id);
      assert.equal(gone.dataKept, true);
    }
    assert.doesNotMatch(scheduleList(), new RegExp(`dccd/${HOURLY}`));
    assert.match(scheduleList(), /dccd\/backfill:binance:BNB-BTC:ohlc-1d/);
    assert.deepEqual(dataFiles(data), before);
    assert.equal(readFileSync(config, 'utf8'), kept, 'the file is back to what it was');
  } finally {
    second.child.kill('SIGINT');
    assert.deepEqual(await second.exited, { code: 0, signal: null });
  }
});
