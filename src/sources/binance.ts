// Binance spot over REST.
// Docs: https://developers.binance.com/docs/binance-spot-api-docs/rest-api
//   market data: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
//   limits:      https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
//   errors:      https://developers.binance.com/docs/binance-spot-api-docs/errors
import type { ExchangeCapabilities, HistoryCapability } from '../domain/capabilities.ts';
import { requireBackfill } from '../domain/capabilities.ts';
import { NoCapability, NotFound, ValidationError } from '../domain/errors.ts';
import { snapshotRows, type BookLevels, type Level } from '../domain/order-book.ts';
import type { BookRow, OhlcRow, TradeRow } from '../domain/records.ts';
import { DEFAULT_BOOK_DEPTH, DEFAULT_SNAPSHOT_INTERVAL_MS } from '../domain/stream.ts';
import type { Kind, Target } from '../domain/target.ts';
import { UNIFIED_SYMBOL, datasetKind, parseSeparatedSymbol } from '../domain/target.ts';
import { NS_PER_MS, NS_PER_S, nsFromMs } from '../domain/time.ts';
import type { AdapterOptions, ExchangeAdapter, HistoryRange, LiveOptions, LiveStreams, Page, TransportLog } from './adapter.ts';
import { binanceBook } from './binance-book-stream.ts';
import { binanceCandles, binanceTrades, type BinanceStreamOptions } from './binance-stream.ts';
import type { TransportSettings } from './http.ts';
import { ExchangeHttpError, HttpTransport } from './http.ts';
import type { FetchPage } from './paginate.ts';
import { compareNumericIds, paginateOhlc, paginateTrades } from './paginate.ts';
import type { Clock, RateLimit } from './rate-limiter.ts';
import { RateLimiter, systemClock } from './rate-limiter.ts';

export const BINANCE_DOCS = 'https://developers.binance.com/docs/binance-spot-api-docs/rest-api';
export const BINANCE_REST_URL = 'https://api.binance.com';

/** Kline intervals (ENUM definitions: https://developers.binance.com/docs/binance-spot-api-docs/enums). */
const SPANS = ['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'] as const;
const PAGE_LIMIT = 1000;
const MAX_BOOK_DEPTH = 5000;

export const BINANCE_CAPABILITIES: ExchangeCapabilities = {
  docs: BINANCE_DOCS,
  backfill: {
    // GET /api/v3/klines, 1000 per page, back to the listing.
    ohlc: { pageLimit: PAGE_LIMIT, depth: 'full', spans: SPANS },
    // GET /api/v3/aggTrades, 1000 per page, back to the listing; paged by aggregate trade id.
    trades: { pageLimit: PAGE_LIMIT, depth: 'full' },
    // GET /api/v3/depth: the current book only, up to 5000 levels per side.
    book: { pageLimit: MAX_BOOK_DEPTH, depth: { recentRows: 1 }, maxDepth: MAX_BOOK_DEPTH },
  },
  // <symbol>@kline_<interval>, <symbol>@aggTrade; books from the diff stream <symbol>@depth@100ms
  // over a REST snapshot, so any depth the snapshot reaches (binance-book-stream.ts).
  stream: { ohlc: { spans: SPANS }, trades: {}, book: { maxDepth: MAX_BOOK_DEPTH } },
};

/** REQUEST_WEIGHT 6000 per minute per IP; every answer carries X-MBX-USED-WEIGHT-1M. */
export const BINANCE_RATE_LIMIT: RateLimit = { budget: 6000, windowMs: 60_000, usedHeader: 'x-mbx-used-weight-1m' };

