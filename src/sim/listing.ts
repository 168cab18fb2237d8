// The symbols a venue lists and the market behind each. A venue brings its default listing;
// options override parameters for all symbols (markets.*) or one (markets.symbols.X), and may
// list extra symbols.
import { ValidationError } from '../domain/errors.ts';
import { SimBook } from './book.ts';
import { DEFAULT_MARKET_PARAMS, Market, type MarketParams } from './market.ts';
import { hashString } from './random.ts';
import type { MarketOptions } from './venue.ts';

export interface ListedSymbol {
  base: string;
  quote: string;
  params: Partial<MarketParams>;
}

export interface ListedMarket {
  /** The venue's symbol, e.g. BTCUSDT. */
  symbol: string;
  base: string;
  quote: string;
  market: Market;
  book: SimBook;
}

/** Quote assets recognized when an extra symbol is listed by name only, longest first. */
const KNOWN_QUOTES = ['FDUSD', 'USDT', 'USDC', 'TUSD', 'BUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY', 'USD'];

export function listMarkets(
  venue: string,
  seed: number,
  defaults: Record<string, ListedSymbol>,
  options: MarketOptions = {},
): Map<string, ListedMarket> {
  const { symbols: perSymbol = {}, ...global } = options;
  const out = new Map<string, ListedMarket>();
  for (const symbol of new Set([...Object.keys(defaults), ...Object.keys(perSymbol)])) {
    const field = `markets.symbols.${symbol}`;
    if (!/^[A-Z0-9]{2,20}$/.test(symbol)) throw new ValidationError(field, 'a symbol is 2 to 20 upper-case letters or digits');
    const listed = defaults[symbol] ?? splitSymbol(symbol, field);
    const params: MarketParams = { ...DEFAULT_MARKET_PARAMS, ...listed.params, ...global, ...perSymbol[symbol] };
    const key = hashString(`${seed}/${venue}/${symbol}`);
    const market = new Market(key, params, field);
    out.set(symbol, { symbol, base: listed.base, quote: listed.quote, market, book: new SimBook(market, key ^ 0x4f1bbcdc) });
  }
  return out;
}

function splitSymbol(symbol: string, field: string): ListedSymbol {
  const quote = KNOWN_QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length);
  if (!quote) throw new ValidationError(field, `cannot tell the quote asset of '${symbol}' (known: ${KNOWN_QUOTES.join(', ')})`);
  return { base: symbol.slice(0, -quote.length), quote, params: {} };
}
