// JSON over HTTP for the REST adapters: per-request timeout, retries with exponential backoff
// and full jitter, the venue's Retry-After honoured to the millisecond, a rate limiter taken
// before every attempt, and errors that carry the venue's own code and message.
import { ExchangeError } from '../domain/errors.ts';
import type { Clock, RateLimiter, RateLimiters } from './rate-limiter.ts';
import { systemClock } from './rate-limiter.ts';
import type { TransportLog } from './adapter.ts';

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** Attempts while the venue cannot be reached at all (refused, unknown host, timeouts); at most maxAttempts. */
  maxUnreachableAttempts?: number;
  /** No retry starts once this much time has passed since the first attempt. */
  maxElapsedMs: number;
  /** Backoff before retry n is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** One attempt, body included. */
  timeoutMs: number;
}

// Eight attempts spread over about a minute ride out a venue's brief outage; beyond that
// the activity's own retry policy takes over with a fresh budget.
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 8,
  maxElapsedMs: 120_000,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  timeoutMs: 20_000,
};

/** How an adapter's transport is built; tests swap timings, the wiring code shares limiters. */
export interface TransportSettings {
  limiters?: RateLimiters;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  /** Uniform in [0, 1); the jitter source. */
  random?: () => number;
}

export interface HttpTransportOptions extends Omit<TransportSettings, 'limiters'> {
  exchange: string;
  limiter?: RateLimiter;
  /** Reads the venue's error body, e.g. Binance's {"code":-1121,"msg":"Invalid symbol."}. */
  venueError?: (body: unknown) => { code?: number | string; msg?: string } | undefined;
}

export interface RequestOptions {
  /** The request's cost in the venue's rate-limit unit. */
  weight?: number;
  signal?: AbortSignal;
  log?: TransportLog;
}

/** An exchange error raised by the transport: the venue's own message, and the request path. */
export class ExchangeHttpError extends ExchangeError {
  constructor(
    exchange: string,
    message: string,
    opts: ConstructorParameters<typeof ExchangeError>[2] & { venueMessage?: string; path: string },
  ) {
    super(exchange, message, opts);
    this.venueMessage = opts.venueMessage;
    this.path = opts.path;
  }
  /** The venue's own words, e.g. 'Invalid symbol.'. */
  readonly venueMessage: string | undefined;
  readonly path: string;
}

/** One failed attempt, and what to do about it. */
interface Failure {
  error: ExchangeHttpError;
  /** The message without the exchange prefix, for the final error. */
  detail: string;
  /** The venue said when to come back (ms). */
  retryAfterMs?: number;
  /** What happened, for the log: '502 from binance', 'binance unreachable (ECONNREFUSED)'. */
  event: string;
  /** No answer at all: the venue is down or the network is. */
  unreachable: boolean;
}

