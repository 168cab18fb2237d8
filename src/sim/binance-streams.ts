// Binance spot market streams, driven by the simulated markets in real time: a 100 ms clock
// pushes the trades that happened since the last push, kline updates every 1 s (1s) or 2 s,
// and book diffs or partial books every 100 ms or 1000 ms.
// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams
// Not simulated: the 24 h connection lifetime, the 5 incoming messages/s limit, pong checks.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { BinanceFormat, CALENDARS } from './binance-dialect.ts';
import type { ListedMarket } from './listing.ts';
import type { Candle } from './market.ts';
import type { SpanCalendar } from './spans.ts';
import type { VenueContext } from './venue.ts';

const TICK_MS = 100;
/** "Websocket server will send a ping frame every 3 minutes." */
const PING_EVERY_MS = 180_000;
/** Depth of the book that diff events describe (the snapshot depth the docs recommend). */
const DIFF_DEPTH = 1000;
/** Trades pushed per stream per tick at most; the rest follow on the next ticks. */
const MAX_TRADES_PER_TICK = 1000;
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
}

interface Connection {
  ws: WebSocket;
  combined: boolean;
  subs: Map<string, Subscription>;
  sent: number;
  lastPingMs: number;
}

export class BinanceStreams {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly conns = new Set<Connection>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly markets: Map<string, ListedMarket>,
    private readonly ctx: VenueContext,
  ) {}

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
    const conn: Connection = { ws, combined, subs: new Map(), sent: 0, lastPingMs: now };
    for (const name of names) this.subscribe(conn, name, now);
    this.conns.add(conn);
    this.ctx.stats.wsConnection();
    ws.on('message', (data) => this.control(conn, data.toString()));
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
    });
  }

  private tick(): void {
    const now = Date.now();
    connections: for (const conn of this.conns) {
      if (conn.ws.readyState !== WebSocket.OPEN) continue;
      if (now - conn.lastPingMs >= PING_EVERY_MS) {
        conn.ws.ping();
        conn.lastPingMs = now;
      }
      for (const sub of conn.subs.values()) {
        if (!sub.lm) continue;
        for (const data of this.due(sub, sub.lm, now)) {
          if (!this.push(conn, sub.name, data)) continue connections;
        }
      }
    }
  }

  /** Sends one event; false when the connection was dropped by an injected fault. */
  private push(conn: Connection, stream: string, data: unknown): boolean {
    conn.sent++;
    this.ctx.stats.wsMessage();
    const every = this.ctx.faults.config.dropSocketEvery;
    const drop = every !== undefined && conn.sent % every === 0;
    // The drop waits until the last message is written, so the client does receive it.
    conn.ws.send(JSON.stringify(conn.combined ? { stream, data } : data), drop ? () => conn.ws.terminate() : undefined);
    if (drop) {
      this.ctx.faults.record('dropSocket');
      this.conns.delete(conn);
    }
    return !drop;
  }

  /** The events a subscription owes at `now`, updating its cursor. */
  private due(sub: Subscription, lm: ListedMarket, now: number): unknown[] {
    const fmt = new BinanceFormat(lm);
    const s = lm.symbol;
    const spec = sub.spec;
    switch (spec.type) {
      case 'trade':
      case 'aggTrade': {
        const upto = Math.min(lm.market.tradesBefore(now, now), sub.nextTradeId + MAX_TRADES_PER_TICK);
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
