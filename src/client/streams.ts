// Streams as clients see them: start a checked stream request, and read a running stream's
// liveness — the workflow's counters of its finished sessions, overtaken by the running
// session's heartbeat, which carries the same counters up to the last second.
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { StreamRequest, StreamRunStatus } from '../domain/stream.ts';
import type { Services } from '../services.ts';
import type { StreamCarry } from '../activities/stream.ts';
import { streamStatusQuery } from '../workflows/definitions.ts';
import { streamStartOptions } from '../workflows/backfill-start.ts';
import { stream, type StreamInput, type StreamResult } from '../workflows/stream.ts';
import { startDatasetRun, type RunHandle, type StartedRun } from './runs.ts';

/** Workflow knobs a caller may set (tests); defaults suit production. */
export type StreamTuning = Pick<StreamInput, 'sessionMs' | 'staleAfterMs' | 'backoff' | 'heartbeatTimeoutMs'>;

export async function submitStream(services: Services, request: StreamRequest, tuning: StreamTuning = {}): Promise<StartedRun> {
  const { workflowId, ...options } = streamStartOptions(request, new Date());
  return startDatasetRun(services, stream, workflowId, options, { request, ...tuning });
}

/** A stream's state and counters as of its running session's last heartbeat. */
export async function streamStatus(handle: RunHandle, described?: WorkflowExecutionDescription): Promise<StreamRunStatus> {
  const [status, d] = await Promise.all([handle.query(streamStatusQuery), described ?? handle.describe()]);
  const session = (d.raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'streamSession');
  const payload = session?.heartbeatDetails?.payloads?.[0];
  const beat = payload ? (defaultPayloadConverter.fromPayload(payload) as StreamCarry) : undefined;
  return beat?.status ? { ...status, ...beat.status } : status;
}

/** Waits for a stream run to end (after a stop); a handle found by run id is typed for any run. */
export async function streamResult(handle: RunHandle): Promise<StreamResult> {
  return (await handle.result()) as unknown as StreamResult;
}
