// A deterministic synthetic market, venue-independent. Everything is a pure function of the
// seed, the market's identity and time, and any minute can be computed on its own:
//  - a minute's trade count, time offsets, prices, sizes and sides come from a generator
//    seeded by hash(market, minute);
//  - the price wanders along a smooth path (a mix of sinusoids pinned to startPrice at the
//    listing, with hashed noise at each minute boundary) that trades scatter around;
//  - trade ids are gapless from 0 at the listing: a lazily extended table of per-day trade
//    counts turns (minute) into (first id) and back without replaying history.
// Prices are integer ticks, sizes integer lots, and notionals integer tick×lot units, so
// every candle aggregate is exact. "Now" is the caller's wall clock: only trades strictly
// before it exist.
import { ValidationError } from '../domain/errors.ts';
import { decimalsOfStep } from './fixed-point.ts';
import { hash2, mix32, Mulberry32, unit } from './random.ts';
import type { SpanCalendar } from './spans.ts';

export interface MarketParams {
  /** ISO date (or date-time) of the first trade. */
  listing: string;
  /** Price at the listing, in quote currency. */
  startPrice: number;
  /** Mean number of trades in a minute that has trades (at least 1). */
  tradesPerMinute: number;
  /** Share of minutes without any trade (so without a candle). */
  quietMinuteShare: number;
  /**
   * How far a minute's trade count strays from tradesPerMinute, as a share of it: counts are
   * uniform in about [N·(1−s), N·(1+s)]. 1 (the default) draws them from [1, 2N); 0 gives
   * every minute N trades, a steady rate for benchmarks.
   */
  tradeCountSpread: number;
  /** Price step, a power of ten. */
  tickSize: number;
  /** Size step, a power of ten. */
  lotSize: number;
  /** Decimals of served prices and notionals. */
  pricePrecision: number;
  /** Decimals of served sizes. */
  qtyPrecision: number;
}

export const DEFAULT_MARKET_PARAMS: MarketParams = {
  listing: '2017-08-17',
  startPrice: 4000,
  tradesPerMinute: 20,
  quietMinuteShare: 0.02,
  tradeCountSpread: 1,
  tickSize: 0.01,
  lotSize: 0.00001,
  pricePrecision: 8,
  qtyPrecision: 8,
};

/** One trade, in integer units. */
export interface SimTrade {
  /** Sequential from 0 at the listing. */
  id: number;
  /** Execution time, ms UTC. */
  ms: number;
  /** Price in ticks. */
  price: number;
  /** Size in lots. */
  qty: number;
  /** The resting (maker) order was the buy: the taker sold. */
  buyerMaker: boolean;
}

/** Aggregate of a run of trades, in integer units; notionals in tick×lot units. */
export interface TradeSummary {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quote: bigint;
  count: number;
  /** Volume and notional of trades whose taker bought. */
  buyVolume: number;
  buyQuote: bigint;
  firstId: number;
  lastId: number;
}

export interface Candle {
  openMs: number;
  /** Open of the next candle minus 1 ms, as venues stamp it. */
  closeMs: number;
  summary: TradeSummary;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;
/** Price path: amplitudes (log-price) and periods (minutes) of the sinusoid mix. */
const WAVES = [
  { amp: 0.3, period: 525_600 }, // a year
  { amp: 0.1, period: 30_240 }, // three weeks
  { amp: 0.015, period: 420 }, // seven hours
] as const;
const MINUTE_NOISE = 0.002;
/** How far trades scatter around the path, relative to the price. */
const SCATTER = 0.0002;
/** Days whose per-minute aggregates stay in memory. */
const DAY_CACHE_DAYS = 48;

export class Market {
  readonly params: MarketParams;
  readonly priceDecimals: number;
  readonly qtyDecimals: number;
  readonly listingMs: number;
  private readonly key: number;
  private readonly listingMinute: number;
  private readonly listingDay: number;
  /** A minute with trades has countBase + (hash mod countSpan) of them. */
  private readonly countBase: number;
  private readonly countSpan: number;
  private readonly startTicks: number;
  private readonly maxLots: number;
  private readonly phases: number[];
  /** dayStartIds[k]: trades before day listingDay + k. */
  private readonly dayStartIds: number[] = [0];
  private readonly daySummaries = new Map<number, TradeSummary | null>();
  private readonly minuteCache = new Map<number, MinuteAggregates>();
  // Scratch buffers for one minute's trades, reused by every generation.
  private readonly bufMs: Float64Array;
  private readonly bufPrice: Float64Array;
  private readonly bufQty: Float64Array;
  private readonly bufMaker: Uint8Array;
  private anchorMemo = { minute: NaN, value: 0 };
  /** The minute whose trades the scratch buffers hold: a stream asks for the same one every tick. */
  private filled = { minute: NaN, count: 0 };

