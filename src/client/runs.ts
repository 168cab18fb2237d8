// Runs as clients see them: start a checked request, find a run by id, follow it (the
// workflow's progress plus what its activities are going through right now), stop it, wait
// for its result. The CLI, the API and tests all reach runs through here.
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { AlreadyRunning, NotFound, ValidationError } from '../domain/errors.ts';
import { LOG_TAIL_LINES, type BackfillProgress, type BackfillResult, type CheckedBackfill, type WindowHeartbeat } from '../domain/job.ts';
import type { Services } from '../services.ts';
import { backfill, type BackfillInput } from '../workflows/backfill.ts';
import { backfillStartOptions } from '../workflows/backfill-start.ts';
import { progressQuery, SA, stopSignal } from '../workflows/definitions.ts';

export interface StartedRun {
  runId: string;
  workflowId: string;
}

export type RunHandle = WorkflowHandle<typeof backfill>;

/** Workflow knobs a caller may set; defaults suit production. */
export type BackfillTuning = Pick<BackfillInput, 'concurrency' | 'windowsPerSegment'>;

/** Starts the run of a request checked by jobs/ (checkBackfill). */
export async function submitBackfill(services: Services, request: CheckedBackfill, tuning: BackfillTuning = {}): Promise<StartedRun> {
  const { workflowId, ...options } = backfillStartOptions(request, new Date());
  return startDatasetRun(services, backfill, workflowId, options, { request, ...tuning });
}

/**
 * Starts a run under its dataset's workflow id; while that id runs, AlreadyRunning with the
 * running run's id (Temporal itself keeps one run per dataset and operation).
 */
export async function startDatasetRun<I>(
  services: Services,
  workflow: (input: I) => Promise<unknown>,
  workflowId: string,
  options: Pick<WorkflowStartOptions, 'staticSummary' | 'memo' | 'typedSearchAttributes'>,
  input: I,
): Promise<StartedRun> {
  const client = await services.temporal();
  try {
    const handle = await client.workflow.start(workflow, { taskQueue: services.temporalTarget().taskQueue, workflowId, args: [input], workflowIdConflictPolicy: 'FAIL', ...options });
    return { runId: handle.firstExecutionRunId, workflowId };
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      throw new AlreadyRunning(await runIdOf(client, workflowId), workflowId);
    }
    throw e;
  }
}

/** The user-facing run id of the running execution of `workflowId`. */
async function runIdOf(client: Client, workflowId: string): Promise<string> {
  const d = await client.workflow.getHandle(workflowId).describe();
  return d.typedSearchAttributes.get(SA.runId) ?? d.runId;
}

/** A handle that follows a run just started through continue-as-new. */
export async function startedHandle(services: Services, run: StartedRun): Promise<RunHandle> {
  return (await services.temporal()).workflow.getHandle(run.workflowId, undefined, { firstExecutionRunId: run.runId });
}

