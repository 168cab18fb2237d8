// Backfill activities: resolve the range, then fetch and write one window at a time.
// Rows stay inside the activity; the workflow only sees counts and times.
import { Context } from '@temporalio/activity';
import type { CheckedBackfill, WindowCheckpoint, WindowHeartbeat } from '../domain/job.ts';
import type { Interval } from '../domain/intervals.ts';
import type { OhlcRow, TradeRow } from '../domain/records.ts';
import type { Target } from '../domain/target.ts';
import { isoFromNs, nowNs } from '../domain/time.ts';
import type { ExchangeAdapter, Page, TransportLog } from '../sources/adapter.ts';
import type { Coverage, CoverageStore } from '../storage/coverage-store.ts';
import { ColumnBuffer } from '../storage/column-buffer.ts';
import type { ParquetStore } from '../storage/parquet-store.ts';
import { resolveBackfill, type ResolvedBackfill } from './backfill-range.ts';
import { asActivityFailure } from './failures.ts';

/** Rows buffered before a part is written; bounds memory and the work a retry redoes. */
const FLUSH_ROWS = 50_000;
/** Heartbeats say "alive" even while a request waits out a 429; see activity options. */
const HEARTBEAT_EVERY_MS = 3_000;
const LOG_LINES_PER_WINDOW = 20;
/** Recent events a heartbeat carries, so a client sees a retrying window while it retries. */
const EVENTS_PER_HEARTBEAT = 5;

export interface BackfillDeps {
  store: ParquetStore;
  coverage(): Promise<CoverageStore>;
  adapter(exchange: Target['exchange']): ExchangeAdapter;
  nowNs?: () => bigint;
}

export interface WindowInput {
  target: Target;
  startNs: string;
  endNs: string;
}

export interface WindowResult {
  rows: number;
  pages: number;
  /** Newest row written, or null for an empty window. */
  lastTs: string | null;
  /** Transport events worth showing (retries, rate-limit waits), newest last. */
  log: string[];
}


export function createBackfillActivities(deps: BackfillDeps) {
  const clock = deps.nowNs ?? nowNs;
  return {
    async resolveBackfill(req: CheckedBackfill): Promise<ResolvedBackfill> {
      const adapter = deps.adapter(req.target.exchange);
      return asActivityFailure(() =>
        resolveBackfill(
          req,
          adapter,
          {
            storedMaxTs: (t) => deps.store.maxTs(t),
            coveredEndNs: async (t) => lastCoveredEnd(await (await deps.coverage()).coverage(t)),
            nowNs: clock,
          },
          Context.current().cancellationSignal,
        ),
      );
    },

    async fetchWindow(input: WindowInput): Promise<WindowResult> {
      return asActivityFailure(() => fetchWindow(deps, input));
    },

    async snapshotBook(input: { target: Target; depth: number }): Promise<WindowResult> {
      return asActivityFailure(async () => {
        const adapter = deps.adapter(input.target.exchange);
        const rows = await adapter.bookSnapshot(input.target, input.depth, Context.current().cancellationSignal);
        if (rows.length === 0) return { rows: 0, pages: 1, lastTs: null, log: [] };
        const ts = rows[0]!.ts;
        await deps.store.write(input.target, rows, { startNs: ts, endNs: ts + 1n }, provenance(adapter));
        await recordCoverage(deps, input.target);
        return { rows: rows.length, pages: 1, lastTs: String(ts), log: [] };
      });
    },
  };
}

/** Widens the manifest to what the dataset now holds; it never shrinks. */
async function recordCoverage(deps: BackfillDeps, target: Target): Promise<void> {
  const extent = await deps.store.stats(target);
  if (extent) await (await deps.coverage()).record(target, extent);
}

/** Where the dataset's covered intervals end, across sources; null when none are recorded. */
function lastCoveredEnd(c: Coverage): bigint | null {
  let end: bigint | null = null;
  for (const set of Object.values(c)) {
    const last = set[set.length - 1];
    if (last && (end === null || last.endNs > end)) end = last.endNs;
  }
  return end;
}

function provenance(adapter: ExchangeAdapter) {
  return { source: `${adapter.name}:rest`, adapterVersion: adapter.version };
}

/**
 * One window as an activity: resumes from the checkpoint in the last heartbeat, reports its
 * recent events in each heartbeat, and answers a stop (the run cancelling it) by finishing
 * the window when it is healthy — so a stopped run keeps whole windows — but at once when it
 * is waiting out errors or limits, so a stop is never held up by a retrying exchange.
 */
