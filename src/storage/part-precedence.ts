// Which part's rows count where windows overlap. Parts of one dataset normally have disjoint
// windows; they overlap only between the moment a write renames its new parts into place
// and the moment it deletes the parts they supersede, or for good if the process dies in
// between. Readers then must not see both: where windows overlap, the rows of the part
// with the higher rank (the later write) win. A part cut out of an older part keeps the
// older part's rank, so a clipped remnant never outranks a newer write it overlaps.
import type { Window } from './parquet-layout.ts';
import { cmpInterval, subtract, withInterval } from '../domain/intervals.ts';

export interface RankedWindow extends Window {
  /** Write stamp of the rows in the part; higher is newer. */
  rank: bigint;
}

/** True when some windows of `parts` (sorted by start) overlap. */
export function hasOverlap(parts: readonly Window[]): boolean {
  let reach: bigint | undefined;
  for (const p of parts) {
    if (reach !== undefined && p.startNs < reach) return true;
    if (reach === undefined || p.endNs > reach) reach = p.endNs;
  }
  return false;
}

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
