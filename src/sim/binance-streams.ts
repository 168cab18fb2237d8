// Binance spot market streams, driven by the simulated markets in real time: a 100 ms clock
// pushes the trades that happened since the last push, kline updates every 1 s (1s) or 2 s,
// and book diffs or partial books every 100 ms or 1000 ms.
// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
// Connection rules of that page ("General WSS information", "WebSocket Limits"), simulated:
// - a ping frame every 20 s, whose payload the pong must copy; a connection that leaves a
//   ping unanswered for a minute is cut. Unsolicited pongs are allowed "but will not prevent
//   disconnection": only a pong with the payload of a ping sent answers it.
// - 5 incoming messages per second per connection (PING, PONG and JSON control messages); a
//   connection beyond that is disconnected, with close code 1008 "Too many requests" (what
//   clients report: https://github.com/binance/binance-connector-go/issues/90). Counted over
//   any 1 s (a sliding window), the strictest reading.
// Not simulated: the 24 h connection lifetime, 1024 streams per connection, 300 connections
// per 5 minutes per IP. Stream faults (faults.ts) drop, stall or cut connections and skip
// events of id-numbered streams.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { BinanceFormat, CALENDARS } from './binance-dialect.ts';
import type { ListedMarket } from './listing.ts';
import type { Candle } from './market.ts';
import type { SpanCalendar } from './spans.ts';
import type { VenueContext } from './venue.ts';

const TICK_MS = 100;
/** "The WebSocket server will send a ping frame every 20 seconds." */
const PING_EVERY_MS = 20_000;
/** "If the WebSocket server does not receive a pong frame back from the connection within a minute the connection will be disconnected." */
const PONG_TIMEOUT_MS = 60_000;
/** "WebSocket connections have a limit of 5 incoming messages per second." */
const MAX_INCOMING_PER_SECOND = 5;
/** Depth of the book that diff events describe (the snapshot depth the docs recommend). */
const DIFF_DEPTH = 1000;
/**
 * A connection with this much still unsent (a client reading slower than the market trades)
 * gets nothing on a tick; its events follow once it has caught up. Without it a fast market
 * would pile its events up in the simulator's memory, and its ticks would starve the writes.
 */
const MAX_UNSENT_BYTES = 4 << 20;
const METHODS = ['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS', 'SET_PROPERTY', 'GET_PROPERTY'];

type StreamSpec =
  | { type: 'trade' | 'aggTrade' }
  | { type: 'kline'; cal: SpanCalendar }
  | { type: 'depth'; everyMs: number }
  | { type: 'partialDepth'; levels: number; everyMs: number };

interface Subscription {
  name: string;
  spec: StreamSpec;
  /** Undefined when the symbol is not listed: the stream stays silent, as Binance's does. */
  lm: ListedMarket | undefined;
  nextTradeId: number;
  lastPushMs: number;
  klineOpen: number | undefined;
  lastUpdateId: number;
  /** Events of an id-numbered stream, for sequenceGapEvery. */
  numbered: number;
}

interface Connection {
  ws: WebSocket;
  combined: boolean;
  subs: Map<string, Subscription>;
  sent: number;
  lastPingMs: number;
  /** Pings not answered yet: payload → when sent. */
  unanswered: Map<string, number>;
  /** When the messages of the last second arrived. */
  incoming: number[];
  /** stallSocketEvery: open, and silent from now on. */
  stalled: boolean;
}

export class BinanceStreams {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly conns = new Set<Connection>();
  private timer: NodeJS.Timeout | undefined;
  private readonly pingEveryMs: number;
  private readonly pongTimeoutMs: number;

  constructor(
    private readonly markets: Map<string, ListedMarket>,
    private readonly ctx: VenueContext,
  ) {
    this.pingEveryMs = ctx.wsPingEveryMs ?? PING_EVERY_MS;
    this.pongTimeoutMs = ctx.wsPongTimeoutMs ?? PONG_TIMEOUT_MS;
  }

