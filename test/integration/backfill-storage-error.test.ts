// A backfill whose worker cannot write its dataset fails at once, with the path and the
// reason, instead of retrying its windows for an hour. The worker is a real `dccd worker`
// whose candle folder is mounted read-only (disk-faults.ts): as root, nothing else refuses.
// (A data folder that is read-only as a whole is refused before the worker starts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runResult, startedHandle } from '../../src/client/runs.ts';
import { startBackfill } from '../../src/jobs/backfill.ts';
import type { Target } from '../../src/domain/target.ts';
import { backfillEnv } from '../helpers/backfill-env.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { withReadOnly } from '../helpers/disk-faults.ts';

test('a backfill into a read-only dataset folder fails on its first attempt, naming the path and EROFS', async (t) => {
  const env = await backfillEnv({}, false);
  const cfg = env.services.config;
  const candles = join(cfg.data, 'ohlc-1m');
  mkdirSync(candles, { recursive: true });
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
    { prefix: withReadOnly(candles) },
  );
  t.after(async () => {
    worker.child.kill('SIGTERM');
    await worker.exited;
  });
  await worker.waitFor(/dccd worker ready/);

  const target: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' };
  const started = await startBackfill(env.services, { target, start: '2024-01-01', end: '2024-01-03' });
  const handle = await startedHandle(env.services, started);
  const result = await runResult(handle, started.runId);

  assert.equal(result.state, 'failed');
  const dataset = `${cfg.data}/ohlc-1m/exchange=binance/symbol=BTC-USDT`;
  assert.match(result.error ?? '', new RegExp(`^cannot write ${dataset}(/month=2024-01/part-\\d+-\\d+\\.parquet)?: read-only file system \\(EROFS\\)$`));

  const attempts: number[] = [];
  for (const e of (await handle.fetchHistory()).events ?? []) {
    if (e.activityTaskStartedEventAttributes) attempts.push(e.activityTaskStartedEventAttributes.attempt ?? 0);
  }
  // resolveBackfill, then the window(s) in flight: each ran once.
  assert.ok(attempts.length >= 2, `activities started: ${attempts.length}`);
  assert.deepEqual(attempts, attempts.map(() => 1));
});
