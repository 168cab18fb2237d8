// Which part's rows count where windows overlap. Parts of one dataset normally have disjoint
// windows; they overlap only between the moment a write renames its new parts into place
// and the moment it deletes the parts they supersede, or for good if the process dies in
// between. Readers then must not see both: where windows overlap, the rows of the part
// with the higher rank (the later write) win. A part cut out of an older part keeps the
// older part's rank, so a clipped remnant never outranks a newer write it overlaps.
import type { Window } from './parquet-layout.ts';
import { cmpWindow } from './dataset-files.ts';

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
  const byPrecedence = [...parts].sort((a, b) => (a.rank !== b.rank ? (a.rank > b.rank ? -1 : 1) : cmpWindow(a, b)));
  const taken: Window[] = []; // disjoint, sorted
  return byPrecedence.map((part) => {
    const windows = subtract(part, taken);
    insertMerged(taken, part);
    return { part, windows };
  });
}

/** w minus the union of `taken` (disjoint, sorted). */
function subtract(w: Window, taken: readonly Window[]): Window[] {
  const out: Window[] = [];
  let from = w.startNs;
  for (const t of taken) {
    if (t.endNs <= from) continue;
    if (t.startNs >= w.endNs) break;
    if (t.startNs > from) out.push({ startNs: from, endNs: t.startNs });
    from = t.endNs;
    if (from >= w.endNs) return out;
  }
  if (from < w.endNs) out.push({ startNs: from, endNs: w.endNs });
  return out;
}

function insertMerged(taken: Window[], w: Window): void {
  let startNs = w.startNs;
  let endNs = w.endNs;
  const kept: Window[] = [];
  for (const t of taken) {
    if (t.endNs < startNs || t.startNs > endNs) kept.push(t);
    else {
      if (t.startNs < startNs) startNs = t.startNs;
      if (t.endNs > endNs) endNs = t.endNs;
    }
  }
  kept.push({ startNs, endNs });
  kept.sort(cmpWindow);
  taken.splice(0, taken.length, ...kept);
}
