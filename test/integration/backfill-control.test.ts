// Stopping, continuing as new, one writer per dataset, and how failures are reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backfillProgress, runResult, startedHandle, stopRun } from '../../src/client/runs.ts';
import { startBackfill } from '../../src/jobs/backfill.ts';
import { AlreadyRunning } from '../../src/domain/errors.ts';
import type { Target } from '../../src/domain/target.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import { backfill } from '../../src/workflows/backfill.ts';
import { SA } from '../../src/workflows/definitions.ts';
import { backfillEnv, storedTruth, type BackfillEnv } from '../helpers/backfill-env.ts';

const OHLC: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' };

async function assertExact(env: BackfillEnv, t: Target, start: string, end: string) {
  const truth = env.sim.truth({ exchange: 'binance', symbol: t.symbol.replace('/', ''), kind: t.kind as 'ohlc', span: t.span, start, end });
  const stored = await storedTruth(env.services, t, parseAbsoluteTime(start, 'start'), parseAbsoluteTime(end, 'end'));
  assert.deepEqual(stored, { rows: truth.rows, first_ts: truth.first_ts, last_ts: truth.last_ts, checksum: truth.checksum });
  return truth;
}

test('a stop signal ends the run after the window in flight; start=last then continues exactly where it stopped', async () => {
  const env = await backfillEnv({ latencyMs: 40 });
  const [start, end] = ['2024-01-01', '2024-04-01'];
  const started = await startBackfill(env.services, { target: OHLC, start, end }, { concurrency: 1 });
  const handle = await startedHandle(env.services, started);
  let windowsTotal = 0;
  for (;;) {
    const p = await backfillProgress(handle);
    windowsTotal = p.windowsTotal;
    if (p.windowsDone >= 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopRun(handle);
  const stopped = await runResult(handle, started.runId);
  assert.equal(stopped.state, 'stopped');
  const p = await backfillProgress(handle);
  assert.ok(p.windowsDone < windowsTotal, `stopped early (${p.windowsDone}/${windowsTotal})`);
  const stored = await env.services.store.readRows({ ...OHLC, kind: 'ohlc' });
  assert.equal(stored.length, stopped.rowsWritten);
  assert.ok(stored.at(-1)!.ts < BigInt(p.currentNs!), 'every stored row lies before the point the run reached');

  const resumed = await startBackfill(env.services, { target: OHLC, start: 'last', end });
  const done = await runResult(await startedHandle(env.services, resumed), resumed.runId);
  assert.equal(done.state, 'completed');
  const truth = await assertExact(env, OHLC, start, end);
  assert.equal(stopped.rowsWritten + done.rowsWritten, truth.rows);
});

test('a long run continues as new with the same run id, bounded history per segment, and its counters intact', async () => {
  const env = await backfillEnv();
  const [start, end] = ['2024-01-01', '2024-03-01'];
  const windowsPerSegment = 3;
  const started = await startBackfill(env.services, { target: OHLC, start, end }, { concurrency: 1, windowsPerSegment });
  const result = await runResult(await startedHandle(env.services, started), started.runId);
  assert.equal(result.state, 'completed');
  assert.equal(result.runId, started.runId);
  const truth = await assertExact(env, OHLC, start, end);
  assert.equal(result.rowsWritten, truth.rows);

  const client = await env.services.temporal();
  const segments: { status: string; historyLength: number; runId: string; summary: unknown }[] = [];
  for (let tries = 0; tries < 50 && !segments.some((s) => s.status === 'COMPLETED'); tries++) {
    segments.length = 0;
    for await (const wf of client.workflow.list({ query: `DccdRunId = '${started.runId}'` })) {
      segments.push({ status: wf.status.name, historyLength: wf.historyLength, runId: wf.runId, summary: wf.memo?.summary });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const finalProgress = (await client.workflow.getHandle<typeof backfill>(started.workflowId).query('progress')) as { windowsDone: number; windowsTotal: number };
  assert.equal(finalProgress.windowsDone, finalProgress.windowsTotal);
  // All but the last segment continued as new.
  const expected = Math.ceil(finalProgress.windowsTotal / windowsPerSegment);
  assert.ok(expected >= 4);
  assert.equal(segments.length, expected);
  assert.deepEqual(segments.map((s) => s.status).sort(), ['COMPLETED', ...Array(expected - 1).fill('CONTINUED_AS_NEW')]);
  for (const s of segments) assert.ok(s.historyLength <= 7 * windowsPerSegment + 20, `segment ${s.runId}: ${s.historyLength} events`);
  // Every segment tells which run it belongs to in the Web UI.
  const summary = 'backfill binance BTC/USDT ohlc-1m from 2024-01-01T00:00:00.000000000Z to 2024-03-01T00:00:00.000000000Z';
  assert.deepEqual(segments.map((s) => s.summary), segments.map(() => summary));
  const last = await client.workflow.getHandle(started.workflowId).describe();
  assert.equal(last.typedSearchAttributes.get(SA.rowsWritten), truth.rows);
  const details = (await client.workflow.getHandle(started.workflowId).query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
  assert.match(details, /^backfill binance BTC\/USDT ohlc-1m \[2024-01-01T00:00:00\.000000000Z, 2024-03-01T00:00:00\.000000000Z\)\n\nsegment \d+: /);
});

test('ten concurrent requests for one dataset start one run; the other nine are told which run is writing', async () => {
  const env = await backfillEnv({}, false);
  const outcomes = await Promise.allSettled(
    Array.from({ length: 10 }, () => startBackfill(env.services, { target: OHLC, start: '2024-01-01', end: '2024-01-02' })),
  );
  const started = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
  const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason as Error);
  assert.equal(started.length, 1);
  assert.equal(refused.length, 9);
  for (const e of refused) {
    assert.ok(e instanceof AlreadyRunning, e.message);
    assert.equal(e.runId, started[0]!.runId);
  }
  await (await startedHandle(env.services, started[0]!)).terminate('test over');
});

test('a permanent error fails the run at once with a readable message; transient errors retry and show in the log tail', async () => {
  const env = await backfillEnv({ faults: { status5xxEvery: 3 } });
  // Past the check (a symbol delisted since, say), the venue's own refusal fails the run.
  const client = await env.services.temporal();
  const handle = await client.workflow.start(backfill, {
    taskQueue: env.services.temporalTarget().taskQueue,
    workflowId: 'backfill/binance/trades/FOO-USDT',
    args: [{ request: { target: { exchange: 'binance', symbol: 'FOO/USDT', kind: 'trades' }, start: `${parseAbsoluteTime('2024-01-01', 'start')}`, end: `${parseAbsoluteTime('2024-01-02', 'end')}` } }],
  });
  const failed = await runResult(handle, handle.firstExecutionRunId);
  assert.equal(failed.state, 'failed');
  assert.match(failed.error!, /^binance: GET \/binance\/api\/v3\/aggTrades: HTTP 400: Invalid symbol\. \(code -1121\)$/);
  const history = await handle.fetchHistory();
  const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
  assert.ok(attempts.length > 0 && attempts.every((a) => a === 1), `not retried (attempts ${attempts.join(', ')})`);

  const ok = await startBackfill(env.services, { target: OHLC, start: '2024-01-01', end: '2024-01-03' });
  const okHandle = await startedHandle(env.services, ok);
  assert.equal((await runResult(okHandle, ok.runId)).state, 'completed');
  const log = (await backfillProgress(okHandle)).log.join('\n');
  assert.match(log, /50\d from binance, retry \d+\/\d+ in [\d.]+ m?s/);
});

test('after the local files are deleted, start=last continues after the covered range the manifest records', async () => {
  const env = await backfillEnv();
  const first = await startBackfill(env.services, { target: OHLC, start: '2024-01-01', end: '2024-01-10' });
  const firstResult = await runResult(await startedHandle(env.services, first), first.runId);
  assert.equal(firstResult.state, 'completed');
  const stored = await env.services.store.stats(OHLC);
  const coverage = await env.services.coverage();
  const recorded = await coverage.get(OHLC);
  assert.deepEqual({ minTs: recorded!.minTs, maxTs: recorded!.maxTs, rows: recorded!.rows }, stored);
  // The range fetched whole, window by window, merged into one interval.
  assert.deepEqual(await coverage.coverage(OHLC), { rest: [{ startNs: BigInt(firstResult.startNs!), endNs: BigInt(firstResult.endNs!) }] });

  await env.services.store.drop(OHLC);
  const again = await startBackfill(env.services, { target: OHLC, start: 'last', end: '2024-01-15' });
  const result = await runResult(await startedHandle(env.services, again), again.runId);
  assert.equal(result.state, 'completed');
  assert.equal(result.startNs, firstResult.endNs);
  const truth = env.sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: "1m", start: firstResult.endNs!, end: '2024-01-15' });
  assert.equal(result.rowsWritten, truth.rows);
  assert.equal((await env.services.store.stats(OHLC))!.rows, truth.rows, 'only the newer rows were fetched');
  // The manifest only grows: it still reaches back to the first run's start, in one interval.
  const widened = await coverage.get(OHLC);
  assert.equal(widened!.minTs, recorded!.minTs);
  assert.equal(widened!.maxTs, BigInt(truth.last_ts!));
  assert.deepEqual(await coverage.coverage(OHLC), { rest: [{ startNs: BigInt(firstResult.startNs!), endNs: BigInt(result.endNs!) }] });
});

test('a window that takes longer than the heartbeat timeout before its first part completes on its first attempt', { timeout: 90_000 }, async () => {
  // 29 pages at 400 ms: ~12 s of fetching before the one part is written (timeout: 10 s).
  const env = await backfillEnv({ latencyMs: 400 });
  const trades: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
  const started = await startBackfill(env.services, { target: trades, start: '2024-03-01', end: '2024-03-02' });
  const handle = await startedHandle(env.services, started);
  const result = await runResult(handle, started.runId);
  assert.equal(result.state, 'completed');
  const history = await handle.fetchHistory();
  const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
  assert.deepEqual(attempts, [1, 1], 'resolve and the one window, each on its first attempt');
});
