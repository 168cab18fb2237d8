// How a backfill range is cut into windows: one activity fetches and writes one window.
// Windows are big enough that Temporal's per-activity cost is small against the fetching,
// and small enough that a retried window redoes little work (a retry resumes from the last
// flushed point inside the window anyway).
import type { Target } from './target.ts';
import { spanApproxNs } from './target.ts';
import { NS_PER_DAY, NS_PER_HOUR } from './time.ts';

/** Candle pages per window: ~10 pages keeps the 6 000-weight/min Binance budget busy. */
const OHLC_PAGES_PER_WINDOW = 10n;
/** Trades: one UTC day; BTC/USDT has ~10^5–10^6 trades a day, flushed in parts. */
const TRADES_WINDOW_NS = NS_PER_DAY;
const MAX_WINDOW_NS = 366n * NS_PER_DAY;

export function windowLengthNs(t: Target, pageLimit: number): bigint {
  if (t.kind !== 'ohlc') return TRADES_WINDOW_NS;
  const raw = OHLC_PAGES_PER_WINDOW * BigInt(pageLimit) * spanApproxNs(t.span!);
  // Round down to whole days (or whole hours below a day) so windows start at midnight UTC.
  const unit = raw >= NS_PER_DAY ? NS_PER_DAY : NS_PER_HOUR;
  const rounded = raw >= unit ? (raw / unit) * unit : raw;
  return rounded > MAX_WINDOW_NS ? MAX_WINDOW_NS : rounded;
}

export interface WindowPlan {
  /** Boundaries b0 < b1 < ... < bn: window i is [b_i, b_{i+1}). */
  count: number;
  window(i: number): [bigint, bigint];
}

/** Windows aligned to multiples of `lengthNs` since the epoch, clipped to [startNs, endNs). */
export function planWindows(startNs: bigint, endNs: bigint, lengthNs: bigint): WindowPlan {
  if (endNs <= startNs) return { count: 0, window: () => [startNs, startNs] };
  const firstBoundary = floorTo(startNs, lengthNs) + lengthNs;
  const count = firstBoundary >= endNs ? 1 : Number((ceilTo(endNs, lengthNs) - firstBoundary) / lengthNs) + 1;
  return {
    count,
    window(i) {
      const lo = i === 0 ? startNs : firstBoundary + BigInt(i - 1) * lengthNs;
      const hi = firstBoundary + BigInt(i) * lengthNs;
      return [lo, hi < endNs ? hi : endNs];
    },
  };
}

const floorTo = (x: bigint, unit: bigint) => x - (((x % unit) + unit) % unit);
const ceilTo = (x: bigint, unit: bigint) => -floorTo(-x, unit);
