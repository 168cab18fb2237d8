// The venues dccd can talk to. Adding one means a `src/sources/<venue>.ts` and one line here.
import { NoCapability } from '../domain/errors.ts';
import type { ExchangeName } from '../domain/target.ts';
import { EXCHANGES } from '../domain/target.ts';
import type { AdapterOptions, ExchangeAdapter } from './adapter.ts';
import { BinanceAdapter } from './binance.ts';
import type { TransportSettings } from './http.ts';
import { RateLimiters } from './rate-limiter.ts';

export type AdapterFactory = (opts: AdapterOptions, settings: TransportSettings) => ExchangeAdapter;

export const ADAPTERS: Partial<Record<ExchangeName, AdapterFactory>> = {
  binance: (opts, settings) => new BinanceAdapter(opts, settings),
};

/** Known venues that have an adapter, in the order of EXCHANGES. */
export function implementedExchanges(): ExchangeName[] {
  return EXCHANGES.filter((name) => ADAPTERS[name] !== undefined);
}

/**
 * Limiters for callers that pass none: still one per exchange and base URL for the whole
 * process, so adapters created per activity share the venue's budget.
 */
const processLimiters = new RateLimiters();

/**
 * Builds the adapter for `name`. The wiring code passes one `RateLimiters` for the process
 * in `settings.limiters`; budgets are per IP, so every adapter of a venue must share it.
 */
export function createAdapter(name: ExchangeName, opts: AdapterOptions = {}, settings: TransportSettings = {}): ExchangeAdapter {
  const factory = ADAPTERS[name];
  if (!factory) throw new NoCapability(name, `not implemented yet (implemented: ${implementedExchanges().join(', ')})`);
  return factory(opts, { ...settings, limiters: settings.limiters ?? processLimiters });
}
