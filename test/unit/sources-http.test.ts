import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, test } from 'node:test';
import { ExchangeError } from '../../src/domain/errors.ts';
import type { RetryPolicy } from '../../src/sources/http.ts';
import { ExchangeHttpError, HttpTransport, parseRetryAfter } from '../../src/sources/http.ts';
import type { Clock } from '../../src/sources/rate-limiter.ts';
import { RateLimiter, systemClock } from '../../src/sources/rate-limiter.ts';

/** The error a promise rejects with (the test fails if it resolves). */
function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

/** A local server that answers each request with the next scripted reply (the last one repeats). */
let replies: Reply[] = [];
let requests = 0;
const server = createServer((req, res) => {
  const reply = replies[Math.min(requests, replies.length - 1)]!;
  requests++;
  reply(req, res);
});
let base = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  replies = [];
  requests = 0;
});

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}

function raw(status: number, text: string): Reply {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  };
}

/** Time that only moves when the transport sleeps; every wait is recorded. */
class RecordingClock implements Clock {
  t = 1_700_000_000_000;
  readonly waits: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.waits.push(ms);
    this.t += ms;
  }
}

function transport(opts: { clock?: Clock; limiter?: RateLimiter; retry?: Partial<RetryPolicy> } = {}) {
  return new HttpTransport({
    exchange: 'binance',
    clock: opts.clock ?? new RecordingClock(),
    limiter: opts.limiter,
    random: () => 0.5,
    retry: { maxAttempts: 8, timeoutMs: 5_000, ...opts.retry },
    venueError: (body) => {
      const b = body as { code?: number; msg?: string };
      return typeof b.code === 'number' ? { code: b.code, msg: b.msg } : undefined;
    },
  });
}

const url = () => new URL(`${base}/api/v3/klines?symbol=BTCUSDT`);

test('a 429 with Retry-After waits exactly that long, pauses every caller, then succeeds', async () => {
  replies = [json(429, { code: -1003, msg: 'Too much request weight used' }, { 'retry-after': '2' }), json(200, [1, 2])];
  const clock = new RecordingClock();
  const limiter = new RateLimiter({ budget: 6000, windowMs: 60_000 }, clock);
  const log: string[] = [];
  const start = clock.now();
  const body = await transport({ clock, limiter }).getJson(url(), { log: (l) => log.push(l) });
  assert.deepEqual(body, [1, 2]);
  assert.deepEqual(clock.waits, [2000]);
  assert.equal(limiter.pausedUntil, start + 2000);
  assert.deepEqual(log, ['429 from binance, waiting 2 s']);
});

test('a timer that fires early does not cut a Retry-After short', async () => {
  replies = [json(429, { code: -1003, msg: 'Too much request weight used' }, { 'retry-after': '2' }), json(200, {})];
  const clock = new RecordingClock();
  let first = true;
  const early: Clock = {
    now: () => clock.now(),
    sleep: (ms, signal) => {
      const short = first ? 1 : 0;
      first = false;
      return clock.sleep(ms - short, signal);
    },
  };
  const start = clock.now();
  await transport({ clock: early }).getJson(url());
  assert.ok(clock.now() - start >= 2000, `waited ${clock.now() - start} ms`);
});

test('a 418 ban is waited out for its Retry-After', async () => {
  replies = [json(418, { code: -1003, msg: 'Way too much request weight used; IP banned' }, { 'retry-after': '3' }), json(200, {})];
  const clock = new RecordingClock();
  const log: string[] = [];
  await transport({ clock }).getJson(url(), { log: (l) => log.push(l) });
  assert.deepEqual(clock.waits, [3000]);
  assert.deepEqual(log, ['418 from binance, waiting 3 s']);
});

test('5xx answers are retried with exponential backoff and full jitter, each retry logged', async () => {
  replies = [raw(502, 'Bad Gateway'), raw(503, ''), raw(500, '{}'), json(200, { ok: true })];
  const clock = new RecordingClock();
  const log: string[] = [];
  const body = await transport({ clock }).getJson(url(), { log: (l) => log.push(l) });
  assert.deepEqual(body, { ok: true });
  // random() = 0.5 of a cap that doubles from 500 ms.
  assert.deepEqual(clock.waits, [250, 500, 1000]);
  assert.deepEqual(log, [
    '502 from binance, retry 2/8 in 0.3 s',
    '503 from binance, retry 3/8 in 0.5 s',
    '500 from binance, retry 4/8 in 1 s',
  ]);
});

test('a failure or a back-off is logged as trouble; pacing under the budget is not', async () => {
  const clock = new RecordingClock();
  // A budget of 2 per minute: the third request waits for the next window.
  const limiter = new RateLimiter({ budget: 2, windowMs: 60_000 }, clock);
  replies = [raw(502, 'Bad Gateway'), json(200, 1), json(200, 2)];
  const log: [string, boolean][] = [];
  const http = transport({ clock, limiter });
  await http.getJson(url(), { log: (l, trouble) => log.push([l, trouble]) });
  await http.getJson(url(), { log: (l, trouble) => log.push([l, trouble]) });
  assert.deepEqual(log, [
    ['502 from binance, retry 2/8 in 0.3 s', true],
    [log[1]![0], false],
  ]);
  assert.match(log[1]![0], /^binance request budget spent, waiting \d+ s$/);
});