async function fetchWindow(deps: BackfillDeps, input: WindowInput): Promise<WindowResult> {
  const ctx = Context.current();
  const resumed = checkpointOf(ctx.info.heartbeatDetails);
  const beat: WindowHeartbeat = { ...(resumed && { checkpoint: resumed }), events: [] };
  const heartbeat = () => ctx.heartbeat(beat);
  const abort = new AbortController();
  let waiting = false; // the transport is waiting out an error or a back-off
  let stopAsked = false;
  const log: string[] = [];
  const event = (line: string) => {
    beat.events.push(`${new Date().toISOString()} ${line}`);
    if (beat.events.length > EVENTS_PER_HEARTBEAT) beat.events.shift();
    heartbeat();
  };
  const note = (line: string) => {
    log.push(line);
    event(line);
  };
  const onCancel = () => {
    if (ctx.cancellationDetails?.cancelRequested && !waiting) {
      stopAsked = true;
      note('stop requested: finishing this window first');
    } else abort.abort(ctx.cancellationSignal.reason);
  };
  if (ctx.cancellationSignal.aborted) onCancel();
  else ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
  // Beat from the start: a window's first part may take longer than the heartbeat timeout.
  const timer = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
  try {
    // A retried window says so, with what the last attempt ended with (a heartbeat timeout, a failure).
    if (resumed) note(`attempt ${ctx.info.attempt}: resuming at ${isoFromNs(BigInt(resumed.committedNs))} (${resumed.rows} rows already written)`);
    else if (ctx.info.attempt > 1) note(`attempt ${ctx.info.attempt}: starting the window again`);
    const result = await copyWindow(deps, input, {
      resumeFrom: resumed,
      signal: abort.signal,
      log,
      onEvent: (line, trouble) => {
        event(line);
        // Pacing under the venue's budget is healthy; a failure or a back-off is not.
        if (!trouble) return;
        waiting = true;
        if (stopAsked) abort.abort(ctx.cancellationSignal.reason);
      },
      onPage: () => (waiting = false),
      onCheckpoint: (c) => {
        beat.checkpoint = c;
        heartbeat();
      },
      onCovered: async (w) => (await deps.coverage()).cover(input.target, 'rest', w),
    });
    // Still beating: the dataset's extent and the manifest may take seconds (a large
    // dataset, a first open), and a silent attempt would be timed out and redone.
    await recordCoverage(deps, input.target);
    return result;
  } finally {
    clearInterval(timer);
    ctx.cancellationSignal.removeEventListener('abort', onCancel);
  }
}

/** The checkpoint in heartbeat details (heartbeats before events were added held it bare). */
function checkpointOf(details: unknown): WindowCheckpoint | undefined {
  const d = details as Partial<WindowHeartbeat & WindowCheckpoint> | undefined;
  if (!d) return undefined;
  if (d.checkpoint) return d.checkpoint;
  return typeof d.committedNs === 'string' ? (d as WindowCheckpoint) : undefined;
}

export interface CopyOptions {
  /** Continue after what an earlier attempt wrote. */
  resumeFrom?: WindowCheckpoint;
  signal?: AbortSignal;
  /** Lines for the run's log; the newest LOG_LINES_PER_WINDOW are kept. */
  log?: string[];
  /** Hears each transport event (a retry, a wait) as it happens. */
  onEvent?: TransportLog;
  /** Called after each page arrives. */
  onPage?: () => void;
  /** Called after each part is on disk, with the point to resume from. */
  onCheckpoint?: (c: WindowCheckpoint) => void;
  /** Awaited after each part is on disk, with the span it covers whole (rows or none). */
  onCovered?: (w: Interval) => Promise<void>;
}

/**
 * Copies one window from the exchange into the store: pages are buffered and written in
 * parts of up to FLUSH_ROWS rows, each part covering [committed, cut) exactly, so a retry
 * from the last checkpoint rewrites the same ranges and never duplicates a row.
 */
export async function copyWindow(deps: Pick<BackfillDeps, 'store' | 'adapter'>, input: WindowInput, opts: CopyOptions = {}): Promise<WindowResult> {
  const adapter = deps.adapter(input.target.exchange);
  const endNs = BigInt(input.endNs);
  const state: WindowCheckpoint = opts.resumeFrom ? { ...opts.resumeFrom } : { committedNs: input.startNs, rows: 0, pages: 0, lastTs: null };
  const log = opts.log ?? [];
  const note: TransportLog = (line, trouble) => {
    log.push(line);
    if (log.length > LOG_LINES_PER_WINDOW) log.shift();
    opts.onEvent?.(line, trouble);
  };

  // Writes buffered rows that lie before `cut`; the part covers [committed, cut) exactly.
  // Rows wait as columns, so each page's row objects die young (column-buffer.ts).
  const buffer = new ColumnBuffer(input.target.kind);
  const flushBefore = async (cut: bigint) => {
    let n = buffer.length;
    while (n > 0 && buffer.tsAt(n - 1) >= cut) n--;
    if (BigInt(state.committedNs) >= cut) return;
    const lastTs = n > 0 ? buffer.tsAt(n - 1) : undefined;
    await deps.store.write(input.target, buffer.take(n), { startNs: BigInt(state.committedNs), endNs: cut }, provenance(adapter));
    await opts.onCovered?.({ startNs: BigInt(state.committedNs), endNs: cut });
    state.committedNs = String(cut);
    state.rows += n;
    if (lastTs !== undefined) state.lastTs = String(lastTs);
    opts.onCheckpoint?.({ ...state });
  };

  const range = { startNs: BigInt(state.committedNs), endNs, signal: opts.signal, log: note };
  const pages = input.target.kind === 'ohlc' ? adapter.ohlcPages(input.target, range) : adapter.tradePages(input.target, range);
  // Where the window's history stops being final (an open candle); it is covered up to there.
  let settledEndNs = endNs;
  for await (const page of pages as AsyncIterable<Page<OhlcRow | TradeRow>>) {
    opts.onPage?.();
    state.pages++;
    buffer.push(page.rows);
    if (page.openFromNs !== undefined) settledEndNs = BigInt(page.openFromNs);
    // Cut at the newest ts: rows sharing it may continue on the next page.
    if (buffer.length >= FLUSH_ROWS) await flushBefore(buffer.tsAt(buffer.length - 1));
  }
  await flushBefore(settledEndNs);
  return { rows: state.rows, pages: state.pages, lastTs: state.lastTs, log };
}
