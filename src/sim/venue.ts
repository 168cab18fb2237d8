// The contract between the simulator's HTTP server and one venue's dialect. A venue is one
// module (src/sim/<venue>.ts) that turns requests below its prefix into answers, upgrades
// WebSocket connections, and computes the truth in its own row conventions. venues.ts lists
// them; the server knows nothing venue-specific.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FaultInjector, TransportFault } from './faults.ts';
import type { MarketParams } from './market.ts';
import type { StatsRecorder } from './stats.ts';
import type { TruthRange, TruthResult } from './truth.ts';

export type MarketOptions = Partial<MarketParams> & { symbols?: Record<string, Partial<MarketParams>> };

export interface VenueContext {
  seed: number;
  markets: MarketOptions;
  /** Request weight per minute (venues with weight accounting). */
  weightBudget: number;
  /** Base duration of a rate-limit ban. */
  banMs: number;
  /** WebSocket ping period and pong deadline; undefined: the venue's documented ones. */
  wsPingEveryMs?: number;
  wsPongTimeoutMs?: number;
  /** Trades a trade stream pushes per tick at most. */
  wsTradesPerTick: number;
  faults: FaultInjector;
  stats: StatsRecorder;
}

export interface VenueRequest {
  method: string;
  /** Path below the venue prefix, e.g. '/api/v3/klines'. */
  path: string;
  query: URLSearchParams;
  /** Client IP, the unit of rate limiting. */
  ip: string;
  nowMs: number;
}

export interface VenueReply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export type ErrorFault = Extract<TransportFault, 'status429' | 'status500' | 'status502' | 'status503'>;

export interface Venue {
  http(req: VenueRequest): VenueReply;
  /** The venue's own answer for an injected rate limit or server error. */
  faultReply(fault: ErrorFault, req: VenueRequest): VenueReply;
  /** Takes over an upgrade request below the venue prefix. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, query: URLSearchParams): void;
  truth(range: TruthRange, nowMs: number): TruthResult;
  /** Closes the venue's sockets and timers. */
  close(): void;
}

export type VenueFactory = (ctx: VenueContext) => Venue;