  /** Raw streams at /ws/<stream>, combined ones at /stream?streams=<a>/<b>. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, query: URLSearchParams): void {
    let combined: boolean;
    let names: string[];
    if (path === '/stream') {
      combined = true;
      names = (query.get('streams') ?? '').split('/');
    } else if (path === '/ws' || path.startsWith('/ws/')) {
      combined = false;
      names = path.slice('/ws/'.length).split('/');
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, combined, names.filter(Boolean)));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
    this.wss.close();
  }

  private open(ws: WebSocket, combined: boolean, names: string[]): void {
    const now = Date.now();
    const conn: Connection = { ws, combined, subs: new Map(), sent: 0, lastPingMs: now, unanswered: new Map(), incoming: [], stalled: false };
    for (const name of names) this.subscribe(conn, name, now);
    this.conns.add(conn);
    this.ctx.stats.wsConnection();
    ws.on('message', (data) => this.withinRate(conn) && this.control(conn, data.toString()));
    ws.on('ping', () => this.withinRate(conn));
    ws.on('pong', (data) => this.withinRate(conn) && this.answered(conn, data.toString()));
    ws.on('close', () => {
      this.conns.delete(conn);
      if (this.conns.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    });
    ws.on('error', () => ws.terminate());
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  /** Counts an incoming message; false when it was one too many and the connection is cut. */
  private withinRate(conn: Connection): boolean {
    if (conn.stalled || !this.conns.has(conn)) return false;
    const now = Date.now();
    while (conn.incoming.length > 0 && conn.incoming[0]! <= now - 1000) conn.incoming.shift();
    conn.incoming.push(now);
    if (conn.incoming.length <= MAX_INCOMING_PER_SECOND) return true;
    this.cut(conn, 'messageRate');
    conn.ws.close(1008, 'Too many requests');
    return false;
  }

  /** A pong with a ping's payload answers it and every ping before it. */
  private answered(conn: Connection, payload: string): void {
    const sentMs = conn.unanswered.get(payload);
    if (sentMs === undefined) return;
    for (const [p, ms] of conn.unanswered) if (ms <= sentMs) conn.unanswered.delete(p);
  }

  /** Ends a connection for breaking a rule (the caller closes the socket). */
  private cut(conn: Connection, rule: string): void {
    this.conns.delete(conn);
    this.ctx.stats.wsCut(rule);
  }

