// A backfill whose worker cannot write its data folder fails at once, with the path and the
// reason, instead of retrying its windows for an hour. The worker is a real `dccd worker`
// whose data folder is mounted read-only (disk-faults.ts): as root, nothing else refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backfillResult, startBackfill, startedHandle } from '../../src/api/backfills.ts';
import type { Target } from '../../src/domain/target.ts';
import { backfillEnv } from '../helpers/backfill-env.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { withReadOnly } from '../helpers/disk-faults.ts';

test('a backfill into a read-only data folder fails within seconds on its first attempt, naming the path and EROFS', async (t) => {
  const env = await backfillEnv({}, false);
  const cfg = env.services.config;
  const worker = runDccd(
    ['worker'],
    {
      DCCD_DATA: cfg.data,
      TEMPORAL_ADDRESS: cfg.temporal.address,
      TEMPORAL_NAMESPACE: cfg.temporal.namespace,
      DCCD_TASK_QUEUE: cfg.temporal.taskQueue,
      DCCD_BINANCE_REST_URL: `${env.sim.url}/binance`,
      ...(cfg.database.url && { DATABASE_URL: cfg.database.url }),
    },
    cfg.data,
    { prefix: withReadOnly(cfg.data) },
  );
  t.after(async () => {
    worker.child.kill('SIGTERM');
    await worker.exited;
  });
  await worker.waitFor(/dccd worker ready/);

  const target: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' };
  const began = Date.now();
  const started = await startBackfill(env.services, { target, start: '2024-01-01', end: '2024-01-03' });
  const handle = await startedHandle(env.services, started);
  const result = await backfillResult(handle, started.runId);
  const seconds = (Date.now() - began) / 1000;

  assert.equal(result.state, 'failed');
  const dataset = `${cfg.data}/ohlc-1m/exchange=binance/symbol=BTC-USDT`;
  assert.match(result.error ?? '', new RegExp(`^cannot write ${dataset}/month=2024-01/part-\\d+-\\d+\\.parquet: read-only file system \\(EROFS\\)$`));
  assert.ok(seconds < 15, `failed after ${seconds.toFixed(1)} s`);

  const attempts: number[] = [];
  for (const e of (await handle.fetchHistory()).events ?? []) {
    if (e.activityTaskStartedEventAttributes) attempts.push(e.activityTaskStartedEventAttributes.attempt ?? 0);
  }
  // resolveBackfill, then the window(s) in flight: each ran once.
  assert.ok(attempts.length >= 2, `activities started: ${attempts.length}`);
  assert.deepEqual(attempts, attempts.map(() => 1));
});
