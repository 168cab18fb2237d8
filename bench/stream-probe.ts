// What the stream bench sees of a live stream, through three public calls of the services a
// worker runs on: the adapter's trade stream (each frame's rows and receipt time), the
// store's append (the rows of a flush) and the manifest's cover (the flush made durable).
// The activity between them is left as it is. Memory stays bounded whatever the run's
// length: pending rows are only those not yet flushed, and latencies go into histograms.
import type { TradeRow } from '../src/domain/records.ts';
import type { ExchangeName, Target } from '../src/domain/target.ts';
import type { Services } from '../src/services.ts';
import type { StreamEvent } from '../src/sources/stream-events.ts';

/** Milliseconds in 1 ms buckets up to a minute, the rest in one overflow bucket. */
export class MsHistogram {
  readonly #counts = new Uint32Array(60_002);
  count = 0;

  add(ms: number): void {
    const i = Math.min(this.#counts.length - 1, Math.max(0, Math.round(ms)));
    this.#counts[i] = this.#counts[i]! + 1;
    this.count++;
  }

  merge(other: MsHistogram): void {
    other.#counts.forEach((n, i) => (this.#counts[i] = this.#counts[i]! + n));
    this.count += other.count;
  }

  /** The q-quantile in ms (the overflow bucket reads as 60,001: a minute or more). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = q * (this.count - 1);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen > rank) return i;
    }
    return this.#counts.length - 1;
  }
}

/** One stream's counters and latencies, from the moment `reset` was last called. */
export class StreamSeen {
  /** Rows the stream gave the activity, and rows flushed and covered. */
  received = 0;
  durable = 0;
  flushes = 0;
  /** Transport receipt minus the trade's own timestamp. */
  receiptLag = new MsHistogram();
  /** Flush made durable minus the trade's own timestamp. */
  durableLag = new MsHistogram();
  /** Flush made durable minus the transport's receipt. */
  receiptToDurable = new MsHistogram();
  /** From the append's call to its cover's answer: what one flush costs. */
  flushMs = new MsHistogram();
  // Rows received and not yet durable, in stream order, with their receipt times.
  #rows: TradeRow[] = [];
  #receivedAt: number[] = [];
  #head = 0;
  #appending: { rows: TradeRow[]; startMs: number } | undefined;

  constructor(readonly symbol: string) {}

  reset(): void {
    this.received = this.durable = this.flushes = 0;
    this.receiptLag = new MsHistogram();
    this.durableLag = new MsHistogram();
    this.receiptToDurable = new MsHistogram();
    this.flushMs = new MsHistogram();
  }

  onRows(rows: TradeRow[], receivedAtMs: number): void {
    for (const row of rows) {
      this.#rows.push(row);
      this.#receivedAt.push(receivedAtMs);
      this.receiptLag.add(receivedAtMs - tradeMs(row));
    }
    this.received += rows.length;
  }

  onAppend(rows: TradeRow[], startMs: number): void {
    this.#appending = { rows, startMs };
  }

  /** The manifest took the span of the last append: its rows are durable now. */
  onCovered(): void {
    const flush = this.#appending;
    if (!flush) return;
    this.#appending = undefined;
    const now = Date.now();
    for (const row of flush.rows) {
      // Flushes take the rows in the order the stream gave them; anything else means the
      // activity changed what it appends, and these figures would be wrong.
      if (this.#rows[this.#head] !== row) throw new Error(`${this.symbol}: a flush appended a row the stream had not given next (trade ${row.tradeId})`);
      this.receiptToDurable.add(now - this.#receivedAt[this.#head]!);
      this.durableLag.add(now - tradeMs(row));
      this.#head++;
    }
    // Drop what is durable once it is most of the queue, so the queue stays as long as the buffer.
    if (this.#head > 4096 && this.#head * 2 > this.#rows.length) {
      this.#rows = this.#rows.slice(this.#head);
      this.#receivedAt = this.#receivedAt.slice(this.#head);
      this.#head = 0;
    }
    this.durable += flush.rows.length;
    this.flushes++;
    this.flushMs.add(now - flush.startMs);
  }
}

const tradeMs = (row: TradeRow): number => Number(row.ts / 1_000_000n);

/** Every stream of `services`' worker, by symbol. */
export class StreamProbe {
  readonly streams = new Map<string, StreamSeen>();

  of(target: Target): StreamSeen {
    let s = this.streams.get(target.symbol);
    if (!s) this.streams.set(target.symbol, (s = new StreamSeen(target.symbol)));
    return s;
  }

  all(): StreamSeen[] {
    return [...this.streams.values()];
  }

  reset(): void {
    for (const s of this.streams.values()) s.reset();
  }
}

/**
 * Watches the calls a stream session makes on `services` (the ones a worker built on them
 * will use): `adapter(exchange).streams.trades`, `store.append` and `(await coverage()).cover`
 * of the `ws` source. Call before the worker starts.
 */
export async function probeStreams(services: Services, exchange: ExchangeName): Promise<StreamProbe> {
  const probe = new StreamProbe();
  const streams = services.adapter(exchange).streams;
  const trades = streams?.trades;
  if (!streams || !trades) throw new Error(`${exchange}: no trade stream to measure`);
  streams.trades = (target, o) => tapRows(trades(target, o), (e) => probe.of(target).onRows(e.rows, e.receivedAtMs));

  const store = services.store;
  const append = store.append.bind(store);
  store.append = async (target, rows, flush, provenance) => {
    const startMs = Date.now();
    const written = await append(target, rows, flush, provenance);
    if (target.kind === 'trades') probe.of(target).onAppend(rows as TradeRow[], startMs);
    return written;
  };

  const coverage = await services.coverage();
  const cover = coverage.cover.bind(coverage);
  coverage.cover = async (target, source, w) => {
    await cover(target, source, w);
    if (source === 'ws') probe.of(target).onCovered();
  };
  return probe;
}

/** The same events, with `onRows` called on each batch of rows as the consumer takes it. */
function tapRows<R>(events: AsyncIterable<StreamEvent<R>>, onRows: (e: Extract<StreamEvent<R>, { kind: 'rows' }>) => void): AsyncIterable<StreamEvent<R>> {
  return {
    [Symbol.asyncIterator]() {
      const it = events[Symbol.asyncIterator]();
      return {
        next: () =>
          it.next().then((r) => {
            if (!r.done && r.value.kind === 'rows') onRows(r.value);
            return r;
          }),
        return: (v?: unknown) => it.return?.(v) ?? Promise.resolve({ done: true as const, value: v }),
      };
    },
  };
}
