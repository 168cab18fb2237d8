// A deterministic order book that follows a market's price path. Time is cut into 100 ms
// steps; step u (from 1 at the listing) is the book's update id. Levels sit on a fixed grid
// around the path's mid price, and each level's size changes at its own pace (every 1 to 30
// s), so consecutive books differ in a few levels and a diff stream stays small.
import type { Market } from './market.ts';
import { hash2, hash3, unit } from './random.ts';

export const BOOK_STEP_MS = 100;

export interface BookLevel {
  /** Ticks. */
  price: number;
  /** Lots; 0 in a diff means the level is gone. */
  qty: number;
}

export interface BookSnapshot {
  updateId: number;
  /** Best first: bids descending, asks ascending. */
  bids: BookLevel[];
  asks: BookLevel[];
}

export class SimBook {
  private readonly spacing: number;
  private readonly maxLots: number;

  constructor(
    private readonly market: Market,
    private readonly key: number,
  ) {
    const startTicks = market.params.startPrice * 10 ** market.priceDecimals;
    this.spacing = Math.max(1, Math.round(startTicks * 2e-5));
    this.maxLots = 5 * 10 ** market.qtyDecimals;
  }

  /** The update id of the book in force at `ms`. */
  updateIdAt(ms: number): number {
    return Math.max(1, Math.floor((ms - this.market.listingMs) / BOOK_STEP_MS) + 1);
  }

  snapshot(updateId: number, depth: number): BookSnapshot {
    const mid = this.market.midTicks(this.market.listingMs + (updateId - 1) * BOOK_STEP_MS);
    const bestBid = Math.max(this.spacing, Math.floor(mid / this.spacing) * this.spacing);
    const bids: BookLevel[] = [];
    const asks: BookLevel[] = [];
    for (let k = 0; k < depth; k++) {
      const bid = bestBid - k * this.spacing;
      if (bid > 0) bids.push({ price: bid, qty: this.sizeAt(bid, updateId) });
      const ask = bestBid + (k + 1) * this.spacing;
      asks.push({ price: ask, qty: this.sizeAt(ask, updateId) });
    }
    return { updateId, bids, asks };
  }

  /** Levels of the top `depth` that changed from one update id to another (qty 0: removed). */
  diff(fromId: number, toId: number, depth: number): { bids: BookLevel[]; asks: BookLevel[] } {
    const before = this.snapshot(fromId, depth);
    const after = this.snapshot(toId, depth);
    return { bids: changedLevels(before.bids, after.bids, -1), asks: changedLevels(before.asks, after.asks, 1) };
  }

  private sizeAt(price: number, updateId: number): number {
    const period = 10 + (hash2(this.key, price) % 291);
    const phase = hash2(this.key ^ 0x1b873593, price) % period;
    const epoch = Math.floor((updateId + phase) / period);
    const u = unit(hash3(this.key, price, epoch));
    return 1 + Math.floor(u * u * this.maxLots);
  }
}

/** Levels whose size differs, plus vanished levels at size 0, sorted best first. */
function changedLevels(before: BookLevel[], after: BookLevel[], direction: 1 | -1): BookLevel[] {
  const old = new Map(before.map((l) => [l.price, l.qty]));
  const out: BookLevel[] = [];
  for (const l of after) {
    if (old.get(l.price) !== l.qty) out.push(l);
    old.delete(l.price);
  }
  for (const [price] of old) out.push({ price, qty: 0 });
  return out.sort((a, b) => direction * (a.price - b.price));
}
