// Supervised stream jobs as running streams, through the API's job changes and GET /api/streams,
// against the simulator's aggTrade stream and a real worker: a job's stream runs and writes
// rows, applying again leaves it alone, an edit restarts it, disabling or removing it stops
// it after it wrote what it received, and a stream started by hand is never touched.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../../src/api/server.ts';
import { describeRun, runHandle, stopRun, type StartedRun } from '../../src/client/runs.ts';
import type { StreamEntry } from '../../src/client/stream-runs.ts';
import { streamResult } from '../../src/client/streams.ts';
import type { TradeRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { JobStore } from '../../src/jobs/job-store.ts';
import { startStream } from '../../src/jobs/stream.ts';
import type { Services } from '../../src/services.ts';
import { backfillEnv } from '../helpers/backfill-env.ts';
import { until } from '../helpers/until.ts';

/** Trades in a minute are uniform in [1, 2·6000): some minutes are slow, so counts wait up to 150 s. */
const BUSY = { tradesPerMinute: 6_000, quietMinuteShare: 0 };
const BTC: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
const ETH: Target = { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' };
const ID = 'stream:binance:BTC-USDT:trades';
const BTC_STREAM = 'stream/binance/trades/BTC-USDT';
const JOB = { operation: 'stream', exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades', flushRows: 50, flushInterval: '1s' };
const noStreams = { started: [], restarted: [], stopped: [], unchanged: [] };

async function runOfStream(services: Services, workflowId: string): Promise<StartedRun & { running: boolean }> {
  return describeRun(await runHandle(services, workflowId));
}

/** A worker, the simulator's busy market, and an API whose jobs are kept in a file of their own. */
async function jobsApi(t: TestContext) {
  const env = await backfillEnv({ seed: 11, markets: BUSY });
  const dir = mkdtempSync(join(tmpdir(), 'dccd-streams-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'dccd.yml');
  writeFileSync(config, 'jobs: []\n');
  const app = await buildApi({ services: env.services, jobs: new JobStore({ path: config, env: {} }) });
  t.after(() => app.close());
  const streams = async (): Promise<StreamEntry[]> => {
    const r = await app.inject({ url: '/api/streams' });
    assert.equal(r.statusCode, 200, r.body);
    return r.json().streams;
  };
  return { env, app, streams };
}

test('a supervised stream job keeps its stream running: applied again it is left alone, edited it restarts, disabled or removed it stops; a stream by hand is untouched', async (t) => {
  const { env, app, streams } = await jobsApi(t);
  const byHand = await startStream(env.services, { target: ETH, flushRows: 50, flushMs: 500 });

  // Created through the API: the job's stream starts, carrying the job's id.
  const created = await app.inject({ method: 'POST', url: '/api/jobs', payload: JOB });
  assert.equal(created.statusCode, 201, created.body);
  assert.deepEqual(created.json().report.streams, { ...noStreams, started: [ID] });
  assert.deepEqual(created.json().report.notes, []);
  const first = await runOfStream(env.services, BTC_STREAM);
  assert.equal(first.running, true);

  // GET /api/streams: both, with their liveness, once each has written rows.
  const live = await until(
    'both streams to write rows',
    async () => {
      const list = await streams();
      return list.length === 2 && list.every((s) => (s.live?.rowsWritten ?? 0) > 0) ? list : undefined;
    },
    150_000,
  );
  const [btc, eth] = live;
  assert.deepEqual(
    { workflowId: btc!.workflowId, target: btc!.target, specId: btc!.specId, supervisedBy: btc!.supervisedBy, runId: btc!.runId, state: btc!.state, running: btc!.running },
    { workflowId: BTC_STREAM, target: BTC, specId: ID, supervisedBy: ID, runId: first.runId, state: 'running', running: true },
  );
  assert.deepEqual(
    { workflowId: eth!.workflowId, specId: eth!.specId, supervisedBy: eth!.supervisedBy, runId: eth!.runId, state: eth!.state },
    { workflowId: 'stream/binance/trades/ETH-USDT', specId: null, supervisedBy: null, runId: byHand.runId, state: 'running' },
  );
  assert.equal(btc!.live!.gapsTotal, 0);
  assert.ok(btc!.live!.lastSample && btc!.live!.lastTs, JSON.stringify(btc!.live));

  // Applied again (a restarted daemon): the same run goes on.
  const again = await app.inject({ method: 'POST', url: '/api/jobs/apply' });
  assert.deepEqual(again.json().streams, { ...noStreams, unchanged: [ID] });
  assert.equal((await runOfStream(env.services, BTC_STREAM)).runId, first.runId);

  // New flush settings: the old run writes what it received and ends; a new run takes over.
  const edited = await app.inject({ method: 'PUT', url: `/api/jobs/${ID}`, payload: { ...JOB, flushRows: 20 } });
  assert.equal(edited.statusCode, 200, edited.body);
  assert.deepEqual(edited.json().report.streams, { ...noStreams, restarted: [ID] });
  const firstResult = await streamResult(await runHandle(env.services, first.runId));
  assert.equal(firstResult.state, 'stopped');
  const second = await runOfStream(env.services, BTC_STREAM);
  assert.notEqual(second.runId, first.runId);
  assert.equal(second.running, true);

  // Disabled: stopped; enabled again: started.
  const disabled = await app.inject({ method: 'PUT', url: `/api/jobs/${ID}`, payload: { ...JOB, flushRows: 20, enabled: false } });
  assert.deepEqual(disabled.json().report.streams, { ...noStreams, stopped: [ID] });
  assert.equal((await streamResult(await runHandle(env.services, second.runId))).state, 'stopped');
  assert.deepEqual((await streams()).map((s) => s.workflowId), ['stream/binance/trades/ETH-USDT'], 'a disabled job keeps no stream');
  const enabled = await app.inject({ method: 'PUT', url: `/api/jobs/${ID}`, payload: { ...JOB, flushRows: 20 } });
  assert.deepEqual(enabled.json().report.streams, { ...noStreams, started: [ID] });
  const third = await runOfStream(env.services, BTC_STREAM);
  await until('the third run to write rows', async () => ((await streams()).find((s) => s.runId === third.runId)?.live?.rowsWritten ? true : undefined), 150_000);

  // Removed: its stream stops, and every row each run counted is on disk.
  const removed = await app.inject({ method: 'DELETE', url: `/api/jobs/${ID}` });
  assert.equal(removed.statusCode, 200, removed.body);
  assert.deepEqual(removed.json().report.streams, { ...noStreams, stopped: [ID] });
  const results = await Promise.all([first, second, third].map(async (r) => streamResult(await runHandle(env.services, r.runId))));
  assert.deepEqual(results.map((r) => r.state), ['stopped', 'stopped', 'stopped']);
  const stored = (await env.services.store.readRows(BTC as Target & { kind: 'trades' })) as TradeRow[];
  assert.equal(stored.length, results.reduce((n, r) => n + r.rowsWritten, 0), 'each run wrote what it received before it ended');

  // Through every change, the stream started by hand ran on as it was.
  const hand = await runOfStream(env.services, 'stream/binance/trades/ETH-USDT');
  assert.deepEqual([hand.runId, hand.running], [byHand.runId, true]);

  // A job whose dataset already streams by hand leaves that stream alone, and says so.
  const btcByHand = await startStream(env.services, { target: BTC, flushRows: 50, flushMs: 500 });
  const blocked = await app.inject({ method: 'POST', url: '/api/jobs', payload: JOB });
  assert.equal(blocked.statusCode, 201, blocked.body);
  assert.deepEqual(blocked.json().report.streams, noStreams);
  assert.deepEqual(blocked.json().report.notes, [
    `stream job ${ID} not started: ${BTC_STREAM} is running already, started by hand (run ${btcByHand.runId}); stop it (dccd stop ${btcByHand.runId}) and apply again for the job to keep it`,
  ]);
  const listed = (await streams()).find((s) => s.workflowId === BTC_STREAM)!;
  assert.deepEqual([listed.runId, listed.specId, listed.supervisedBy], [btcByHand.runId, null, ID]);

  for (const run of [byHand, btcByHand]) {
    const handle = await runHandle(env.services, run.runId);
    await stopRun(handle);
    assert.equal((await streamResult(handle)).state, 'stopped');
  }
});

test("a supervised job's stream that is not running is listed with its last run; the venue not listing its symbol is a note, not a failure; a manual stream job runs when asked", async (t) => {
  const { env, app, streams } = await jobsApi(t);
  const unlisted = await app.inject({ method: 'POST', url: '/api/jobs', payload: { ...JOB, symbol: 'DOGE/USDT' } });
  assert.equal(unlisted.statusCode, 201, unlisted.body);
  assert.deepEqual(unlisted.json().report.streams, noStreams);
  assert.match(unlisted.json().report.notes[0], /^stream job stream:binance:DOGE-USDT:trades not started: symbol: unknown symbol 'DOGE\/USDT' on binance/);
  const [never] = await streams();
  assert.deepEqual(never, {
    workflowId: 'stream/binance/trades/DOGE-USDT',
    target: { exchange: 'binance', symbol: 'DOGE/USDT', kind: 'trades' },
    specId: null,
    supervisedBy: 'stream:binance:DOGE-USDT:trades',
    runId: null,
    state: 'not_started',
    running: false,
    startedAt: null,
    endedAt: null,
    rowsWritten: 0,
    error: null,
    live: null,
  });

  // Stopped by hand: listed as stopped, with its last run, until the next apply starts it again.
  const created = await app.inject({ method: 'POST', url: '/api/jobs', payload: JOB });
  assert.deepEqual(created.json().report.streams, { ...noStreams, started: [ID] });
  const run = await runOfStream(env.services, BTC_STREAM);
  const handle = await runHandle(env.services, run.runId);
  await stopRun(handle);
  await streamResult(handle);
  const stopped = (await streams()).find((s) => s.workflowId === BTC_STREAM)!;
  assert.deepEqual([stopped.runId, stopped.state, stopped.running, stopped.specId], [run.runId, 'stopped', false, ID]);
  const applied = await app.inject({ method: 'POST', url: '/api/jobs/apply' });
  assert.deepEqual(applied.json().streams, { ...noStreams, started: [ID] });
  const next = await runOfStream(env.services, BTC_STREAM);
  assert.notEqual(next.runId, run.runId);
  const nextHandle = await runHandle(env.services, next.runId);
  await stopRun(nextHandle);
  assert.equal((await streamResult(nextHandle)).state, 'stopped');

  // A manual stream job starts only when run, and then runs until stopped or until its job goes.
  const MANUAL = 'stream:binance:ETH-USDT:trades';
  const manual = await app.inject({ method: 'POST', url: '/api/jobs', payload: { ...JOB, symbol: 'ETH/USDT', schedule: 'manual' } });
  assert.equal(manual.statusCode, 201, manual.body);
  assert.equal(manual.json().report.streams.started.includes(MANUAL), false);
  const ran = await app.inject({ method: 'POST', url: `/api/jobs/${MANUAL}/run` });
  assert.equal(ran.statusCode, 201, ran.body);
  assert.deepEqual([ran.json().operation, ran.json().specId, ran.json().workflowId], ['stream', MANUAL, 'stream/binance/trades/ETH-USDT']);
  const reapplied = await app.inject({ method: 'POST', url: '/api/jobs/apply' });
  assert.equal(JSON.stringify(reapplied.json().streams).includes(MANUAL), false, 'reconcile leaves a manual job’s run alone');
  assert.equal((await runOfStream(env.services, 'stream/binance/trades/ETH-USDT')).runId, ran.json().runId);
  const gone = await app.inject({ method: 'DELETE', url: `/api/jobs/${MANUAL}` });
  assert.deepEqual(gone.json().report.streams.stopped, [MANUAL]);
  assert.equal((await streamResult(await runHandle(env.services, ran.json().runId))).state, 'stopped');
});
