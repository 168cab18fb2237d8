// A venue's WebSocket as one endless sequence of frames: it connects, subscribes (paced under
// the venue's limit on messages it accepts), answers protocol pings (the `ws` library pongs
// by itself) and sends app-level pings where the venue wants them, replaces a connection
// that went silent, reconnects with backoff, and rolls over before the venue's connection
// lifetime by opening and subscribing the next socket before it lets the old one go. It
// knows nothing of rows: adapters parse the frames, and de-duplicate by key what the two
// sockets of a rollover both delivered.
import { WebSocket } from 'ws';

export interface WsDialect {
  url: string;
  /** Frames sent after each open, in order (subscriptions). */
  subscribe: string[];
  /** Frames per second a connection may send (Binance: 5, pings, pongs and control frames included); subscriptions go out at one fewer. */
  maxSendsPerSecond: number;
  /** A frame the venue wants on a quiet connection, and how often (OKX `ping`, Bybit `{"op":"ping"}`). */
  appPing?: { everyMs: number; frame: string };
  /** A connection that brings no frame (data or ping) for this long is stale: it is replaced. */
  staleAfterMs: number;
  /** The venue closes connections this old (Binance: 24 h); the next one is opened `rolloverLeadMs` before. */
  lifetimeMs?: number;
  rolloverLeadMs?: number;
  /** Frames that answer ours (subscription results, pongs): consumed here, not passed on. */
  isReply?(text: string): boolean;
}

export interface BackoffPolicy {
  /** The wait before reconnect n is uniform in [base·2^(n-1)/2, base·2^(n-1)], capped at maxMs. */
  baseMs: number;
  maxMs: number;
  /** A connection that lived this long was healthy: the next failure starts the backoff over. */
  healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, healthyAfterMs: 60_000 };

export type WsEvent =
  /** A connection is open (its subscriptions going out) and is the one frames come from; `reconnect` after a loss. */
  | { kind: 'open'; connection: number; reconnect: boolean }
  | { kind: 'frame'; connection: number; text: string; receivedAtMs: number }
  /** The connection frames came from was lost; frames may be missing until the next 'open'. */
  | { kind: 'lost'; connection: number; reason: string; retryInMs: number }
  /** Frames now come from `to`; both delivered what arrived in between, so the same event may come twice. */
  | { kind: 'rollover'; from: number; to: number };

export interface WsSessionOptions {
  signal: AbortSignal;
  backoff?: BackoffPolicy;
  random?: () => number;
}

/** Frames until `signal` aborts; the generator then closes its sockets and returns. */
export async function* wsSession(dialect: WsDialect, opts: WsSessionOptions): AsyncGenerator<WsEvent> {
  const queue = new EventQueue(() => session.resume());
  const session = new Session(dialect, opts, queue);
  session.start();
  try {
    for (;;) {
      const e = await queue.next(opts.signal);
      if (e === undefined) return;
      yield e;
    }
  } finally {
    session.stop();
  }
}

/**
 * Frames waiting for a consumer that fell behind before the socket stops reading (a few MB);
 * it reads again once half are taken. Meanwhile the venue's side of the connection holds what
 * it sends, as it would for a slow link, and the worker's memory stays bounded.
 */
const QUEUED_FRAMES_MAX = 10_000;

/** Events waiting for the consumer; it pulls at its pace, so a slow consumer is paced by the socket, and never loses frames. */
class EventQueue {
  // Taken from #head on: shift() moves every item left, which made a long queue quadratic.
  #items: (WsEvent | undefined)[] = [];
  #head = 0;
  #wake: (() => void) | undefined;

  constructor(private readonly onDrained: () => void) {}

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(e: WsEvent): void {
    this.#items.push(e);
    this.#wake?.();
  }

  async next(signal: AbortSignal): Promise<WsEvent | undefined> {
    while (this.#head === this.#items.length) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (signal.aborted) return undefined;
    const e = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    // Taken items are let go once they are most of the array, so the copy costs O(1) per item.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.size === QUEUED_FRAMES_MAX / 2) this.onDrained();
    return e;
  }
}

interface Conn {
  id: number;
  ws: WebSocket;
  openedAtMs: number;
  lastFrameAtMs: number;
  subscribed: boolean;
  /** Not reading while the consumer catches up. */
  paused: boolean;
  timers: NodeJS.Timeout[];
}

class Session {
  #next = 1;
  /** The connection frames are taken from. */
  #current: Conn | undefined;
  /** A rollover's next connection, subscribing while #current still delivers. */
  #incoming: Conn | undefined;
  #failures = 0;
  #everOpened = false;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #backoff: BackoffPolicy;
  readonly #random: () => number;

