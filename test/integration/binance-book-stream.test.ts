// Binance books live from the simulator's diff depth stream and REST snapshots: replaying the
// rows the stream gives (each snapshot, then the diffs after it) yields, after every event,
// exactly the simulator's book at that event's update id; with sockets dropped or diff events
// left out, every rebuild is a gap and the book is exact again from the rebuild's first event on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderBook, type BookLevels } from '../../src/domain/order-book.ts';
import type { BookRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { startSim, type Sim } from '../../src/sim/index.ts';
import { BinanceAdapter } from '../../src/sources/binance.ts';
import type { StreamGap } from '../../src/sources/stream-events.ts';
import { simBinanceBook } from '../helpers/sim-book.ts';

const BOOK: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' };
const DEPTH = 20;

/** Streams the book for `ms`, then returns each event's rows, the gaps and the reconnects. */
async function streamFor(sim: Sim, ms: number) {
  const adapter = new BinanceAdapter({ restUrl: `${sim.url}/binance`, wsUrl: `${sim.url.replace('http', 'ws')}/binance` });
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const events: BookRow[][] = [];
  const gaps: StreamGap[] = [];
  let reconnects = 0;
  try {
    const live = adapter.streams.book!(BOOK, { signal: ac.signal, depth: DEPTH, snapshotIntervalMs: 1_000, backoff: { baseMs: 20, maxMs: 100, healthyAfterMs: 60_000 } });
    for await (const e of live) {
      if (e.kind === 'rows') events.push(e.rows);
      else if (e.kind === 'gap') gaps.push(e.gap);
      else if (e.kind === 'connected' && e.reconnect) reconnects++;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { events, gaps, reconnects };
}

/** Replays each event's rows into a book, as a reader of the stored rows would, and compares it with the truth. */
function assertEveryEventExact(sim: { seed: number }, events: BookRow[][]): void {
  const truth = simBinanceBook(sim.seed);
  const book = new OrderBook();
  for (const rows of events) {
    const seq = rows[0]!.seq!;
    assert.ok(rows.every((r) => r.seq === seq && r.ts === rows[0]!.ts), 'the rows of one event share its ts and seq');
    const snapshot = rows.filter((r) => r.isSnapshot);
    for (const r of rows.filter((r) => !r.isSnapshot)) book.set(r.side, r.price, r.amount);
    const replayed: BookLevels = book.top(DEPTH);
    if (snapshot.length > 0) {
      const levels = { bids: snapshot.filter((r) => r.side === 'bid'), asks: snapshot.filter((r) => r.side === 'ask') };
      assert.deepEqual(levels.bids.map((r) => r.level), [...Array(levels.bids.length).keys()]);
      book.applySnapshot(levels);
    }
    assert.deepEqual(book.top(DEPTH), truth(seq, DEPTH), `the book at update ${seq}`);
    // Where an event stores both, its diffs alone already led to its snapshot.
    if (snapshot.length > 0 && rows.length > snapshot.length) assert.deepEqual(replayed, book.top(DEPTH));
  }
}

test('a 20-level book stream: after every event the rows replayed are exactly the venue’s book at its update id', async (t) => {
  const sim = await startSim({ port: 0, seed: 21 });
  t.after(() => sim.close());
  const { events, gaps, reconnects } = await streamFor(sim, 5_000);
  assert.deepEqual({ gaps, reconnects }, { gaps: [], reconnects: 0 });
  assert.ok(events.length >= 8, `${events.length} events that changed the top 20`);
  assert.ok(events[0]!.every((r) => r.isSnapshot), 'the stream starts with a snapshot');
  assert.ok(events.filter((rows) => rows.some((r) => r.isSnapshot)).length >= 3, 'a snapshot every second');
  assertEveryEventExact({ seed: 21 }, events);
  const seqs = events.map((rows) => rows[0]!.seq!);
  assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'events in update id order');
  assert.equal(sim.stats('binance').byPath['/api/v3/depth'], 1, 'one REST snapshot for one connection');
});

test('with sockets dropped: every rebuild is a gap, no event twice, and the book is exact again after each', async (t) => {
  const sim = await startSim({ port: 0, seed: 22, faults: { dropSocketEvery: 12 } });
  t.after(() => sim.close());
  const { events, gaps, reconnects } = await streamFor(sim, 6_000);
  assert.ok(reconnects >= 3, `${reconnects} reconnects`);
  assert.ok(gaps.length >= reconnects - 1 && gaps.length <= reconnects, `${gaps.length} gaps for ${reconnects} reconnects`);
  for (const g of gaps) {
    assert.equal(g.healable, false);
    assert.match(g.reason, /^book updates missed while reconnecting \(closed \(1006/);
    assert.ok(g.afterTs !== null && g.afterTs < g.beforeTs);
    // The rebuild starts with a snapshot at the gap's end.
    const after = events.find((rows) => rows[0]!.ts === g.beforeTs);
    assert.ok(after?.every((r) => r.isSnapshot), 'a snapshot at the end of each gap');
  }
  const seqs = events.map((rows) => rows[0]!.seq!);
  assert.equal(new Set(seqs).size, seqs.length, 'no event twice');
  assertEveryEventExact({ seed: 22 }, events);
});

test('with diff events left out: every break in the update ids is a gap, and the book is rebuilt exact on the same socket', async (t) => {
  const sim = await startSim({ port: 0, seed: 23, faults: { sequenceGapEvery: 15 } });
  t.after(() => sim.close());
  const { events, gaps, reconnects } = await streamFor(sim, 6_000);
  assert.equal(reconnects, 0, 'a break resyncs from a snapshot without a new connection');
  assert.ok(gaps.length >= 2, `${gaps.length} gaps`);
  for (const g of gaps) {
    assert.equal(g.healable, false);
    assert.match(g.reason, /^a break in the book's update ids \(\d+ expected, the next event starts at \d+\)$/);
    assert.ok(g.missingIds && BigInt(g.missingIds.from) <= BigInt(g.missingIds.to));
  }
  assert.equal(sim.stats('binance').byPath['/api/v3/depth'], gaps.length + 1, 'one REST snapshot per build');
  assertEveryEventExact({ seed: 23 }, events);
});
