// What Binance spot's REST answers and stream events have in common: the listed symbols,
// the kline intervals and how rows are written (decimals as strings with 8 places, times in
// ms). https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints
import { formatUnits } from './fixed-point.ts';
import type { ListedMarket, ListedSymbol } from './listing.ts';
import type { Candle, SimTrade } from './market.ts';
import { spanCalendar, type SpanCalendar } from './spans.ts';

/** Default listing. Sizes follow Binance's filters of those markets (LOT_SIZE steps). */
export const BINANCE_SYMBOLS: Record<string, ListedSymbol> = {
  BTCUSDT: { base: 'BTC', quote: 'USDT', params: {} },
  ETHUSDT: { base: 'ETH', quote: 'USDT', params: { startPrice: 300, lotSize: 0.0001 } },
  BNBBTC: { base: 'BNB', quote: 'BTC', params: { startPrice: 0.0025, tickSize: 0.0000001, lotSize: 0.1, tradesPerMinute: 8 } },
};

/** Kline intervals, case-sensitive ('1m' minute, '1M' month). */
export const INTERVALS = ['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M'] as const;

export const CALENDARS: ReadonlyMap<string, SpanCalendar> = new Map(INTERVALS.map((i) => [i, spanCalendar(i)]));

/** Decimal strings of one market. */
export class BinanceFormat {
  constructor(private readonly lm: ListedMarket) {}

  price(ticks: number): string {
    const m = this.lm.market;
    return formatUnits(ticks, m.priceDecimals, m.params.pricePrecision);
  }

  qty(lots: number): string {
    const m = this.lm.market;
    return formatUnits(lots, m.qtyDecimals, m.params.qtyPrecision);
  }

  /** A notional in tick×lot units, written with the quote asset's precision. */
  notional(units: bigint | number): string {
    const m = this.lm.market;
    return formatUnits(units, m.priceDecimals + m.qtyDecimals, m.params.pricePrecision);
  }

  /** GET /api/v3/klines row. */
  kline(c: Candle): (number | string)[] {
    const s = c.summary;
    return [
      c.openMs,
      this.price(s.open),
      this.price(s.high),
      this.price(s.low),
      this.price(s.close),
      this.qty(s.volume),
      c.closeMs,
      this.notional(s.quote),
      s.count,
      this.qty(s.buyVolume),
      this.notional(s.buyQuote),
      '0',
    ];
  }

  /** GET /api/v3/aggTrades row; every aggregate trade is one trade here (a = f = l). */
  aggTrade(t: SimTrade) {
    return { a: t.id, p: this.price(t.price), q: this.qty(t.qty), f: t.id, l: t.id, T: t.ms, m: t.buyerMaker, M: true };
  }

  /** GET /api/v3/trades and /api/v3/historicalTrades row. */
  trade(t: SimTrade) {
    return {
      id: t.id,
      price: this.price(t.price),
      qty: this.qty(t.qty),
      quoteQty: this.notional(t.price * t.qty),
      time: t.ms,
      isBuyerMaker: t.buyerMaker,
      isBestMatch: true,
    };
  }

  /** [price, qty] pairs of a book side. */
  levels(levels: { price: number; qty: number }[]): [string, string][] {
    return levels.map((l) => [this.price(l.price), this.qty(l.qty)]);
  }
}
