// The generic paginator. An adapter supplies a `fetchPage` closure with the symbol (and span)
// bound, and every venue quirk — units, parameter names, sort order, id or time cursors —
// stays inside it. What is common lives here: advancing on the last row, dropping rows
// delivered twice at page boundaries or lying outside the range, never yielding a candle that
// is still open, resuming from a cursor, and failing instead of looping when a venue stops
// making progress.
import { ExchangeError, ValidationError } from '../domain/errors.ts';
import type { OhlcRow, TradeRow } from '../domain/records.ts';
import { spanEnd } from '../domain/target.ts';
import { isoFromNs, nowNs } from '../domain/time.ts';
import type { HistoryRange, Page } from './adapter.ts';

export interface PageRequest {
  /** First ts wanted (inclusive). */
  startNs: bigint;
  /** End of the whole range (exclusive). */
  endNs: bigint;
  /** Rows per page at most. */
  limit: number;
  /** Trades: the id of the last trade already delivered; a venue paging by id goes on after it. */
  afterId?: string;
}

/**
 * Fetches the first rows (at most `limit`, ascending ts) from `startNs` on. An empty answer
 * means the venue has nothing in [startNs, endNs); a short one means nothing else — the
 * paginator asks again from its last row. Rows before the cursor, after the range or already
 * delivered are tolerated and dropped.
 */
export type FetchPage<R> = (req: PageRequest) => Promise<R[]>;

export interface PaginateOptions {
  /** Names the venue in errors. */
  exchange: string;
  /** Rows per page, the venue's maximum. */
  limit: number;
  /** Consecutive pages that bring nothing new before giving up (a one-off stale page is tolerated). */
  maxStalls?: number;
}

export interface OhlcPaginateOptions extends PaginateOptions {
  span: string;
  /** The current time; a candle is closed once its end is at or before it. */
  now?: () => bigint;
}

export interface TradePaginateOptions extends PaginateOptions {
  /**
   * 'id': after the first page the venue goes on after `afterId`, so a page holding nothing
   * new is a fault (retried, then reported as no progress). 'time': the venue pages by an
   * inclusive start, so the boundary millisecond comes again and a short page holding only
   * trades delivered already, twice in a row, means the venue has nothing more.
   */
  pagesBy: 'id' | 'time';
  /** Orders trade ids where the venue's ids grow with time, so a resumed page skips older ids exactly. */
  compareIds?: (a: string, b: string) => number;
}

const DEFAULT_MAX_STALLS = 3;

/** Closed candles in [startNs, endNs); each page's cursor is the end of its last candle. */
export async function* paginateOhlc(
  fetchPage: FetchPage<OhlcRow>,
  range: HistoryRange,
  opts: OhlcPaginateOptions,
): AsyncGenerator<Page<OhlcRow>> {
  const now = opts.now ?? nowNs;
  const stalls = new StallGuard(opts);
  let from = resumeNs(range);
  while (from < range.endNs) {
    range.signal?.throwIfAborted();
    const raw = await fetchPage({ startNs: from, endNs: range.endNs, limit: opts.limit });
    if (raw.length === 0) return;
    checkAscending(raw, opts.exchange);
    const closedBy = now();
    const rows: OhlcRow[] = [];
    let next = from;
    let done = false;
    let openFromNs: string | undefined;
    for (const row of raw) {
      if (row.ts < next) continue; // before the cursor, or delivered already
      const end = spanEnd(row.ts, opts.span);
      // A candle after the range, or one still open (and so every later one), ends the walk.
      if (row.ts >= range.endNs || end > closedBy) {
        done = true;
        if (row.ts < range.endNs) openFromNs = String(row.ts);
        break;
      }
      rows.push(row);
      next = end;
    }
    if (next === from && !done) {
      stalls.add(from);
      continue;
    }
    stalls.reset();
    from = next;
    if (rows.length > 0 || openFromNs !== undefined) yield { rows, cursor: { ns: next.toString() }, ...(openFromNs !== undefined && { openFromNs }) };
    if (done) return;
  }
}

