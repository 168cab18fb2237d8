// Stream runs as jobs and users see them: the ones going now (what reconcile compares with the
// stream jobs), stopping one and waiting for its flush, and the list GET /api/streams serves,
// with each stream's liveness. A stream started by hand has no spec id; one started from a job
// carries the job's id (search attribute DccdSpecId) and version (memo specVersion).
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/client';
import { isFinal, type JobRunState } from '../domain/job-run.ts';
import { isSupervisedStream, specWorkflowId, type JobSpec } from '../domain/job-spec.ts';
import type { StreamStatus } from '../domain/stream.ts';
import type { Target } from '../domain/target.ts';
import type { Services } from '../services.ts';
import { runFromExecution, runOf } from './run-list.ts';
import { startedHandle, stopRun, type StartedRun } from './runs.ts';

/** A stream run going on now. */
export interface LiveStreamRun extends StartedRun {
  specId: string | null;
  /** The version of its job it was started from. */
  specVersion: string | null;
  state: 'pending' | 'running' | 'stopping';
}

const RUNNING_STREAMS = `DccdOperation = 'stream' AND ExecutionStatus = 'Running'`;

/**
 * Every stream running now, by workflow id. Those of `workflowIds` are described by id (a
 * stream started a moment ago may not be listed yet, one that just ended may still be); the
 * others come from visibility.
 */
export async function runningStreams(services: Services, workflowIds: readonly string[]): Promise<Map<string, LiveStreamRun>> {
  const client = await services.temporal();
  const ids = new Set(workflowIds);
  const found = new Map<string, LiveStreamRun>();
  for (const d of await Promise.all([...ids].map((id) => orNone(client.workflow.getHandle(id).describe())))) {
    if (d?.status.name === 'RUNNING') found.set(d.workflowId, liveRunOf(d));
  }
  for await (const wf of client.workflow.list({ query: RUNNING_STREAMS })) if (!ids.has(wf.workflowId)) found.set(wf.workflowId, liveRunOf(wf));
  return found;
}

function liveRunOf(info: Parameters<typeof runFromExecution>[0]): LiveStreamRun {
  const run = runFromExecution(info);
  const version = info.memo?.specVersion;
  return { runId: run.runId, workflowId: run.workflowId, specId: run.specId, specVersion: typeof version === 'string' ? version : null, state: run.state as LiveStreamRun['state'] };
}

/** What `lookup` finds, or undefined for a workflow id never started. */
async function orNone<T>(lookup: Promise<T>): Promise<T | undefined> {
  try {
    return await lookup;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

/** Asks a stream to stop (it writes what it received) and waits up to `waitMs` for it to end; false when it has not ended by then. */
export async function stopStream(services: Services, run: StartedRun, waitMs: number): Promise<boolean> {
  const handle = await startedHandle(services, run);
  await stopRun(handle);
  const timer = new AbortController();
  try {
    return await Promise.race([handle.result().then(() => true, () => true), sleep(waitMs, false, { signal: timer.signal })]);
  } finally {
    timer.abort();
  }
}

/** One dataset's stream as GET /api/streams lists it. */
export interface StreamEntry {
  workflowId: string;
  target: Target;
  /** The job the run was started from; null for a stream started by hand. */
  specId: string | null;
  /** The enabled supervised job that keeps this dataset streaming, if one does. */
  supervisedBy: string | null;
  /** The run going on, or for a supervised job's stream that is not running its last run; null (state not_started) when it has none. */
  runId: string | null;
  state: JobRunState | 'not_started';
  running: boolean;
  startedAt: string | null;
  endedAt: string | null;
  rowsWritten: number;
  error: string | null;
  live: StreamStatus | null;
}

/** Every stream running now, and the stream of each supervised job in `jobs`, running or not; by workflow id. */
export async function listStreams(services: Services, jobs: readonly JobSpec[]): Promise<StreamEntry[]> {
  const supervised = new Map(jobs.filter(isSupervisedStream).map((s) => [specWorkflowId(s.id), s]));
  const client = await services.temporal();
  // A supervised job's stream is looked up by id, so one just started is there even before visibility lists it.
  const ids = new Set(supervised.keys());
  for await (const wf of client.workflow.list({ query: RUNNING_STREAMS })) ids.add(wf.workflowId);
  return Promise.all(
    [...ids].sort().map(async (workflowId): Promise<StreamEntry> => {
      const job = supervised.get(workflowId);
      const run = await orNone(runOf(client.workflow.getHandle(workflowId)));
      const supervisedBy = job?.id ?? null;
      if (!run) {
        const none = { runId: null, state: 'not_started', running: false, startedAt: null, endedAt: null, rowsWritten: 0, error: null, live: null } as const;
        return { workflowId, target: job!.target, specId: null, supervisedBy, ...none };
      }
      const { runId, specId, target, state, startedAt, endedAt, rowsWritten, error } = run;
      return { workflowId, target, specId, supervisedBy, runId, state, running: !isFinal(state), startedAt, endedAt, rowsWritten, error, live: run.live ?? null };
    }),
  );
}