/** Request weights from the endpoint pages. */
const WEIGHT = { klines: 2, aggTrades: 4, exchangeInfo: 20 } as const;
function depthWeight(limit: number): number {
  return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

/**
 * Levels per side a book stream's REST snapshot asks for. The diff stream tells only of levels
 * that change, so a level that drifts into the top `depth` unchanged is known only if the
 * snapshot held it ("you won't learn the quantities for the levels outside of the initial
 * snapshot unless they change", web-socket-streams#how-to-manage-a-local-order-book-correctly):
 * the snapshot reaches well below the depth kept, 1000 levels (weight 50) up to a depth of 200,
 * then up to 5000 (weight 250).
 */
export function snapshotLimit(depth: number): number {
  return Math.min(MAX_BOOK_DEPTH, Math.max(1000, 5 * depth));
}

/**
 * Quote assets that end Binance's native symbols, longest first so BTCFDUSD splits as
 * BTC/FDUSD and not as BTCFD/USD. (Binance lists base and quote per symbol in exchangeInfo;
 * this list lets symbols be parsed without a round trip.)
 */
const QUOTES = [
  'FDUSD', 'USDT', 'USDC', 'TUSD', 'BUSD', 'USDP', 'USD1', 'AEUR', 'EURI', 'IDRT', 'BIDR', 'BKRW',
  'DOGE', 'BTC', 'ETH', 'BNB', 'XRP', 'TRX', 'DOT', 'DAI', 'PAX', 'VAI', 'EUR', 'TRY', 'BRL', 'GBP',
  'AUD', 'JPY', 'RUB', 'UAH', 'ZAR', 'ARS', 'PLN', 'RON', 'MXN', 'COP', 'CZK', 'NGN', 'IDR',
].sort((a, b) => b.length - a.length);

/**
 * A candle counts as closed only this long after its end: Binance's clock, not ours, decides
 * when a kline closes, and a few seconds absorb the skew of an ordinary NTP-synced host.
 */
const CLOSE_MARGIN_NS = 2n * NS_PER_S;

export class BinanceAdapter implements ExchangeAdapter {
  readonly name = 'binance' as const;
  readonly version = 'binance-rest/1';
  readonly capabilities = BINANCE_CAPABILITIES;
  private readonly base: string;
  private readonly wsBase: string | undefined;
  private readonly http: HttpTransport;
  private readonly clock: Clock;
  private readonly listed = new Set<string>();

  /** Without `settings.limiters` the adapter has a limiter of its own, shared with nobody. */
  constructor(opts: AdapterOptions = {}, settings: TransportSettings = {}) {
    this.base = (opts.restUrl ?? BINANCE_REST_URL).replace(/\/+$/, '');
    this.wsBase = opts.wsUrl;
    this.clock = settings.clock ?? systemClock;
    const limiter = settings.limiters
      ? settings.limiters.for('binance', this.base, BINANCE_RATE_LIMIT)
      : new RateLimiter(BINANCE_RATE_LIMIT, this.clock);
    this.http = new HttpTransport({ ...settings, exchange: 'binance', limiter, venueError: binanceError });
  }

  parseSymbol(raw: string): string {
    const unified = parseSeparatedSymbol(raw) ?? splitNative(raw);
    if (!UNIFIED_SYMBOL.test(unified)) throw new ValidationError('symbol', `'${raw}' is not a symbol (BTCUSDT or BTC/USDT)`);
    return unified;
  }

  async checkSymbol(unified: string, signal?: AbortSignal): Promise<void> {
    const native = this.native(unified);
    if (this.listed.has(native)) return;
    let body: unknown;
    try {
      body = await this.get('/api/v3/exchangeInfo', { symbol: native }, WEIGHT.exchangeInfo, { signal });
    } catch (err) {
      // -1121 Invalid symbol: https://developers.binance.com/docs/binance-spot-api-docs/errors
      if (err instanceof ExchangeHttpError && err.code === -1121) {
        const said = err.venueMessage ? ` (${err.venueMessage})` : '';
        throw new ValidationError('symbol', `unknown symbol '${unified}' on binance${said}`);
      }
      throw err;
    }
    const symbols = field(body, 'symbols', 'exchangeInfo');
    if (!Array.isArray(symbols) || !symbols.some((s) => isRecord(s) && s.symbol === native)) {
      throw new ValidationError('symbol', `unknown symbol '${unified}' on binance (exchangeInfo does not list ${native})`);
    }
    this.listed.add(native);
  }

  async earliest(target: Target, signal?: AbortSignal): Promise<bigint> {
    const symbol = this.native(target.symbol);
    if (target.kind === 'book') throw new NoCapability('binance', 'order books have no history, only the current snapshot');
    requireBackfill(this.capabilities, target);
    const first =
      target.kind === 'ohlc'
        ? parseKlines(await this.get('/api/v3/klines', { symbol, interval: target.span!, startTime: 0, limit: 1 }, WEIGHT.klines, { signal }))[0]
        : parseAggTrades(await this.get('/api/v3/aggTrades', { symbol, fromId: 0, limit: 1 }, WEIGHT.aggTrades, { signal }))[0];
    if (!first) throw new NotFound(`binance has no ${datasetKind(target)} history for ${target.symbol}`);
    return first.ts;
  }

  ohlcPages(target: Target, range: HistoryRange): AsyncIterable<Page<OhlcRow>> {
    const cap = this.history(target, 'ohlc');
    const symbol = this.native(target.symbol);
    const interval = target.span!;
    // Klines are selected by open time, startTime and endTime both inclusive (ms).
    const fetchPage: FetchPage<OhlcRow> = async ({ startNs, endNs, limit }) => {
      const startTime = msCeil(startNs);
      const endTime = msCeil(endNs) - 1;
      if (startTime > endTime) return [];
      const body = await this.get('/api/v3/klines', { symbol, interval, startTime, endTime, limit }, WEIGHT.klines, range);
      return parseKlines(body);
    };
    return paginateOhlc(fetchPage, range, {
      exchange: 'binance',
      limit: cap.pageLimit,
      span: interval,
      now: () => nsFromMs(this.clock.now()) - CLOSE_MARGIN_NS,
    });
  }

  tradePages(target: Target, range: HistoryRange): AsyncIterable<Page<TradeRow>> {
    const cap = this.history(target, 'trades');
    const symbol = this.native(target.symbol);
    // The first page is found by time; then aggregate trade ids are the cursor (fromId is
    // inclusive), which never skips nor repeats trades that share a millisecond.
    const fetchPage: FetchPage<TradeRow> = async ({ startNs, limit, afterId }) => {
      const from: Record<string, number | bigint> =
        afterId === undefined ? { startTime: msCeil(startNs) } : { fromId: BigInt(afterId) + 1n };
      return parseAggTrades(await this.get('/api/v3/aggTrades', { symbol, ...from, limit }, WEIGHT.aggTrades, range));
    };
    return paginateTrades(fetchPage, range, {
      exchange: 'binance',
      limit: cap.pageLimit,
      pagesBy: 'id',
      compareIds: compareNumericIds,
    });
  }

  async bookSnapshot(target: Target, depth: number, signal?: AbortSignal): Promise<BookRow[]> {
    const book = await this.depth(target, depth, signal);
    // The REST book carries no timestamp (only lastUpdateId): the snapshot is stamped on receipt.
    return snapshotRows(book, nsFromMs(this.clock.now()), book.lastUpdateId);
  }

  /** GET /api/v3/depth, `limit` levels per side, its weight spent from the venue's budget. */
  private async depth(target: Target, limit: number, signal?: AbortSignal): Promise<DepthSnapshot> {
    const symbol = this.native(target.symbol);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_BOOK_DEPTH) {
      throw new ValidationError('depth', `must be an integer from 1 to ${MAX_BOOK_DEPTH} on binance, got ${limit}`);
    }
    return parseDepth(await this.get('/api/v3/depth', { symbol, limit }, depthWeight(limit), { signal }), limit);
  }

  private history(target: Target, kind: Kind): HistoryCapability {
    if (target.kind !== kind) throw new ValidationError('kind', `expected a ${kind} target, got ${target.kind}`);
    return requireBackfill(this.capabilities, target);
  }

  readonly streams: LiveStreams = {
    trades: (target, o) => binanceTrades(target, this.native(target.symbol), this.live(target, 'trades', o)),
    ohlc: (target, o) => binanceCandles(target, this.native(target.symbol), this.live(target, 'ohlc', o)),
    book: (target, o) => {
      const depth = o.depth ?? DEFAULT_BOOK_DEPTH;
      const limit = snapshotLimit(depth);
      return binanceBook(target, this.native(target.symbol), {
        ...this.live(target, 'book', o),
        depth,
        snapshotIntervalMs: o.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS,
        fetchSnapshot: (signal) => this.depth(target, limit, signal),
      });
    },
  };

  private live(target: Target, kind: Kind, o: LiveOptions): BinanceStreamOptions {
    if (target.kind !== kind) throw new ValidationError('kind', `expected a ${kind} target, got ${target.kind}`);
    return { ...o, ...(this.wsBase && { wsUrl: this.wsBase }) };
  }

  private native(symbol: string): string {
    return this.parseSymbol(symbol).replace('/', '');
  }

  private get(
    path: string,
    params: Record<string, string | number | bigint>,
    weight: number,
    ctx: { signal?: AbortSignal; log?: TransportLog },
  ): Promise<unknown> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
    return this.http.getJson(url, { weight, signal: ctx.signal, log: ctx.log });
  }
}

