import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../../src/domain/errors.ts';
import type { Clock, RateLimit } from '../../src/sources/rate-limiter.ts';
import { RateLimiter, RateLimiters } from '../../src/sources/rate-limiter.ts';

/**
 * Discrete-event time: `sleep` registers a timer and the clock jumps to the earliest timer
 * once every pending promise has run, so minutes of traffic simulate in milliseconds.
 */
class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private scheduled = false;

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fire: resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) return;
      this.t = Math.max(this.t, next.at);
      next.fire();
      if (this.timers.length) this.schedule();
    });
  }
}

const HEADER = 'x-used-weight';
const LIMIT: RateLimit = { budget: 6000, windowMs: 60_000, usedHeader: HEADER };

/** A venue that counts weight in fixed clock-aligned windows, as Binance does, and refuses beyond the budget. */
class CountingVenue {
  readonly counts = new Map<number, number>();
  rejected = 0;
  constructor(private readonly limit: RateLimit) {}

  /** Counts a request arriving at `atMs`; returns the header the venue would send back. */
  receive(weight: number, atMs: number): Headers {
    const w = Math.floor(atMs / this.limit.windowMs);
    const used = (this.counts.get(w) ?? 0) + weight;
    this.counts.set(w, used);
    if (used > this.limit.budget) this.rejected++;
    return new Headers({ [HEADER]: String(used) });
  }
}

/** One caller sending requests back to back until `untilMs`; `rttMs` gives each round trip. */
async function caller(
  limiter: RateLimiter,
  clock: VirtualClock,
  venue: CountingVenue,
  weight: number,
  rttMs: number | (() => number),
  untilMs: number,
) {
  while (clock.now() < untilMs) {
    const permit = await limiter.acquire(weight);
    const rtt = typeof rttMs === 'number' ? rttMs : rttMs();
    await clock.sleep(rtt / 2);
    const headers = venue.receive(weight, clock.now());
    await clock.sleep(rtt / 2);
    limiter.settle(permit, headers);
  }
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('concurrent callers never exceed the budget of any window and use at least 95 % of it', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(LIMIT, clock);
  const venue = new CountingVenue(LIMIT);
  const minutes = 4;
  // Twelve callers with 50 ms round trips ask for ~3x the budget.
  await Promise.all(Array.from({ length: 12 }, (_, i) => caller(limiter, clock, venue, i % 3 === 0 ? 4 : 2, 50, minutes * 60_000)));
  assert.equal(venue.rejected, 0);
  for (let w = 0; w < minutes; w++) {
    const used = venue.counts.get(w) ?? 0;
    assert.ok(used <= LIMIT.budget, `window ${w} counted ${used}`);
    assert.ok(used >= 0.95 * LIMIT.budget, `window ${w} used only ${used} of ${LIMIT.budget}`);
  }
});

test('round trips that vary from 10 ms to 400 ms never push a window over the budget', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(LIMIT, clock);
  const venue = new CountingVenue(LIMIT);
  const random = seeded(7);
  const rtt = () => 10 + random() * 390;
  await Promise.all(Array.from({ length: 40 }, () => caller(limiter, clock, venue, 2, rtt, 5 * 60_000)));
  assert.equal(venue.rejected, 0);
  for (let w = 0; w < 5; w++) assert.ok((venue.counts.get(w) ?? 0) >= 0.95 * LIMIT.budget, `window ${w}: ${venue.counts.get(w)}`);
});

test('demand close to the budget, flowing across window boundaries, never pushes a window over it', async () => {
  for (const callers of [4, 5, 6, 7]) {
    const clock = new VirtualClock();
    const limiter = new RateLimiter(LIMIT, clock);
    const venue = new CountingVenue(LIMIT);
    const random = seeded(callers);
    const rtt = () => 60 + random() * 80;
    await Promise.all(Array.from({ length: callers }, () => caller(limiter, clock, venue, 2, rtt, 6 * 60_000)));
    assert.equal(venue.rejected, 0, `${callers} callers: ${JSON.stringify([...venue.counts])}`);
  }
});

test('a request sent just before a window ends is charged to the next window too, where the venue may count it', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(LIMIT, clock);
  const venue = new CountingVenue(LIMIT);
  await clock.sleep(59_990);
  // Sent 10 ms before the boundary, it reaches the venue a second into the next window,
  // after a crowd of callers has spent that window's budget.
  const late = (async () => {
    const permit = await limiter.acquire(2);
    await clock.sleep(1_000);
    const headers = venue.receive(2, clock.now());
    await clock.sleep(1_000);
    limiter.settle(permit, headers);
  })();
  await clock.sleep(10);
  await Promise.all([late, ...Array.from({ length: 100 }, () => caller(limiter, clock, venue, 2, 20, 90_000))]);
  assert.equal(venue.rejected, 0, JSON.stringify([...venue.counts]));
  assert.equal(venue.counts.get(1), LIMIT.budget);
});

