// Where a streamed read cuts its range into queries. Each query ends in ORDER BY, which takes
// in every row of the query before it gives out the first: one query over a year of trades
// would sort some 10^8 rows (spilling gigabytes to disk) before a byte went out. Slices
// follow the parts: parts that overlap stay in one slice, where their precedence is settled
// (part-precedence.ts), and neighbours are joined up to about `maxBytes` of Parquet, so a
// dataset of small parts (candles) is not one query per file.
import type { Window } from './parquet-layout.ts';

/** Parquet read per slice: ~10^6 trades, sorted well within the store's DuckDB memory limit. */
export const SLICE_BYTES = 8 * 2 ** 20;

/**
 * The instants, in order, where a new slice begins: each is the start of a part that
 * overlaps none before it. `parts` in window order (as listParts gives them).
 */
export function sliceCuts(parts: readonly (Window & { bytes: number })[], maxBytes: number): bigint[] {
  const cuts: bigint[] = [];
  let reach: bigint | undefined;
  let bytes = 0;
  for (const p of parts) {
    if (reach !== undefined && p.startNs >= reach && bytes >= maxBytes) {
      cuts.push(p.startNs);
      bytes = 0;
    }
    bytes += p.bytes;
    reach = reach === undefined || p.endNs > reach ? p.endNs : reach;
  }
  return cuts;
}
