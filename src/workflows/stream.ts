// The stream workflow: one per dataset (`stream/<dataset>`), supervising session after session
// of the stream activity until it is stopped. Rows never pass through here; each session
// hands the next its counters and the last row written, so the next one heals what fell
// between them. Continues as new after a number of sessions to keep its history short.
import {
  ApplicationFailure,
  CancellationScope,
  ContinueAsNew,
  isCancellation,
  makeContinueAsNewFunc,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { StreamCarry } from '../activities/stream.ts';
import { LOG_TAIL_LINES } from '../domain/job.ts';
import { DEFAULT_FLUSH_MS, DEFAULT_FLUSH_ROWS, emptyStatus, type StreamRequest, type StreamRunStatus } from '../domain/stream.ts';
import { datasetKind } from '../domain/target.ts';
import { STREAM, STREAM_SESSION_MS } from './activity-options.ts';
import { SA, stopSignal, streamStatusQuery } from './definitions.ts';
import { describeFailure } from './failure-text.ts';

const { streamSession } = proxyActivities<Activities>(STREAM);

/** Sessions per run segment: a handful of events each, far below the continue-as-new suggestion. */
export const SESSIONS_PER_SEGMENT = 100;

export interface StreamInput {
  request: StreamRequest;
  carry?: StreamCarry & { sessions: number; log: string[] };
  /** Tests shorten sessions, the venue's silence limit and the wait for a dead worker's session. */
  sessionMs?: number;
  staleAfterMs?: number;
  heartbeatTimeoutMs?: number;
  backoff?: { baseMs: number; maxMs: number; healthyAfterMs: number };
}

export interface StreamResult {
  runId: string;
  state: 'stopped';
  rowsWritten: number;
  gapsTotal: number;
  reconnects: number;
}

export async function stream(input: StreamInput): Promise<StreamResult> {
  const runId = workflowInfo().firstExecutionRunId;
  const { target } = input.request;
  const status: StreamRunStatus = { ...(input.carry?.status ?? emptyStatus()), state: 'running', sessions: input.carry?.sessions ?? 0, log: input.carry?.log ?? [] };
  let last = input.carry?.last ?? null;
  let stopRequested = false;
  let inFlight: CancellationScope | undefined;
  const say = (line: string) => {
    status.log.push(`${new Date().toISOString()} ${line}`);
    if (status.log.length > LOG_TAIL_LINES) status.log.splice(0, status.log.length - LOG_TAIL_LINES);
  };
  setHandler(streamStatusQuery, () => status);
  setHandler(stopSignal, () => {
    if (stopRequested) return;
    stopRequested = true;
    status.state = 'stopping';
    say('stop requested: the session flushes what it received and ends');
    inFlight?.cancel();
  });
  if (!input.carry) {
    upsertSearchAttributes([{ key: SA.runId, value: runId }, { key: SA.state, value: 'running' }]);
    say(`streaming ${target.exchange} ${target.symbol} ${datasetKind(target)}`);
  }

  try {
    for (let inSegment = 0; !stopRequested; inSegment++) {
      if (inSegment >= SESSIONS_PER_SEGMENT || workflowInfo().continueAsNewSuggested) {
        return await makeContinueAsNewFunc<typeof stream>({ memo: workflowInfo().memo })({ ...input, carry: { status, last, sessions: status.sessions, log: status.log } });
      }
      setCurrentDetails(`stream ${target.exchange} ${target.symbol} ${datasetKind(target)}: session ${status.sessions + 1}, ${status.rowsWritten} rows, ${status.gapsTotal} gaps`);
      const scope = new CancellationScope();
      inFlight = scope;
      const r = await scope.run(() =>
        streamSession.executeWithOptions({ ...STREAM, ...(input.heartbeatTimeoutMs && { heartbeatTimeout: input.heartbeatTimeoutMs }), summary: `session ${status.sessions + 1}` }, [
          {
            target,
            flushRows: input.request.flushRows ?? DEFAULT_FLUSH_ROWS,
            flushMs: input.request.flushMs ?? DEFAULT_FLUSH_MS,
            sessionMs: input.sessionMs ?? STREAM_SESSION_MS,
            ...(input.request.depth !== undefined && { depth: input.request.depth }),
            ...(input.request.snapshotIntervalMs !== undefined && { snapshotIntervalMs: input.request.snapshotIntervalMs }),
            resume: { status, last },
            ...(input.staleAfterMs !== undefined && { staleAfterMs: input.staleAfterMs }),
            ...(input.backoff && { backoff: input.backoff }),
          },
        ]),
      );
      inFlight = undefined;
      Object.assign(status, r.status);
      last = r.last;
      status.sessions++;
      say(`session ${status.sessions} ${r.ended === 'stopped' ? 'stopped' : 'ended'}: ${status.rowsWritten} rows in all, ${status.reconnects} reconnects, ${status.gapsTotal} gaps`);
      upsertSearchAttributes([{ key: SA.rowsWritten, value: status.rowsWritten }]);
    }
    status.state = 'stopped';
    upsertSearchAttributes([{ key: SA.state, value: 'stopped' }, { key: SA.rowsWritten, value: status.rowsWritten }]);
    return { runId, state: 'stopped', rowsWritten: status.rowsWritten, gapsTotal: status.gapsTotal, reconnects: status.reconnects };
  } catch (e) {
    if (e instanceof ContinueAsNew || isCancellation(e)) throw e;
    const message = describeFailure(e);
    status.state = 'failed';
    say(`failed: ${message}`);
    upsertSearchAttributes([{ key: SA.state, value: 'failed' }]);
    throw ApplicationFailure.create({ message, type: 'StreamFailed', nonRetryable: true });
  }
}
