// What a run tells while it runs and after: trouble as it happens, a stop that does not wait
// out a retrying venue, and the Temporal UI's view (states, summaries) of the same runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backfillProgress, runResult, runStatus, startedHandle, stopRun } from '../../src/client/runs.ts';
import type { Target } from '../../src/domain/target.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import { startBackfill } from '../../src/jobs/backfill.ts';
import { SA } from '../../src/workflows/definitions.ts';
import { backfillEnv, storedTruth } from '../helpers/backfill-env.ts';
import { until } from '../helpers/until.ts';

const BNB: Target = { exchange: 'binance', symbol: 'BNB/BTC', kind: 'ohlc', span: '1m' };

test('a window the venue keeps failing shows why while it retries, and a stop ends the run without waiting out the retries', async () => {
  const env = await backfillEnv({ latencyMs: 40 });
  const started = await startBackfill(env.services, { target: BNB, start: '2023-01-01', end: '2024-01-01' });
  const handle = await startedHandle(env.services, started);
  await until('the first windows', async () => ((await backfillProgress(handle)).windowsDone >= 4 ? true : undefined));
  env.sim.setFaults('binance', { status5xxEvery: 1 });

  // While the windows retry, their events are in the run's status and log tail.
  const note = await until('the trouble to show', async () => (await runStatus(handle)).activities.flatMap((a) => a.notes).at(-1));
  assert.match(note, /^\S+Z 50\d from binance, retry \d+\/8 in [\d.]+ m?s$/);
  assert.ok((await runStatus(handle)).logTail.some((l) => / 50\d from binance, retry \d+\/8 in /.test(l)));

  // Each window would retry for about an hour; the stop ends them now.
  await stopRun(handle);
  const result = await runResult(handle, started.runId);
  assert.equal(result.state, 'stopped');
  const progress = await backfillProgress(handle);
  assert.match(progress.log.join('\n'), /window \d+\/\d+ \[[^)]+\): interrupted by the stop/);
  // What the run reports as complete is exactly in the store.
  const complete = await storedTruth(env.services, BNB, parseAbsoluteTime('2023-01-01', 'start'), BigInt(progress.currentNs!));
  const truth = env.sim.truth({ exchange: 'binance', symbol: 'BNBBTC', kind: 'ohlc', span: '1m', start: '2023-01-01', end: progress.currentNs! });
  assert.deepEqual(complete, { rows: truth.rows, first_ts: truth.first_ts, last_ts: truth.last_ts, checksum: truth.checksum });

  const described = await handle.describe();
  assert.equal(described.typedSearchAttributes.get(SA.state), 'stopped');
});

test('healthy windows in flight finish when the run is stopped, and lists tell a stopped run from a completed one', async () => {
  const env = await backfillEnv({ latencyMs: 40 });
  const started = await startBackfill(env.services, { target: BNB, start: '2023-01-01', end: '2024-01-01' });
  const handle = await startedHandle(env.services, started);
  await until('the first windows', async () => ((await backfillProgress(handle)).windowsDone >= 4 ? true : undefined));
  await stopRun(handle);
  const stopped = await runResult(handle, started.runId);
  assert.equal(stopped.state, 'stopped');
  const progress = await backfillProgress(handle);
  assert.doesNotMatch(progress.log.join('\n'), /interrupted/, 'no healthy window is cut short');
  assert.equal(progress.windowsDone % 4, 0, 'whole batches of four windows');

  const done = await startBackfill(env.services, { target: { ...BNB, symbol: 'ETH/USDT' }, start: '2024-01-01', end: '2024-01-03' });
  assert.equal((await runResult(await startedHandle(env.services, done), done.runId)).state, 'completed');

  const client = await env.services.temporal();
  const states = new Map<string, string | undefined>();
  await until('visibility to catch up', async () => {
    for await (const wf of client.workflow.list({ query: `DccdOperation = 'backfill'` })) states.set(wf.workflowId, wf.typedSearchAttributes.get(SA.state));
    return states.size === 2 && [...states.values()].every((s) => s === 'stopped' || s === 'completed') ? true : undefined;
  });
  assert.deepEqual(Object.fromEntries(states), {
    'backfill/binance/ohlc-1m/BNB-BTC': 'stopped',
    'backfill/binance/ohlc-1m/ETH-USDT': 'completed',
  });
  const stoppedOnly = [];
  for await (const wf of client.workflow.list({ query: `DccdState = 'stopped'` })) stoppedOnly.push(wf.workflowId);
  assert.deepEqual(stoppedOnly, ['backfill/binance/ohlc-1m/BNB-BTC']);

  // The Web UI names each activity by what it does.
  const history = await (await startedHandle(env.services, done)).fetchHistory();
  const summaries = await Promise.all(
    (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => (e.userMetadata?.summary?.data ? JSON.parse(Buffer.from(e.userMetadata.summary.data).toString()) : undefined)),
  );
  assert.equal(summaries[0], 'resolve the range');
  assert.match(summaries[1], /^window 1\/1 \[2024-01-01T00:00:00\.000000000Z, 2024-01-03T00:00:00\.000000000Z\)$/);
});
