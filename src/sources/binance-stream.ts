// Binance spot trades and candles live, from the raw streams `<symbol>@aggTrade` and
// `<symbol>@kline_<interval>`:
// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#aggregate-trade-streams
// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#klinecandlestick-streams-for-utc
// Both are numbered: aggregate trade ids are consecutive per symbol, and a closed candle is
// followed by the one opening where it closes. So each stream knows exactly what it missed:
// rows seen already (a reconnect, a rollover's overlap) are dropped, and a jump is a gap
// that REST can fetch again (GET /api/v3/aggTrades?fromId=, GET /api/v3/klines).
// Connection rules (same page, "General WSS information"): a connection lives 24 h; the
// server pings every 20 s and disconnects after a minute without a pong; a connection may
// send 5 messages per second (pings, pongs and control frames count).
import { ExchangeError } from '../domain/errors.ts';
import type { OhlcRow, TradeRow } from '../domain/records.ts';
import { spanEnd, type Target } from '../domain/target.ts';
import { parseAggTrades, parseKlines } from './binance.ts';
import type { LiveSample, StreamEvent } from './stream-events.ts';
import type { LiveOptions } from './adapter.ts';
import { wsSession, type WsDialect } from './transport/ws-session.ts';

export const BINANCE_WS_URL = 'wss://stream.binance.com:9443';

const CONNECTION_LIFETIME_MS = 24 * 3_600_000;
const MAX_SENDS_PER_SECOND = 5;
/** Trades come many times a second on a listed pair, kline updates every 2 s, pings every 20 s: a minute of nothing is a dead link. */
const STALE_AFTER_MS = 60_000;

export interface BinanceStreamOptions extends LiveOptions {
  wsUrl?: string;
  lifetimeMs?: number;
}

/** The dialect of one raw stream (e.g. btcusdt@aggTrade), subscribed by URL. */
export function binanceDialect(stream: string, o: BinanceStreamOptions): WsDialect {
  return {
    url: `${(o.wsUrl ?? BINANCE_WS_URL).replace(/\/+$/, '')}/ws/${stream}`,
    subscribe: [],
    maxSendsPerSecond: MAX_SENDS_PER_SECOND,
    staleAfterMs: o.staleAfterMs ?? STALE_AFTER_MS,
    lifetimeMs: o.lifetimeMs ?? CONNECTION_LIFETIME_MS,
    isReply: (text) => text.startsWith('{"result"') || text.startsWith('{"id"'),
  };
}

/** A frame's row, and the venue's numbers it spans: a trade's aggregate id, a candle's first and last trade id. */
interface Numbered<R> {
  row: R;
  first: bigint;
  last: bigint;
}

/** How one numbered stream reads its frames and tells a repeat or a jump. */
interface Sequence<R extends { ts: bigint }> {
  stream: string;
  /** The frame's row, or none for frames that carry no final row (a reply, an open candle). */
  parse(msg: unknown): Numbered<R> | undefined;
  /** Where rows are ordered: a row at or before the last one kept is a repeat. */
  order(row: R): bigint;
  /** The order and the last number of the row an earlier session kept (its number may be unknown). */
  resumedAt(r: { ts: bigint; id?: string }): { order: bigint; number: bigint | null };
  /** Whether rows may be missing between a row whose number is unknown, at `lastTs`, and `row`. */
  jumpsFrom(lastTs: bigint, row: R): boolean;
  /** What the rows are called in gap reasons, and whether the missing numbers are the rows' own ids. */
  noun: 'trades' | 'candles';
  /** What a jump in the numbers within one connection is. */
  breakReason: string;
  idsNamed: boolean;
  settled: boolean;
  sample(row: R): LiveSample;
}

