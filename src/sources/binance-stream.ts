// Binance spot trades live, from the aggregate-trade stream `<symbol>@aggTrade`:
// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#aggregate-trade-streams
// Aggregate trade ids are consecutive per symbol, so the stream knows exactly what it missed:
// ids seen already (a reconnect, a rollover's overlap) are dropped, and a jump is a gap whose
// ids REST can fetch again (GET /api/v3/aggTrades?fromId=).
// Connection rules (same page, "General WSS information"): a connection lives 24 h; the
// server pings every 20 s and disconnects after a minute without a pong; a connection may
// send 5 messages per second (pings, pongs and control frames count).
import { ExchangeError } from '../domain/errors.ts';
import type { TradeRow } from '../domain/records.ts';
import type { Target } from '../domain/target.ts';
import { parseAggTrades } from './binance.ts';
import type { StreamEvent } from './stream-events.ts';
import type { LiveOptions } from './adapter.ts';
import { wsSession, type WsDialect } from './transport/ws-session.ts';

export const BINANCE_WS_URL = 'wss://stream.binance.com:9443';

const CONNECTION_LIFETIME_MS = 24 * 3_600_000;
const MAX_SENDS_PER_SECOND = 5;
/** Trades come many times a second on a listed pair, pings every 20 s: a minute of nothing is a dead link. */
const STALE_AFTER_MS = 60_000;

export interface BinanceStreamOptions extends LiveOptions {
  wsUrl?: string;
  lifetimeMs?: number;
}

/** The dialect of one raw stream (e.g. btcusdt@aggTrade), subscribed by URL. */
export function dialectOf(stream: string, o: BinanceStreamOptions): WsDialect {
  return {
    url: `${(o.wsUrl ?? BINANCE_WS_URL).replace(/\/+$/, '')}/ws/${stream}`,
    subscribe: [],
    maxSendsPerSecond: MAX_SENDS_PER_SECOND,
    staleAfterMs: o.staleAfterMs ?? STALE_AFTER_MS,
    lifetimeMs: o.lifetimeMs ?? CONNECTION_LIFETIME_MS,
    isReply: (text) => text.startsWith('{"result"') || text.startsWith('{"id"'),
  };
}

/** Trades of `native` (Binance's symbol, e.g. BTCUSDT) in id order, each once, with every gap said. */
export async function* binanceTrades(target: Target, native: string, o: BinanceStreamOptions): AsyncGenerator<StreamEvent<TradeRow>> {
  let lastId: bigint | null = o.resumeAfter ? BigInt(o.resumeAfter.tradeId) : null;
  let lastTs: bigint | null = o.resumeAfter?.ts ?? null;
  let lossReason: string | null = o.resumeAfter ? 'trades missed between sessions' : null;
  for await (const e of wsSession(dialectOf(`${native.toLowerCase()}@aggTrade`, o), { signal: o.signal, ...(o.backoff && { backoff: o.backoff }) })) {
    if (e.kind === 'open') yield { kind: 'connected', reconnect: e.reconnect };
    else if (e.kind === 'lost') {
      lossReason = e.reason;
      yield { kind: 'lost', reason: e.reason, retryInMs: e.retryInMs };
    } else if (e.kind === 'frame') {
      const row = parseFrame(e.text, target);
      if (!row) continue;
      const id = BigInt(row.tradeId);
      if (lastId !== null && id <= lastId) continue;
      if (lastId !== null && id > lastId + 1n) {
        const reason = lossReason === null ? 'a break in the aggregate trade ids' : lossReason.startsWith('trades') ? lossReason : `trades missed while reconnecting (${lossReason})`;
        yield { kind: 'gap', gap: { afterTs: lastTs, beforeTs: row.ts, missingIds: { from: String(lastId + 1n), to: String(id - 1n) }, reason, healable: true } };
      }
      lossReason = null;
      lastId = id;
      lastTs = row.ts;
      yield { kind: 'rows', rows: [row], receivedAtMs: e.receivedAtMs, settled: false, sample: { price: row.price } };
    }
  }
}

/** An aggTrade event as a trade row; other frames (a stray reply) are none. */
function parseFrame(text: string, target: Target): TradeRow | undefined {
  const data = eventOf(text, target, 'aggTrade');
  return data === undefined ? undefined : parseAggTrades([data])[0];
}

/** The event of a frame (raw or combined-stream form) when it is of type `e`; other frames (a stray reply) are none. */
export function eventOf(text: string, target: Target, e: string): unknown {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw new ExchangeError('binance', `stream ${target.symbol}: a frame that is not JSON: ${text.slice(0, 80)}`, { retryable: true });
  }
  const data = (msg as { data?: unknown }).data ?? msg;
  return (data as { e?: unknown }).e === e ? data : undefined;
}
