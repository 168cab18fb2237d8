// What each exchange can serve, declared as data so an impossible request fails before any
// work starts, and so the capability matrix printed for users is the one the code obeys.
import { NoCapability } from './errors.ts';
import type { Kind, Target } from './target.ts';

export interface HistoryCapability {
  /** Rows per REST page at most. */
  pageLimit: number;
  /** 'full' reaches back to the listing; otherwise only the most recent rows are served. */
  depth: 'full' | { recentRows: number };
  /** Candle spans the venue serves (ohlc only). */
  spans?: readonly string[];
  /** Deepest book snapshot per side (book only). */
  maxDepth?: number;
}

export interface StreamCapability {
  spans?: readonly string[];
  /** Book levels per side a book stream keeps, from 1 (book only). */
  maxDepth?: number;
}

export interface ExchangeCapabilities {
  /** The venue's API reference, for people reading the matrix. */
  docs: string;
  backfill: Partial<Record<Kind, HistoryCapability>>;
  stream: Partial<Record<Kind, StreamCapability>>;
}

/** The capability that serves a backfill of `t`, or NoCapability saying why none does. */
export function requireBackfill(caps: ExchangeCapabilities, t: Target): HistoryCapability {
  const cap = caps.backfill[t.kind];
  if (!cap) throw new NoCapability(t.exchange, `no ${t.kind} history over REST`);
  if (t.kind === 'ohlc' && cap.spans && !cap.spans.includes(t.span!)) {
    throw new NoCapability(t.exchange, `span '${t.span}' is not served (spans: ${cap.spans.join(', ')})`);
  }
  return cap;
}
