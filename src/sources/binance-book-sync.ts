// A local copy of a Binance spot order book, kept from the diff depth stream and REST
// snapshots by the procedure of "How to manage a local order book correctly"
// (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#how-to-manage-a-local-order-book-correctly):
//   1. open the stream and buffer its events, noting the U of the first;
//   2. get a depth snapshot; if its lastUpdateId is older than that first event, get another;
//   3. drop buffered events with u <= lastUpdateId; set the book to the snapshot;
//   4. apply the buffered events, then every event received: one with u <= the book's update id
//      is ignored; one with U > the book's update id + 1 means updates were missed: the book is
//      discarded and the procedure starts again from step 2.
// The first event applied after a snapshot thus spans lastUpdateId + 1 (U <= lastUpdateId+1 <= u),
// and each next one starts where the last ended (U == previous u + 1). A snapshot exactly one
// id before the first event (lastUpdateId = U - 1) already meets that rule, so it is kept
// rather than fetched again. A book whose best bid reaches its best ask is treated as a break
// too. Pure: the caller owns the socket and the REST calls, and hands events and snapshots in.
//
// What it gives out are the rows dccd stores for the book's top `depth` levels: a snapshot
// when the book is (re)built and every `snapshotIntervalMs`, and between them each event's
// changes of the top levels; and, when it is rebuilt after a break or a new connection, a gap
// (the updates in between are lost for good: no venue serves a book's past).
import { OrderBook, levelChanges, snapshotRows, type BookLevels } from '../domain/order-book.ts';
import type { BookRow } from '../domain/records.ts';
import { nsFromMs } from '../domain/time.ts';
import type { DepthSnapshot, DepthUpdate } from './binance.ts';
import type { StreamEvent, StreamGap } from './stream-events.ts';

export interface BookSyncOptions {
  /** Levels per side stored. */
  depth: number;
  /** A snapshot is stored at the first event this long after the last one. */
  snapshotIntervalMs: number;
  /** The last row an earlier session stored: its ts and seq (as `id`); updates after it and before this session's first are a gap. */
  resumeAfter?: { ts: bigint; id?: string };
}

/** A received event and when it arrived. */
export interface ReceivedUpdate extends DepthUpdate {
  receivedAtMs: number;
}

/** What the sync gives out: events for the consumer, or a request for a fresh snapshot. */
export type SyncOutput = StreamEvent<BookRow> | { kind: 'need-snapshot'; reason: string };

export class BinanceBookSync {
  readonly #book = new OrderBook();
  /** Events held while no snapshot has been applied; the first one's U says how recent a snapshot must be. */
  #buffer: ReceivedUpdate[] = [];
  #firstU: bigint | undefined;
  /** A snapshot received before the events that can follow it. */
  #snapshot: DepthSnapshot | undefined;
  #live = false;
  /** The update id the book is at (live only). */
  #id = 0n;
  /** Set from a (re)build until the first event applied on it, which stores a snapshot. */
  #fresh = false;
  /** The last event applied: where a later gap begins. */
  #last: { ts: bigint; id: bigint | undefined } | null;
  /** Why the book is being rebuilt, for the gap its rebuild records; null on a first build. */
  #why: string | null;
  /** The top levels as the stored rows leave them, and when their last snapshot was. */
  #shown: BookLevels = { bids: [], asks: [] };
  #snapshotAtMs = 0;

  constructor(private readonly o: BookSyncOptions) {
    const r = o.resumeAfter;
    this.#last = r ? { ts: r.ts, id: r.id === undefined ? undefined : BigInt(r.id) } : null;
    this.#why = r ? 'book updates missed between sessions' : null;
  }

  /** The connection was lost (`reason`) or a new one opened (null): the book is rebuilt from the next events and a new snapshot. */
  restart(reason: string | null): void {
    this.#why ??= `book updates missed while reconnecting${reason === null ? '' : ` (${reason})`}`;
    this.#reset([]);
  }

