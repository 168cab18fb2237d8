// Request-weight accounting per client IP in fixed windows, the way Binance limits REST
// traffic: each route costs a weight, the used weight resets when the window (a wall-clock
// minute) rolls over, a request that would exceed the budget gets 429, and a client that
// keeps sending after a 429 while still over budget is banned (418) for a time that grows
// with each ban. https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
// Binance bans for 2 minutes up to 3 days; the simulator scales the base down (banMs) so
// tests stay fast, and keeps the same growth and ratio of longest to shortest.

export type WeightVerdict =
  | { kind: 'ok'; used: number }
  /** Over budget: wait `retryAfterS` (until the window ends) to avoid a ban. */
  | { kind: 'limited'; used: number; retryAfterS: number }
  /** Banned until `untilMs`. */
  | { kind: 'banned'; used: number; retryAfterS: number; untilMs: number };

interface ClientState {
  windowStart: number;
  used: number;
  limitedInWindow: boolean;
  bannedUntil: number;
  bans: number;
}

/** 3 days / 2 minutes. */
const MAX_BAN_FACTOR = 2160;

export class WeightLimiter {
  private readonly clients = new Map<string, ClientState>();

  constructor(
    readonly budget: number,
    private readonly banMs: number,
    readonly windowMs = 60_000,
  ) {}

  charge(ip: string, weight: number, nowMs: number): WeightVerdict {
    const c = this.client(ip, nowMs);
    if (c.bannedUntil > nowMs) return banned(c, nowMs);
    if (c.used + weight > this.budget) {
      if (c.limitedInWindow) {
        c.bans++;
        c.bannedUntil = nowMs + this.banMs * Math.min(2 ** (c.bans - 1), MAX_BAN_FACTOR);
        return banned(c, nowMs);
      }
      c.limitedInWindow = true;
      return { kind: 'limited', used: c.used, retryAfterS: Math.ceil((c.windowStart + this.windowMs - nowMs) / 1000) };
    }
    c.used += weight;
    return { kind: 'ok', used: c.used };
  }

  /** Weight used so far in the current window. */
  used(ip: string, nowMs: number): number {
    return this.client(ip, nowMs).used;
  }

  windowStart(nowMs: number): number {
    return Math.floor(nowMs / this.windowMs) * this.windowMs;
  }

  private client(ip: string, nowMs: number): ClientState {
    const windowStart = this.windowStart(nowMs);
    let c = this.clients.get(ip);
    if (!c) {
      c = { windowStart, used: 0, limitedInWindow: false, bannedUntil: 0, bans: 0 };
      this.clients.set(ip, c);
    } else if (c.windowStart !== windowStart) {
      c.windowStart = windowStart;
      c.used = 0;
      c.limitedInWindow = false;
    }
    return c;
  }
}

function banned(c: ClientState, nowMs: number): WeightVerdict {
  return { kind: 'banned', used: c.used, retryAfterS: Math.ceil((c.bannedUntil - nowMs) / 1000), untilMs: c.bannedUntil };
}