test('a heavy request is served in its turn, not starved by a stream of light ones', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(LIMIT, clock);
  const venue = new CountingVenue(LIMIT);
  const light = Array.from({ length: 6 }, () => caller(limiter, clock, venue, 2, 50, 3 * 60_000));
  let heavyServedAt = -1;
  const heavy = (async () => {
    await clock.sleep(30_000);
    const permit = await limiter.acquire(250);
    heavyServedAt = clock.now();
    limiter.settle(permit, venue.receive(250, clock.now()));
  })();
  await Promise.all([...light, heavy]);
  assert.equal(venue.rejected, 0);
  assert.ok(heavyServedAt >= 0 && heavyServedAt < 2 * 60_000, `heavy request served at ${heavyServedAt} ms`);
});

test('the venue count in the response header is adopted when another process spends the same budget', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(LIMIT, clock);
  const venue = new CountingVenue(LIMIT);
  // Another process on the same IP already spent 4000 of the first window's budget.
  venue.counts.set(0, 4000);
  await Promise.all(Array.from({ length: 8 }, () => caller(limiter, clock, venue, 2, 50, 2 * 60_000)));
  assert.equal(venue.rejected, 0);
  assert.ok((venue.counts.get(0) ?? 0) <= LIMIT.budget);
  assert.ok((venue.counts.get(1) ?? 0) >= 0.95 * LIMIT.budget);
});

test('a higher count reported mid-window makes the next request wait for the next window', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(LIMIT, clock);
  await clock.sleep(10_000);
  const first = await limiter.acquire(2);
  limiter.settle(first, new Headers({ [HEADER]: '5990' }));
  assert.equal(limiter.used(), 5990);
  await limiter.acquire(20);
  assert.ok(clock.now() >= 60_000, `granted at ${clock.now()} ms, inside the exhausted window`);
});

test('a lower count in the header never lowers what the limiter has counted', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(LIMIT, clock);
  await clock.sleep(1_000);
  const permits = [];
  for (let i = 0; i < 3; i++) {
    const p = await limiter.acquire(100);
    limiter.settle(p, new Headers({ [HEADER]: String(100 * (i + 1)) }));
    permits.push(p);
  }
  const p = await limiter.acquire(100);
  limiter.settle(p, new Headers({ [HEADER]: '5' }));
  assert.equal(limiter.used(), 400);
});

test('a pause after a 429 holds every caller until the Retry-After has passed', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(LIMIT, clock);
  await clock.sleep(5_000);
  limiter.pause(2_000);
  assert.equal(limiter.pausedUntil, 7_000);
  const grantedAt = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const p = await limiter.acquire(1);
      const at = clock.now();
      limiter.settle(p, new Headers({ [HEADER]: '1' }));
      return at;
    }),
  );
  for (const at of grantedAt) assert.ok(at >= 7_000, `granted at ${at} ms during the pause`);
});

test('a waiting caller hears once how long it will wait, and why', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ budget: 10, windowMs: 60_000 }, clock);
  await clock.sleep(15_000);
  await limiter.acquire(10);
  const heard: [number, string][] = [];
  await limiter.acquire(5, undefined, (ms, why) => heard.push([ms, why]));
  limiter.pause(3_000);
  await limiter.acquire(5, undefined, (ms, why) => heard.push([ms, why]));
  assert.deepEqual(heard, [
    [45_000, 'budget'],
    [3_000, 'pause'],
  ]);
});

test('an aborted wait rejects with the abort reason and lets the next caller through', async () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter({ budget: 10, windowMs: 60_000 }, clock);
  await limiter.acquire(10);
  const ctl = new AbortController();
  const blocked = limiter.acquire(5, ctl.signal);
  const behind = limiter.acquire(5);
  const reason = new Error('activity cancelled');
  ctl.abort(reason);
  await assert.rejects(blocked, (err) => err === reason);
  await behind;
  assert.equal(clock.now(), 60_000);
});

test('a weight above the whole budget is refused at once', async () => {
  const limiter = new RateLimiter({ budget: 10, windowMs: 1000 }, new VirtualClock());
  await assert.rejects(limiter.acquire(11), (err) => err instanceof ValidationError && err.field === 'weight');
});

test('one limiter per exchange and base URL origin, with budget overrides', () => {
  const limiters = new RateLimiters({ binance: { budget: 1200 } });
  const a = limiters.for('binance', 'https://api.binance.com', LIMIT);
  const b = limiters.for('binance', 'https://api.binance.com/', LIMIT);
  const sim = limiters.for('binance', 'http://127.0.0.1:4000/binance', LIMIT);
  assert.equal(a, b);
  assert.notEqual(a, sim);
  assert.equal(a.limit.budget, 1200);
  assert.equal(a.limit.windowMs, 60_000);
});