  /** `key` identifies the market (e.g. a hash of seed, venue and symbol). */
  constructor(key: number, params: MarketParams, field = 'markets') {
    this.params = checkParams(params, field);
    this.key = key >>> 0;
    this.priceDecimals = decimalsOfStep(params.tickSize, `${field}.tickSize`);
    this.qtyDecimals = decimalsOfStep(params.lotSize, `${field}.lotSize`);
    const listing = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(params.listing) ? `${params.listing}T00:00:00Z` : params.listing);
    if (Number.isNaN(listing)) throw new ValidationError(`${field}.listing`, `'${params.listing}' is not an ISO date`);
    this.listingMinute = Math.ceil(listing / MINUTE_MS);
    this.listingMs = this.listingMinute * MINUTE_MS;
    this.listingDay = Math.floor(this.listingMinute / MINUTES_PER_DAY);
    this.countSpan = Math.max(1, Math.round(2 * params.tradesPerMinute * params.tradeCountSpread - 1));
    this.countBase = Math.max(1, Math.round(params.tradesPerMinute - (this.countSpan - 1) / 2));
    const maxCount = this.countBase + this.countSpan - 1;
    this.startTicks = Math.round(params.startPrice * 10 ** this.priceDecimals);
    this.maxLots = 10 ** this.qtyDecimals;
    this.phases = WAVES.map((_, i) => unit(hash2(this.key, 0x7000 + i)) * 2 * Math.PI);
    if (this.startTicks < 100) {
      throw new ValidationError(`${field}.startPrice`, `${params.startPrice} is under 100 ticks of ${params.tickSize}; use a finer tickSize`);
    }
    if (this.priceDecimals + this.qtyDecimals > params.pricePrecision) {
      throw new ValidationError(
        `${field}.pricePrecision`,
        `${params.pricePrecision} decimals cannot hold price × size exactly (tickSize and lotSize need ${this.priceDecimals + this.qtyDecimals})`,
      );
    }
    if (this.priceDecimals > params.pricePrecision) throw new ValidationError(`${field}.pricePrecision`, 'is coarser than tickSize');
    if (this.qtyDecimals > params.qtyPrecision) throw new ValidationError(`${field}.qtyPrecision`, 'is coarser than lotSize');
    // A minute's notional is summed in a double; keep it an exact integer.
    const maxMinuteNotional = this.startTicks * 3 * this.maxLots * maxCount;
    if (maxMinuteNotional > Number.MAX_SAFE_INTEGER) {
      throw new ValidationError(field, 'startPrice, tickSize, lotSize and tradesPerMinute make a minute notional too large to sum exactly');
    }
    this.bufMs = new Float64Array(maxCount);
    this.bufPrice = new Float64Array(maxCount);
    this.bufQty = new Float64Array(maxCount);
    this.bufMaker = new Uint8Array(maxCount);
  }

  /** Mid price (ticks, fractional) of the path at `ms`. */
  midTicks(ms: number): number {
    const m = Math.floor(ms / MINUTE_MS);
    const a0 = this.anchor(m);
    return a0 + ((this.anchor(m + 1) - a0) * (ms - m * MINUTE_MS)) / MINUTE_MS;
  }

