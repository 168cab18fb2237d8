// The backfill job as workflows, activities, the API and the CLI exchange it. Payloads cross
// Temporal as JSON, so ns times travel as decimal strings, never as numbers.
import type { Target } from './target.ts';
import { datasetId } from './target.ts';

export interface BackfillRequest {
  target: Target;
  /** 'last' (the default), 'origin', an ISO date or date-time, or integer ns (as text). */
  start?: string;
  /** Same forms but 'last'/'origin'; omitted means now. */
  end?: string;
  /** Book snapshot depth per side. */
  depth?: number;
  /** With start 'last': where to begin when nothing is stored yet (a job's own start); else a default look-back. */
  startIfEmpty?: string;
  /** The job spec that asked for this run, if any. */
  specId?: string;
}

/**
 * A request checked once against the venue (shape, capability, times, symbol listed) and
 * normalized: the unified symbol, and times as 'last', 'origin' or integer ns text. This is
 * what a backfill workflow receives; nothing downstream checks it again.
 */
export interface CheckedBackfill {
  target: Target;
  start: 'last' | 'origin' | `${bigint}`;
  end?: `${bigint}`;
  /** Book snapshot depth per side, set exactly for kind book. */
  depth?: number;
  /** With start 'last': where a run that finds nothing stored begins. */
  startIfEmpty?: 'origin' | `${bigint}`;
  specId?: string;
}

export type RunState = 'running' | 'stopping' | 'completed' | 'stopped' | 'failed';

export interface BackfillProgress {
  state: RunState;
  startNs: string | null;
  endNs: string | null;
  windowsDone: number;
  windowsTotal: number;
  rowsWritten: number;
  /** The ts up to which the dataset is complete (exclusive). */
  currentNs: string | null;
  /** The last log lines, oldest first. */
  log: string[];
}

export interface BackfillResult {
  runId: string;
  state: 'completed' | 'stopped' | 'failed';
  rowsWritten: number;
  startNs: string | null;
  endNs: string | null;
  error?: string;
}

/** What a retried window resumes from: everything before committedNs is on disk. */
export interface WindowCheckpoint {
  committedNs: string;
  rows: number;
  pages: number;
  lastTs: string | null;
}

/**
 * A window's heartbeat details: where a retry resumes, and its recent events (timestamped
 * lines), which clients show while the window is still retrying.
 */
export interface WindowHeartbeat {
  checkpoint?: WindowCheckpoint;
  events: string[];
}

/** One backfill per dataset at a time: the workflow id is the dataset's. */
export function backfillWorkflowId(t: Target): string {
  return `backfill/${datasetId(t)}`;
}

/** One stream per dataset at a time, likewise. */
export function streamWorkflowId(t: Target): string {
  return `stream/${datasetId(t)}`;
}

export const LOG_TAIL_LINES = 50;
