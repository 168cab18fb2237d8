// Binance spot as the simulator speaks it: the public market-data REST routes with Binance's
// parameters, limits, weights, time semantics, error codes and messages, plus the streams of
// binance-streams.ts and the truth in Binance's conventions.
// REST: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
// Errors: https://developers.binance.com/docs/binance-spot-api-docs/errors
// Limits: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
import { ValidationError } from '../domain/errors.ts';
import type { OhlcRow, TradeRow } from '../domain/records.ts';
import { NS_PER_MS } from '../domain/time.ts';
import { BinanceFormat, BINANCE_SYMBOLS, CALENDARS, INTERVALS } from './binance-dialect.ts';
import { BinanceStreams } from './binance-streams.ts';
import { ChecksumBuilder, ohlcLine, tradeLine } from './checksum.ts';
import type { FaultInjector } from './faults.ts';
import { listMarkets, type ListedMarket } from './listing.ts';
import { joinedSymbol, type TruthRange, type TruthResult } from './truth.ts';
import type { ErrorFault, Venue, VenueContext, VenueReply, VenueRequest } from './venue.ts';
import { WeightLimiter } from './weight.ts';

const JSON_TYPE = 'application/json;charset=UTF-8';
const LEGAL_NUMBER = '^[0-9]{1,20}$';
const LEGAL_SYMBOL = '^[A-Z0-9-_.]{1,20}$';

/** A rejected request: Binance's HTTP status, error code and message. */
class Rejection {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly status = 400,
  ) {}
}

interface Route {
  /** Request weight, which may depend on the parameters (depth's limit). */
  weight(q: URLSearchParams): number;
  handle(q: URLSearchParams, nowMs: number): unknown;
}

