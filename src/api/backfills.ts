// Backfill runs as clients see them: start (after checking the request against the
// exchange, so a bad one starts nothing), follow, stop. The CLI and the API share these.
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { checkBackfillRequest } from '../activities/backfill-plan.ts';
import { AlreadyRunning, NotFound, ValidationError } from '../domain/errors.ts';
import { backfillWorkflowId, type BackfillProgress, type BackfillRequest, type BackfillResult } from '../domain/job.ts';
import { datasetKind, parseExchange } from '../domain/target.ts';
import type { Services } from '../services.ts';
import { backfill, type BackfillInput } from '../workflows/backfill.ts';
import { progressQuery, SA, stopSignal } from '../workflows/definitions.ts';

export interface StartedRun {
  runId: string;
  workflowId: string;
}

/** Workflow knobs a caller may set; defaults suit production. */
export type BackfillTuning = Pick<BackfillInput, 'concurrency' | 'windowsPerSegment'>;

export async function startBackfill(services: Services, request: BackfillRequest, tuning: BackfillTuning = {}): Promise<StartedRun> {
  const exchange = parseExchange(request.target.exchange);
  const checked = await checkBackfillRequest({ ...request, target: { ...request.target, exchange } }, services.adapter(exchange));
  const target = checked.target;
  const normalized: BackfillRequest = { ...request, target };
  const workflowId = backfillWorkflowId(target);
  const client = await services.temporal();
  try {
    const handle = await client.workflow.start(backfill, {
      taskQueue: services.temporalTarget().taskQueue,
      workflowId,
      args: [{ request: normalized, ...tuning }],
      workflowIdConflictPolicy: 'FAIL',
      staticSummary: `backfill ${target.exchange} ${target.symbol} ${datasetKind(target)} from ${request.start}${request.end ? ` to ${request.end}` : ''}`,
      typedSearchAttributes: [
        { key: SA.operation, value: 'backfill' },
        { key: SA.exchange, value: target.exchange },
        { key: SA.symbol, value: target.symbol },
        { key: SA.kind, value: datasetKind(target) },
        ...(request.specId ? [{ key: SA.specId, value: request.specId }] : []),
      ],
    });
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
export async function startedHandle(services: Services, run: StartedRun): Promise<WorkflowHandle<typeof backfill>> {
  return (await services.temporal()).workflow.getHandle(run.workflowId, undefined, { firstExecutionRunId: run.runId });
}

/** A handle for a run a user names by run id (looked up in visibility) or workflow id. */
export async function runHandle(services: Services, runIdOrWorkflowId: string): Promise<WorkflowHandle<typeof backfill>> {
  const client = await services.temporal();
  if (runIdOrWorkflowId.startsWith('backfill/')) return client.workflow.getHandle(runIdOrWorkflowId);
  if (!/^[0-9a-f-]{36}$/i.test(runIdOrWorkflowId)) throw new ValidationError('run', `'${runIdOrWorkflowId}' is neither a run id nor a backfill/... workflow id`);
  for await (const wf of client.workflow.list({ query: `DccdRunId = '${runIdOrWorkflowId}'` })) {
    return client.workflow.getHandle(wf.workflowId, undefined, { firstExecutionRunId: runIdOrWorkflowId });
  }
  throw new NotFound(`no run ${runIdOrWorkflowId}`);
}

export async function backfillProgress(handle: WorkflowHandle<typeof backfill>): Promise<BackfillProgress> {
  return handle.query(progressQuery);
}

/** Asks the run to end after the window in flight; it returns state 'stopped'. */
export async function stopBackfill(handle: WorkflowHandle<typeof backfill>): Promise<void> {
  await handle.signal(stopSignal);
}

/** Waits for the run to end; a failed run becomes a result with its error, not an exception. */
export async function backfillResult(handle: WorkflowHandle<typeof backfill>, runId: string): Promise<BackfillResult> {
  try {
    return await handle.result();
  } catch (e) {
    if (!(e instanceof WorkflowFailedError)) throw e;
    if (e.cause instanceof ApplicationFailure && e.cause.details?.[0]) return e.cause.details[0] as BackfillResult;
    // Terminated, timed out or cancelled: no result of its own.
    return { runId, state: 'failed', rowsWritten: 0, startNs: null, endNs: null, error: e.cause?.message ?? e.message };
  }
}