/**
 * Trades in [startNs, endNs). Each page's cursor holds the last trade's ts (the next page
 * starts there, since several trades can share a ts) and its id.
 */
export async function* paginateTrades(
  fetchPage: FetchPage<TradeRow>,
  range: HistoryRange,
  opts: TradePaginateOptions,
): AsyncGenerator<Page<TradeRow>> {
  const stalls = new StallGuard(opts);
  let quietShortPages = 0;
  let fromNs = resumeNs(range);
  let afterId = range.resume?.id;
  // Ids already delivered at ts `fromNs`: a venue paging by time repeats them on the next page.
  let atBoundary = new Set(afterId === undefined ? [] : [afterId]);
  while (fromNs < range.endNs) {
    range.signal?.throwIfAborted();
    const raw = await fetchPage({ startNs: fromNs, endNs: range.endNs, limit: opts.limit, afterId });
    if (raw.length === 0) return;
    checkAscending(raw, opts.exchange);
    const rows: TradeRow[] = [];
    let lastNs = fromNs;
    let lastId = afterId;
    let done = false;
    for (const row of raw) {
      if (row.ts < lastNs) continue; // before the cursor
      if (row.ts === lastNs && atBoundary.has(row.tradeId)) continue; // delivered already
      if (lastId !== undefined && opts.compareIds && opts.compareIds(row.tradeId, lastId) <= 0) continue;
      if (row.ts >= range.endNs) {
        done = true;
        break;
      }
      if (row.ts > lastNs) atBoundary = new Set();
      atBoundary.add(row.tradeId);
      rows.push(row);
      lastNs = row.ts;
      lastId = row.tradeId;
    }
    if (rows.length === 0) {
      if (done) return;
      // Asked twice, a time-paged venue only repeated the boundary: nothing more to come. A
      // single such page may be a transient short page, so it is asked again.
      if (opts.pagesBy === 'time' && raw.length < opts.limit) {
        if (++quietShortPages >= 2) return;
        continue;
      }
      stalls.add(fromNs);
      continue;
    }
    stalls.reset();
    quietShortPages = 0;
    fromNs = lastNs;
    afterId = lastId;
    yield { rows, cursor: { ns: lastNs.toString(), id: lastId! } };
    if (done) return;
  }
}

/** Orders decimal trade ids numerically (ids beyond 2^53 included). */
export function compareNumericIds(a: string, b: string): number {
  // Canonical decimal ids (no sign, no leading zeros) order by length, then as text: no BigInt per row.
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function resumeNs(range: HistoryRange): bigint {
  if (range.startNs >= range.endNs) return range.endNs;
  const resume = range.resume ? BigInt(range.resume.ns) : range.startNs;
  return resume > range.startNs ? resume : range.startNs;
}

function checkAscending(rows: readonly { ts: bigint }[], exchange: string): void {
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.ts < rows[i - 1]!.ts) {
      throw new ValidationError('rows', `${exchange} page is not in ascending ts (row ${i} at ${isoFromNs(rows[i]!.ts)} follows ${isoFromNs(rows[i - 1]!.ts)})`);
    }
  }
}

/** Counts consecutive pages that moved nothing forward; fails rather than loop forever. */
class StallGuard {
  private count = 0;
  private readonly max: number;
  constructor(private readonly opts: PaginateOptions) {
    this.max = opts.maxStalls ?? DEFAULT_MAX_STALLS;
  }
  add(fromNs: bigint): void {
    if (++this.count >= this.max) {
      throw new ExchangeError(
        this.opts.exchange,
        `no progress: ${this.count} pages in a row from ${isoFromNs(fromNs)} held nothing after the cursor (the venue keeps answering the same page)`,
        { retryable: false },
      );
    }
  }
  reset(): void {
    this.count = 0;
  }
}