/** A handle for a run a user names by run id (looked up in visibility) or workflow id. */
export async function runHandle(services: Services, runIdOrWorkflowId: string): Promise<RunHandle> {
  const client = await services.temporal();
  if (/^(backfill|stream)\//.test(runIdOrWorkflowId)) return client.workflow.getHandle(runIdOrWorkflowId);
  if (!/^[0-9a-f-]{36}$/i.test(runIdOrWorkflowId)) {
    throw new ValidationError('run', `'${runIdOrWorkflowId}' is neither a run id nor a workflow id such as backfill/binance/ohlc-1m/BTC-USDT or stream/binance/trades/BTC-USDT`);
  }
  // A run no worker has taken yet has no DccdRunId: its first execution's RunId is the one.
  const query = `DccdRunId = '${runIdOrWorkflowId}' OR RunId = '${runIdOrWorkflowId}'`;
  // Visibility lags a start by a moment: a run id just handed out is looked for a little longer.
  for (let attempt = 1; ; attempt++) {
    for await (const wf of client.workflow.list({ query })) {
      return client.workflow.getHandle(wf.workflowId, undefined, { firstExecutionRunId: runIdOrWorkflowId });
    }
    if (attempt >= VISIBILITY_TRIES) throw new NotFound(`no run ${runIdOrWorkflowId}`);
    await sleep(VISIBILITY_RETRY_MS);
  }
}

const VISIBILITY_TRIES = 5;
const VISIBILITY_RETRY_MS = 300;

/** The run behind a handle: its user-facing id and whether it still runs. */
export async function describeRun(handle: RunHandle): Promise<StartedRun & { running: boolean; status: string }> {
  const d = await handle.describe();
  return { runId: d.typedSearchAttributes.get(SA.runId) ?? d.runId, workflowId: d.workflowId, running: d.status.name === 'RUNNING', status: d.status.name.toLowerCase() };
}

export async function backfillProgress(handle: RunHandle): Promise<BackfillProgress> {
  return handle.query(progressQuery);
}

/** What one activity of a run is going through right now. */
export interface ActivityStatus {
  /** The activity's type, e.g. 'fetchWindow'. */
  type: string;
  attempt: number;
  /**
   * Timestamped lines, oldest first: the events it reported in its heartbeat (a retry, a
   * wait) and, while the server waits to retry it, the failure of its last attempt.
   */
  notes: string[];
}

export interface RunStatus {
  progress: BackfillProgress;
  activities: ActivityStatus[];
  /** The run's log with what its activities report right now, in time order, at most LOG_TAIL_LINES. */
  logTail: string[];
}

/**
 * The workflow's progress and its activities' live state: the progress query knows what
 * finished; only the server knows that a window is failing and being retried right now.
 */
export async function runStatus(handle: RunHandle, described?: WorkflowExecutionDescription): Promise<RunStatus> {
  const [progress, description] = await Promise.all([backfillProgress(handle), described ?? handle.describe()]);
  const activities = (description.raw.pendingActivities ?? []).map(activityStatus);
  // Lines start with an ISO timestamp, so text order is time order.
  const logTail = [...new Set([...progress.log, ...activities.flatMap((a) => a.notes)])].sort().slice(-LOG_TAIL_LINES);
  return { progress, activities, logTail };
}

export function activityStatus(a: temporal.api.workflow.v1.IPendingActivityInfo): ActivityStatus {
  const details = a.heartbeatDetails?.payloads?.[0];
  const beat = details ? (defaultPayloadConverter.fromPayload(details) as Partial<WindowHeartbeat>) : undefined;
  const notes = Array.isArray(beat?.events) ? [...beat.events] : [];
  const failedAt = isoOf(a.lastAttemptCompleteTime);
  const next = isoOf(a.nextAttemptScheduleTime);
  if (a.lastFailure?.message && failedAt && next) {
    notes.push(`${failedAt} attempt ${(a.attempt ?? 2) - 1} failed: ${a.lastFailure.message}; attempt ${a.attempt} at ${next}`);
  }
  return { type: a.activityType?.name ?? 'activity', attempt: a.attempt ?? 1, notes };
}

function isoOf(t: { seconds?: unknown; nanos?: number | null } | null | undefined): string | undefined {
  if (t?.seconds == null) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

/** Asks the run to end: windows in flight finish, or end at once if they are retrying. A run that has ended already is left as it is. */
export async function stopRun(handle: RunHandle): Promise<void> {
  try {
    await handle.signal(stopSignal);
  } catch (e) {
    if (e instanceof WorkflowNotFoundError && /already completed/i.test(e.message)) return;
    throw e;
  }
}

/** Waits for the run to end; a failed run becomes a result with its error, not an exception. */
export async function runResult(handle: RunHandle, runId: string): Promise<BackfillResult> {
  try {
    return await handle.result();
  } catch (e) {
    if (!(e instanceof WorkflowFailedError)) throw e;
    if (e.cause instanceof ApplicationFailure && e.cause.details?.[0]) return e.cause.details[0] as BackfillResult;
    // Terminated, timed out or cancelled: no result of its own.
    return { runId, state: 'failed', rowsWritten: 0, startNs: null, endNs: null, error: e.cause?.message ?? e.message };
  }
}