  /** Requests sent by the client: https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#live-subscribingunsubscribing-to-streams */
  private control(conn: Connection, text: string): void {
    const answer = (x: unknown) => conn.ws.send(JSON.stringify(x));
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return answer({ code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' });
    }
    if (typeof msg !== 'object' || msg === null || !('method' in msg)) {
      return answer({ code: 2, msg: `Invalid request: missing field \`method\` at line 1 column ${text.length}` });
    }
    const { method, params, id = null } = msg as { method: unknown; params?: unknown; id?: unknown };
    if (!(id === null || (Number.isSafeInteger(id) && (id as number) >= 0) || (typeof id === 'string' && /^[A-Za-z0-9]{1,36}$/.test(id)))) {
      return answer({ code: 2, msg: 'Invalid request: request ID must be an unsigned integer' });
    }
    if (typeof method !== 'string' || !METHODS.includes(method)) {
      return answer({
        code: 2,
        msg: `Invalid request: unknown variant \`${String(method)}\`, expected one of ${METHODS.map((m) => `\`${m}\``).join(', ')} at line 1 column 28`,
      });
    }
    const list = Array.isArray(params) ? params : [];
    const now = Date.now();
    switch (method) {
      case 'SUBSCRIBE':
        for (const name of list) if (typeof name === 'string') this.subscribe(conn, name, now);
        return answer({ result: null, id });
      case 'UNSUBSCRIBE':
        for (const name of list) conn.subs.delete(String(name));
        return answer({ result: null, id });
      case 'LIST_SUBSCRIPTIONS':
        return answer({ result: [...conn.subs.keys()], id });
      case 'SET_PROPERTY':
        if (list[0] !== 'combined') return answer({ code: 0, msg: 'Unknown property', id });
        if (typeof list[1] !== 'boolean') return answer({ code: 1, msg: 'Invalid value type: expected Boolean' });
        conn.combined = list[1];
        return answer({ result: null, id });
      case 'GET_PROPERTY':
        if (list[0] !== 'combined') return answer({ code: 0, msg: 'Unknown property', id });
        return answer({ result: conn.combined, id });
    }
  }

  private subscribe(conn: Connection, name: string, now: number): void {
    const parsed = parseStream(name);
    if (!parsed || conn.subs.has(name)) return;
    const lm = this.markets.get(parsed.symbol.toUpperCase());
    conn.subs.set(name, {
      name,
      spec: parsed.spec,
      lm,
      nextTradeId: lm ? lm.market.tradesBefore(now, now) : 0,
      lastPushMs: parsed.spec.type === 'depth' ? now : 0,
      klineOpen: undefined,
      lastUpdateId: lm ? lm.book.updateIdAt(now) : 0,
      numbered: 0,
    });
  }

  private tick(): void {
    const now = Date.now();
    connections: for (const conn of this.conns) {
      if (conn.ws.readyState !== WebSocket.OPEN || conn.stalled) continue;
      const [oldestPingMs] = conn.unanswered.values();
      if (oldestPingMs !== undefined && now - oldestPingMs >= this.pongTimeoutMs) {
        this.cut(conn, 'pongTimeout');
        conn.ws.terminate();
        continue;
      }
      if (now - conn.lastPingMs >= this.pingEveryMs) {
        const payload = String(now);
        conn.unanswered.set(payload, now);
        conn.ws.ping(payload);
        conn.lastPingMs = now;
        this.ctx.stats.wsPing();
      }
      // With the slowConsumerBytes fault set, that fault decides what becomes of a slow reader.
      if (this.ctx.faults.config.slowConsumerBytes === undefined && conn.ws.bufferedAmount > MAX_UNSENT_BYTES) continue;
      for (const sub of conn.subs.values()) {
        if (!sub.lm) continue;
        for (const data of this.due(sub, sub.lm, now)) {
          if (this.skipsAhead(sub)) continue;
          if (!this.push(conn, sub.name, data)) continue connections;
        }
      }
    }
  }

  /** sequenceGapEvery: the Nth event of an id-numbered stream is not sent, so the next one's ids jump. */
  private skipsAhead(sub: Subscription): boolean {
    const every = this.ctx.faults.config.sequenceGapEvery;
    if (every === undefined || sub.spec.type === 'kline' || sub.spec.type === 'partialDepth') return false;
    if (++sub.numbered % every !== 0) return false;
    this.ctx.faults.record('sequenceGap');
    return true;
  }

  /** Sends one event; false when the connection ends here (a stream fault cut or stalled it). */
  private push(conn: Connection, stream: string, data: unknown): boolean {
    conn.sent++;
    this.ctx.stats.wsMessage();
    const { dropSocketEvery, stallSocketEvery, slowConsumerBytes } = this.ctx.faults.config;
    const drop = dropSocketEvery !== undefined && conn.sent % dropSocketEvery === 0;
    // The drop waits until the last message is written, so the client does receive it.
    conn.ws.send(JSON.stringify(conn.combined ? { stream, data } : data), drop ? () => conn.ws.terminate() : undefined);
    if (drop) {
      this.ctx.faults.record('dropSocket');
      this.conns.delete(conn);
      return false;
    }
    // Binance does not say what becomes of a client that reads slower than its streams come;
    // a server must bound what it holds for one connection, so past a limit it cuts it (no
    // close frame: that frame would wait behind the same unsent data).
    if (slowConsumerBytes !== undefined && conn.ws.bufferedAmount > slowConsumerBytes) {
      this.ctx.faults.record('slowConsumer');
      this.conns.delete(conn);
      conn.ws.terminate();
      return false;
    }
    if (stallSocketEvery !== undefined && conn.sent % stallSocketEvery === 0) {
      this.ctx.faults.record('stallSocket');
      conn.stalled = true;
      return false;
    }
    return true;
  }

  /** The events a subscription owes at `now`, updating its cursor. */
  private due(sub: Subscription, lm: ListedMarket, now: number): unknown[] {
    const fmt = new BinanceFormat(lm);
    const s = lm.symbol;
    const spec = sub.spec;
    switch (spec.type) {
      case 'trade':
      case 'aggTrade': {
        const upto = Math.min(lm.market.tradesBefore(now, now), sub.nextTradeId + this.ctx.wsTradesPerTick);
        if (upto <= sub.nextTradeId) return [];
        const trades = lm.market.trades(sub.nextTradeId, upto);
        sub.nextTradeId = upto;
        return trades.map((t) =>
          spec.type === 'trade'
            ? { e: 'trade', E: now, s, t: t.id, p: fmt.price(t.price), q: fmt.qty(t.qty), T: t.ms, m: t.buyerMaker, M: true }
            : { e: 'aggTrade', E: now, s, ...fmt.aggTrade(t) },
        );
      }
      case 'kline': {
        const cal = spec.cal;
        if (now - sub.lastPushMs < (cal.span === '1s' ? 1000 : 2000)) return [];
        const open = cal.floor(now);
        const out: unknown[] = [];
        // Candles that closed since the last push go out once more, final (x: true).
        for (let o = sub.klineOpen ?? open, n = 0; o < open && n < 60; o = cal.next(o), n++) {
          const c = candleAt(lm, cal, o, now);
          if (c) out.push(klineEvent(fmt, s, cal.span, c, now, true));
        }
        const current = candleAt(lm, cal, open, now);
        if (current) out.push(klineEvent(fmt, s, cal.span, current, now, false));
        sub.klineOpen = open;
        sub.lastPushMs = now;
        return out;
      }
      case 'depth': {
        if (now - sub.lastPushMs < spec.everyMs) return [];
        sub.lastPushMs = now;
        const u = lm.book.updateIdAt(now);
        if (u <= sub.lastUpdateId) return [];
        const d = lm.book.diff(sub.lastUpdateId, u, DIFF_DEPTH);
        const first = sub.lastUpdateId + 1;
        sub.lastUpdateId = u;
        if (d.bids.length === 0 && d.asks.length === 0) return [];
        return [{ e: 'depthUpdate', E: now, s, U: first, u, b: fmt.levels(d.bids), a: fmt.levels(d.asks) }];
      }
      case 'partialDepth': {
        if (now - sub.lastPushMs < spec.everyMs) return [];
        sub.lastPushMs = now;
        const book = lm.book.snapshot(lm.book.updateIdAt(now), spec.levels);
        return [{ lastUpdateId: book.updateId, bids: fmt.levels(book.bids), asks: fmt.levels(book.asks) }];
      }
    }
  }
}

function candleAt(lm: ListedMarket, cal: SpanCalendar, open: number, now: number): Candle | undefined {
  const next = cal.next(open);
  const summary = lm.market.summarize(open, next, now);
  return summary ? { openMs: open, closeMs: next - 1, summary } : undefined;
}

function klineEvent(fmt: BinanceFormat, s: string, interval: string, c: Candle, now: number, closed: boolean) {
  const [, o, h, l, close, v, , q, n, V, Q] = fmt.kline(c);
  return {
    e: 'kline',
    E: now,
    s,
    k: { t: c.openMs, T: c.closeMs, s, i: interval, f: c.summary.firstId, L: c.summary.lastId, o, c: close, h, l, v, n, x: closed, q, V, Q, B: '0' },
  };
}

const STREAM = /^([a-z0-9]+)@(trade|aggTrade|kline_(\w+)|depth(5|10|20)?(?:@(100|1000)ms)?)$/;

function parseStream(name: string): { symbol: string; spec: StreamSpec } | undefined {
  const m = STREAM.exec(name);
  if (!m) return undefined;
  const [, symbol, kind, interval, levels, speed] = m;
  if (kind === 'trade' || kind === 'aggTrade') return { symbol: symbol!, spec: { type: kind } };
  if (interval !== undefined) {
    const cal = CALENDARS.get(interval);
    return cal ? { symbol: symbol!, spec: { type: 'kline', cal } } : undefined;
  }
  const everyMs = speed === '100' ? 100 : 1000;
  if (levels !== undefined) return { symbol: symbol!, spec: { type: 'partialDepth', levels: Number(levels), everyMs } };
  return { symbol: symbol!, spec: { type: 'depth', everyMs } };
}