  /** Number of trades in [0, ms) capped at now: also the id of the first trade at or after ms. */
  tradesBefore(ms: number, nowMs: number): number {
    const t = Math.min(ms, nowMs);
    if (t <= this.listingMs) return 0;
    const m = Math.floor(t / MINUTE_MS);
    // The first of the minute's trades at or after t (they are in time order).
    let lo = 0;
    let hi = this.fillMinute(m);
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.bufMs[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return this.firstId(m) + lo;
  }

  /** Trades with ids in [fromId, toId); the caller keeps toId within tradesBefore(now). */
  trades(fromId: number, toId: number): SimTrade[] {
    const out: SimTrade[] = [];
    if (toId <= fromId) return out;
    let m = this.minuteOfId(fromId);
    let id = fromId;
    let i = fromId - this.firstId(m);
    while (id < toId) {
      const n = this.fillMinute(m);
      for (; i < n && id < toId; i++, id++) {
        out.push({ id, ms: this.bufMs[i]!, price: this.bufPrice[i]!, qty: this.bufQty[i]!, buyerMaker: this.bufMaker[i] === 1 });
      }
      m++;
      i = 0;
    }
    return out;
  }

  /** Aggregate of the trades in [fromMs, toMs) that happened before now; null if none. */
  summarize(fromMs: number, toMs: number, nowMs: number): TradeSummary | null {
    const end = Math.min(toMs, nowMs);
    const acc = new SummaryBuilder();
    let t = Math.max(fromMs, this.listingMs);
    while (t < end) {
      const m = Math.floor(t / MINUTE_MS);
      const minuteStart = m * MINUTE_MS;
      if (t === minuteStart && t % DAY_MS === 0 && t + DAY_MS <= end) {
        acc.add(this.daySummary(t / DAY_MS));
        t += DAY_MS;
      } else if (t === minuteStart && minuteStart + MINUTE_MS <= end) {
        this.addMinute(acc, m);
        t += MINUTE_MS;
      } else {
        const stop = Math.min(minuteStart + MINUTE_MS, end);
        this.addTrades(acc, m, t, stop);
        t = stop;
      }
    }
    return acc.build();
  }

  /** Non-empty candles opening in [fromMs, toMs] and before now, oldest first, at most `limit`. */
  candlesForward(cal: SpanCalendar, fromMs: number, toMs: number, limit: number, nowMs: number): Candle[] {
    const out: Candle[] = [];
    let open = cal.floor(fromMs);
    if (open < fromMs) open = cal.next(open);
    open = Math.max(open, cal.floor(this.listingMs));
    while (out.length < limit && open <= toMs && open < nowMs) {
      const next = cal.next(open);
      const summary = this.summarize(open, next, nowMs);
      if (summary) out.push({ openMs: open, closeMs: next - 1, summary });
      open = next;
    }
    return out;
  }

  /** The `limit` most recent non-empty candles opening at or before endMs, oldest first. */
  candlesBackward(cal: SpanCalendar, endMs: number, limit: number, nowMs: number): Candle[] {
    const out: Candle[] = [];
    const first = cal.floor(this.listingMs);
    let open = cal.floor(Math.min(endMs, nowMs - 1));
    while (out.length < limit && open >= first) {
      const next = cal.next(open);
      const summary = this.summarize(open, next, nowMs);
      if (summary) out.push({ openMs: open, closeMs: next - 1, summary });
      open = cal.prev(open);
    }
    return out.reverse();
  }

  // ---- generation ---------------------------------------------------------------------

  private minuteTradeCount(m: number): number {
    if (m < this.listingMinute) return 0;
    const h = hash2(this.key, m);
    if (unit(h) < this.params.quietMinuteShare) return 0;
    return this.countBase + (mix32(h ^ 0x68e31da4) % this.countSpan);
  }

  /** Generates minute m's trades into the scratch buffers, in time order; returns the count. */
  private fillMinute(m: number): number {
    if (this.filled.minute === m) return this.filled.count;
    const n = this.minuteTradeCount(m);
    this.filled = { minute: m, count: n };
    if (n === 0) return 0;
    const rng = new Mulberry32(hash2(this.key ^ 0x5bd1e995, m));
    // Sorted offsets from cumulative random gaps: no sort needed, and equal milliseconds
    // happen naturally when gaps are small.
    const gaps = this.bufMs;
    let total = 0;
    for (let i = 0; i < n; i++) gaps[i] = total += rng.next() + 0.05;
    total += rng.next() + 0.05;
    const start = m * MINUTE_MS;
    const a0 = this.anchor(m);
    const slope = this.anchor(m + 1) - a0;
    for (let i = 0; i < n; i++) {
      const offset = Math.floor((MINUTE_MS * gaps[i]!) / total);
      const mid = a0 + (slope * offset) / MINUTE_MS;
      const bits = rng.nextU32();
      const scatter = ((bits & 0xffff) / 0x10000 - 0.5) * 2 * Math.max(1, mid * SCATTER);
      const size = rng.next();
      this.bufMs[i] = start + offset;
      this.bufPrice[i] = Math.max(1, Math.round(mid + scatter));
      this.bufQty[i] = 1 + Math.floor(size * size * size * this.maxLots);
      this.bufMaker[i] = bits >>> 31;
    }
    return n;
  }

  /** Path value (ticks) at the start of minute m. */
  private anchor(m: number): number {
    if (this.anchorMemo.minute === m) return this.anchorMemo.value;
    const x = m - this.listingMinute;
    let logMove = MINUTE_NOISE * (unit(hash2(this.key ^ 0x3c6ef372, m)) - 0.5);
    for (let i = 0; i < WAVES.length; i++) {
      const w = WAVES[i]!;
      const phase = this.phases[i]!;
      logMove += w.amp * (Math.sin((2 * Math.PI * x) / w.period + phase) - Math.sin(phase));
    }
    const value = this.startTicks * Math.exp(logMove);
    this.anchorMemo = { minute: m, value };
    return value;
  }

  // ---- ids --------------------------------------------------------------------------

  private firstId(m: number): number {
    const d = Math.floor(m / MINUTES_PER_DAY);
    if (d < this.listingDay) return 0;
    let id = this.firstIdOfDay(d);
    for (let i = d * MINUTES_PER_DAY; i < m; i++) id += this.minuteTradeCount(i);
    return id;
  }

  private firstIdOfDay(d: number): number {
    const k = d - this.listingDay;
    if (k <= 0) return 0;
    while (this.dayStartIds.length <= k) {
      const j = this.dayStartIds.length - 1;
      this.dayStartIds.push(this.dayStartIds[j]! + this.dayTradeCount(this.listingDay + j));
    }
    return this.dayStartIds[k]!;
  }

  private dayTradeCount(d: number): number {
    let n = 0;
    const first = d * MINUTES_PER_DAY;
    for (let m = first; m < first + MINUTES_PER_DAY; m++) n += this.minuteTradeCount(m);
    return n;
  }

  private minuteOfId(id: number): number {
    // Extend the day table until it covers id, then binary-search it.
    while (this.dayStartIds[this.dayStartIds.length - 1]! <= id) this.firstIdOfDay(this.listingDay + this.dayStartIds.length);
    let lo = 0;
    let hi = this.dayStartIds.length - 1; // dayStartIds[lo] <= id < dayStartIds[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.dayStartIds[mid]! <= id) lo = mid;
      else hi = mid;
    }
    let m = (this.listingDay + lo) * MINUTES_PER_DAY;
    let first = this.dayStartIds[lo]!;
    for (;;) {
      const n = this.minuteTradeCount(m);
      if (id < first + n) return m;
      first += n;
      m++;
    }
  }

