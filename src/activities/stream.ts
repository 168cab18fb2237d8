// The stream activity: one session of a live stream of any kind (trades, candles, books). It
// holds the venue's socket through the adapter, buffers rows and flushes them every N rows or
// T seconds, records what it covered, heals every gap it can from REST history, and heartbeats its counters so a retried attempt
// (a dead worker, a lost connection the transport gave up on) goes on from them. A stop (the
// run cancelling it) flushes what was received and returns; so does the end of the session.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { NoCapability } from '../domain/errors.ts';
import type { AnyRow } from '../domain/records.ts';
import { GAPS_KEPT, emptyStatus, type GapRecord, type StreamStatus } from '../domain/stream.ts';
import { datasetKind, type Kind, type Target } from '../domain/target.ts';
import { isoFromNs } from '../domain/time.ts';
import type { LiveStream } from '../sources/adapter.ts';
import type { StreamGap } from '../sources/stream-events.ts';
import type { BackoffPolicy } from '../sources/transport/ws-session.ts';
import { valueAt, type ColumnBatch } from '../storage/column-batch.ts';
import { ColumnBuffer } from '../storage/column-buffer.ts';
import { columnOf } from '../storage/parquet-columns.ts';
import { copyWindow, type BackfillDeps } from './backfill.ts';
import { asActivityFailure } from './failures.ts';

const HEARTBEAT_EVERY_MS = 1_000;
const SAMPLE_EVERY_MS = 1_000;

export interface StreamSessionInput {
  target: Target;
  flushRows: number;
  flushMs: number;
  /** The session ends by itself after this long; the workflow starts the next one. */
  sessionMs: number;
  /** Books: levels per side, and how often a snapshot is stored. */
  depth?: number;
  snapshotIntervalMs?: number;
  /** What earlier sessions of the run ended with. */
  resume?: StreamCarry;
  /** Tests shorten the venue's silence limit and the reconnect backoff. */
  staleAfterMs?: number;
  backoff?: BackoffPolicy;
}

/** What one session hands the next (and a retried attempt finds in its heartbeat). */
export interface StreamCarry {
  status: StreamStatus;
  /** The last row written (its ts, and its id where rows are numbered), so the next session knows what it missed. */
  last: { ts: string; id?: string } | null;
}

export interface StreamSessionResult extends StreamCarry {
  ended: 'stopped' | 'session';
}

export function createStreamActivities(deps: BackfillDeps) {
  return {
    async streamSession(input: StreamSessionInput): Promise<StreamSessionResult> {
      return asActivityFailure(() => streamSession(deps, input));
    },
  };
}

