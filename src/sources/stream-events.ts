// What a venue's live stream yields, whatever the venue: rows as they arrive, and the gaps it
// could not avoid, each with the span it covers, so nothing is ever lost silently.

export interface StreamGap {
  /** ns of the last row before the gap (null when nothing came before) and of the first after. */
  afterTs: bigint | null;
  beforeTs: bigint;
  /** Where the venue numbers its events: the ids missing, first and last (inclusive). */
  missingIds?: { from: string; to: string };
  reason: string;
  /** Whether the venue's REST history holds the span (trades, candles), so it can be fetched again; a book's cannot. */
  healable: boolean;
}

/** What a stream's status shows of its newest event: a price (trades, candles) or the best bid and ask (books). */
export interface LiveSample {
  price?: number;
  bid?: number;
  ask?: number;
}

export type StreamEvent<R> =
  /** `settled`: no more rows will come at the newest row's ts (false for trades, which share milliseconds across events). */
  | { kind: 'rows'; rows: R[]; receivedAtMs: number; settled: boolean; sample?: LiveSample }
  | { kind: 'gap'; gap: StreamGap }
  /** The connection was lost; rows may be missing until the next 'connected' (then a 'gap' says which). */
  | { kind: 'lost'; reason: string; retryInMs: number }
  | { kind: 'connected'; reconnect: boolean };
