// The simulator's order book as truth: the same deterministic book the simulator serves for
// a seed and market options, at any update id, in the units Binance's REST answers give
// (decimal strings read as numbers), so a test compares it with stored levels exactly.
import type { BookLevels } from '../../src/domain/order-book.ts';
import { BINANCE_SYMBOLS, BinanceFormat } from '../../src/sim/binance-dialect.ts';
import { listMarkets } from '../../src/sim/listing.ts';
import type { MarketOptions } from '../../src/sim/venue.ts';

export function simBinanceBook(seed: number, markets: MarketOptions = {}, symbol = 'BTCUSDT'): (updateId: bigint, depth: number) => BookLevels {
  const lm = listMarkets('binance', seed, BINANCE_SYMBOLS, markets).get(symbol);
  if (!lm) throw new Error(`the simulator lists no ${symbol}`);
  const fmt = new BinanceFormat(lm);
  const levels = (ls: Array<{ price: number; qty: number }>) => ls.map((l) => ({ price: parseFloat(fmt.price(l.price)), amount: parseFloat(fmt.qty(l.qty)) }));
  return (updateId, depth) => {
    const s = lm.book.snapshot(Number(updateId), depth);
    return { bids: levels(s.bids), asks: levels(s.asks) };
  };
}
