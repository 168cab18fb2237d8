// Backfill activities: resolve the range, then fetch and write one window at a time.
// Rows stay inside the activity; the workflow only sees counts and times.
import { Context } from '@temporalio/activity';
import type { BackfillRequest } from '../domain/job.ts';
import type { OhlcRow, TradeRow } from '../domain/records.ts';
import type { Target } from '../domain/target.ts';
import { isoFromNs, nowNs } from '../domain/time.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';
import type { CoverageStore } from '../storage/coverage-store.ts';
import type { ParquetStore } from '../storage/parquet-store.ts';
import { resolveBackfill, type ResolvedBackfill } from './backfill-plan.ts';
import { asActivityFailure } from './failures.ts';

/** Rows buffered before a part is written; bounds memory and the work a retry redoes. */
const FLUSH_ROWS = 250_000;
/** Heartbeats say "alive" even while a request waits out a 429; see activity options. */
const HEARTBEAT_EVERY_MS = 3_000;
const LOG_LINES_PER_WINDOW = 20;

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

/** What a retried attempt resumes from: everything before committedNs is on disk. */
export interface WindowCheckpoint {
  committedNs: string;
  rows: number;
  pages: number;
  lastTs: string | null;
}

export function createBackfillActivities(deps: BackfillDeps) {
  const clock = deps.nowNs ?? nowNs;
  return {
    async resolveBackfill(req: BackfillRequest): Promise<ResolvedBackfill> {
      const adapter = deps.adapter(req.target.exchange);
      return asActivityFailure(() =>
        resolveBackfill(
          req,
          adapter,
          {
            storedMaxTs: (t) => deps.store.maxTs(t),
            recordedMaxTs: async (t) => (await (await deps.coverage()).get(t))?.maxTs ?? null,
            nowNs: clock,
          },
          Context.current().cancellationSignal,
        ),
      );
    },

    async fetchWindow(input: WindowInput): Promise<WindowResult> {
      return asActivityFailure(async () => {
        const result = await fetchWindow(deps, input);
        await recordCoverage(deps, input.target);
        return result;
      });
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

function provenance(adapter: ExchangeAdapter) {
  return { source: `${adapter.name}:rest`, adapterVersion: adapter.version };
}

async function fetchWindow(deps: BackfillDeps, input: WindowInput): Promise<WindowResult> {
  const ctx = Context.current();
  const resumed = ctx.info.heartbeatDetails as WindowCheckpoint | undefined;
  let last: WindowCheckpoint | undefined = resumed;
  // Beat from the start: a window's first part may take longer than the heartbeat timeout.
  const beat = () => ctx.heartbeat(last);
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    const log: string[] = [];
    if (resumed) log.push(`attempt ${ctx.info.attempt}: resuming at ${isoFromNs(BigInt(resumed.committedNs))} (${resumed.rows} rows already written)`);
    return await copyWindow(deps, input, {
      resumeFrom: resumed,
      signal: ctx.cancellationSignal,
      log,
      onCheckpoint: (c) => {
        last = c;
        beat();
      },
    });
  } finally {
    clearInterval(timer);
  }
}

export interface CopyOptions {
  /** Continue after what an earlier attempt wrote. */
  resumeFrom?: WindowCheckpoint;
  signal?: AbortSignal;
  /** Lines for the run's log; the newest LOG_LINES_PER_WINDOW are kept. */
  log?: string[];
  /** Called after each part is on disk, with the point to resume from. */
  onCheckpoint?: (c: WindowCheckpoint) => void;
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
  const note = (line: string) => {
    log.push(line);
    if (log.length > LOG_LINES_PER_WINDOW) log.shift();
  };

  // Writes buffered rows that lie before `cut`; the part covers [committed, cut) exactly.
  let buffer: (OhlcRow | TradeRow)[] = [];
  const flushBefore = async (cut: bigint) => {
    let n = buffer.length;
    while (n > 0 && buffer[n - 1]!.ts >= cut) n--;
    const rows = buffer.slice(0, n);
    if (BigInt(state.committedNs) >= cut) return;
    await deps.store.write(input.target, rows as OhlcRow[] | TradeRow[], { startNs: BigInt(state.committedNs), endNs: cut }, provenance(adapter));
    buffer = buffer.slice(n);
    state.committedNs = String(cut);
    state.rows += rows.length;
    if (rows.length) state.lastTs = String(rows[rows.length - 1]!.ts);
    opts.onCheckpoint?.({ ...state });
  };

  const range = { startNs: BigInt(state.committedNs), endNs, signal: opts.signal, log: note };
  const pages = input.target.kind === 'ohlc' ? adapter.ohlcPages(input.target, range) : adapter.tradePages(input.target, range);
  for await (const page of pages as AsyncIterable<{ rows: (OhlcRow | TradeRow)[] }>) {
    state.pages++;
    for (const row of page.rows) buffer.push(row);
    // Cut at the newest ts: rows sharing it may continue on the next page.
    if (buffer.length >= FLUSH_ROWS) await flushBefore(buffer[buffer.length - 1]!.ts);
  }
  await flushBefore(endNs);
  return { rows: state.rows, pages: state.pages, lastTs: state.lastTs, log };
}