/** BTCUSDT (any case) → BTC/USDT, by the longest known quote asset that ends it. */
function splitNative(raw: string): string {
  const s = raw.trim().toUpperCase();
  if (!/^[A-Z0-9]{2,40}$/.test(s)) {
    throw new ValidationError('symbol', `'${raw}' is not a symbol (BTCUSDT, BTC/USDT, BTC-USDT or BTC_USDT)`);
  }
  const quote = QUOTES.find((q) => s.length > q.length && s.endsWith(q));
  if (!quote) {
    throw new ValidationError('symbol', `cannot tell base from quote in '${raw}' (no known quote asset ends it); write it as BASE/QUOTE`);
  }
  return `${s.slice(0, -quote.length)}/${quote}`;
}

/** Binance's error body: {"code":-1121,"msg":"Invalid symbol."}. */
function binanceError(body: unknown): { code?: number; msg?: string } | undefined {
  if (!isRecord(body)) return undefined;
  const code = typeof body.code === 'number' ? body.code : undefined;
  const msg = typeof body.msg === 'string' ? body.msg : undefined;
  return code === undefined && msg === undefined ? undefined : { code, msg };
}

/** ns → ms, rounded up: the first whole millisecond at or after `ns` (never below 0). */
function msCeil(ns: bigint): number {
  if (ns <= 0n) return 0;
  return Number((ns + NS_PER_MS - 1n) / NS_PER_MS);
}