async function streamSession(deps: BackfillDeps, input: StreamSessionInput): Promise<StreamSessionResult> {
  const ctx = Context.current();
  const { target } = input;
  const adapter = deps.adapter(target.exchange);
  const live = adapter.streams?.[target.kind] as LiveStream<AnyRow> | undefined;
  if (!live) throw new NoCapability(target.exchange, `no live ${datasetKind(target)} stream in this dccd`);
  const carry: StreamCarry = structuredClone((ctx.info.heartbeatDetails as StreamCarry | undefined) ?? input.resume ?? { status: emptyStatus(), last: null });
  const { status } = carry;
  const coverage = await deps.coverage();
  const heartbeat = () => ctx.heartbeat(carry);
  // One series of part names per attempt (session, then seq per flush): a retried attempt never overwrites its predecessor's parts.
  const session = createHash('sha256').update(`${ctx.info.workflowExecution?.runId}:${ctx.info.activityId}:${ctx.info.attempt}`).digest('hex').slice(0, 12);
  const provenance = { source: `${adapter.name}:ws`, adapterVersion: `${adapter.version}+ws` };

  const stop = new AbortController();
  let ended: StreamSessionResult['ended'] = 'session';
  const onCancel = () => {
    ended = 'stopped';
    stop.abort();
  };
  if (ctx.cancellationSignal.aborted) onCancel();
  else ctx.cancellationSignal.addEventListener('abort', onCancel, { once: true });
  const sessionTimer = setTimeout(() => stop.abort(), input.sessionMs);

  // Rows wait as columns, so each event's row objects die young (column-buffer.ts).
  const buffer = new ColumnBuffer(target.kind);
  /** Whether more rows may still come at the newest buffered row's ts. */
  let tailOpen = false;
  /** When the oldest buffered row and the newest came in. */
  let oldestAtMs = 0;
  let newestAtMs = 0;
  /** Where the covered span the stream is extending began: its first row, or the end of its last gap. */
  let segmentStart: bigint | null = null;
  const heals: StreamGap[] = [];
  let seq = 0;
  let lastSampleMs = 0;
  const rates: Array<{ atMs: number; rows: number }> = [];

  // Flushes run one at a time, in order: each part covers what came before the next.
  let flushing: Promise<void> = Promise.resolve();
  const flush = (final = false) => (flushing = flushing.then(() => writeBuffer(final)));
  /**
   * Appends the buffered rows as stream parts (a backfill of the same dataset writes beside
   * them; reads merge both). While more rows may come at the newest ts (trades of one
   * millisecond), rows sharing it stay buffered until the next flush (unless it is the last),
   * so the covered span recorded after each flush ends where its rows are complete.
   */
  async function writeBuffer(final: boolean): Promise<void> {
    let n = buffer.length;
    if (!final && tailOpen && n > 0) {
      const newest = buffer.tsAt(n - 1);
      while (n > 0 && buffer.tsAt(n - 1) === newest) n--;
    }
    // The rows kept back came with the newest events: the flush interval runs for them from there.
    if (n < buffer.length) oldestAtMs = newestAtMs;
    if (n === 0) return;
    const firstTs = buffer.tsAt(0);
    const lastTs = buffer.tsAt(n - 1);
    const rows = buffer.take(n);
    seq++;
    await deps.store.append(target, rows, { session, seq }, provenance);
    await coverage.cover(target, 'ws', { startNs: segmentStart ?? firstTs, endNs: lastTs + 1n });
    segmentStart ??= firstTs;
    status.rowsWritten += n;
    status.lastTs = String(lastTs);
    const id = rowNumber(rows, n - 1);
    carry.last = { ts: String(lastTs), ...(id !== undefined && { id }) };
    rates.push({ atMs: Date.now(), rows: n });
    while (rates.length > 10) rates.shift();
    const spanS = rates.length > 1 ? (rates[rates.length - 1]!.atMs - rates[0]!.atMs) / 1000 : 0;
    status.rate = spanS > 0 ? Math.round(rates.slice(1).reduce((n, r) => n + r.rows, 0) / spanS) : 0;
    heartbeat();
    // A gap is healed once the rows after it are on disk: the REST rows of its span then
    // complete what the stream wrote on either side.
    while (heals.length > 0 && heals[0]!.beforeTs <= lastTs) await heal(heals.shift()!);
  }

  async function heal(gap: StreamGap): Promise<void> {
    const record = status.gaps.find((g) => g.beforeNs === String(gap.beforeTs) && g.state === 'open');
    const from = gap.afterTs ?? gap.beforeTs;
    try {
      await copyWindow(deps, { target, startNs: String(from), endNs: String(gap.beforeTs + 1n) }, {
        signal: ctx.cancellationSignal.aborted ? undefined : ctx.cancellationSignal,
        onCovered: (w) => coverage.cover(target, 'rest', w),
      });
      if (record) record.state = 'healed';
    } catch (e) {
      if (record) record.reason += `; not healed: ${(e as Error).message}`;
    }
    heartbeat();
  }

  const ticker = setInterval(() => {
    if (buffer.length > 0 && Date.now() - oldestAtMs >= input.flushMs) void flush().catch(() => undefined);
    heartbeat();
  }, Math.min(HEARTBEAT_EVERY_MS, input.flushMs));
  try {
    const last = carry.last;
    const events = live(target, {
      signal: stop.signal,
      ...(last && { resumeAfter: { ts: BigInt(last.ts), ...(last.id !== undefined && { id: last.id }) } }),
      ...(input.depth !== undefined && { depth: input.depth }),
      ...(input.snapshotIntervalMs !== undefined && { snapshotIntervalMs: input.snapshotIntervalMs }),
      ...(input.staleAfterMs !== undefined && { staleAfterMs: input.staleAfterMs }),
      ...(input.backoff && { backoff: input.backoff }),
    });
    for await (const e of events) {
      if (e.kind === 'rows') {
        if (buffer.length === 0) oldestAtMs = e.receivedAtMs;
        newestAtMs = e.receivedAtMs;
        buffer.push(e.rows);
        tailOpen = !e.settled;
        if (e.sample && e.receivedAtMs - lastSampleMs >= SAMPLE_EVERY_MS) {
          lastSampleMs = e.receivedAtMs;
          status.lastSample = { ...e.sample, ts: isoFromNs(e.rows[e.rows.length - 1]!.ts), receivedAt: new Date(e.receivedAtMs).toISOString() };
        }
        if (buffer.length >= input.flushRows) await flush();
      } else if (e.kind === 'gap') {
        // The rows before the gap go to disk first, so the covered span ends where they end.
        await flush(true);
        noteGap(status, e.gap);
        segmentStart = e.gap.beforeTs;
        // A book's gap stays open: no history holds it; the stream resynced from a snapshot.
        if (e.gap.healable) heals.push(e.gap);
      } else if (e.kind === 'connected' && e.reconnect) status.reconnects++;
    }
    await flush(true);
    return { ...carry, ended };
  } finally {
    clearInterval(ticker);
    clearTimeout(sessionTimer);
    ctx.cancellationSignal.removeEventListener('abort', onCancel);
    stop.abort();
  }
}

/** The column holding the venue's number of a row, where it numbers them: a trade's id, a book row's update id. */
const NUMBERED_BY: Partial<Record<Kind, string>> = { trades: 'trade_id', book: 'seq' };

/** The venue's number of row i of a batch, if it has one. */
function rowNumber(batch: ColumnBatch, i: number): string | undefined {
  const name = NUMBERED_BY[batch.kind];
  const v = name === undefined ? null : valueAt(columnOf(batch, name), i);
  return v === null ? undefined : String(v);
}

function noteGap(status: StreamStatus, g: StreamGap): void {
  const record: GapRecord = {
    afterNs: g.afterTs === null ? null : String(g.afterTs),
    beforeNs: String(g.beforeTs),
    ...(g.missingIds && { missingIds: g.missingIds }),
    reason: g.reason,
    state: 'open',
    at: new Date().toISOString(),
  };
  status.gapsTotal++;
  status.gaps.push(record);
  if (status.gaps.length > GAPS_KEPT) status.gaps.shift();
}
