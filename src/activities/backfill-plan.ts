// Checks a backfill request against the exchange and resolves its range. Runs in the CLI
// and API before a workflow starts (so a bad request starts no run) and again in the
// workflow's first activity (the single place where `last`, `origin` and `now` are resolved).
import { requireBackfill } from '../domain/capabilities.ts';
import { ValidationError } from '../domain/errors.ts';
import type { BackfillRequest } from '../domain/job.ts';
import { checkTarget, type Target } from '../domain/target.ts';
import { NS_PER_DAY, NS_PER_HOUR, parseAbsoluteTime, parseTimeInput, type TimeInput } from '../domain/time.ts';
import { windowLengthNs } from '../domain/windows.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';

/** Look-back for start=last on an empty dataset: candles are cheap, trades are not. */
const DEFAULT_LOOKBACK_NS = { ohlc: 30n * NS_PER_DAY, trades: NS_PER_HOUR, book: 0n } as const;
const DEFAULT_BOOK_DEPTH = 100;

export interface CheckedRequest {
  target: Target;
  start: TimeInput;
  /** Explicit end, if any. */
  end: bigint | undefined;
  depth: number | undefined;
}

/** Every check that needs no stored data: shape, capability, times, symbol listed. */
export async function checkBackfillRequest(req: BackfillRequest, adapter: ExchangeAdapter, signal?: AbortSignal): Promise<CheckedRequest> {
  const shaped = checkTarget(req.target);
  const target: Target = { ...shaped, symbol: adapter.parseSymbol(shaped.symbol) };
  const cap = requireBackfill(adapter.capabilities, target);
  const start = parseTimeInput(req.start, 'start');
  const end = req.end === undefined ? undefined : parseAbsoluteTime(req.end, 'end');
  if (start.kind === 'ns' && end !== undefined && end <= start.ns) {
    throw new ValidationError('end', 'must be after start (ranges are [start, end))');
  }
  let depth: number | undefined;
  if (target.kind === 'book') {
    depth = req.depth ?? DEFAULT_BOOK_DEPTH;
    if (cap.maxDepth !== undefined && depth > cap.maxDepth) {
      throw new ValidationError('depth', `${depth} is deeper than ${target.exchange} serves (at most ${cap.maxDepth})`);
    }
  } else if (req.depth !== undefined) {
    throw new ValidationError('depth', 'only applies to kind book');
  }
  await adapter.checkSymbol(target.symbol, signal);
  return { target, start, end, depth };
}

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
  /** The newest ts the coverage manifest records (it survives deleted files), or null. */
  recordedMaxTs(target: Target): Promise<bigint | null>;
  nowNs(): bigint;
}

export async function resolveBackfill(
  req: BackfillRequest,
  adapter: ExchangeAdapter,
  sources: RangeSources,
  signal?: AbortSignal,
): Promise<ResolvedBackfill> {
  const { target, start, end, depth } = await checkBackfillRequest(req, adapter, signal);
  const now = sources.nowNs();
  const endNs = end === undefined || end > now ? now : end;
  let startNs: bigint;
  let startFrom: string;
  if (start.kind === 'ns') [startNs, startFrom] = [start.ns, 'the requested start'];
  else if (start.kind === 'origin') [startNs, startFrom] = [await adapter.earliest(target, signal), `the exchange's earliest data`];
  else {
    const stored = await sources.storedMaxTs(target);
    const recorded = stored === null ? await sources.recordedMaxTs(target) : null;
    if (stored !== null) [startNs, startFrom] = [stored + 1n, 'the newest stored row'];
    else if (recorded !== null) [startNs, startFrom] = [recorded + 1n, 'the coverage manifest (no local files)'];
    else [startNs, startFrom] = [now - DEFAULT_LOOKBACK_NS[target.kind], 'the default look-back (nothing stored yet)'];
  }
  if (target.kind === 'book') [startNs, startFrom] = [now, 'now (a book snapshot)'];
  const pageLimit = adapter.capabilities.backfill[target.kind]!.pageLimit;
  return {
    target,
    startNs: String(startNs),
    endNs: String(target.kind === 'book' ? now + 1n : endNs),
    windowNs: String(windowLengthNs(target, pageLimit)),
    ...(depth !== undefined && { depth }),
    startFrom,
  };
}