// ---- parsing ---------------------------------------------------------------------------
// Every answer is checked before use: a wrong shape names the endpoint, the field and the
// value Binance sent. Decimal strings are parsed once, here.

const DECIMAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

function invalid(where: string, reason: string): never {
  throw new ValidationError(where, `binance sent ${reason}`);
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function decimal(v: unknown, where: string): number {
  if (typeof v !== 'string' || !DECIMAL.test(v)) invalid(where, `${describe(v)}, not a decimal string`);
  return parseFloat(v);
}

function integer(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) invalid(where, `${describe(v)}, not a non-negative integer`);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(body: unknown, key: string, where: string): unknown {
  if (!isRecord(body)) invalid(where, `${describe(body)}, not an object`);
  return body[key];
}

function list(body: unknown, where: string): unknown[] {
  if (!Array.isArray(body)) invalid(where, `${describe(body)}, not an array`);
  return body;
}

/** GET /api/v3/klines rows: [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades, ...]. */
export function parseKlines(body: unknown): OhlcRow[] {
  return list(body, 'klines').map((k, i) => {
    const at = `klines[${i}]`;
    const row = list(k, at);
    if (row.length < 9) invalid(at, `${row.length} fields, expected at least 9`);
    return {
      ts: nsFromMs(integer(row[0], `${at}.openTime`)),
      open: decimal(row[1], `${at}.open`),
      high: decimal(row[2], `${at}.high`),
      low: decimal(row[3], `${at}.low`),
      close: decimal(row[4], `${at}.close`),
      volume: decimal(row[5], `${at}.volume`),
      quoteVolume: decimal(row[7], `${at}.quoteVolume`),
      trades: integer(row[8], `${at}.trades`),
    };
  });
}

/** GET /api/v3/aggTrades rows: {a: id, p: price, q: qty, T: ms, m: buyer is maker}. */
export function parseAggTrades(body: unknown): TradeRow[] {
  return list(body, 'aggTrades').map((t, i) => {
    const at = `aggTrades[${i}]`;
    if (!isRecord(t)) invalid(at, `${describe(t)}, not an object`);
    if (typeof t.m !== 'boolean') invalid(`${at}.m`, `${describe(t.m)}, not a boolean`);
    return {
      ts: nsFromMs(integer(t.T, `${at}.T`)),
      tradeId: String(integer(t.a, `${at}.a`)),
      price: decimal(t.p, `${at}.p`),
      amount: decimal(t.q, `${at}.q`),
      // m = the buyer was the maker, so the taker (aggressor) sold.
      side: t.m ? 'sell' : 'buy',
    };
  });
}

/** A book as GET /api/v3/depth gives it: the update id it is at, and levels best first. */
export interface DepthSnapshot extends BookLevels {
  lastUpdateId: bigint;
}

/** A diff depth event: the book's changes from update id U to u (inclusive), E its event time in ms. */
export interface DepthUpdate extends BookLevels {
  E: number;
  U: bigint;
  u: bigint;
}

/** [[price, qty], ...] as levels, at most `depth` of them. */
function levelsOf(v: unknown, at: string, depth = Infinity): Level[] {
  return list(v, at)
    .slice(0, depth)
    .map((lvl, i) => {
      const pair = list(lvl, `${at}[${i}]`);
      return { price: decimal(pair[0], `${at}[${i}].price`), amount: decimal(pair[1], `${at}[${i}].qty`) };
    });
}

/** GET /api/v3/depth: {lastUpdateId, bids: [[price, qty]], asks: [[price, qty]]}, best first, cut to `depth`. */
export function parseDepth(body: unknown, depth = Infinity): DepthSnapshot {
  return {
    lastUpdateId: BigInt(integer(field(body, 'lastUpdateId', 'depth'), 'depth.lastUpdateId')),
    bids: levelsOf(field(body, 'bids', 'depth'), 'depth.bids', depth),
    asks: levelsOf(field(body, 'asks', 'depth'), 'depth.asks', depth),
  };
}

/**
 * A `<symbol>@depth` event: {e: 'depthUpdate', E, s, U, u, b: [[price, qty]], a}; qty is the
 * level's new amount, 0 when it is gone.
 * https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#diff-depth-stream
 */
export function parseDepthUpdate(body: unknown): DepthUpdate {
  const U = integer(field(body, 'U', 'depthUpdate'), 'depthUpdate.U');
  const u = integer(field(body, 'u', 'depthUpdate'), 'depthUpdate.u');
  if (u < U) invalid('depthUpdate.u', `${u}, before its U ${U}`);
  return {
    E: integer(field(body, 'E', 'depthUpdate'), 'depthUpdate.E'),
    U: BigInt(U),
    u: BigInt(u),
    bids: levelsOf(field(body, 'b', 'depthUpdate'), 'depthUpdate.b'),
    asks: levelsOf(field(body, 'a', 'depthUpdate'), 'depthUpdate.a'),
  };
}
