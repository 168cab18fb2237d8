// Weight-aware limiter that keeps a client under a venue's request budget BEFORE the venue
// complains. One per exchange (and base URL) per process, shared by every activity.
//
// The model is the one Binance documents: a fixed window aligned to the clock (1 minute), a
// budget of weight per window, and a response header carrying the IP's weight used so far in
// the current window — the server's count is the truth, since another process on the same IP
// spends from the same budget. https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
import { ValidationError } from '../domain/errors.ts';

/** Time as the limiter and the transport see it; injectable so tests run in virtual time. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason as soon as it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface RateLimit {
  /** Weight allowed per window. */
  budget: number;
  /** Window length; windows are aligned to multiples of it since the epoch. */
  windowMs: number;
  /** Response header with the venue's count of weight used in the current window. */
  usedHeader?: string;
}

/** Why a caller waits: the window's budget is spent, or the venue asked everyone to back off. */
export type WaitReason = 'budget' | 'pause';

/** What `acquire` hands out; give it back to `settle` when the response (or failure) arrives. */
export interface Permit {
  readonly weight: number;
  readonly window: number;
  readonly acquiredAt: number;
  /** Charged to the next window too, since the venue may count it there. */
  readonly straddles: boolean;
}

interface WindowState {
  used: number;
  inFlight: number;
  /** A venue count has been read in this window. */
  synced: boolean;
}

/** Recent round trips kept to size the guard band at the end of each window. */
const RTT_SAMPLES = 32;
/** Guard band before the first round trip has been measured. */
const INITIAL_GUARD_MS = 1000;

export class RateLimiter {
  private readonly windows = new Map<number, WindowState>();
  private readonly queue: { weight: number }[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly rtts: number[] = [];
  private pauseEnd = 0;

  constructor(
    readonly limit: RateLimit,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(limit.budget > 0)) throw new ValidationError('budget', `must be positive, got ${limit.budget}`);
    if (!(limit.windowMs > 0)) throw new ValidationError('windowMs', `must be positive, got ${limit.windowMs}`);
  }

  /**
   * Waits until `weight` fits in the budget, then takes it. Callers are served in arrival
   * order, so a heavy request is not starved by a stream of light ones. `onWait` hears once
   * about a wait of a second or more, and why.
   */
  async acquire(weight: number, signal?: AbortSignal, onWait?: (ms: number, why: WaitReason) => void): Promise<Permit> {
    if (!(weight > 0) || weight > this.limit.budget) {
      throw new ValidationError('weight', `must be in (0, ${this.limit.budget}], got ${weight}`);
    }
    signal?.throwIfAborted();
    const ticket = { weight };
    this.queue.push(ticket);
    let told = false;
    try {
      for (;;) {
        if (this.queue[0] !== ticket) {
          await this.waitForChange(undefined, signal);
          continue;
        }
        const permit = this.tryTake(weight);
        if ('weight' in permit) return permit;
        if (onWait && !told && permit.ms !== undefined && permit.ms >= 1000) {
          told = true;
          onWait(permit.ms, permit.why);
        }
        await this.waitForChange(permit.ms, signal);
      }
    } finally {
      this.queue.splice(this.queue.indexOf(ticket), 1);
      this.notify();
    }
  }

  /**
   * Records the end of a request: frees its in-flight weight and, when the venue reported its
   * count, adopts it if it is higher than ours (the venue's count is the truth).
   */
  settle(permit: Permit, headers?: Headers): void {
    const now = this.clock.now();
    this.rtts.push(now - permit.acquiredAt);
    if (this.rtts.length > RTT_SAMPLES) this.rtts.shift();
    const w = this.windows.get(permit.window);
    if (w) {
      w.inFlight -= permit.weight;
      const used = this.limit.usedHeader ? Number(headers?.get(this.limit.usedHeader) ?? NaN) : NaN;
      // A count can only be attributed to our window when the request was sent and answered
      // inside it; requests still in flight may not be counted yet, so they are added on top.
      if (Number.isFinite(used) && !permit.straddles && this.windowOf(now) === permit.window) {
        w.used = Math.max(w.used, used + w.inFlight);
        w.synced = true;
      }
    }
    this.notify();
  }