  /** A diff depth event from the stream. */
  event(e: ReceivedUpdate): SyncOutput[] {
    if (!this.#live) {
      this.#buffer.push(e);
      if (this.#firstU === undefined) {
        this.#firstU = e.U;
        if (!this.#snapshot) return [{ kind: 'need-snapshot', reason: 'the book is being built' }];
      }
      return this.#snapshot ? this.#sync(this.#snapshot) : [];
    }
    return this.#apply(e);
  }

  /** A depth snapshot (GET /api/v3/depth) asked for by a 'need-snapshot'. */
  snapshot(s: DepthSnapshot): SyncOutput[] {
    if (this.#live) return []; // one asked for before a rebuild that another snapshot already completed
    return this.#sync(s);
  }

  /** Discards the book; `keep` (events already received) are buffered for the next snapshot. */
  #reset(keep: ReceivedUpdate[]): void {
    this.#live = false;
    this.#snapshot = undefined;
    this.#buffer = keep;
    this.#firstU = keep[0]?.U;
  }

  /** A break: the book goes, the rebuild records a gap for `why`, and a snapshot is needed once an event is buffered. */
  #break(why: string, keep: ReceivedUpdate[]): SyncOutput[] {
    this.#why ??= why;
    this.#reset(keep);
    return keep.length ? [{ kind: 'need-snapshot', reason: why }] : [];
  }

  #sync(s: DepthSnapshot): SyncOutput[] {
    this.#snapshot = s;
    if (this.#firstU === undefined) return [];
    if (s.lastUpdateId + 1n < this.#firstU) {
      this.#snapshot = undefined;
      return [{ kind: 'need-snapshot', reason: `the snapshot (lastUpdateId ${s.lastUpdateId}) is older than the first buffered event (U ${this.#firstU})` }];
    }
    const pending = this.#buffer.filter((e) => e.u > s.lastUpdateId);
    this.#buffer = pending;
    if (pending.length === 0) return []; // the event that follows the snapshot has not come yet
    this.#book.applySnapshot(s);
    this.#id = s.lastUpdateId;
    this.#live = true;
    this.#fresh = true;
    this.#buffer = [];
    const out: SyncOutput[] = [];
    for (const [i, e] of pending.entries()) {
      out.push(...this.#apply(e, pending.slice(i + 1)));
      if (!this.#live) break;
    }
    return out;
  }

  /** Applies one event to the live book; `later` are buffered events after it, kept for a rebuild if it breaks. */
  #apply(e: ReceivedUpdate, later: ReceivedUpdate[] = []): SyncOutput[] {
    if (e.u <= this.#id) return [];
    if (e.U > this.#id + 1n) return this.#break(`a break in the book's update ids (${this.#id + 1n} expected, the next event starts at ${e.U})`, [e, ...later]);
    for (const l of e.bids) this.#book.set('bid', l.price, l.amount);
    for (const l of e.asks) this.#book.set('ask', l.price, l.amount);
    if (this.#book.crossed) {
      return this.#break(`a crossed book after update ${e.u} (best bid ${this.#book.bestBid} >= best ask ${this.#book.bestAsk})`, later);
    }
    this.#id = e.u;
    const ts = nsFromMs(e.E);
    const top = this.#book.top(this.o.depth);
    const out: SyncOutput[] = [];
    let rows: BookRow[];
    if (this.#fresh) {
      this.#fresh = false;
      // Nothing stored before this book (a run's first): nothing is missing.
      if (this.#why !== null && this.#last !== null) out.push({ kind: 'gap', gap: this.#gap(this.#last, ts, e.u) });
      this.#why = null;
      rows = this.#snapshotAt(top, ts, e);
    } else {
      rows = levelChanges(this.#shown, top).map((c) => ({ ts, seq: e.u, isSnapshot: false, level: null, ...c }));
      if (e.E - this.#snapshotAtMs >= this.o.snapshotIntervalMs) rows.push(...this.#snapshotAt(top, ts, e));
    }
    this.#shown = top;
    this.#last = { ts, id: e.u };
    if (rows.length > 0) {
      out.push({ kind: 'rows', rows, receivedAtMs: e.receivedAtMs, settled: true, sample: bestOf(this.#book) });
    }
    return out;
  }

  #snapshotAt(top: BookLevels, ts: bigint, e: ReceivedUpdate): BookRow[] {
    this.#snapshotAtMs = e.E;
    return snapshotRows(top, ts, e.u);
  }

  /** From the last event applied before the rebuild to the first after it; the ids between have no stored rows. */
  #gap(last: { ts: bigint; id: bigint | undefined }, beforeTs: bigint, u: bigint): StreamGap {
    const from = last.id === undefined ? undefined : last.id + 1n;
    return {
      afterTs: last.ts,
      beforeTs,
      ...(from !== undefined && from <= u - 1n && { missingIds: { from: String(from), to: String(u - 1n) } }),
      reason: this.#why!,
      healable: false,
    };
  }
}

function bestOf(book: OrderBook): { bid?: number; ask?: number } {
  return { ...(book.bestBid !== undefined && { bid: book.bestBid }), ...(book.bestAsk !== undefined && { ask: book.bestAsk }) };
}
