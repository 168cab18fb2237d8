// Live trades under the stream faults of the simulator, with a real worker: aggregate trades
// withheld (jumps in the ids), sockets that go silent while open, and the worker itself
// killed with SIGKILL mid-stream. Each time the loss is a recorded gap, healed from REST, and
// the dataset ends exactly the venue's trades, none twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHandle, stopRun, type RunHandle } from '../../src/client/runs.ts';
import { streamResult, streamStatus, type StreamTuning } from '../../src/client/streams.ts';
import type { TradeRow } from '../../src/domain/records.ts';
import type { StreamRunStatus } from '../../src/domain/stream.ts';
import type { Target } from '../../src/domain/target.ts';
import { startStream } from '../../src/jobs/stream.ts';
import { backfillEnv, type BackfillEnv } from '../helpers/backfill-env.ts';
import { runDccd, type DccdProcess } from '../helpers/dccd-process.ts';
import { streamedTruth } from '../helpers/stream-truth.ts';
import { until } from '../helpers/until.ts';

/** About 100 trades a second, no quiet minute (a minute's count is uniform in [1, 12000): waits span a slow one). */
const BUSY = { tradesPerMinute: 6_000, quietMinuteShare: 0 };
const FLUSH = { flushRows: 50, flushMs: 500 };
/** A second of silence on a busy market is a dead link; reconnects come at once. */
const TUNING: StreamTuning = { staleAfterMs: 2_000, backoff: { baseMs: 50, maxMs: 200, healthyAfterMs: 60_000 } };
const WAIT_MS = 150_000;

const trades = (symbol: string): Target => ({ exchange: 'binance', symbol, kind: 'trades' });

/** One simulator and one worker for the faults that leave the worker alone; each test streams its own symbol. */
const shared = await backfillEnv({ seed: 11, markets: BUSY });

async function stored(env: BackfillEnv, target: Target): Promise<TradeRow[]> {
  return (await env.services.store.readRows(target as Target & { kind: 'trades' })) as TradeRow[];
}

/** Waits until the running stream's status passes `done`, with that status. */
function statusWhen(handle: RunHandle, what: string, done: (s: StreamRunStatus) => boolean): Promise<StreamRunStatus> {
  return until(what, async () => {
    const s = await streamStatus(handle);
    return done(s) ? s : undefined;
  }, WAIT_MS);
}

/** Stops the stream and returns its result, its final status and what is stored, checked against the truth. */
async function stopAndCheck(env: BackfillEnv, handle: RunHandle, target: Target) {
  await stopRun(handle);
  const result = await streamResult(handle);
  const status = await streamStatus(handle);
  const rows = await stored(env, target);
  const ids = rows.map((r) => r.tradeId);
  assert.equal(new Set(ids).size, ids.length, 'no trade twice');
  assert.deepEqual(rows, streamedTruth(env.sim, target.symbol.replace('/', ''), rows), 'exactly the venue’s trades, first to last');
  assert.equal(status.gapsTotal, result.gapsTotal);
  assert.ok(status.gaps.length > 0 && status.gaps.every((g) => g.state === 'healed'), JSON.stringify(status.gaps));
  return { result, status, rows };
}

test('with every 100th aggregate trade withheld, each jump in the ids is a gap naming the one id missed, healed from REST', async () => {
  const target = trades('BTC/USDT');
  shared.sim.setFaults('binance', { sequenceGapEvery: 100 });
  const started = await startStream(shared.services, { target, ...FLUSH }, TUNING);
  const handle = await runHandle(shared.services, started.runId);
  await statusWhen(handle, 'three gaps', (s) => s.gapsTotal >= 3);
  const { result, status, rows } = await stopAndCheck(shared, handle, target);
  assert.equal(result.reconnects, 0, 'a gap in the ids is not a lost connection');
  for (const g of status.gaps) {
    assert.equal(g.reason, 'a break in the aggregate trade ids');
    assert.equal(g.missingIds?.from, g.missingIds?.to, 'one event withheld, one id missed');
    assert.ok(rows.some((r) => r.tradeId === g.missingIds!.from), `trade ${g.missingIds!.from} healed into the dataset`);
  }
  assert.ok(shared.sim.stats('binance').faultsInjected.sequenceGap! >= result.gapsTotal);
});