  // ---- aggregates ---------------------------------------------------------------------

  private addTrades(acc: SummaryBuilder, m: number, fromMs: number, toMs: number): void {
    const n = this.fillMinute(m);
    let id = this.firstId(m);
    for (let i = 0; i < n; i++, id++) {
      const ms = this.bufMs[i]!;
      if (ms >= fromMs && ms < toMs) acc.trade(this.bufPrice[i]!, this.bufQty[i]!, this.bufMaker[i] === 1, id);
    }
  }

  private addMinute(acc: SummaryBuilder, m: number): void {
    const day = Math.floor(m / MINUTES_PER_DAY);
    let agg = this.minuteCache.get(day);
    if (agg) {
      this.minuteCache.delete(day); // re-insert: the Map's order is the LRU order
    } else {
      agg = new MinuteAggregates(this.firstIdOfDay(day));
      if (this.minuteCache.size >= DAY_CACHE_DAYS) this.minuteCache.delete(this.minuteCache.keys().next().value!);
    }
    this.minuteCache.set(day, agg);
    const index = m - day * MINUTES_PER_DAY;
    while (agg.filled <= index) this.fillAggregate(agg, day * MINUTES_PER_DAY + agg.filled);
    agg.addTo(acc, index);
  }

  private fillAggregate(agg: MinuteAggregates, m: number): void {
    const n = this.fillMinute(m);
    const i = agg.filled;
    agg.count[i] = n;
    agg.firstId[i] = agg.nextId;
    agg.nextId += n;
    agg.filled++;
    if (n === 0) return;
    let high = -Infinity;
    let low = Infinity;
    let volume = 0;
    let quote = 0;
    let buyVolume = 0;
    let buyQuote = 0;
    for (let k = 0; k < n; k++) {
      const price = this.bufPrice[k]!;
      const qty = this.bufQty[k]!;
      if (price > high) high = price;
      if (price < low) low = price;
      volume += qty;
      quote += price * qty;
      if (this.bufMaker[k] === 0) {
        buyVolume += qty;
        buyQuote += price * qty;
      }
    }
    agg.open[i] = this.bufPrice[0]!;
    agg.close[i] = this.bufPrice[n - 1]!;
    agg.high[i] = high;
    agg.low[i] = low;
    agg.volume[i] = volume;
    agg.quote[i] = quote;
    agg.buyVolume[i] = buyVolume;
    agg.buyQuote[i] = buyQuote;
  }

