// Fault injection, per venue. Faults come from counters ("every Nth request"), so a run is
// reproducible: the same sequence of requests meets the same faults. Choices inside a fault
// (which kind of duplicate, how short a page) derive from the seed and the counter. Faults only ever
// distort answers; the market and its truth stay the same, so a client that retries and
// de-duplicates correctly ends with exact data.
import { z } from 'zod';
import { ValidationError } from '../domain/errors.ts';
import { hash2 } from './random.ts';

export interface FaultConfig {
  /** Every Nth request answers 429 with Retry-After: 1 (not counted as weight). */
  status429Every?: number;
  /** Runs of `length` consecutive 429s, one run at the end of every `every` requests. */
  burst429?: { every: number; length: number };
  /** Every Nth request answers a server error, rotating 502, 503, 500. */
  status5xxEvery?: number;
  /** Added to every answer. */
  latencyMs?: number;
  /** Every Nth request never gets an answer (until the client gives up). */
  timeoutEvery?: number;
  /** Every Nth answer is the valid start of its JSON, cut in the middle. */
  truncatedEvery?: number;
  /** Every Nth answer is not JSON at all. */
  malformedEvery?: number;
  /** Every Nth page also holds the row just before its start, or a repeated row. */
  duplicateBoundaryEvery?: number;
  /** Every Nth page holds fewer rows than the limit although more exist. */
  shortPageEvery?: number;
  /** WebSocket: a connection is dropped without a close frame after N messages. */
  dropSocketEvery?: number;
  /** WebSocket: a connection goes silent after N messages, still open: no data, no ping, no answer. */
  stallSocketEvery?: number;
  /** WebSocket: every Nth event of an id-numbered stream (trade, aggTrade, depth diffs) is not sent, so the ids jump. */
  sequenceGapEvery?: number;
  /** WebSocket: a connection whose unsent data exceeds this many bytes (a client that reads too slowly) is cut. */
  slowConsumerBytes?: number;
}

const every = z.number().int().positive();
export const FaultConfigSchema: z.ZodType<FaultConfig> = z
  .object({
    status429Every: every.optional(),
    burst429: z
      .object({ every, length: every })
      .refine((b) => b.length <= b.every, { message: 'length must not exceed every' })
      .optional(),
    status5xxEvery: every.optional(),
    latencyMs: z.number().int().nonnegative().optional(),
    timeoutEvery: every.optional(),
    truncatedEvery: every.optional(),
    malformedEvery: every.optional(),
    duplicateBoundaryEvery: every.optional(),
    shortPageEvery: every.optional(),
    dropSocketEvery: every.optional(),
    stallSocketEvery: every.optional(),
    sequenceGapEvery: every.optional(),
    slowConsumerBytes: every.optional(),
  })
  .strict();

/** Validates a fault config from options or a request body. */
export function parseFaultConfig(value: unknown, field = 'faults'): FaultConfig {
  const r = FaultConfigSchema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = [field, ...issue.path.map(String)].join('.');
  throw new ValidationError(path, issue.message);
}

/** What happens to a request on the wire. */
export type TransportFault = 'status429' | 'status500' | 'status502' | 'status503' | 'timeout' | 'truncated' | 'malformed';

/** Values accepted in the X-Sim-Fault request header. */
const FORCED: Record<string, TransportFault> = {
  '429': 'status429',
  '500': 'status500',
  '502': 'status502',
  '503': 'status503',
  timeout: 'timeout',
  truncated: 'truncated',
  malformed: 'malformed',
};

const ROTATING_5XX: TransportFault[] = ['status502', 'status503', 'status500'];

/** What happens to the rows of a page. */
export interface PageFaults {
  duplicateBoundary: boolean;
  shortPage: boolean;
}

export class FaultInjector {
  private cfg: FaultConfig;
  private requests = 0;
  private pages = 0;
  private serverErrors = 0;

  /** `onInjected` counts each fault that actually happened, by kind. */
  constructor(
    private readonly seed: number,
    config: FaultConfig,
    private readonly onInjected: (kind: string) => void,
  ) {
    this.cfg = parseFaultConfig(config);
  }

  get config(): FaultConfig {
    return this.cfg;
  }

  /** Replaces the config and restarts the counters, so "every Nth" counts from now on. */
  set(config: FaultConfig): void {
    this.cfg = parseFaultConfig(config);
    this.requests = 0;
    this.pages = 0;
    this.serverErrors = 0;
  }

  /** The fault of the next request: the X-Sim-Fault header's, else the counters'. */
  nextTransportFault(forcedHeader: string | undefined): TransportFault | null {
    const n = ++this.requests;
    if (forcedHeader !== undefined) {
      const forced = FORCED[forcedHeader.trim().toLowerCase()];
      if (!forced) throw new ValidationError('X-Sim-Fault', `'${forcedHeader}' is not one of ${Object.keys(FORCED).join(', ')}`);
      return forced;
    }
    const c = this.cfg;
    const hits = (k: number | undefined) => k !== undefined && n % k === 0;
    if (hits(c.timeoutEvery)) return 'timeout';
    if (hits(c.status5xxEvery)) return ROTATING_5XX[this.serverErrors++ % ROTATING_5XX.length]!;
    if (hits(c.status429Every)) return 'status429';
    if (c.burst429 && (n - 1) % c.burst429.every >= c.burst429.every - c.burst429.length) return 'status429';
    if (hits(c.truncatedEvery)) return 'truncated';
    if (hits(c.malformedEvery)) return 'malformed';
    return null;
  }

  /** The faults of the next page of rows (only requests that page through data count). */
  nextPageFaults(): PageFaults {
    const n = ++this.pages;
    const hits = (k: number | undefined) => k !== undefined && n % k === 0;
    return { duplicateBoundary: hits(this.cfg.duplicateBoundaryEvery), shortPage: hits(this.cfg.shortPageEvery) };
  }

  /** A deterministic choice in [0, n) for the current page; `salt` tells apart choices of one page. */
  pick(n: number, salt: number): number {
    return hash2(this.seed ^ Math.imul(salt, 0x2545f491), this.pages) % n;
  }

  record(kind: string): void {
    this.onInjected(kind);
  }
}
