// Jobs created, replaced and deleted through the REST API: kept in the config file (comments
// and the other entries as they were), reconciled with Temporal on every change, never losing
// a concurrent change or a hand edit, and refused read-only where there is no file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../../src/api/server.ts';
import { schedulesOf } from '../../src/client/schedules.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { JobStore } from '../../src/jobs/job-store.ts';
import { backfillEnv } from '../helpers/backfill-env.ts';

const HAND = `# desk config
jobs:
  # by hand
  - { exchange: binance, symbol: BNB/BTC, kind: ohlc, span: 1d, start: 2024-01-01, end: 2024-01-05, schedule: { every: 6h } }
`;
const entry = (symbol: string, every = '1h') => ({ exchange: 'binance', symbol, kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-02', schedule: { every } });

test('POST, PUT and DELETE /api/jobs keep the jobs in the config file and reconcile each change', async (t) => {
  const env = await backfillEnv({}, false);
  const dir = mkdtempSync(join(tmpdir(), 'dccd-jobs-api-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'dccd.yml');
  writeFileSync(config, HAND);
  const app = await buildApi({ services: env.services, jobs: new JobStore({ path: config, env: {} }) });
  // Described by id: a schedule just created or deleted may take a moment to show in the list.
  const jobIds = [...['BTC', 'ETH', 'SOL', 'XRP', 'ADA', 'DOGE', 'LTC', 'DOT'].map((b) => `backfill:binance:${b}-USDT:ohlc-1h`), 'backfill:binance:BNB-BTC:ohlc-1d', 'backfill:binance:TRX-USDT:trades'];
  const schedules = async () => new Map((await schedulesOf(env.services, jobIds)).map((s) => [s.specId, s.note]));

  const created = await app.inject({ method: 'POST', url: '/api/jobs', payload: { exchange: 'binance', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-02', schedule: { every: '1h' } } });
  assert.equal(created.statusCode, 201, created.body);
  const body = created.json();
  assert.deepEqual(body.jobs.map((j: { id: string; origin: string; schedule: { scheduleId: string } }) => [j.id, j.origin, j.schedule.scheduleId]), [
    ['backfill:binance:BTC-USDT:ohlc-1h', 'api', 'dccd/backfill:binance:BTC-USDT:ohlc-1h'],
    ['backfill:binance:ETH-USDT:ohlc-1h', 'api', 'dccd/backfill:binance:ETH-USDT:ohlc-1h'],
    ['backfill:binance:SOL-USDT:ohlc-1h', 'api', 'dccd/backfill:binance:SOL-USDT:ohlc-1h'],
  ]);
  assert.deepEqual(body.report.created, ['backfill:binance:BNB-BTC:ohlc-1d', 'backfill:binance:BTC-USDT:ohlc-1h', 'backfill:binance:ETH-USDT:ohlc-1h', 'backfill:binance:SOL-USDT:ohlc-1h']);
  const entryLine = '  - { exchange: binance, symbols: [ BTCUSDT, ETHUSDT, SOLUSDT ], kind: ohlc, span: 1h, start: 2024-01-01, end: 2024-01-02, schedule: { every: 1h }, origin: api }\n';
  assert.equal(readFileSync(config, 'utf8'), HAND + entryLine, 'the entry as sent, marked origin api; the rest as it was');
  const again = await app.inject({ method: 'POST', url: '/api/jobs', payload: entry('ETHUSDT') });
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().jobId, 'backfill:binance:ETH-USDT:ohlc-1h');

  // One of three split out of its entry, its interval changed; the other two stay as they were.
  const put = await app.inject({ method: 'PUT', url: '/api/jobs/backfill:binance:ETH-USDT:ohlc-1h', payload: entry('ETH/USDT', '4h') });
  assert.equal(put.statusCode, 200, put.body);
  assert.deepEqual(put.json().report.updated, ['backfill:binance:ETH-USDT:ohlc-1h']);
  assert.equal(put.json().report.unchanged.length, 3);
  assert.equal(put.json().jobs[0].origin, 'api');
  assert.equal(
    readFileSync(config, 'utf8'),
    HAND +
      entryLine.replace('BTCUSDT, ETHUSDT, SOLUSDT', 'BTCUSDT, SOLUSDT') +
      '  - { exchange: binance, symbol: ETH/USDT, kind: ohlc, span: 1h, start: 2024-01-01, end: 2024-01-02, schedule: { every: 4h }, origin: api }\n',
  );
  assert.match((await schedules()).get('backfill:binance:ETH-USDT:ohlc-1h')!, / every 4h, /);
  // A hand-written job edited through the API stays hand-written.
  const handPut = await app.inject({ method: 'PUT', url: '/api/jobs/backfill:binance:BNB-BTC:ohlc-1d', payload: { exchange: 'binance', symbol: 'BNBBTC', kind: 'ohlc', span: '1d', start: '2024-01-01', schedule: { every: '12h' } } });
  assert.equal(handPut.statusCode, 200, handPut.body);
  assert.deepEqual(handPut.json().report.updated, ['backfill:binance:BNB-BTC:ohlc-1d']);
  assert.equal(handPut.json().jobs[0].origin, 'config');
  assert.match(readFileSync(config, 'utf8'), /^# desk config\njobs:\n {2}# by hand\n {2}- \{ exchange: binance, symbol: BNBBTC, kind: ohlc, span: 1d, start: 2024-01-01, schedule: \{ every: 12h \} \}\n/);

  // Concurrent creates all land; a hand edit made between API calls is kept.
  const many = await Promise.all(['XRPUSDT', 'ADAUSDT', 'DOGEUSDT', 'LTCUSDT'].map((s) => app.inject({ method: 'POST', url: '/api/jobs', payload: entry(s) })));
  assert.deepEqual(many.map((r) => r.statusCode), [201, 201, 201, 201], many.map((r) => r.body).join('\n'));
  writeFileSync(config, `${readFileSync(config, 'utf8')}  - { exchange: binance, symbol: TRXUSDT, kind: trades, start: 2024-01-01, schedule: manual }\n`);
  const late = await app.inject({ method: 'POST', url: '/api/jobs', payload: entry('DOTUSDT') });
  assert.equal(late.statusCode, 201, late.body);
  const ids = loadConfig({ path: config, env: {} }).jobs.flatMap((j) => j.symbols ?? [j.symbol]);
  assert.deepEqual(ids, ['BNBBTC', 'BTCUSDT', 'SOLUSDT', 'ETH/USDT', 'XRPUSDT', 'ADAUSDT', 'DOGEUSDT', 'LTCUSDT', 'TRXUSDT', 'DOTUSDT']);
  const listed = (await app.inject({ url: '/api/jobs' })).json().jobs as { id: string; origin: string }[];
  assert.deepEqual(listed.find((j) => j.id === 'backfill:binance:TRX-USDT:trades')?.origin, 'config');
  assert.equal(listed.filter((j) => j.origin === 'api').length, 8);
  assert.equal((await schedules()).size, 9, 'each scheduled job has its schedule (the manual one none)');

  const deleted = await app.inject({ method: 'DELETE', url: '/api/jobs/backfill:binance:SOL-USDT:ohlc-1h' });
  assert.equal(deleted.statusCode, 200, deleted.body);
  assert.equal(deleted.json().dataKept, true);
  assert.deepEqual(deleted.json().report.deleted, ['backfill:binance:SOL-USDT:ohlc-1h']);
  assert.match(readFileSync(config, 'utf8'), /symbols: \[ BTCUSDT \]/);
  assert.equal((await schedules()).has('backfill:binance:SOL-USDT:ohlc-1h'), false);
  assert.equal((await app.inject({ method: 'DELETE', url: '/api/jobs/backfill:binance:SOL-USDT:ohlc-1h' })).statusCode, 404);
  assert.equal((await app.inject({ url: '/api/jobs/backfill:binance:SOL-USDT:ohlc-1h' })).statusCode, 404);
});

test('no config file yet: the first job created makes ./dccd.yml; without a store the jobs are read-only', async (t) => {
  const env = await backfillEnv({}, false);
  const dir = mkdtempSync(join(tmpdir(), 'dccd-jobs-nofile-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const app = await buildApi({ services: env.services, jobs: new JobStore({ cwd: dir, env: {} }) });
  assert.deepEqual((await app.inject({ url: '/api/jobs' })).json().jobs, []);
  const created = await app.inject({ method: 'POST', url: '/api/jobs', payload: entry('BTCUSDT') });
  assert.equal(created.statusCode, 201, created.body);
  assert.ok(existsSync(join(dir, 'dccd.yml')));
  assert.deepEqual(loadConfig({ cwd: dir, env: {} }).jobs.map((j) => [j.symbol, j.origin]), [['BTCUSDT', 'api']]);

  const readOnly = await buildApi({ services: env.services });
  const refused = await readOnly.inject({ method: 'POST', url: '/api/jobs', payload: entry('ETHUSDT') });
  assert.equal(refused.statusCode, 409);
  assert.match(refused.json().error, /cannot be changed here/);
});
