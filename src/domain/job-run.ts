// A run as users see it, whoever started it (a schedule, the CLI, the API): a view over one
// backfill or stream workflow, from visibility (lists) or describe + query (one run).
import type { Operation } from './job-spec.ts';
import type { StreamStatus } from './stream.ts';
import type { Target } from './target.ts';

export const JOB_RUN_STATES = ['pending', 'running', 'stopping', 'succeeded', 'failed', 'stopped', 'cancelled', 'timed_out'] as const;
export type JobRunState = (typeof JOB_RUN_STATES)[number];

export interface RunProgress {
  done: number;
  total: number;
  unit: 'windows';
  rows: number;
}

export interface JobRun {
  /** The first execution's run id: the same in the CLI, the API and the Temporal UI, across continue-as-new. */
  runId: string;
  workflowId: string;
  specId: string | null;
  operation: Operation;
  target: Target;
  state: JobRunState;
  startedAt: string;
  endedAt: string | null;
  rowsWritten: number;
  error: string | null;
  /** Known for one run (describe + query); lists leave it null. */
  progress: RunProgress | null;
  /** What a backfill covers once it has resolved its range (ISO, ns); streams and lists leave it null. */
  range: { start: string; end: string } | null;
  logTail: string[];
  /** A stream's liveness (one run, not lists): rows, rate, last sample, reconnects, gaps. */
  live?: StreamStatus;
}

export function isFinal(state: JobRunState): boolean {
  return !['pending', 'running', 'stopping'].includes(state);
}
