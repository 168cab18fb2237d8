// A schedule's action. Temporal appends a timestamp to the id of every workflow a schedule
// starts, so a schedule cannot start `backfill/<dataset>` itself; this small workflow does,
// under the dataset's id, so the one-writer rule and the run id users see hold for scheduled
// runs too. When the dataset is already being backfilled (a manual run, an API run), it skips
// and says why; the next scheduled run continues from wherever that one ends (start=last).
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ChildWorkflowFailure, ParentClosePolicy, log, setCurrentDetails, startChild } from '@temporalio/workflow';
import type { BackfillResult, CheckedBackfill } from '../domain/job.ts';
import { backfill } from './backfill.ts';
import { backfillStartOptions } from './backfill-start.ts';

export interface ScheduledBackfillInput {
  specId: string;
  /** The spec's version (specVersion) when the schedule was applied: reconcile compares it. */
  specVersion: string;
  /** Checked when the job was applied; start is 'last', from the job's start when nothing is stored. */
  request: CheckedBackfill;
}

export type ScheduledBackfillResult =
  | { state: 'skipped'; reason: string }
  | { state: 'started'; runId: string; workflowId: string; result: BackfillResult | { state: 'failed'; error: string } };

export async function scheduledBackfill(input: ScheduledBackfillInput): Promise<ScheduledBackfillResult> {
  // Date is deterministic in workflow code: the time of the task that runs this.
  const { workflowId, ...options } = backfillStartOptions(input.request, new Date());
  let child;
  try {
    child = await startChild(backfill, {
      workflowId,
      ...options,
      args: [{ request: input.request }],
      // The run is the dataset's, not this trigger's: it goes on if the trigger is terminated.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const reason = `skipped: ${workflowId} is already running (one backfill per dataset at a time); the next scheduled run continues where it ends`;
    log.info(reason, { specId: input.specId });
    setCurrentDetails(reason);
    return { state: 'skipped', reason };
  }
  const runId = child.firstExecutionRunId;
  setCurrentDetails(`started ${workflowId}, run ${runId}`);
  try {
    return { state: 'started', runId, workflowId, result: await child.result() };
  } catch (e) {
    // The run reports its own failure (its status, its log); the trigger only passes it on.
    const error = e instanceof ChildWorkflowFailure && e.cause ? e.cause.message : (e as Error).message;
    return { state: 'started', runId, workflowId, result: { state: 'failed', error } };
  }
}