  /** Aggregate of a whole UTC day; only asked for days that have ended. */
  private daySummary(day: number): TradeSummary | null {
    const cached = this.daySummaries.get(day);
    if (cached !== undefined) return cached;
    const acc = new SummaryBuilder();
    let id = this.firstIdOfDay(day);
    for (let m = day * MINUTES_PER_DAY; m < (day + 1) * MINUTES_PER_DAY; m++) {
      const n = this.fillMinute(m);
      for (let i = 0; i < n; i++) acc.trade(this.bufPrice[i]!, this.bufQty[i]!, this.bufMaker[i] === 1, id++);
    }
    const summary = acc.build();
    this.daySummaries.set(day, summary);
    return summary;
  }
}

/** Per-minute aggregates of one day, filled in order as they are asked for. */
class MinuteAggregates {
  filled = 0;
  readonly count = new Int32Array(MINUTES_PER_DAY);
  readonly firstId = new Float64Array(MINUTES_PER_DAY);
  readonly open = new Float64Array(MINUTES_PER_DAY);
  readonly high = new Float64Array(MINUTES_PER_DAY);
  readonly low = new Float64Array(MINUTES_PER_DAY);
  readonly close = new Float64Array(MINUTES_PER_DAY);
  readonly volume = new Float64Array(MINUTES_PER_DAY);
  readonly quote = new Float64Array(MINUTES_PER_DAY);
  readonly buyVolume = new Float64Array(MINUTES_PER_DAY);
  readonly buyQuote = new Float64Array(MINUTES_PER_DAY);
  constructor(public nextId: number) {}

