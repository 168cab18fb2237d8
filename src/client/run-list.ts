// The runs model over workflow executions, with no second record of runs: lists come from
// visibility (dccd's search attributes), one run from describe plus the run's progress query
// or its result once it has ended. Continued segments of one run are one run.
import { createHash } from 'node:crypto';
import type { WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import { ValidationError } from '../domain/errors.ts';
import { isFinal, type JobRun, type JobRunState } from '../domain/job-run.ts';
import { liveOf } from '../domain/stream.ts';
import type { BackfillProgress } from '../domain/job.ts';
import type { Operation } from '../domain/job-spec.ts';
import { parseDatasetKind, type ExchangeName } from '../domain/target.ts';
import { isoFromNs } from '../domain/time.ts';
import type { Services } from '../services.ts';
import { SA } from '../workflows/definitions.ts';
import { backfillProgress, runHandle, runResult, runStatus, type RunHandle } from './runs.ts';
import { streamStatus } from './streams.ts';

export interface RunFilter {
  specId?: string;
  state?: JobRunState;
  operation?: Operation;
  exchange?: string;
  symbol?: string;
  /** A dataset kind: ohlc-1m, trades, book. */
  kind?: string;
  /** 1 to MAX_PAGE; default DEFAULT_PAGE. */
  limit?: number;
  /** From the previous page's nextCursor. */
  cursor?: string;
}

export interface RunPage {
  runs: JobRun[];
  /** Null on the last page. */
  nextCursor: string | null;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

/** What a filter value may hold: it is quoted into a visibility query. */
const QUERY_VALUE = /^[A-Za-z0-9/:._-]{1,100}$/;

// A run's state in visibility: the execution status, refined by the DccdState the workflow
// keeps (a stopped run completes, but is not a succeeded one). DccdRunId is set by the run's
// first workflow task, so a run without it has not been picked up by a worker yet.
const STATE_QUERY: Record<JobRunState, string> = {
  pending: `ExecutionStatus = 'Running' AND DccdRunId IS NULL`,
  running: `ExecutionStatus = 'Running' AND DccdRunId IS NOT NULL AND DccdState = 'running'`,
  stopping: `ExecutionStatus = 'Running' AND DccdState = 'stopping'`,
  succeeded: `ExecutionStatus = 'Completed' AND DccdState = 'completed'`,
  stopped: `ExecutionStatus = 'Completed' AND DccdState = 'stopped'`,
  failed: `ExecutionStatus = 'Failed'`,
  cancelled: `(ExecutionStatus = 'Canceled' OR ExecutionStatus = 'Terminated')`,
  timed_out: `ExecutionStatus = 'TimedOut'`,
};

export function runsQuery(f: RunFilter): string {
  const clauses = [`DccdOperation IN ('backfill', 'stream')`, `ExecutionStatus != 'ContinuedAsNew'`];
  const eq = (key: string, field: string, v: string | undefined) => {
    if (v === undefined) return;
    if (!QUERY_VALUE.test(v)) throw new ValidationError(field, `'${v}' has characters other than letters, digits and / : . _ -`);
    clauses.push(`${key} = '${v}'`);
  };
  eq(SA.specId.name, 'spec_id', f.specId);
  eq(SA.operation.name, 'operation', f.operation);
  eq(SA.exchange.name, 'exchange', f.exchange);
  eq(SA.symbol.name, 'symbol', f.symbol);
  eq(SA.kind.name, 'kind', f.kind);
  if (f.state) clauses.push(STATE_QUERY[f.state]);
  return clauses.join(' AND ');
}

export async function listRuns(services: Services, f: RunFilter = {}): Promise<RunPage> {
  const limit = f.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new ValidationError('limit', `must be a whole number from 1 to ${MAX_PAGE}`);
  const client = await services.temporal();
  const { namespace } = services.temporalTarget();
  const query = runsQuery(f);
  const response = await client.workflowService.listWorkflowExecutions({
    namespace,
    query,
    pageSize: limit,
    nextPageToken: f.cursor === undefined ? undefined : decodeCursor(f.cursor, query),
  });
  const runs = await Promise.all(
    (response.executions ?? []).map(async (raw) => runFromExecution(await executionInfoFromRaw(raw, client.options.loadedDataConverter, raw, namespace))),
  );
  const token = response.nextPageToken;
  return { runs, nextCursor: token && token.length > 0 ? encodeCursor(Buffer.from(token), query) : null };
}

// A cursor is the server's page token bound to the query it pages: the server takes a token
// it did not issue for seconds of retries before it says no, so only a cursor this code
// made, for the same filters, reaches it.
const seal = (token: Buffer, query: string) => createHash('sha256').update(token).update(query).digest('base64url').slice(0, 16);

function encodeCursor(token: Buffer, query: string): string {
  return `${token.toString('base64url')}.${seal(token, query)}`;
}

function decodeCursor(cursor: string, query: string): Buffer {
  const m = /^([A-Za-z0-9_-]{1,4000})\.([A-Za-z0-9_-]{16})$/.exec(cursor);
  const token = m ? Buffer.from(m[1]!, 'base64url') : undefined;
  if (!token || seal(token, query) !== m![2]) {
    throw new ValidationError('cursor', 'not a cursor of this list (take nextCursor of the previous page, with the same filters)');
  }
  return token;
}

/** A run from what visibility or describe knows of its execution. */
export function runFromExecution(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime' | 'memo' | 'typedSearchAttributes'>): JobRun {
  const sa = info.typedSearchAttributes;
  const firstRunId = sa.get(SA.runId);
  const kind = sa.get(SA.kind);
  const operation = (sa.get(SA.operation) ?? 'backfill') as Operation;
  const startedAt = typeof info.memo?.startedAt === 'string' ? info.memo.startedAt : info.startTime.toISOString();
  return {
    runId: firstRunId ?? info.runId,
    workflowId: info.workflowId,
    specId: sa.get(SA.specId) ?? null,
    operation,
    target: { exchange: sa.get(SA.exchange) as ExchangeName, symbol: sa.get(SA.symbol) ?? '', ...(kind ? parseDatasetKind(kind) : { kind: 'trades' as const }) },
    state: stateOf(info.status.name, sa.get(SA.state), firstRunId !== undefined),
    startedAt,
    endedAt: info.closeTime?.toISOString() ?? null,
    rowsWritten: sa.get(SA.rowsWritten) ?? 0,
    error: null,
    progress: null,
    range: null,
    logTail: [],
  };
}

function stateOf(status: WorkflowExecutionInfo['status']['name'], dccdState: string | undefined, pickedUp: boolean): JobRunState {
  switch (status) {
    case 'RUNNING':
      if (!pickedUp) return 'pending';
      return dccdState === 'stopping' ? 'stopping' : 'running';
    case 'COMPLETED':
      return dccdState === 'stopped' ? 'stopped' : 'succeeded';
    case 'FAILED':
      return 'failed';
    case 'TIMED_OUT':
      return 'timed_out';
    default:
      return 'cancelled';
  }
}

/** One run by run id (or workflow id): its state, and its progress and log from the run itself. */
export async function getRun(services: Services, id: string): Promise<JobRun> {
  return runOf(await runHandle(services, id));
}

/** The run behind a handle, as getRun tells it. */
export async function runOf(handle: RunHandle): Promise<JobRun> {
  const d = await handle.describe();
  const run = runFromExecution(d);
  // No worker has taken it yet: a query would wait for one.
  if (run.state === 'pending') return run;
  if (run.operation === 'stream') return streamRunOf(handle, run, d);
  if (!isFinal(run.state)) {
    const status = await runStatus(handle, d);
    return { ...run, rowsWritten: status.progress.rowsWritten, progress: progressOf(status.progress), range: rangeOf(status.progress), logTail: status.logTail };
  }
  const result = await runResult(handle, run.runId);
  // A query of an ended run replays its history on a worker; with none running, the result alone.
  const progress = await backfillProgress(handle).catch(() => undefined);
  return {
    ...run,
    rowsWritten: result.rowsWritten || run.rowsWritten,
    error: result.error ?? null,
    progress: progress ? progressOf(progress) : null,
    range: rangeOf(result),
    logTail: progress?.log ?? [],
  };
}

/** A stream run: its live counters while it runs; once ended, what its history replays to (or its result alone). */
async function streamRunOf(handle: RunHandle, run: JobRun, d: WorkflowExecutionDescription): Promise<JobRun> {
  const final = isFinal(run.state);
  const status = await streamStatus(handle, d).catch((e: unknown) => {
    if (final) return undefined;
    throw e;
  });
  if (!status) return run;
  return { ...run, rowsWritten: status.rowsWritten, logTail: status.log, live: liveOf(status), ...(status.state === 'failed' && { error: status.log.at(-1) ?? null }) };
}

function rangeOf(r: { startNs: string | null; endNs: string | null }): JobRun['range'] {
  return r.startNs && r.endNs ? { start: isoFromNs(BigInt(r.startNs)), end: isoFromNs(BigInt(r.endNs)) } : null;
}

function progressOf(p: BackfillProgress): JobRun['progress'] {
  return { done: p.windowsDone, total: p.windowsTotal, unit: 'windows', rows: p.rowsWritten };
}

