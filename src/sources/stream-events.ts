// What a venue's live stream yields, whatever the venue: rows as they arrive, and the gaps it
// could not avoid, each with the span it covers, so nothing is ever lost silently.

export interface StreamGap {
  /** ns of the last row before the gap (null when nothing came before) and of the first after. */
  afterTs: bigint | null;
  beforeTs: bigint;
  /** Where the venue numbers its events: the ids missing, first and last (inclusive). */
  missingIds?: { from: string; to: string };
  reason: string;
  /** Whether REST history can fill it (trades); a book's past is served by no venue. */
  healable: boolean;
}

export type StreamEvent<R> =
  | {
      kind: 'rows';
      rows: R[];
      receivedAtMs: number;
      /** No more rows will come at the newest row's ts. */
      settled: boolean;
      /** What the status shows: a trade's price, a book's best bid and ask after the event. */
      sample?: { price?: number; bid?: number; ask?: number };
    }
  | { kind: 'gap'; gap: StreamGap }
  /** The connection was lost; rows may be missing until the next 'connected' (then a 'gap' says which). */
  | { kind: 'lost'; reason: string; retryInMs: number }
  | { kind: 'connected'; reconnect: boolean };