test('a truncated or malformed JSON body is retried', async () => {
  replies = [raw(200, '[[1499040000000,"0.0163'), raw(200, '<html>oops</html>'), json(200, [[1]])];
  const log: string[] = [];
  const body = await transport().getJson(url(), { log: (l) => log.push(l) });
  assert.deepEqual(body, [[1]]);
  assert.equal(requests, 3);
  assert.match(log[0]!, /^malformed JSON from binance, retry 2\/8 in /);
});

test('a venue that cannot be reached at all is given up on after maxUnreachableAttempts, naming the cause', async () => {
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const log: string[] = [];
  const http = new HttpTransport({ exchange: 'binance', retry: { maxUnreachableAttempts: 2, baseDelayMs: 10 } });
  const err = await rejection(http.getJson(new URL(`http://127.0.0.1:${closed}/api/v3/exchangeInfo`), { log: (l) => log.push(l) }));
  assert.deepEqual(log.map((l) => l.replace(/in [\d.]+ m?s$/, 'in …')), ['binance unreachable (ECONNREFUSED), retry 2/2 in …']);
  assert.match((err as Error).message, new RegExp(`^binance: gave up after 2 attempts in [\\d.]+ m?s: GET http://127.0.0.1:${closed}/api/v3/exchangeInfo: unreachable \\(ECONNREFUSED: `));
});

test('a 400 is not retried and carries the venue code and message', async () => {
  replies = [json(400, { code: -1121, msg: 'Invalid symbol.' })];
  const err = await rejection(transport().getJson(url()));
  assert.ok(err instanceof ExchangeHttpError);
  assert.equal(err.retryable, false);
  assert.equal(err.type, 'ExchangeRejected');
  assert.equal(err.status, 400);
  assert.equal(err.code, -1121);
  assert.equal(err.venueMessage, 'Invalid symbol.');
  assert.equal(err.message, 'binance: GET /api/v3/klines: HTTP 400: Invalid symbol. (code -1121)');
  assert.equal(requests, 1);
});

test('network failures and timeouts are retried', async () => {
  replies = [
    (req) => req.socket.destroy(),
    () => {
      /* never answers: the attempt times out */
    },
    json(200, 'fine'),
  ];
  const log: string[] = [];
  const body = await transport({ retry: { timeoutMs: 300 } }).getJson(url(), { log: (l) => log.push(l) });
  assert.equal(body, 'fine');
  assert.match(log[0]!, /^binance unreachable \(\w+\), retry 2\/8/);
  assert.match(log[1]!, /^timeout from binance, retry 3\/8/);
});

test('after the attempt budget it throws a retryable error with the last cause', async () => {
  replies = [raw(503, 'Service Unavailable')];
  const err = await rejection(transport({ retry: { maxAttempts: 3 } }).getJson(url()));
  assert.ok(err instanceof ExchangeError);
  assert.equal(err.retryable, true);
  assert.equal(err.type, 'ExchangeTransientError');
  assert.equal(err.status, 503);
  assert.match(err.message, /^binance: gave up after 3 attempts in 0\.8 s: GET \/api\/v3\/klines: HTTP 503: Service Unavailable$/);
  assert.ok(err.cause instanceof ExchangeHttpError);
  assert.equal(requests, 3);
});

test('a Retry-After longer than the elapsed budget fails at once, carrying the wait', async () => {
  replies = [json(418, { code: -1003, msg: 'IP banned' }, { 'retry-after': '7200' })];
  const err = await rejection(transport({ retry: { maxElapsedMs: 60_000 } }).getJson(url()));
  assert.ok(err instanceof ExchangeError);
  assert.equal(err.retryable, true);
  assert.equal(err.retryAfterMs, 7_200_000);
  assert.equal(requests, 1);
});

test('the caller abort stops a Retry-After wait at once', { timeout: 10_000 }, async () => {
  replies = [json(429, { code: -1003, msg: 'Too much request weight used' }, { 'retry-after': '60' })];
  const ctl = new AbortController();
  const reason = new Error('activity cancelled');
  const pending = transport({ clock: systemClock }).getJson(url(), {
    signal: ctl.signal,
    log: () => setTimeout(() => ctl.abort(reason), 20),
  });
  await assert.rejects(pending, (err) => err === reason);
  assert.equal(requests, 1);
});

test('the used-weight header of every answer re-syncs the limiter', async () => {
  replies = [json(200, [], { 'x-mbx-used-weight-1m': '4321' })];
  const limiter = new RateLimiter({ budget: 6000, windowMs: 60_000, usedHeader: 'x-mbx-used-weight-1m' }, systemClock);
  await transport({ clock: systemClock, limiter }).getJson(url(), { weight: 2 });
  assert.ok(limiter.used() >= 4321, `limiter counts ${limiter.used()}`);
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('2', now), 2000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
});
