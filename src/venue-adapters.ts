// The venue half of the wiring (services.ts holds the rest): each venue's adapter with the
// configured base URLs and one rate limiter per venue for the whole process. Apart so that
// a command checking a request with the venue loads no storage engine for it.
import type { AppConfig } from './config/app-config.ts';
import type { ExchangeName } from './domain/target.ts';
import type { ExchangeAdapter } from './sources/adapter.ts';
import type { RetryPolicy } from './sources/http.ts';
import { RateLimiters } from './sources/rate-limiter.ts';
import { createAdapter } from './sources/registry.ts';

export interface AdapterProfile {
  /**
   * For a request a person waits on (checking a symbol before a run): a few quick attempts,
   * so an unreachable venue is reported in seconds instead of being retried for minutes.
   */
  interactive?: boolean;
}

// Two tries of at most 4 s: an unreachable venue is reported within ~9 s; a venue that answers
// with 429 or 5xx is waited for as usual.
const INTERACTIVE_RETRY: Partial<RetryPolicy> = { maxUnreachableAttempts: 2, timeoutMs: 4_000, baseDelayMs: 300 };

export type VenueAdapters = (name: ExchangeName, profile?: AdapterProfile) => ExchangeAdapter;

export function venueAdapters(config: AppConfig): VenueAdapters {
  // One limiter per venue for the whole process: budgets are per IP, shared by all activities.
  const limiters = new RateLimiters(
    Object.fromEntries(Object.entries(config.exchanges).flatMap(([name, x]) => (x?.requestBudget ? [[name, { budget: x.requestBudget }]] : []))),
  );
  const adapters = new Map<string, ExchangeAdapter>();
  return (name, profile = {}) => {
    const key = `${name}${profile.interactive ? ' interactive' : ''}`;
    let a = adapters.get(key);
    const { restUrl, wsUrl } = config.exchanges[name] ?? {};
    if (!a) adapters.set(key, (a = createAdapter(name, { restUrl, wsUrl }, { limiters, ...(profile.interactive && { retry: INTERACTIVE_RETRY }) })));
    return a;
  };
}
