// Jobs become Temporal Schedules: reconcile creates, updates, pauses and deletes exactly what
// changed, a triggered schedule runs the dataset's backfill under its own run id, it skips
// while the dataset is being backfilled, and a once job runs once per version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseConfig } from '../../src/config/load-config.ts';
import { listSchedules, schedulesOf, triggerSchedule, type DccdSchedule } from '../../src/client/schedules.ts';
import { runResult, startedHandle } from '../../src/client/runs.ts';
import { AlreadyRunning } from '../../src/domain/errors.ts';
import { startBackfill } from '../../src/jobs/backfill.ts';
import { checkConfigJobs } from '../../src/jobs/job-plan.ts';
import { reconcile } from '../../src/jobs/reconcile.ts';
import type { Services } from '../../src/services.ts';
import type { ScheduledBackfillResult } from '../../src/workflows/scheduled-backfill.ts';
import { backfillEnv } from '../helpers/backfill-env.ts';
import { until } from '../helpers/until.ts';

const specsOf = (jobs: unknown[]) => checkConfigJobs(parseConfig({ jobs }));

const JOBS = [
  { exchange: 'binance', symbols: ['BTC/USDT', 'ETH/USDT'], kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-03', schedule: { every: '1h' } },
  { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1d', start: '2024-01-01', end: '2024-02-01', schedule: { cron: '0 3 * * *' } },
  { exchange: 'binance', symbol: 'BNB/BTC', kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-02' },
  { exchange: 'binance', symbol: 'ETH/USDT', kind: 'ohlc', span: '1m', schedule: 'manual' },
  { operation: 'stream', exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' },
];

// Every job id these tests use, manual and stream ones included: described by id, since a
// schedule just created may take a moment to show in the list (visibility).
const IDS = [...specsOf(JOBS).map((s) => s.id), 'backfill:binance:BNB-BTC:trades', 'backfill:binance:BTC-USDT:ohlc-1m'];
const byId = async (services: Services) => new Map<string, DccdSchedule>((await schedulesOf(services, IDS)).map((s) => [s.specId, s]));
const listed = async (services: Services) => (await listSchedules(services)).map((s) => s.specId).sort();

/** The result of the newest trigger workflow a schedule started (after `after` of them). */
async function triggered(services: Services, specId: string, after = 0): Promise<ScheduledBackfillResult> {
  const action = await until(`a run of dccd/${specId}`, async () => (await byId(services)).get(specId)?.recent[after]);
  const client = await services.temporal();
  return client.workflow.getHandle(action.workflowId, action.runId).result();
}

test('reconcile turns jobs into schedules, changes only what changed, and applying twice changes nothing', async () => {
  const env = await backfillEnv();
  const first = await reconcile(env.services, specsOf(JOBS));
  assert.deepEqual(first.created.sort(), [
    'backfill:binance:BNB-BTC:ohlc-1h',
    'backfill:binance:BTC-USDT:ohlc-1d',
    'backfill:binance:BTC-USDT:ohlc-1h',
    'backfill:binance:ETH-USDT:ohlc-1h',
  ]);
  assert.deepEqual(first.notes, []);
  assert.deepEqual(first.streams, { started: ['stream:binance:BTC-USDT:trades'], restarted: [], stopped: [], unchanged: [] }, 'the supervised stream job runs its stream');

  const schedules = await byId(env.services);
  assert.deepEqual([...schedules.keys()].sort(), first.created.sort(), 'a manual job has no schedule');
  await until('the list to show the created schedules', async () => (String(await listed(env.services)) === String(first.created.sort()) ? true : undefined));
  const hourly = schedules.get('backfill:binance:BTC-USDT:ohlc-1h')!;
  assert.equal(hourly.scheduleId, 'dccd/backfill:binance:BTC-USDT:ohlc-1h');
  assert.equal(hourly.note, 'backfill binance BTC/USDT ohlc-1h every 1h, from 2024-01-01T00:00:00.000000000Z to 2024-01-03T00:00:00.000000000Z');
  assert.equal(hourly.paused, false);
  assert.equal(new Date(hourly.nextRuns[0]!).getUTCMinutes(), 0, 'every 1h fires on the hour');
  assert.equal(new Date(schedules.get('backfill:binance:BTC-USDT:ohlc-1d')!.nextRuns[0]!).getUTCHours(), 3);

  const again = await reconcile(env.services, specsOf(JOBS));
  const streamsUnchanged = { started: [], restarted: [], stopped: [], unchanged: ['stream:binance:BTC-USDT:trades'] };
  assert.deepEqual({ ...again, unchanged: again.unchanged.length }, { created: [], updated: [], deleted: [], paused: [], unpaused: [], unchanged: 4, streams: streamsUnchanged, notes: [] });

  // Edited: one interval changed, one job disabled, the cron job removed, a job added.
  const edited = [
    { ...JOBS[0], symbols: ['BTC/USDT'], schedule: { every: '2h' } },
    { exchange: 'binance', symbol: 'ETH/USDT', kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-03', schedule: { every: '1h' }, enabled: false },
    JOBS[2],
    { exchange: 'binance', symbol: 'BNB/BTC', kind: 'trades', start: '2024-01-01', end: '2024-01-01T00:10:00Z', schedule: { cron: '*/30 * * * *' } },
  ];
  const diff = await reconcile(env.services, specsOf(edited));
  assert.deepEqual(diff, {
    created: ['backfill:binance:BNB-BTC:trades'],
    updated: ['backfill:binance:BTC-USDT:ohlc-1h'],
    deleted: ['backfill:binance:BTC-USDT:ohlc-1d'],
    paused: ['backfill:binance:ETH-USDT:ohlc-1h'],
    unpaused: [],
    unchanged: ['backfill:binance:BNB-BTC:ohlc-1h'],
    streams: { started: [], restarted: [], stopped: ['stream:binance:BTC-USDT:trades'], unchanged: [] },
    notes: [],
  });
  const after = await byId(env.services);
  assert.deepEqual([...after.keys()].sort(), ['backfill:binance:BNB-BTC:ohlc-1h', 'backfill:binance:BNB-BTC:trades', 'backfill:binance:BTC-USDT:ohlc-1h', 'backfill:binance:ETH-USDT:ohlc-1h']);
  assert.match(after.get('backfill:binance:BTC-USDT:ohlc-1h')!.note, / every 2h, /);
  assert.equal(after.get('backfill:binance:ETH-USDT:ohlc-1h')!.paused, true);
  const resumed = await reconcile(env.services, specsOf(edited.map((j, i) => (i === 1 ? { ...j, enabled: true } : j))));
  assert.deepEqual(resumed.unpaused, ['backfill:binance:ETH-USDT:ohlc-1h']);
});

test('a once job runs once, under the dataset run id, and not again when applied again; an edited one runs again', async () => {
  const env = await backfillEnv();
  const once = [JOBS[2]];
  await reconcile(env.services, specsOf(once));
  const ran = await triggered(env.services, 'backfill:binance:BNB-BTC:ohlc-1h');
  assert.equal(ran.state, 'started');
  assert.ok(ran.state === 'started' && ran.result.state === 'completed' && ran.result.rowsWritten === 24, JSON.stringify(ran));
  assert.equal(ran.state === 'started' && ran.workflowId, 'backfill/binance/ohlc-1h/BNB-BTC');

  // The run is listed by its spec, with the run id the trigger reports.
  const client = await env.services.temporal();
  const runs = await until('the run in visibility', async () => {
    const found: string[] = [];
    for await (const wf of client.workflow.list({ query: `DccdSpecId = 'backfill:binance:BNB-BTC:ohlc-1h' AND DccdOperation = 'backfill'` })) found.push(wf.runId);
    return found.length ? found : undefined;
  });
  assert.deepEqual(runs, [ran.state === 'started' && ran.runId]);

  // As after a restart: applying the same job again takes no action.
  const report = await reconcile(env.services, specsOf(once));
  assert.deepEqual(report.unchanged, ['backfill:binance:BNB-BTC:ohlc-1h']);
  await sleep(2000);
  assert.equal((await byId(env.services)).get('backfill:binance:BNB-BTC:ohlc-1h')!.recent.length, 1);

  // A new version (another end) runs once more, continuing where the covered range ends.
  const edited = specsOf([{ ...JOBS[2], end: '2024-01-03' }]);
  assert.deepEqual((await reconcile(env.services, edited)).updated, ['backfill:binance:BNB-BTC:ohlc-1h']);
  const second = await triggered(env.services, 'backfill:binance:BNB-BTC:ohlc-1h');
  assert.ok(second.state === 'started' && second.result.state === 'completed' && second.result.rowsWritten === 24, JSON.stringify(second));
  assert.equal(second.result.state === 'completed' && second.result.startNs, String(BigInt(Date.parse('2024-01-02')) * 1_000_000n), 'the end of the first run, 2024-01-02');
});

test('a triggered schedule skips, saying why, while the dataset is being backfilled; a manual run meanwhile is refused with the running id', async () => {
  const env = await backfillEnv({ latencyMs: 30 });
  const job = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m', start: '2023-06-01', end: '2024-01-01', schedule: { every: '1d' } };
  const specs = specsOf([job]);
  const id = specs[0]!.id;
  await reconcile(env.services, specs);

  await triggerSchedule(env.services, id);
  const action = await until('the trigger', async () => (await byId(env.services)).get(id)?.recent[0]);
  const client = await env.services.temporal();
  const running = await until('the scheduled backfill to start', async () => {
    try {
      const d = await client.workflow.getHandle('backfill/binance/ohlc-1m/BTC-USDT').describe();
      return d.status.name === 'RUNNING' ? d : undefined;
    } catch {
      return undefined;
    }
  });
  assert.equal(running.typedSearchAttributes.get({ name: 'DccdSpecId', type: 'KEYWORD' } as never), id);

  await assert.rejects(startBackfill(env.services, { target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' }, start: '2024-01-01' }), (e: unknown) => {
    assert.ok(e instanceof AlreadyRunning);
    assert.equal(e.runId, running.runId);
    return true;
  });

  // Started by hand (not the schedule's SKIP): the trigger itself finds the dataset busy.
  const { scheduledBackfill } = await import('../../src/workflows/scheduled-backfill.ts');
  const d = await client.schedule.getHandle(`dccd/${id}`).describe();
  const args = d.action.type === 'startWorkflow' ? d.action.args : [];
  const skipped = await client.workflow.execute(scheduledBackfill, {
    taskQueue: env.services.temporalTarget().taskQueue,
    workflowId: `test-trigger/${id}`,
    args: args as Parameters<typeof scheduledBackfill>,
  });
  assert.deepEqual(skipped, {
    state: 'skipped',
    reason: 'skipped: backfill/binance/ohlc-1m/BTC-USDT is already running (one backfill per dataset at a time); the next scheduled run continues where it ends',
  });

  const handle = await startedHandle(env.services, { runId: running.runId, workflowId: running.workflowId });
  await handle.signal('stop');
  assert.equal((await runResult(handle, running.runId)).state, 'stopped');
  const done = (await client.workflow.getHandle(action.workflowId, action.runId).result()) as ScheduledBackfillResult;
  assert.ok(done.state === 'started' && done.runId === running.runId && done.result.state === 'stopped', JSON.stringify(done));
});
