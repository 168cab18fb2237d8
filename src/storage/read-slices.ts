// Where a streamed read cuts its range into queries. Each query ends in ORDER BY, which takes
// in every row of the query before it gives out the first: one query over a year of trades
// would sort some 10^8 rows (spilling gigabytes to disk) before a byte went out. Slices
// follow the parts: parts that overlap (REST and stream parts alike) stay in one slice, where
// their precedence and key merge are settled (part-precedence.ts), and neighbours are joined
// up to about `maxBytes` of Parquet, so a dataset of small parts (candles) is not one query per file.
import type { Window } from './parquet-layout.ts';
import { overlapGroups } from './part-precedence.ts';

/** Parquet read per slice: ~10^6 trades, sorted well within the store's DuckDB memory limit. */
export const SLICE_BYTES = 8 * 2 ** 20;

/**
 * The instants, in order, where a new slice begins: each is the start of a part that
 * overlaps none before it. `parts` in window order (as listParts gives them).
 */
export function sliceCuts(parts: readonly (Window & { bytes: number })[], maxBytes: number): bigint[] {
  const cuts: bigint[] = [];
  let bytes = 0;
  for (const [i, group] of overlapGroups(parts).entries()) {
    if (i > 0 && bytes >= maxBytes) {
      cuts.push(group[0]!.startNs);
      bytes = 0;
    }
    for (const p of group) bytes += p.bytes;
  }
  return cuts;
}