  addTo(acc: SummaryBuilder, i: number): void {
    const n = this.count[i]!;
    if (n === 0) return;
    acc.add({
      open: this.open[i]!,
      high: this.high[i]!,
      low: this.low[i]!,
      close: this.close[i]!,
      volume: this.volume[i]!,
      quote: BigInt(this.quote[i]!),
      count: n,
      buyVolume: this.buyVolume[i]!,
      buyQuote: BigInt(this.buyQuote[i]!),
      firstId: this.firstId[i]!,
      lastId: this.firstId[i]! + n - 1,
    });
  }
}

/** Largest sum of notionals kept in a double before it moves into the bigint total. */
const FLUSH_AT = 2 ** 52;

/** Folds trades and summaries, in time order, into one summary, without allocating per trade. */
class SummaryBuilder {
  private count = 0;
  private open = 0;
  private high = -Infinity;
  private low = Infinity;
  private close = 0;
  private volume = 0;
  private buyVolume = 0;
  private firstId = 0;
  private lastId = 0;
  // Notionals: exact doubles while small, moved into bigints before they could round.
  private quote = 0;
  private buyQuote = 0;
  private quoteBig = 0n;
  private buyQuoteBig = 0n;

  trade(price: number, qty: number, buyerMaker: boolean, id: number): void {
    if (this.count === 0) {
      this.open = price;
      this.firstId = id;
    }
    if (price > this.high) this.high = price;
    if (price < this.low) this.low = price;
    this.close = price;
    this.lastId = id;
    this.count++;
    this.volume += qty;
    const notional = price * qty;
    this.quote += notional;
    if (!buyerMaker) {
      this.buyVolume += qty;
      this.buyQuote += notional;
    }
    if (this.quote > FLUSH_AT) this.flush();
  }

  add(x: TradeSummary | null): void {
    if (!x) return;
    if (this.count === 0) {
      this.open = x.open;
      this.firstId = x.firstId;
    }
    if (x.high > this.high) this.high = x.high;
    if (x.low < this.low) this.low = x.low;
    this.close = x.close;
    this.lastId = x.lastId;
    this.count += x.count;
    this.volume += x.volume;
    this.buyVolume += x.buyVolume;
    this.quoteBig += x.quote;
    this.buyQuoteBig += x.buyQuote;
  }

  build(): TradeSummary | null {
    if (this.count === 0) return null;
    this.flush();
    return {
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      volume: this.volume,
      quote: this.quoteBig,
      count: this.count,
      buyVolume: this.buyVolume,
      buyQuote: this.buyQuoteBig,
      firstId: this.firstId,
      lastId: this.lastId,
    };
  }

  private flush(): void {
    this.quoteBig += BigInt(this.quote);
    this.buyQuoteBig += BigInt(this.buyQuote);
    this.quote = 0;
    this.buyQuote = 0;
  }
}

function checkParams(p: MarketParams, field: string): MarketParams {
  const positive = (name: keyof MarketParams) => {
    const v = p[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValidationError(`${field}.${name}`, `${String(v)} is not a positive number`);
  };
  positive('startPrice');
  positive('tradesPerMinute');
  positive('tickSize');
  positive('lotSize');
  if (!(p.quietMinuteShare >= 0 && p.quietMinuteShare < 1)) {
    throw new ValidationError(`${field}.quietMinuteShare`, `${p.quietMinuteShare} is not in [0, 1)`);
  }
  if (!(p.tradeCountSpread >= 0 && p.tradeCountSpread <= 1)) {
    throw new ValidationError(`${field}.tradeCountSpread`, `${p.tradeCountSpread} is not in [0, 1]`);
  }
  for (const name of ['pricePrecision', 'qtyPrecision'] as const) {
    if (!Number.isInteger(p[name]) || p[name] < 0 || p[name] > 18) throw new ValidationError(`${field}.${name}`, `${p[name]} is not an integer in 0..18`);
  }
  return p;
}
