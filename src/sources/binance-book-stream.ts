// Binance spot order books live, from the diff depth stream `<symbol>@depth@100ms` and REST
// depth snapshots, kept as a local book by BinanceBookSync (the venue's documented procedure):
// https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams#diff-depth-stream
// Each new connection rebuilds the book from a fresh snapshot, and so does a break in the
// update ids or a crossed book; the updates in between are a gap no REST call can fill.
import type { BookRow } from '../domain/records.ts';
import type { Target } from '../domain/target.ts';
import { parseDepthUpdate, type DepthSnapshot } from './binance.ts';
import { BinanceBookSync, type SyncOutput } from './binance-book-sync.ts';
import { binanceDialect, eventOf, parseJson, type BinanceStreamOptions } from './binance-stream.ts';
import type { StreamEvent } from './stream-events.ts';
import { wsSession, type WsEvent } from './transport/ws-session.ts';

export interface BinanceBookOptions extends BinanceStreamOptions {
  depth: number;
  snapshotIntervalMs: number;
  /** GET /api/v3/depth through the adapter (its rate limit and weights). */
  fetchSnapshot(signal: AbortSignal): Promise<DepthSnapshot>;
}

type Settled = { from: 'ws'; r: IteratorResult<WsEvent> } | { from: 'rest'; snapshot: DepthSnapshot } | { from: 'rest'; error: unknown };

/** The top `depth` levels of `native`'s book as stored rows (snapshots and diffs), with every rebuild's gap said. */
export async function* binanceBook(target: Target, native: string, o: BinanceBookOptions): AsyncGenerator<StreamEvent<BookRow>> {
  const sync = new BinanceBookSync({ depth: o.depth, snapshotIntervalMs: o.snapshotIntervalMs, ...(o.resumeAfter && { resumeAfter: o.resumeAfter }) });
  const frames = wsSession(binanceDialect(`${native.toLowerCase()}@depth@100ms`, o), { signal: o.signal, ...(o.backoff && { backoff: o.backoff }) });
  let nextFrame = frames.next().then((r): Settled => ({ from: 'ws', r }));
  /** The snapshot request in flight: one at a time; the sync checks each answer against the events it holds. */
  let snapshot: Promise<Settled> | undefined;
  try {
    for (;;) {
      const got = await Promise.race(snapshot ? [nextFrame, snapshot] : [nextFrame]);
      let outputs: SyncOutput[] = [];
      if (got.from === 'rest') {
        snapshot = undefined;
        if ('error' in got) {
          if (o.signal.aborted) return;
          throw got.error;
        }
        outputs = sync.snapshot(got.snapshot);
      } else {
        if (got.r.done) return;
        nextFrame = frames.next().then((r): Settled => ({ from: 'ws', r }));
        const e = got.r.value;
        if (e.kind === 'open') {
          sync.restart(null);
          yield { kind: 'connected', reconnect: e.reconnect };
        } else if (e.kind === 'lost') {
          sync.restart(e.reason);
          yield { kind: 'lost', reason: e.reason, retryInMs: e.retryInMs };
        } else if (e.kind === 'frame') {
          const data = eventOf(parseJson(e.text, target), 'depthUpdate');
          if (data !== undefined) outputs = sync.event({ ...parseDepthUpdate(data), receivedAtMs: e.receivedAtMs });
        }
      }
      for (const out of outputs) {
        if (out.kind !== 'need-snapshot') yield out;
        else snapshot ??= o.fetchSnapshot(o.signal).then((s): Settled => ({ from: 'rest', snapshot: s }), (error: unknown): Settled => ({ from: 'rest', error }));
      }
    }
  } finally {
    await frames.return(undefined);
  }
}
