// The backfill as users run it, for benchmarks: a Temporal dev server persisted to SQLite
// like `dccd start`'s, a worker on its own task queue, the workflow started and awaited
// through the same functions as the API and CLI.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backfillProgress, runResult as backfillResult, startedHandle } from '../src/client/runs.ts';
import { startBackfill } from '../src/jobs/backfill.ts';
import { parseConfig } from '../src/config/load-config.ts';
import type { Target } from '../src/domain/target.ts';
import { buildServices, type Services } from '../src/services.ts';
import { startEmbeddedServer } from '../src/worker/embedded-stack.ts';
import { startWorker } from '../src/worker/worker.ts';
import { freePort } from '../test/helpers/ports.ts';
import { tempDir, time } from './lib.ts';

export interface BackfillCase {
  name: string;
  target: Target;
  start: string;
  end: string;
}

export interface FullPathRun {
  /** False when the deadline passed first; the run was then terminated. */
  completed: boolean;
  rows: number;
  ms: number;
  /** History events over every segment of the run. */
  events: number;
  /** Activity attempts beyond the first (timeouts, transient failures). */
  retries: number;
  /** Opening the coverage manifest on the fresh data dir, done before the timed run. */
  coverageOpenMs: number;
  /** Why an incomplete run was stuck: its pending activities' attempts and last failures. */
  stuck?: string;
  /** Wall-clock bounds of the run (epoch ms), from the start request to the result or deadline. */
  startedAtMs: number;
  endedAtMs: number;
}

export interface FullPathOptions {
  /** Overrides the venue's default budget in dccd's limiter. */
  requestBudget?: number;
  /** Give up (and terminate the run) after this long. */
  deadlineMs?: number;
}

/** A dev server on a fresh SQLite file, like the one `dccd start` embeds. */
export async function benchTemporal(): Promise<{ address: string; stop(): Promise<void> }> {
  const state = tempDir('temporal');
  const server = await startEmbeddedServer({ dbFile: join(state.path, 'temporal.db'), port: await freePort() });
  return {
    address: server.address,
    stop: async () => {
      await server.stop();
      state.remove();
    },
  };
}

/** One backfill through worker and workflow into a fresh data dir, against `restUrl`. */
export async function runFullPath(temporalAddress: string, restUrl: string, c: BackfillCase, opts: FullPathOptions = {}): Promise<FullPathRun> {
  const data = tempDir('full');
  const exchange = { restUrl, ...(opts.requestBudget !== undefined && { requestBudget: opts.requestBudget }) };
  const services = buildServices(
    parseConfig({ data: data.path, temporal: { address: temporalAddress, taskQueue: `bench-${randomUUID()}` }, exchanges: { [c.target.exchange]: exchange } }),
  );
  const worker = await startWorker(services);
  try {
    // A worker opens the manifest on its first backfill; that is a start-up cost, like the
    // worker's own, and stays out of the run's time.
    const [, coverageOpenMs] = await time(() => services.coverage());
    const startedAtMs = Date.now();
    const t0 = performance.now();
    const started = await startBackfill(services, { target: c.target, start: c.start, end: c.end });
    const handle = await startedHandle(services, started);
    const deadline = new AbortController();
    const result = await Promise.race([
      backfillResult(handle, started.runId),
      opts.deadlineMs === undefined ? new Promise<never>(() => {}) : sleep(opts.deadlineMs, undefined, { signal: deadline.signal }).catch(() => undefined),
    ]);
    deadline.abort();
    const ms = performance.now() - t0;
    const endedAtMs = Date.now();
    if (result) {
      if (result.state !== 'completed') throw new Error(`backfill ${result.state}: ${result.error}`);
      return { completed: true, rows: result.rowsWritten, ms, ...(await historyOf(services, started.runId)), coverageOpenMs, startedAtMs, endedAtMs };
    }
    const rows = (await backfillProgress(handle)).rowsWritten;
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    const states = new Map<string, number>();
    for (const p of pending) {
      const state = `${p.activityType?.name} attempt ${p.attempt}: ${p.lastFailure?.message ?? 'running'}`;
      states.set(state, (states.get(state) ?? 0) + 1);
    }
    const stuck = [...states].map(([state, n]) => `${n}× ${state}`).join('; ');
    await handle.terminate('benchmark deadline');
    const history = await historyOf(services, started.runId);
    const retries = history.retries + pending.reduce((s, p) => s + Math.max(0, (p.attempt ?? 1) - 1), 0);
    return { completed: false, rows, ms, events: history.events, retries, coverageOpenMs, stuck, startedAtMs, endedAtMs };
  } finally {
    await worker.shutdown();
    await services.close();
    data.remove();
  }
}

/** Events and activity retries over every segment (continue-as-new starts a new history). */
async function historyOf(services: Services, runId: string): Promise<{ events: number; retries: number }> {
  const client = await services.temporal();
  let events = 0;
  let retries = 0;
  for await (const wf of client.workflow.list({ query: `DccdRunId = '${runId}'` })) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    events += history.events?.length ?? 0;
    for (const e of history.events ?? []) retries += Math.max(0, (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
  }
  return { events, retries };
}
