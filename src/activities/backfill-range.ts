// Resolves a checked backfill request into the range a run covers: where `last` and `origin`
// lie and what `now` is are decided once, in the run's first activity, so every segment and
// retry of the run works on the same range.
import type { CheckedBackfill } from '../domain/job.ts';
import type { Target } from '../domain/target.ts';
import { NS_PER_DAY, NS_PER_HOUR } from '../domain/time.ts';
import { windowLengthNs } from '../domain/windows.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';

/** Look-back for start=last on an empty dataset: candles are cheap, trades are not. */
const DEFAULT_LOOKBACK_NS = { ohlc: 30n * NS_PER_DAY, trades: NS_PER_HOUR, book: 0n } as const;

export interface ResolvedBackfill {
  target: Target;
  startNs: string;
  endNs: string;
  windowNs: string;
  depth?: number;
  /** How start was found, for the log. */
  startFrom: string;
}

export interface RangeSources {
  /** The newest ts in the local files, or null. */
  storedMaxTs(target: Target): Promise<bigint | null>;
  /** Where the manifest's covered intervals end (it survives deleted files), or null. */
  coveredEndNs(target: Target): Promise<bigint | null>;
  nowNs(): bigint;
}

export async function resolveBackfill(
  req: CheckedBackfill,
  adapter: ExchangeAdapter,
  sources: RangeSources,
  signal?: AbortSignal,
): Promise<ResolvedBackfill> {
  const { target } = req;
  const now = sources.nowNs();
  const pageLimit = adapter.capabilities.backfill[target.kind]!.pageLimit;
  const windowNs = String(windowLengthNs(target, pageLimit));
  if (target.kind === 'book') {
    return { target, startNs: String(now), endNs: String(now + 1n), windowNs, depth: req.depth!, startFrom: 'now (a book snapshot)' };
  }
  const end = req.end === undefined ? now : BigInt(req.end);
  const endNs = end > now ? now : end;
  let startNs: bigint;
  let startFrom: string;
  if (req.start === 'origin') [startNs, startFrom] = [await adapter.earliest(target, signal), `the exchange's earliest data`];
  else if (req.start !== 'last') [startNs, startFrom] = [BigInt(req.start), 'the requested start'];
  else {
    // After the last covered instant; files alone (copied in, written before the manifest
    // had intervals) can reach further, and then their newest row counts.
    const [stored, covered] = await Promise.all([sources.storedMaxTs(target), sources.coveredEndNs(target)]);
    if (covered !== null && (stored === null || covered > stored)) [startNs, startFrom] = [covered, 'the end of the covered range'];
    else if (stored !== null) [startNs, startFrom] = [stored + 1n, 'the newest stored row'];
    else if (req.startIfEmpty === 'origin') [startNs, startFrom] = [await adapter.earliest(target, signal), `the exchange's earliest data (nothing stored yet)`];
    else if (req.startIfEmpty !== undefined) [startNs, startFrom] = [BigInt(req.startIfEmpty), "the job's start (nothing stored yet)"];
    else [startNs, startFrom] = [now - DEFAULT_LOOKBACK_NS[target.kind], 'the default look-back (nothing stored yet)'];
  }
  return { target, startNs: String(startNs), endNs: String(endNs), windowNs, startFrom };
}
