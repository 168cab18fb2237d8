// How a backfill or stream run is started, whoever starts it (the API, the CLI, a schedule's trigger):
// its workflow id (the dataset's, so Temporal keeps one writer), a summary a person can
// read in the Web UI, and the search attributes the runs list filters on. Pure: safe in
// workflow code.
import { backfillWorkflowId, streamWorkflowId, type CheckedBackfill } from '../domain/job.ts';
import type { Operation } from '../domain/job-spec.ts';
import type { StreamRequest } from '../domain/stream.ts';
import { datasetKind, type Target } from '../domain/target.ts';
import { isoFromNs } from '../domain/time.ts';
import { SA } from './definitions.ts';

/** `now`: when the run starts, kept in the memo so every continued segment knows the run's start. */
export function backfillStartOptions(request: CheckedBackfill, now: Date) {
  const { target } = request;
  return startOptions('backfill', backfillWorkflowId(target), target, `backfill ${target.exchange} ${target.symbol} ${datasetKind(target)}${rangeText(request)}`, request.specId, now);
}

/** A stream started from a job keeps the job's version in its memo: reconcile tells an edited job's stream by it. */
export function streamStartOptions(request: StreamRequest, now: Date) {
  const { target } = request;
  const summary = `stream ${target.exchange} ${target.symbol} ${datasetKind(target)}`;
  return startOptions('stream', streamWorkflowId(target), target, summary, request.specId, now, request.specVersion ? { specVersion: request.specVersion } : {});
}

function startOptions(operation: Operation, workflowId: string, target: Target, summary: string, specId: string | undefined, now: Date, memo: Record<string, string> = {}) {
  return {
    workflowId,
    staticSummary: summary,
    // Carried into every continued segment, which have no static summary of their own.
    memo: { summary, startedAt: now.toISOString(), ...memo },
    typedSearchAttributes: [
      { key: SA.operation, value: operation },
      { key: SA.exchange, value: target.exchange },
      { key: SA.symbol, value: target.symbol },
      { key: SA.kind, value: datasetKind(target) },
      { key: SA.state, value: 'running' },
      ...(specId ? [{ key: SA.specId, value: specId }] : []),
    ],
  };
}

function rangeText(r: CheckedBackfill): string {
  if (r.target.kind === 'book') return `, ${r.depth} levels`;
  const t = (v: string) => (/^-?\d+$/.test(v) ? isoFromNs(BigInt(v)) : v);
  return ` from ${t(r.start)}${r.end ? ` to ${t(r.end)}` : ''}`;
}