  constructor(
    private readonly dialect: WsDialect,
    opts: WsSessionOptions,
    private readonly events: EventQueue,
  ) {
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#random = opts.random ?? Math.random;
    opts.signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  start(): void {
    this.#connect('current');
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    for (const c of [this.#current, this.#incoming]) if (c) this.#close(c);
  }

  /** The consumer caught up: the sockets read again. */
  resume(): void {
    for (const c of [this.#current, this.#incoming]) {
      if (!c?.paused) continue;
      c.paused = false;
      c.lastFrameAtMs = Date.now();
      c.ws.resume();
    }
  }

  #connect(role: 'current' | 'incoming'): void {
    if (this.#stopped) return;
    const ws = new WebSocket(this.dialect.url, { handshakeTimeout: this.dialect.staleAfterMs });
    const c: Conn = { id: this.#next++, ws, openedAtMs: Date.now(), lastFrameAtMs: Date.now(), subscribed: false, paused: false, timers: [] };
    if (role === 'current') this.#current = c;
    else this.#incoming = c;
    const alive = () => (c.lastFrameAtMs = Date.now());
    ws.on('open', () => this.#subscribe(c, role));
    ws.on('ping', alive);
    ws.on('pong', alive);
    ws.on('message', (data, isBinary) => {
      alive();
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      if (this.dialect.isReply?.(text)) return;
      if (c === this.#incoming) this.#promote(c);
      if (c !== this.#current) return;
      this.events.push({ kind: 'frame', connection: c.id, text, receivedAtMs: c.lastFrameAtMs });
      if (this.events.size >= QUEUED_FRAMES_MAX && !c.paused) {
        c.paused = true;
        c.ws.pause();
      }
    });
    ws.on('error', () => {}); // 'close' follows with the reason
    ws.on('close', (code, reason) => this.#closed(c, `closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    ws.on('unexpected-response', (_req, res) => this.#closed(c, `HTTP ${res.statusCode} on connect`));
    c.timers.push(
      setInterval(() => {
        // A paused socket reads nothing: its silence is the consumer's, not the venue's.
        if (!c.paused && Date.now() - c.lastFrameAtMs > this.dialect.staleAfterMs) this.#closed(c, `no frame for ${this.dialect.staleAfterMs} ms`);
      }, Math.max(50, Math.min(1_000, this.dialect.staleAfterMs / 4))),
    );
  }

  /** Sends the subscriptions no faster than the venue accepts, then app pings and the rollover timer. */
  #subscribe(c: Conn, role: 'current' | 'incoming'): void {
    if (role === 'current') {
      this.events.push({ kind: 'open', connection: c.id, reconnect: this.#everOpened });
      this.#everOpened = true;
    }
    // The venue counts the pongs the `ws` library sends by itself among these frames: one
    // frame a second fewer leaves them room (at the limit, a ping amid subscriptions cut the connection).
    const gapMs = Math.ceil(1_000 / Math.max(1, this.dialect.maxSendsPerSecond - 1));
    const frames = [...this.dialect.subscribe];
    const sendNext = () => {
      const frame = frames.shift();
      if (frame === undefined) return this.#subscribed(c);
      if (c.ws.readyState === WebSocket.OPEN) c.ws.send(frame);
      c.timers.push(setTimeout(sendNext, frames.length ? gapMs : 0));
    };
    sendNext();
    const ping = this.dialect.appPing;
    if (ping) c.timers.push(setInterval(() => c.ws.readyState === WebSocket.OPEN && c.ws.send(ping.frame), ping.everyMs));
  }

  #subscribed(c: Conn): void {
    c.subscribed = true;
    const { lifetimeMs, rolloverLeadMs = 60_000 } = this.dialect;
    if (lifetimeMs) c.timers.push(setTimeout(() => c === this.#current && !this.#incoming && this.#connect('incoming'), Math.max(0, lifetimeMs - rolloverLeadMs)));
  }

  /** The rollover's connection delivered its first frame: it takes over, the old one goes. */
  #promote(c: Conn): void {
    const old = this.#current;
    this.#current = c;
    this.#incoming = undefined;
    if (old) {
      this.events.push({ kind: 'rollover', from: old.id, to: c.id });
      this.#close(old);
    }
  }

  #closed(c: Conn, reason: string): void {
    const wasCurrent = c === this.#current;
    this.#close(c);
    if (this.#stopped) return;
    if (c === this.#incoming) {
      // A failed rollover: the current connection goes on; the venue's cut will be a loss.
      this.#incoming = undefined;
      return;
    }
    if (!wasCurrent) return;
    this.#current = undefined;
    if (Date.now() - c.openedAtMs >= this.#backoff.healthyAfterMs && c.subscribed) this.#failures = 0;
    this.#failures++;
    const cap = Math.min(this.#backoff.maxMs, this.#backoff.baseMs * 2 ** (this.#failures - 1));
    const retryInMs = Math.round(cap / 2 + (this.#random() * cap) / 2);
    this.events.push({ kind: 'lost', connection: c.id, reason, retryInMs });
    // A rollover's connection, already open, takes over at once.
    const next = this.#incoming;
    if (next) {
      this.#current = next;
      this.#incoming = undefined;
      this.events.push({ kind: 'open', connection: next.id, reconnect: true });
      return;
    }
    this.#retry = setTimeout(() => this.#connect('current'), retryInMs);
  }

  #close(c: Conn): void {
    for (const t of c.timers) clearTimeout(t);
    c.timers.length = 0;
    c.ws.removeAllListeners('message');
    if (c.ws.readyState === WebSocket.CONNECTING || c.ws.readyState === WebSocket.OPEN) c.ws.terminate();
  }
}