test('with sockets that go silent after 200 messages, the stream notices the silence, reconnects, and heals what it missed', async () => {
  const target = trades('ETH/USDT');
  shared.sim.setFaults('binance', { stallSocketEvery: 200 });
  const started = await startStream(shared.services, { target, ...FLUSH }, TUNING);
  const handle = await runHandle(shared.services, started.runId);
  await statusWhen(handle, 'two reconnects and a gap', (s) => s.reconnects >= 2 && s.gapsTotal >= 1);
  const { result, status } = await stopAndCheck(shared, handle, target);
  assert.ok(result.reconnects >= 2, `${result.reconnects} reconnects`);
  assert.ok(status.gaps.every((g) => g.reason === 'trades missed while reconnecting (no frame for 2000 ms)'), JSON.stringify(status.gaps));
  assert.ok(shared.sim.stats('binance').faultsInjected.stallSocket! >= 2);
});

test('a worker killed with SIGKILL mid-stream: another worker retries the session from its heartbeat; the unflushed rows become a healed gap', { timeout: 240_000 }, async (t) => {
  const env = await backfillEnv({ seed: 12, markets: BUSY }, false);
  const cfg = env.services.config;
  const workerEnv = {
    DCCD_DATA: cfg.data,
    TEMPORAL_ADDRESS: cfg.temporal.address,
    TEMPORAL_NAMESPACE: cfg.temporal.namespace,
    DCCD_TASK_QUEUE: cfg.temporal.taskQueue,
    DCCD_BINANCE_REST_URL: `${env.sim.url}/binance`,
    DCCD_BINANCE_WS_URL: `${env.sim.url.replace(/^http/, 'ws')}/binance`,
    DATABASE_URL: cfg.database.url ?? '',
  };
  const workerProcess = async (): Promise<DccdProcess> => {
    const w = runDccd(['worker'], workerEnv, cfg.data);
    await w.waitFor(/^dccd worker ready/);
    return w;
  };
  let worker = await workerProcess();
  t.after(async () => {
    worker.child.kill('SIGTERM');
    await worker.exited;
  });
  const target = trades('BTC/USDT');
  // The session's heartbeat timeout decides how soon a dead worker's session is retried.
  const started = await startStream(env.services, { target, ...FLUSH }, { ...TUNING, heartbeatTimeoutMs: 4_000 });
  const handle = await runHandle(env.services, started.runId);
  const atKill = await statusWhen(handle, '200 rows', (s) => s.rowsWritten >= 200);

  worker.child.kill('SIGKILL');
  assert.equal((await worker.exited).signal, 'SIGKILL');
  // What the killed worker had flushed; what it had received after that died with it.
  const written = await stored(env, target);
  const firstLost = BigInt(written.at(-1)!.tradeId) + 1n;
  worker = await workerProcess();

  const lostGap = (s: StreamRunStatus) =>
    s.gaps.find((g) => g.missingIds && BigInt(g.missingIds.from) <= firstLost && firstLost <= BigInt(g.missingIds.to));
  const resumed = await statusWhen(handle, 'the killed worker’s loss healed and 200 more rows', (s) => lostGap(s)?.state === 'healed' && s.rowsWritten >= atKill.rowsWritten + 200);
  // Only a session that found the last trade written in its heartbeat knows it missed trades since.
  assert.equal(lostGap(resumed)!.reason, 'trades missed between sessions');

  const { result } = await stopAndCheck(env, handle, target);
  assert.ok(result.rowsWritten >= atKill.rowsWritten + 200, 'the counters went on from the heartbeat');
  const attempts = ((await handle.fetchHistory()).events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : []));
  assert.equal(attempts.length, 1, 'one session, retried');
  assert.ok(attempts[0]! >= 2, `the session ran ${attempts[0]} attempts`);
});