export class HttpTransport {
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly opts: HttpTransportOptions) {
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
  }

  /** GETs `url` and returns its parsed JSON body, retrying what a retry can fix. */
  async getJson(url: URL, req: RequestOptions = {}): Promise<unknown> {
    const { exchange } = this.opts;
    const started = this.clock.now();
    for (let attempt = 1; ; attempt++) {
      req.signal?.throwIfAborted();
      const outcome = await this.attempt(url, req);
      if (!('error' in outcome)) return outcome.body;
      const { error, detail, retryAfterMs, event, unreachable } = outcome;
      if (!error.retryable) throw error;
      const maxAttempts = unreachable ? Math.min(this.retry.maxAttempts, this.retry.maxUnreachableAttempts ?? Infinity) : this.retry.maxAttempts;
      const delay = retryAfterMs ?? this.backoff(attempt);
      // A 429/418 speaks for the whole IP: every caller of this venue waits, not just this one.
      if (error.status === 429 || error.status === 418) this.opts.limiter?.pause(delay);
      const elapsed = this.clock.now() - started;
      if (attempt >= maxAttempts || elapsed + delay > this.retry.maxElapsedMs) {
        const gaveUp = new ExchangeHttpError(
          exchange,
          `gave up after ${attempt} attempt${attempt > 1 ? 's' : ''} in ${seconds(elapsed)}: ${detail}`,
          {
            status: error.status,
            code: error.code,
            retryable: true,
            retryAfterMs,
            venueMessage: error.venueMessage,
            path: error.path,
          },
        );
        gaveUp.cause = error;
        throw gaveUp;
      }
      req.log?.(retryAfterMs !== undefined ? `${event}, waiting ${seconds(delay)}` : `${event}, retry ${attempt + 1}/${maxAttempts} in ${seconds(delay)}`, true);
      await this.sleepUntil(this.clock.now() + delay, req.signal);
    }
  }

  private async attempt(url: URL, req: RequestOptions): Promise<{ body: unknown } | Failure> {
    const { exchange, limiter } = this.opts;
    const path = url.pathname;
    const permit = await limiter?.acquire(req.weight ?? 1, req.signal, (ms, why) =>
      why === 'pause'
        ? req.log?.(`${exchange} asked to back off, waiting ${seconds(ms)}`, true)
        : req.log?.(`${exchange} request budget spent, waiting ${seconds(ms)}`, false),
    );
    const timeout = AbortSignal.timeout(this.retry.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { signal, headers: { accept: 'application/json' } });
      text = await res.text();
    } catch (err) {
      if (permit) limiter!.settle(permit);
      if (req.signal?.aborted) throw req.signal.reason;
      if (timeout.aborted) {
        const detail = `GET ${path}: timeout (no answer within ${seconds(this.retry.timeoutMs)})`;
        return { ...failure(exchange, `timeout from ${exchange}`, detail, { retryable: true, path }), unreachable: true };
      }
      const { code, message } = networkError(err);
      const detail = `GET ${url.origin}${path}: unreachable (${code ? `${code}: ` : ''}${message})`;
      return { ...failure(exchange, `${exchange} unreachable (${code ?? message})`, detail, { retryable: true, path }), unreachable: true };
    }
    if (permit) limiter!.settle(permit, res.headers);

    const body = parseJson(text);
    const status = res.status;
    if (status >= 200 && status < 300) {
      if (body !== undefined) return { body };
      return failure(exchange, `malformed JSON from ${exchange}`, `GET ${path}: malformed JSON body (${preview(text)})`, {
        status,
        retryable: true,
        path,
      });
    }
    const venue = body === undefined ? undefined : this.opts.venueError?.(body);
    const retryable = status === 429 || status === 418 || status >= 500;
    const retryAfterMs = retryable ? parseRetryAfter(res.headers.get('retry-after'), this.clock.now()) : undefined;
    const said = venue?.msg ?? (preview(text) || res.statusText);
    const code = venue?.code !== undefined ? ` (code ${venue.code})` : '';
    return failure(exchange, `${status} from ${exchange}`, `GET ${path}: HTTP ${status}: ${said}${code}`, {
      status,
      code: venue?.code,
      retryable,
      retryAfterMs,
      venueMessage: venue?.msg,
      path,
    });
  }

  /** Full jitter: spreads the retries of many callers instead of synchronising them. */
  private backoff(attempt: number): number {
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(this.random() * cap);
  }

  /** Sleeps until `deadline`, never returning before it even if a timer fires early. */
  private async sleepUntil(deadline: number, signal?: AbortSignal): Promise<void> {
    for (let left = deadline - this.clock.now(); left > 0; left = deadline - this.clock.now()) {
      await this.clock.sleep(left, signal);
    }
  }
}

function failure(exchange: string, event: string, detail: string, opts: ConstructorParameters<typeof ExchangeHttpError>[2]): Failure {
  return { event, detail, error: new ExchangeHttpError(exchange, detail, opts), retryAfterMs: opts.retryAfterMs, unreachable: false };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const s = value.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** fetch's own error says only 'fetch failed'; its cause names the system error (ECONNREFUSED, ENOTFOUND). */
function networkError(err: unknown): { code?: string; message: string } {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  if (!(cause instanceof Error)) return { message: String(cause) };
  const code = (cause as NodeJS.ErrnoException).code;
  return { ...(code && { code }), message: cause.message };
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

/** '40 ms', '0.8 s', '2 s', '95 s': the units log lines use. */
function seconds(ms: number): string {
  if (ms < 100) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${s < 10 ? Number(s.toFixed(1)) : Math.round(s)} s`;
}