export function createBinanceVenue(ctx: VenueContext): Venue {
  const markets = listMarkets('binance', ctx.seed, BINANCE_SYMBOLS, ctx.markets);
  const limiter = new WeightLimiter(ctx.weightBudget, ctx.banMs);
  const streams = new BinanceStreams(markets, ctx);
  const routes = binanceRoutes(markets, ctx.faults, ctx.weightBudget);

  const reply = (status: number, body: unknown, used: number, extra: Record<string, string> = {}): VenueReply => ({
    status,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': JSON_TYPE, 'X-MBX-USED-WEIGHT-1M': String(used), ...extra },
  });

  return {
    http(req) {
      const route = req.method === 'GET' ? routes[req.path] : undefined;
      if (!route) return reply(404, '', limiter.used(req.ip, req.nowMs), { 'Content-Type': 'text/html' });
      const verdict = limiter.charge(req.ip, route.weight(req.query), req.nowMs);
      ctx.stats.weightUsed(verdict.used, limiter.windowStart(req.nowMs));
      if (verdict.kind === 'limited') {
        return reply(429, tooMuchWeight(ctx.weightBudget), verdict.used, { 'Retry-After': String(verdict.retryAfterS) });
      }
      if (verdict.kind === 'banned') {
        const msg = `Way too much request weight used; IP banned until ${verdict.untilMs}. Please use WebSocket Streams for live updates to avoid bans.`;
        return reply(418, { code: -1003, msg }, verdict.used, { 'Retry-After': String(verdict.retryAfterS) });
      }
      try {
        return reply(200, route.handle(req.query, req.nowMs), verdict.used);
      } catch (e) {
        if (!(e instanceof Rejection)) throw e;
        return reply(e.status, { code: e.code, msg: e.msg }, verdict.used);
      }
    },

    faultReply(fault: ErrorFault, req: VenueRequest) {
      const used = limiter.used(req.ip, req.nowMs);
      switch (fault) {
        case 'status429':
          return reply(429, tooMuchWeight(ctx.weightBudget), used, { 'Retry-After': '1' });
        case 'status500':
          return reply(500, { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' }, used);
        case 'status503':
          return reply(503, { code: -1008, msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.' }, used);
        case 'status502':
          // A 502 comes from the gateway in front of the API, not from the API: HTML, no code.
          return reply(502, '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n', used, {
            'Content-Type': 'text/html',
          });
      }
    },

    upgrade: (req, socket, head, path, query) => streams.upgrade(req, socket, head, path, query),

    truth: (range, nowMs) => binanceTruth(markets, range, nowMs),

    close: () => streams.close(),
  };
}

function tooMuchWeight(budget: number) {
  return {
    code: -1003,
    msg: `Too much request weight used; current limit is ${budget} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
  };
}

// ---- routes ---------------------------------------------------------------------------

function binanceRoutes(markets: Map<string, ListedMarket>, faults: FaultInjector, budget: number): Record<string, Route> {
  const symbolOf = (q: URLSearchParams): ListedMarket => {
    const s = mandatory(q, 'symbol');
    if (!new RegExp(LEGAL_SYMBOL).test(s)) throw illegal('symbol', LEGAL_SYMBOL);
    const lm = markets.get(s);
    if (!lm) throw new Rejection(-1121, 'Invalid symbol.');
    return lm;
  };

  const klines: Route = {
    weight: () => 2,
    handle(q, nowMs) {
      accept(q, ['symbol', 'interval', 'startTime', 'endTime', 'timeZone', 'limit']);
      const lm = symbolOf(q);
      const interval = mandatory(q, 'interval');
      const cal = CALENDARS.get(interval);
      if (!cal) throw new Rejection(-1120, 'Invalid interval.');
      const start = long(q, 'startTime');
      const end = long(q, 'endTime');
      utcOnly(q);
      const limit = limitOf(q, 500, 1000);
      const fmt = new BinanceFormat(lm);
      // Spot answers an inverted range with an empty list (futures reject it with -1023).
      if (start !== undefined && end !== undefined && start > end) return [];
      const m = lm.market;
      const forward = start !== undefined;
      const candles = forward ? m.candlesForward(cal, start, end ?? Infinity, limit, nowMs) : m.candlesBackward(cal, end ?? nowMs, limit, nowMs);
      const before = () => (forward ? m.candlesBackward(cal, start - 1, 1, nowMs)[0] : undefined);
      return distortPage(candles, limit, forward, faults, before).map((c) => fmt.kline(c));
    },
  };

  return {
    '/api/v3/ping': {
      weight: () => 1,
      handle(q) {
        accept(q, []);
        return {};
      },
    },
    '/api/v3/time': {
      weight: () => 1,
      handle(q, nowMs) {
        accept(q, []);
        return { serverTime: nowMs };
      },
    },
    '/api/v3/exchangeInfo': { weight: () => 20, handle: (q, nowMs) => exchangeInfo(q, markets, budget, nowMs) },
    '/api/v3/klines': klines,
    // uiKlines takes the same parameters and, for a market without outliers, gives the same rows.
    '/api/v3/uiKlines': klines,
    '/api/v3/depth': {
      weight: (q) => depthWeight(Number(q.get('limit') ?? 100)),
      handle(q, nowMs) {
        accept(q, ['symbol', 'limit', 'symbolStatus']);
        const lm = symbolOf(q);
        // "If limit > 5000, only 5000 entries will be returned."
        const limit = Math.min(limitOf(q, 100, Infinity), 5000);
        const book = lm.book.snapshot(lm.book.updateIdAt(nowMs), limit);
        const fmt = new BinanceFormat(lm);
        return { lastUpdateId: book.updateId, bids: fmt.levels(book.bids), asks: fmt.levels(book.asks) };
      },
    },
    '/api/v3/trades': {
      weight: () => 25,
      handle(q, nowMs) {
        accept(q, ['symbol', 'limit']);
        const lm = symbolOf(q);
        const limit = limitOf(q, 500, 1000);
        const total = lm.market.tradesBefore(nowMs, nowMs);
        const fmt = new BinanceFormat(lm);
        return lm.market.trades(Math.max(0, total - limit), total).map((t) => fmt.trade(t));
      },
    },
    '/api/v3/historicalTrades': {
      weight: () => 25,
      handle(q, nowMs) {
        accept(q, ['symbol', 'limit', 'fromId']);
        const lm = symbolOf(q);
        const limit = limitOf(q, 500, 1000);
        const fromId = long(q, 'fromId');
        const m = lm.market;
        const total = m.tradesBefore(nowMs, nowMs);
        const from = fromId ?? Math.max(0, total - limit);
        const rows = m.trades(from, Math.min(total, from + limit));
        const fmt = new BinanceFormat(lm);
        const before = () => (fromId !== undefined && from > 0 && from <= total ? m.trades(from - 1, from)[0] : undefined);
        return distortPage(rows, limit, fromId !== undefined, faults, before).map((t) => fmt.trade(t));
      },
    },
    '/api/v3/aggTrades': {
      weight: () => 4,
      handle(q, nowMs) {
        accept(q, ['symbol', 'fromId', 'startTime', 'endTime', 'limit']);
        const lm = symbolOf(q);
        const fromId = long(q, 'fromId');
        const start = long(q, 'startTime');
        const end = long(q, 'endTime');
        const limit = limitOf(q, 500, 1000);
        // "fromId cannot be used together with startTime and endTime" (the same engine's WebSocket
        // API, trades.aggregate: https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/market-data-requests).
        if (fromId !== undefined && (start !== undefined || end !== undefined)) throw new Rejection(-1128, 'Combination of optional parameters invalid.');
        if (start !== undefined && end !== undefined && start > end) return [];
        const m = lm.market;
        const total = m.tradesBefore(nowMs, nowMs);
        // Every range below is a run of ids: tradesBefore(t) is the id of the first trade at or after t.
        let from: number;
        let to: number;
        if (fromId !== undefined) {
          from = fromId;
          to = Math.min(total, fromId + limit);
        } else if (start !== undefined) {
          from = m.tradesBefore(start, nowMs);
          to = Math.min(end === undefined ? total : m.tradesBefore(end + 1, nowMs), from + limit);
        } else {
          to = end === undefined ? total : m.tradesBefore(end + 1, nowMs);
          from = Math.max(0, to - limit);
        }
        const forward = fromId !== undefined || start !== undefined;
        const before = () => (forward && from > 0 && from <= total ? m.trades(from - 1, from)[0] : undefined);
        const fmt = new BinanceFormat(lm);
        return distortPage(m.trades(from, to), limit, forward, faults, before).map((t) => fmt.aggTrade(t));
      },
    },
  };
}

function exchangeInfo(q: URLSearchParams, markets: Map<string, ListedMarket>, budget: number, nowMs: number) {
  accept(q, ['symbol', 'symbols', 'permissions', 'showPermissionSets', 'symbolStatus']);
  const symbol = q.get('symbol');
  const symbolsParam = q.get('symbols');
  if (symbol !== null && symbolsParam !== null) throw new Rejection(-1128, 'Combination of optional parameters invalid.');
  let names = [...markets.keys()];
  if (symbol !== null) names = [symbol];
  if (symbolsParam !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(symbolsParam);
    } catch {
      throw new Rejection(-1100, `Illegal characters found in parameter 'symbols'; legal range is '${LEGAL_SYMBOL}'.`);
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
      throw new Rejection(-1100, `Illegal characters found in parameter 'symbols'; legal range is '${LEGAL_SYMBOL}'.`);
    }
    names = parsed;
  }
  if (names.some((n) => !markets.has(n))) throw new Rejection(-1121, 'Invalid symbol.');
  // Every simulated symbol is TRADING, so a filter on another status lists none.
  const status = q.get('symbolStatus');
  if (status !== null && status !== 'TRADING') names = [];
  return {
    timezone: 'UTC',
    serverTime: nowMs,
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: budget },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: names.map((n) => symbolInfo(markets.get(n)!)),
  };
}

function symbolInfo(lm: ListedMarket) {
  const fmt = new BinanceFormat(lm);
  const p = lm.market.params;
  return {
    symbol: lm.symbol,
    status: 'TRADING',
    baseAsset: lm.base,
    baseAssetPrecision: p.qtyPrecision,
    quoteAsset: lm.quote,
    quotePrecision: p.pricePrecision,
    quoteAssetPrecision: p.pricePrecision,
    baseCommissionPrecision: p.qtyPrecision,
    quoteCommissionPrecision: p.pricePrecision,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    amendAllowed: true,
    pegInstructionsAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: true,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: fmt.price(1), maxPrice: fmt.price(1e6 * 10 ** lm.market.priceDecimals), tickSize: fmt.price(1) },
      { filterType: 'LOT_SIZE', minQty: fmt.qty(1), maxQty: fmt.qty(9000 * 10 ** lm.market.qtyDecimals), stepSize: fmt.qty(1) },
    ],
    permissions: [],
    permissionSets: [['SPOT', 'MARGIN']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

function depthWeight(limit: number): number {
  if (!(limit > 100)) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

// ---- page faults ----------------------------------------------------------------------

/**
 * Applies the injected page faults. A duplicate either puts the row just before the page's
 * start in front (forward pages only) or repeats a row; the page keeps at most `limit` rows.
 * A short page keeps the rows nearest its anchor: the first ones of a forward page, the last
 * ones of a backward (most recent) page.
 */
function distortPage<T>(rows: T[], limit: number, forward: boolean, faults: FaultInjector, rowBefore: () => T | undefined): T[] {
  const f = faults.nextPageFaults();
  let out = rows;
  if (f.duplicateBoundary && out.length > 0) {
    const previous = forward && faults.pick(2, 1) === 0 ? rowBefore() : undefined;
    if (previous !== undefined) {
      out = [previous, ...out];
    } else {
      const i = faults.pick(out.length, 2);
      out = [...out.slice(0, i + 1), out[i]!, ...out.slice(i + 1)];
    }
    out = forward ? out.slice(0, limit) : out.slice(-limit);
    faults.record('duplicateBoundary');
  }
  if (f.shortPage && out.length > 1) {
    const keep = 1 + faults.pick(out.length - 1, 3);
    out = forward ? out.slice(0, keep) : out.slice(-keep);
    faults.record('shortPage');
  }
  return out;
}

// ---- parameters -----------------------------------------------------------------------

/** Rejects duplicated and unknown parameters the way Binance does. */
function accept(q: URLSearchParams, known: string[]): void {
  const sent = [...new Set(q.keys())];
  if (sent.some((k) => q.getAll(k).length > 1)) throw new Rejection(-1101, 'Duplicate values for a parameter detected.');
  const read = sent.filter((k) => known.includes(k)).length;
  if (read < sent.length) throw new Rejection(-1104, `Not all sent parameters were read; read '${read}' parameter(s) but was sent '${sent.length}'.`);
}

function mandatory(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === '') throw new Rejection(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  return v;
}

function long(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v === '') throw new Rejection(-1105, `Parameter '${name}' was empty.`);
  if (!new RegExp(LEGAL_NUMBER).test(v)) throw illegal(name, LEGAL_NUMBER);
  return Number(v);
}

function limitOf(q: URLSearchParams, fallback: number, max: number): number {
  const limit = long(q, 'limit') ?? fallback;
  if (limit < 1 || limit > max) throw new Rejection(-1130, "Data sent for parameter 'limit' is not valid.");
  return limit;
}

/** Klines in another time zone shift every interval; the simulator serves UTC only and says so. */
function utcOnly(q: URLSearchParams): void {
  const tz = q.get('timeZone');
  if (tz !== null && !/^[+-]?0{1,2}(:00)?$/.test(tz)) throw new Rejection(-1130, "Data sent for parameter 'timeZone' is not valid.");
}

function illegal(name: string, legal: string): Rejection {
  return new Rejection(-1100, `Illegal characters found in parameter '${name}'; legal range is '${legal}'.`);
}

// ---- truth ----------------------------------------------------------------------------

const TRUTH_CHUNK = 5000;

function binanceTruth(markets: Map<string, ListedMarket>, range: TruthRange, nowMs: number): TruthResult {
  const symbol = joinedSymbol(range.symbol);
  const lm = markets.get(symbol);
  if (!lm) throw new ValidationError('symbol', `'${range.symbol}' is not listed on binance (listed: ${[...markets.keys()].join(', ')})`);
  const fmt = new BinanceFormat(lm);
  const m = lm.market;
  // [startNs, endNs) in whole ms: the first ms at or after start, the first ms at or after end.
  const startMs = ceilMs(range.startNs);
  const endMs = ceilMs(range.endNs);
  const sum = new ChecksumBuilder();

  if (range.kind === 'trades') {
    const records: TradeRow[] = [];
    const toId = m.tradesBefore(endMs, nowMs);
    for (let id = m.tradesBefore(startMs, nowMs); id < toId; id += TRUTH_CHUNK) {
      for (const t of m.trades(id, Math.min(toId, id + TRUTH_CHUNK))) {
        const a = fmt.aggTrade(t);
        const row: TradeRow = {
          ts: BigInt(a.T) * NS_PER_MS,
          tradeId: String(a.a),
          price: parseFloat(a.p),
          amount: parseFloat(a.q),
          side: a.m ? 'sell' : 'buy',
        };
        sum.add(row.ts, tradeLine(row));
        if (range.withRows) records.push(row);
      }
    }
    return { ...sum.summary(), ...(range.withRows ? { records } : {}) };
  }

  const cal = CALENDARS.get(range.span!);
  if (!cal) throw new ValidationError('span', `'${range.span}' is not a Binance interval (${INTERVALS.join(', ')})`);
  const records: OhlcRow[] = [];
  let from = startMs;
  for (;;) {
    const batch = m.candlesForward(cal, from, endMs - 1, TRUTH_CHUNK, nowMs);
    // Closed: the candle's whole period lies before now.
    const closed = batch.filter((c) => c.closeMs < nowMs);
    for (const c of closed) {
      const k = fmt.kline(c);
      const row: OhlcRow = {
        ts: BigInt(c.openMs) * NS_PER_MS,
        open: parseFloat(k[1] as string),
        high: parseFloat(k[2] as string),
        low: parseFloat(k[3] as string),
        close: parseFloat(k[4] as string),
        volume: parseFloat(k[5] as string),
        quoteVolume: parseFloat(k[7] as string),
        trades: k[8] as number,
      };
      sum.add(row.ts, ohlcLine(row));
      if (range.withRows) records.push(row);
    }
    if (closed.length < TRUTH_CHUNK) break;
    from = batch[batch.length - 1]!.openMs + 1;
  }
  return { ...sum.summary(), ...(range.withRows ? { records } : {}) };
}

function ceilMs(ns: bigint): number {
  const q = ns / NS_PER_MS;
  return Number(ns > 0n && ns % NS_PER_MS !== 0n ? q + 1n : q);
}
