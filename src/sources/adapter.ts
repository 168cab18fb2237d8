// The contract every exchange adapter fulfils. Adapters turn a venue's REST/WebSocket
// dialect into normalized rows; they know nothing of storage or Temporal.
import type { StreamEvent } from './stream-events.ts';
import type { BackoffPolicy } from './transport/ws-session.ts';
import type { ExchangeCapabilities } from '../domain/capabilities.ts';
import type { BookRow, OhlcRow, TradeRow } from '../domain/records.ts';
import type { ExchangeName, Target } from '../domain/target.ts';

/**
 * Where a page left off, JSON-safe so an activity can keep it in its heartbeat details and
 * resume mid-range after a crash. `ns` is the ts the next page starts from; `id` a venue
 * trade id cursor when the venue pages trades by id.
 */
export interface PageCursor {
  ns: string;
  id?: string;
}

export interface Page<R> {
  /** Rows in ascending ts, within the requested range, de-duplicated against earlier pages. */
  rows: R[];
  /** Resume point after this page. */
  cursor: PageCursor;
  /**
   * Set on the last page when the walk stopped at history that is not final yet (a candle
   * still open): the range is complete only up to here, and a later run must fetch from it.
   */
  openFromNs?: string;
}

export interface HistoryRange {
  /** Half-open [startNs, endNs). */
  startNs: bigint;
  endNs: bigint;
  /** Continue after a page that an earlier attempt already delivered. */
  resume?: PageCursor;
  /** Aborts in-flight requests and waits (activity cancellation). */
  signal?: AbortSignal;
  /**
   * Human-readable events for the run's log tail ("429 from binance, waiting 2 s"); `trouble`
   * when the venue failed or asked to back off, not when the client paces itself.
   */
  log?: TransportLog;
}

export type TransportLog = (line: string, trouble: boolean) => void;

export interface AdapterOptions {
  /** REST base URL override (simulator, testnet). */
  restUrl?: string;
  /** WebSocket base URL override. */
  wsUrl?: string;
}

export interface ExchangeAdapter {
  readonly name: ExchangeName;
  /** Recorded in each Parquet file's provenance. */
  readonly version: string;
  readonly capabilities: ExchangeCapabilities;
  /** Accepts the venue's native form (BTCUSDT) and BTC/USDT, BTC-USDT; returns 'BTC/USDT'. */
  parseSymbol(raw: string): string;
  /** Fails with ValidationError('symbol', ...) when the venue does not list the symbol. */
  checkSymbol(unified: string, signal?: AbortSignal): Promise<void>;
  /** The earliest ts the venue holds for the target (for start=origin). */
  earliest(target: Target, signal?: AbortSignal): Promise<bigint>;
  /** Closed candles in [startNs, endNs), page by page. Never yields a still-open candle. */
  ohlcPages(target: Target, range: HistoryRange): AsyncIterable<Page<OhlcRow>>;
  /** Trades in [startNs, endNs), page by page. */
  tradePages(target: Target, range: HistoryRange): AsyncIterable<Page<TradeRow>>;
  /** One order-book snapshot, `depth` levels per side. */
  bookSnapshot(target: Target, depth: number, signal?: AbortSignal): Promise<BookRow[]>;
  /** Live streams by kind, each present only where the venue offers it and this dccd implements it. */
  streams?: LiveStreams;
}

/** A venue's live stream of one dataset until `signal` aborts: each row once, every gap said. */
export type LiveStream<R> = (target: Target, o: LiveOptions) => AsyncIterable<StreamEvent<R>>;

export interface LiveStreams {
  trades?: LiveStream<TradeRow>;
  ohlc?: LiveStream<OhlcRow>;
  book?: LiveStream<BookRow>;
}

export interface LiveOptions {
  signal: AbortSignal;
  /**
   * The last row kept before (an earlier session's): its ts, and its id where the venue
   * numbers rows (a trade id). What the venue sent after it and this stream missed is a gap.
   */
  resumeAfter?: { ts: bigint; id?: string };
  /** Book levels per side kept and snapshotted, and how often a snapshot is stored. */
  depth?: number;
  snapshotIntervalMs?: number;
  /** Tests shorten the venue's silence limit and the reconnect backoff. */
  staleAfterMs?: number;
  backoff?: BackoffPolicy;
}
