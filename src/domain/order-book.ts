// An order book as a venue's snapshot and diff messages describe it, and as stored book rows
// rebuild it: price levels per side, kept sorted best first, where a diff sets a level's
// amount and an amount of 0 removes the level. The stream sources keep one per live book; the
// read side replays stored rows into one. Pure: no I/O, no venue.
import type { BookRow, BookSide } from './records.ts';

export interface Level {
  price: number;
  amount: number;
}

export interface BookLevels {
  /** Best first: bids by price descending, asks ascending. */
  bids: Level[];
  asks: Level[];
}

/** One side's levels: amounts by price, and the prices sorted best first. */
class Side {
  readonly #amounts = new Map<number, number>();
  /** Best first; `better(a, b)` is true when a ranks before b. */
  readonly #prices: number[] = [];

  constructor(private readonly better: (a: number, b: number) => boolean) {}

  get size(): number {
    return this.#prices.length;
  }

  get best(): number | undefined {
    return this.#prices[0];
  }

  set(price: number, amount: number): void {
    const had = this.#amounts.has(price);
    if (amount === 0) {
      if (!had) return;
      this.#amounts.delete(price);
      this.#prices.splice(this.#indexOf(price), 1);
    } else {
      if (!had) this.#prices.splice(this.#indexOf(price), 0, price);
      this.#amounts.set(price, amount);
    }
  }

  top(n: number): Level[] {
    return this.#prices.slice(0, n).map((price) => ({ price, amount: this.#amounts.get(price)! }));
  }

  clear(): void {
    this.#amounts.clear();
    this.#prices.length = 0;
  }

  /** Where `price` is or would be inserted (binary search on the best-first order). */
  #indexOf(price: number): number {
    let lo = 0;
    let hi = this.#prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(this.#prices[mid]!, price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export class OrderBook {
  readonly #bids = new Side((a, b) => a > b);
  readonly #asks = new Side((a, b) => a < b);

  /** Replaces the whole book with `levels` (a snapshot); levels of amount 0 are left out. */
  applySnapshot(levels: BookLevels): void {
    this.#bids.clear();
    this.#asks.clear();
    for (const l of levels.bids) this.#bids.set(l.price, l.amount);
    for (const l of levels.asks) this.#asks.set(l.price, l.amount);
  }

  /** Sets one level; amount 0 removes it (removing a level the book lacks is no error: venues send such diffs). */
  set(side: BookSide, price: number, amount: number): void {
    if (!Number.isFinite(price) || !Number.isFinite(amount) || amount < 0) {
      throw new RangeError(`a ${side} level needs a finite price and an amount >= 0, got ${price} @ ${amount}`);
    }
    (side === 'bid' ? this.#bids : this.#asks).set(price, amount);
  }

  /** The best `depth` levels of each side. */
  top(depth: number): BookLevels {
    return { bids: this.#bids.top(depth), asks: this.#asks.top(depth) };
  }

  get bestBid(): number | undefined {
    return this.#bids.best;
  }

  get bestAsk(): number | undefined {
    return this.#asks.best;
  }

  /** A bid at or above an ask: no real book is ever so; it means an update was missed or misapplied. */
  get crossed(): boolean {
    const bid = this.#bids.best;
    const ask = this.#asks.best;
    return bid !== undefined && ask !== undefined && bid >= ask;
  }

  get size(): { bids: number; asks: number } {
    return { bids: this.#bids.size, asks: this.#asks.size };
  }
}

/**
 * The levels that differ between two top-N views of a book (before, after), each as its new
 * amount, 0 where a level left the view: what turns `before` into `after`. Asks, then bids,
 * each by price ascending.
 */
export function levelChanges(before: BookLevels, after: BookLevels): Array<{ side: BookSide; price: number; amount: number }> {
  const out: Array<{ side: BookSide; price: number; amount: number }> = [];
  for (const [side, was, now] of [['ask', before.asks, after.asks], ['bid', before.bids, after.bids]] as const) {
    const old = new Map(was.map((l) => [l.price, l.amount]));
    const changed: Level[] = [];
    for (const l of now) {
      if (old.get(l.price) !== l.amount) changed.push(l);
      old.delete(l.price);
    }
    for (const price of old.keys()) changed.push({ price, amount: 0 });
    changed.sort((a, b) => a.price - b.price);
    for (const l of changed) out.push({ side, ...l });
  }
  return out;
}

/** The book a snapshot's rows and the diff rows after it make, and the ts and seq of its last row. */
export interface RebuiltBook extends BookLevels {
  ts: bigint;
  seq: bigint | null;
}

/**
 * Replays stored book rows: `snapshot` (the rows of one snapshot) and then `diffs` (diff rows
 * after it, in seq order) applied one by one. The result holds the best `depth` levels per side.
 */
export function rebuildBook(snapshot: readonly BookRow[], diffs: readonly BookRow[], depth = Infinity): RebuiltBook {
  const first = snapshot[0];
  if (!first) throw new RangeError('a book is rebuilt from a snapshot, and none was given');
  const book = new OrderBook();
  for (const r of snapshot) book.set(r.side, r.price, r.amount);
  let { ts, seq } = first;
  for (const r of diffs) {
    book.set(r.side, r.price, r.amount);
    ts = r.ts;
    seq = r.seq;
  }
  return { ts, seq, ...book.top(depth) };
}

/** A book's levels as snapshot rows of `ts` and `seq`: asks then bids, each from level 0 (the best). */
export function snapshotRows(levels: BookLevels, ts: bigint, seq: bigint | null): BookRow[] {
  const rows: BookRow[] = [];
  for (const [side, list] of [['ask', levels.asks], ['bid', levels.bids]] as const) {
    list.forEach((l, level) => rows.push({ ts, seq, isSnapshot: true, side, level, price: l.price, amount: l.amount }));
  }
  return rows;
}
