// The local exchange simulator: deterministic synthetic markets served in each venue's real
// REST and WebSocket dialect, with an oracle of the exact truth and injectable faults, so
// that no test of dccd needs the internet. See README.md in this folder.
import type { FaultConfig } from './faults.ts';
import type { MarketParams } from './market.ts';
import { SimServer } from './server.ts';
import type { SimStats } from './stats.ts';
import type { TruthQuery, TruthResult } from './truth.ts';

export type { FaultConfig } from './faults.ts';
export type { MarketParams } from './market.ts';
export type { SimStats } from './stats.ts';
export type { TruthQuery, TruthResult } from './truth.ts';
export { checksumRows } from './checksum.ts';

export interface SimOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 9100; 0 picks a free port. */
  port?: number;
  /** Default 1. Same seed, same markets. */
  seed?: number;
  /** Binance REQUEST_WEIGHT per minute, default 6000. */
  weightBudget?: number;
  /** First rate-limit ban, doubled for each further ban; default 2000 (Binance: 2 minutes). */
  banMs?: number;
  /** Added to every REST answer, default 0. */
  latencyMs?: number;
  /** How often the WebSocket server pings each connection; default the venue's (Binance: 20 s). */
  wsPingEveryMs?: number;
  /** A connection that leaves a ping unanswered this long is cut; default the venue's (Binance: a minute). */
  wsPongTimeoutMs?: number;
  /** Trades a trade stream pushes per 100 ms tick at most, default 1000; the rest follow on the next ticks. */
  wsTradesPerTick?: number;
  /** Faults for every venue, default none. */
  faults?: FaultConfig;
  /** Market parameters for all symbols, and per symbol (which also lists extra symbols). */
  markets?: Partial<MarketParams> & { symbols?: Record<string, Partial<MarketParams>> };
}

export interface Sim {
  /** e.g. http://127.0.0.1:9100; Binance REST base `${url}/binance`, WS base `ws://host:port/binance`. */
  url: string;
  port: number;
  /** Closes the HTTP server and all sockets. */
  close(): Promise<void>;
  /** Same data as GET /_sim/stats; without an exchange, summed over all venues. */
  stats(exchange?: string): SimStats;
  /** Same as POST /_sim/faults; restarts that venue's fault counters. */
  setFaults(exchange: string, faults: FaultConfig): void;
  /** Same as GET /_sim/truth, plus the rows themselves with withRows: true. */
  truth(q: TruthQuery): TruthResult;
  resetStats(): void;
}

export async function startSim(opts: SimOptions = {}): Promise<Sim> {
  const sim = new SimServer(opts);
  await sim.listen();
  return sim;
}
