// A live stream of one dataset: what it is asked to do and what it tells of itself.
import type { Target } from './target.ts';

/** Rows buffered before a flush, and the longest a received row waits for one. */
export const DEFAULT_FLUSH_ROWS = 1_000;
export const DEFAULT_FLUSH_MS = 10_000;
/** The most a flush may wait for: more rows would sit in memory, and a crash would cost more. */
export const MAX_FLUSH_ROWS = 1_000_000;
export const MAX_FLUSH_MS = 3_600_000;

/** Book streams: levels per side kept, and how often a whole snapshot is stored between the diffs. */
export const DEFAULT_BOOK_DEPTH = 20;
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 60_000;

export interface StreamRequest {
  target: Target;
  flushRows?: number;
  flushMs?: number;
  /** Books: levels per side kept and snapshotted, and how often a snapshot is stored (ms). */
  depth?: number;
  snapshotIntervalMs?: number;
  /** The job spec that keeps this stream, and the version of it the stream was started from. */
  specId?: string;
  specVersion?: string;
}

/** A span the stream could not record, and whether REST history filled it since. */
export interface GapRecord {
  /** ns, as strings: [afterNs, beforeNs] is the span between the rows either side. */
  afterNs: string | null;
  beforeNs: string;
  missingIds?: { from: string; to: string };
  reason: string;
  /** 'healed': fetched again over REST; 'open': nothing could fill it (yet). */
  state: 'healed' | 'open';
  at: string;
}

/** Liveness of a stream: counters over the run, and the latest of what it saw. */
export interface StreamStatus {
  rowsWritten: number;
  /** ns of the newest row written, as a string. */
  lastTs: string | null;
  /** The newest price (trades, candles) or best bid and ask (books) seen, and when (received, ISO), throttled to one per second. */
  lastSample: LastSample | null;
  reconnects: number;
  gapsTotal: number;
  /** The most recent gaps, oldest first. */
  gaps: GapRecord[];
  /** Rows per second over the last flushes. */
  rate: number;
}

export interface LastSample {
  price?: number;
  bid?: number;
  ask?: number;
  /** The row's own time, and when it was received. */
  ts: string;
  receivedAt: string;
}

export const GAPS_KEPT = 20;

/** What the stream workflow answers: its state and the counters of its finished sessions. */
export interface StreamRunStatus extends StreamStatus {
  state: 'running' | 'stopping' | 'stopped' | 'failed';
  sessions: number;
  log: string[];
}

export const emptyStatus = (): StreamStatus => ({ rowsWritten: 0, lastTs: null, lastSample: null, reconnects: 0, gapsTotal: 0, gaps: [], rate: 0 });

/** The liveness part of a run's status. */
export function liveOf(s: StreamStatus): StreamStatus {
  return { rowsWritten: s.rowsWritten, lastTs: s.lastTs, lastSample: s.lastSample, reconnects: s.reconnects, gapsTotal: s.gapsTotal, gaps: s.gaps, rate: s.rate };
}
