// Sets of half-open ns intervals [startNs, endNs), kept sorted and disjoint, with touching
// intervals merged: what coverage is made of, and what holes are the complement of.

export interface Interval {
  startNs: bigint;
  endNs: bigint;
}

export function cmpInterval(a: Interval, b: Interval): number {
  if (a.startNs !== b.startNs) return a.startNs < b.startNs ? -1 : 1;
  if (a.endNs !== b.endNs) return a.endNs < b.endNs ? -1 : 1;
  return 0;
}

/** The union of `list` as a sorted, disjoint set; empty intervals drop out. */
export function unionOf(list: readonly Interval[]): Interval[] {
  const sorted = list.filter((w) => w.startNs < w.endNs).sort(cmpInterval);
  const out: Interval[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last && w.startNs <= last.endNs) {
      if (w.endNs > last.endNs) last.endNs = w.endNs;
    } else out.push({ startNs: w.startNs, endNs: w.endNs });
  }
  return out;
}

/** `set` (sorted, disjoint) with `w` added, merging what it overlaps or touches. */
export function withInterval(set: readonly Interval[], w: Interval): Interval[] {
  return unionOf([...set, w]);
}

/** w minus the union of `set` (sorted, disjoint), as sorted pieces. */
export function subtract(w: Interval, set: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let from = w.startNs;
  for (const t of set) {
    if (t.endNs <= from) continue;
    if (t.startNs >= w.endNs) break;
    if (t.startNs > from) out.push({ startNs: from, endNs: t.startNs });
    from = t.endNs;
    if (from >= w.endNs) return out;
  }
  if (from < w.endNs) out.push({ startNs: from, endNs: w.endNs });
  return out;
}

/** The gaps between the intervals of `set` (sorted, disjoint): its holes between first and last. */
export function gapsOf(set: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (let i = 1; i < set.length; i++) out.push({ startNs: set[i - 1]!.endNs, endNs: set[i]!.startNs });
  return out;
}
