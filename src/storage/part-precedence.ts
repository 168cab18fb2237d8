// Which rows count where parts' windows overlap. REST parts of one dataset normally have
// disjoint windows; they overlap only between the moment a write renames its new parts into
// place and the moment it deletes the parts they supersede, or for good if the process dies
// in between. Readers then must not see both: where REST windows overlap, the rows of the
// part with the higher rank (the later write) win. A part cut out of an older part keeps the
// older part's rank, so a clipped remnant never outranks a newer write it overlaps.
// Stream parts overlap REST parts and each other by design (a backfill over a streamed day, a
// candle flushed again while it is open): there rows merge by key, a REST row winning over a
// streamed one (a REST candle is final, a streamed one may be a snapshot of an open candle),
// and among streamed rows the one of the latest flush (streamOrder).
import type { Window } from './parquet-layout.ts';
import { cmpInterval, subtract, withInterval } from '../domain/intervals.ts';

export interface RankedWindow extends Window {
  /** Write stamp of the rows in the part; higher is newer. */
  rank: bigint;
}

/** `parts` (sorted by start) in runs whose windows overlap, each run chained by overlaps; in order. */
export function overlapGroups<P extends Window>(parts: readonly P[]): P[][] {
  const groups: P[][] = [];
  let reach: bigint | undefined;
  for (const p of parts) {
    if (reach !== undefined && p.startNs < reach) groups[groups.length - 1]!.push(p);
    else groups.push([p]);
    if (reach === undefined || p.endNs > reach) reach = p.endNs;
  }
  return groups;
}

/** True when some windows of `parts` (sorted by start) overlap. */
export const hasOverlap = (parts: readonly Window[]): boolean => overlapGroups(parts).some((g) => g.length > 1);

/**
 * For each part, the sub-windows where its rows are the ones to read (possibly none).
 * Equal ranks are pieces of one write, identical where they overlap, so any fixed order
 * between them will do.
 */
export function visibleWindows<P extends RankedWindow>(parts: readonly P[]): Array<{ part: P; windows: Window[] }> {
  const byPrecedence = [...parts].sort((a, b) => (a.rank !== b.rank ? (a.rank > b.rank ? -1 : 1) : cmpInterval(a, b)));
  let taken: Window[] = []; // disjoint, sorted
  return byPrecedence.map((part) => {
    const windows = subtract(part, taken);
    taken = withInterval(taken, part);
    return { part, windows };
  });
}

export interface StreamRank {
  /** Write stamp of the session's first flush in its process: later sessions are newer. */
  sessionNs: bigint;
  /** The flush's number within its session. */
  seq: number;
  /** The flush's own write stamp, for a retried flush that landed under another name. */
  writtenNs: bigint;
}

const cmp = (a: bigint | number, b: bigint | number): number => (a < b ? -1 : a > b ? 1 : 0);

/** Stream parts from oldest to latest flush: by session, then flush number, then write. */
export function streamOrder<P extends StreamRank>(parts: readonly P[]): P[] {
  return [...parts].sort((a, b) => cmp(a.sessionNs, b.sessionNs) || cmp(a.seq, b.seq) || cmp(a.writtenNs, b.writtenNs));
}