async function* sequenced<R extends { ts: bigint }>(target: Target, seq: Sequence<R>, o: BinanceStreamOptions): AsyncGenerator<StreamEvent<R>> {
  const resumed = o.resumeAfter && seq.resumedAt(o.resumeAfter);
  let lastOrder: bigint | null = resumed?.order ?? null;
  let lastNumber: bigint | null = resumed?.number ?? null;
  let lastTs: bigint | null = o.resumeAfter?.ts ?? null;
  let lossReason: string | null = resumed ? `${seq.noun} missed between sessions` : null;
  for await (const e of wsSession(binanceDialect(seq.stream, o), { signal: o.signal, ...(o.backoff && { backoff: o.backoff }) })) {
    if (e.kind === 'open') yield { kind: 'connected', reconnect: e.reconnect };
    else if (e.kind === 'lost') {
      lossReason = e.reason;
      yield { kind: 'lost', reason: e.reason, retryInMs: e.retryInMs };
    } else if (e.kind === 'frame') {
      const got = seq.parse(parseJson(e.text, target));
      if (!got) continue;
      const { row, first, last } = got;
      const order = seq.order(row);
      if (lastOrder !== null && order <= lastOrder) continue;
      const jumped = lastNumber !== null ? first > lastNumber + 1n : lastTs !== null && seq.jumpsFrom(lastTs, row);
      if (jumped) {
        const reason = lossReason === null ? seq.breakReason : lossReason.startsWith(seq.noun) ? lossReason : `${seq.noun} missed while reconnecting (${lossReason})`;
        const missingIds = seq.idsNamed && lastNumber !== null ? { missingIds: { from: String(lastNumber + 1n), to: String(first - 1n) } } : {};
        yield { kind: 'gap', gap: { afterTs: lastTs, beforeTs: row.ts, ...missingIds, reason, healable: true } };
      }
      lossReason = null;
      lastOrder = order;
      lastNumber = last;
      lastTs = row.ts;
      yield { kind: 'rows', rows: [row], receivedAtMs: e.receivedAtMs, settled: seq.settled, sample: seq.sample(row) };
    }
  }
}

/** Trades of `native` (Binance's symbol, e.g. BTCUSDT) in id order, each once, with every gap said. */
export function binanceTrades(target: Target, native: string, o: BinanceStreamOptions): AsyncGenerator<StreamEvent<TradeRow>> {
  return sequenced<TradeRow>(
    target,
    {
      stream: `${native.toLowerCase()}@aggTrade`,
      parse: (msg) => {
        const event = eventOf(msg, 'aggTrade');
        const row = event ? parseAggTrades([event])[0] : undefined;
        return row && { row, first: BigInt(row.tradeId), last: BigInt(row.tradeId) };
      },
      order: (t) => BigInt(t.tradeId),
      resumedAt: (r) => ({ order: BigInt(r.id!), number: BigInt(r.id!) }),
      jumpsFrom: () => false,
      noun: 'trades',
      breakReason: 'a break in the aggregate trade ids',
      idsNamed: true,
      // Several events may carry trades of one millisecond.
      settled: false,
      sample: (t) => ({ price: t.price }),
    },
    o,
  );
}

/**
 * Closed candles of `native` at `target.span`, each once, in order. The stream also pushes the
 * open candle every 2 s; only the final push of a candle (`x: true`) is a row, so no half
 * candle is ever stored. A span without trades has no candle (Binance sends none), so a jump
 * in open times is not a loss by itself; a jump in the candles' trade ids (`f` after the last
 * `L`) is. After an earlier session, whose trade ids are not kept, a jump in open times may
 * be one: it is said as a gap, and healing it costs one REST page.
 */
export function binanceCandles(target: Target, native: string, o: BinanceStreamOptions): AsyncGenerator<StreamEvent<OhlcRow>> {
  const span = target.span!;
  return sequenced<OhlcRow>(
    target,
    {
      stream: `${native.toLowerCase()}@kline_${span}`,
      parse: (msg) => {
        const k = (eventOf(msg, 'kline') as { k?: Record<string, unknown> } | undefined)?.k;
        if (!k || k.x !== true) return undefined;
        // The REST kline's fields, in its order: openTime, open, high, low, close, volume, closeTime, quoteVolume, trades.
        const row = parseKlines([[k.t, k.o, k.h, k.l, k.c, k.v, k.T, k.q, k.n]])[0]!;
        return { row, first: tradeId(k.f, 'k.f'), last: tradeId(k.L, 'k.L') };
      },
      order: (c) => c.ts,
      resumedAt: (r) => ({ order: r.ts, number: null }),
      jumpsFrom: (lastTs, c) => c.ts > spanEnd(lastTs, span),
      noun: 'candles',
      breakReason: 'a break in the candles’ trade ids',
      idsNamed: false,
      settled: true,
      sample: (c) => ({ price: c.close }),
    },
    o,
  );
}

function tradeId(v: unknown, where: string): bigint {
  if (!Number.isSafeInteger(v)) throw new ExchangeError('binance', `kline event: ${where} is ${JSON.stringify(v)}, not a trade id`, { retryable: true });
  return BigInt(v as number);
}

export function parseJson(text: string, target: Target): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ExchangeError('binance', `stream ${target.symbol}: a frame that is not JSON: ${text.slice(0, 80)}`, { retryable: true });
  }
}

/** The event of a raw or combined stream frame when it is of type `e`. */
export function eventOf(msg: unknown, e: string): unknown {
  const data = (msg as { data?: unknown }).data ?? msg;
  return (data as { e?: unknown }).e === e ? data : undefined;
}