  /** Stops every caller until `ms` from now (a 429/418 with Retry-After). */
  pause(ms: number): void {
    this.pauseEnd = Math.max(this.pauseEnd, this.clock.now() + ms);
    this.notify();
  }

  /** When callers may send again after a pause (epoch ms). */
  get pausedUntil(): number {
    return this.pauseEnd;
  }

  /** Weight counted against the current window, in flight included. */
  used(): number {
    return this.windows.get(this.windowOf(this.clock.now()))?.used ?? 0;
  }

  private windowOf(ms: number): number {
    return Math.floor(ms / this.limit.windowMs);
  }

  private state(index: number): WindowState {
    let w = this.windows.get(index);
    if (!w) {
      w = { used: 0, inFlight: 0, synced: false };
      this.windows.set(index, w);
      for (const k of this.windows.keys()) if (k < index - 1) this.windows.delete(k);
    }
    return w;
  }

  /** The guard band: a request sent this close to the window's end may be counted in the next. */
  private guardMs(): number {
    const worst = this.rtts.length ? Math.max(...this.rtts) : INITIAL_GUARD_MS;
    return Math.min(worst, this.limit.windowMs / 10);
  }

  /** Takes the weight now, or says how long to wait (ms undefined: until something changes). */
  private tryTake(weight: number): Permit | { ms?: number; why: WaitReason } {
    const now = this.clock.now();
    if (now < this.pauseEnd) return { ms: this.pauseEnd - now, why: 'pause' };
    const index = this.windowOf(now);
    const current = this.state(index);
    const untilNext = (index + 1) * this.limit.windowMs - now;
    // Until the venue has told us its count for this window, one request goes alone: another
    // process on the same IP may already have spent most of the budget.
    if (this.limit.usedHeader && !current.synced && current.inFlight > 0) return { why: 'budget' };
    if (current.used + weight > this.limit.budget) return { ms: untilNext, why: 'budget' };
    const straddles = untilNext <= this.guardMs();
    if (straddles) {
      const next = this.state(index + 1);
      if (next.used + weight > this.limit.budget) return { ms: untilNext, why: 'budget' };
      next.used += weight;
    }
    current.used += weight;
    current.inFlight += weight;
    return { weight, window: index, acquiredAt: now, straddles };
  }

  private notify(): void {
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  /** Sleeps `ms` (forever when undefined) or until the limiter's state changes. */
  private async waitForChange(ms: number | undefined, signal?: AbortSignal): Promise<void> {
    const stop = new AbortController();
    const waits: Promise<void>[] = [new Promise<void>((resolve) => this.wakers.add(resolve))];
    if (ms !== undefined) waits.push(this.clock.sleep(ms, stop.signal).catch(() => undefined));
    if (signal) {
      waits.push(
        new Promise<void>((_, reject) => {
          const onAbort = () => reject(signal.reason);
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          stop.signal.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), { once: true });
        }),
      );
    }
    try {
      await Promise.race(waits);
    } finally {
      stop.abort();
    }
  }
}

/**
 * The process's limiters, one per exchange and base URL (the simulator and the real venue
 * must not share a budget). Created once by the wiring code and handed to every adapter;
 * `overrides` adjust a venue's budget or window (e.g. a lower share for one of several hosts).
 */
export class RateLimiters {
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(
    private readonly overrides: Readonly<Record<string, Partial<RateLimit>>> = {},
    private readonly clock: Clock = systemClock,
  ) {}

  for(exchange: string, baseUrl: string, defaults: RateLimit): RateLimiter {
    const key = `${exchange} ${new URL(baseUrl).origin}`;
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new RateLimiter({ ...defaults, ...this.overrides[exchange] }, this.clock);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }
}
