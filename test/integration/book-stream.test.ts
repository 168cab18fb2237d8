// Live Binance books as a supervised stream workflow, against the simulator and a real
// worker: after a stop, the book rebuilt from the store (the read verb's `at`) is exactly the
// simulator's book at the last stored update id, and at an instant between two snapshots the
// book of the update then in force; with dropped sockets every resync is a gap recorded open,
// no row is stored twice, and the book is exact again after each resync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApi } from '../../src/api/server.ts';
import { runHandle, stopRun } from '../../src/client/runs.ts';
import { streamResult, streamStatus } from '../../src/client/streams.ts';
import type { BookLevels } from '../../src/domain/order-book.ts';
import type { BookRow } from '../../src/domain/records.ts';
import type { Target } from '../../src/domain/target.ts';
import { isoFromNs } from '../../src/domain/time.ts';
import { inventory } from '../../src/jobs/inventory.ts';
import { checkRead, startRows } from '../../src/jobs/read.ts';
import { startStream } from '../../src/jobs/stream.ts';
import { toRows } from '../../src/storage/column-batch.ts';
import { backfillEnv, type BackfillEnv } from '../helpers/backfill-env.ts';
import { simBinanceBook } from '../helpers/sim-book.ts';
import { until } from '../helpers/until.ts';

const BOOK = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' } as const satisfies Target;
const DEPTH = 20;
const TUNING = { staleAfterMs: 5_000, backoff: { baseMs: 50, maxMs: 200, healthyAfterMs: 60_000 } };

/** Streams the book until its stored rows span `spanMs` of venue time (flushes land every 500 ms), stops, and returns what is stored. */
async function streamFor(env: BackfillEnv, spanMs: number) {
  const started = await startStream(env.services, { target: BOOK, depth: DEPTH, snapshotIntervalMs: 2_000, flushRows: 200, flushMs: 500 }, TUNING);
  const handle = await runHandle(env.services, started.runId);
  const { store } = env.services;
  const spanNs = BigInt(spanMs) * 1_000_000n;
  await until(`${spanMs} ms of the book stored`, async () => {
    const [min, max] = await Promise.all([store.minTs(BOOK), store.maxTs(BOOK)]);
    return min !== null && max !== null && max - min >= spanNs ? true : undefined;
  }, 120_000);
  await stopRun(handle);
  const result = await streamResult(handle);
  const status = await streamStatus(handle);
  const stored = await env.services.store.readRows(BOOK);
  return { result, status, stored };
}

/** The book at `at` as the read verb rebuilds it: levels, and the ts and seq it is at. */
async function bookAt(env: BackfillEnv, at: bigint): Promise<BookLevels & { ts: bigint; seq: bigint }> {
  const read = checkRead((name) => env.services.adapter(name), { exchange: 'binance', symbol: 'BTCUSDT', kind: 'book', at: String(at), depth: String(DEPTH) });
  const { batches } = await startRows(env.services.store, read);
  const rows: BookRow[] = [];
  for await (const b of batches) rows.push(...toRows({ ...b, kind: 'book' }));
  const level = (side: 'bid' | 'ask') => rows.filter((r) => r.side === side).map((r) => ({ price: r.price, amount: r.amount }));
  assert.ok(rows.every((r) => r.isSnapshot && r.ts === rows[0]!.ts && r.seq === rows[0]!.seq));
  return { bids: level('bid'), asks: level('ask'), ts: rows[0]!.ts, seq: rows[0]!.seq! };
}

/** The event (ts, seq) in force at `at`: the last stored at or before it. */
function eventAt(stored: BookRow[], at: bigint): { ts: bigint; seq: bigint } {
  const r = stored.filter((x) => x.ts <= at).at(-1)!;
  return { ts: r.ts, seq: r.seq! };
}

const snapshotTimes = (stored: BookRow[]) => [...new Set(stored.filter((r) => r.isSnapshot).map((r) => r.ts))];

/** The two runs below stream at once (each its own simulator, worker and namespace): most of a run is waiting. */
const concurrently = { concurrency: true };

test('book streams', concurrently, async (t) => {
  await Promise.all([t.test(CLEAN, clean), t.test(DROPPED, dropped)]);
});

const CLEAN = 'a 20-level book stream: rebuilt at its last update and between two snapshots, it is exactly the venue’s book';
async function clean(): Promise<void> {
  const env = await backfillEnv({ seed: 31 });
  const truth = simBinanceBook(31);
  const { result, stored, status } = await streamFor(env, 7_000);
  assert.equal(result.state, 'stopped');
  assert.equal(result.gapsTotal, 0);
  assert.equal(stored.length, result.rowsWritten, 'every row the run counted is on disk');
  assert.ok(status.lastSample?.bid !== undefined && status.lastSample.ask !== undefined && status.lastSample.bid < status.lastSample.ask, JSON.stringify(status.lastSample));
  const last = stored.at(-1)!;
  const end = await bookAt(env, last.ts);
  assert.deepEqual(end, { ...truth(last.seq!, DEPTH), ts: last.ts, seq: last.seq! });
  // Between the first two snapshots, at an event that changed the book and at an instant between events.
  const [s0, s1] = snapshotTimes(stored);
  assert.ok(s0 !== undefined && s1 !== undefined, 'snapshots every 2 s');
  const diffs = stored.filter((r) => !r.isSnapshot && r.ts > s0 && r.ts < s1);
  assert.ok(diffs.length > 0, 'diffs between the snapshots');
  const middle = diffs[Math.floor(diffs.length / 2)]!;
  for (const at of [middle.ts, middle.ts + 1n]) {
    const inForce = eventAt(stored, at);
    assert.deepEqual(await bookAt(env, at), { ...truth(inForce.seq, DEPTH), ...inForce }, `the book at ${isoFromNs(at)}`);
  }
  // The ws coverage is one interval from the first row to just after the last.
  const coverage = await (await env.services.coverage()).coverage(BOOK);
  assert.deepEqual(coverage.ws, [{ startNs: stored[0]!.ts, endNs: last.ts + 1n }]);
  // Before the first snapshot there is nothing to rebuild: the error names `at`, over the API too.
  await assert.rejects(bookAt(env, stored[0]!.ts - 1n), /^Error: at: no snapshot of the binance BTC\/USDT book at or before /);
  const app = await buildApi({ services: env.services });
  try {
    const r = await app.inject({ method: 'GET', url: `/api/read?exchange=binance&symbol=BTCUSDT&kind=book&at=${stored[0]!.ts - 1n}` });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().field, 'at');
    const ok = await app.inject({ method: 'GET', url: `/api/read?exchange=binance&symbol=BTCUSDT&kind=book&at=${last.ts}&depth=3&format=jsonl` });
    assert.equal(ok.statusCode, 200);
    const lines = ok.body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l.side, l.level, l.price, l.seq]), [
      ...truth(last.seq!, 3).asks.map((a, i) => ['ask', i, a.price, String(last.seq)]),
      ...truth(last.seq!, 3).bids.map((b, i) => ['bid', i, b.price, String(last.seq)]),
    ]);
  } finally {
    await app.close();
  }
}

const DROPPED = 'with sockets dropped: every resync is a gap left open, no row twice, and the book exact after each resync';
async function dropped(): Promise<void> {
  const env = await backfillEnv({ seed: 32, faults: { dropSocketEvery: 25 } });
  const truth = simBinanceBook(32);
  const { result, status, stored } = await streamFor(env, 8_000);
  assert.ok(result.reconnects >= 2, `${result.reconnects} reconnects`);
  assert.equal(result.gapsTotal, result.reconnects, 'each reconnect resyncs from a snapshot: a gap');
  assert.ok(status.gaps.every((g) => g.state === 'open' && /^book updates missed while reconnecting/.test(g.reason)), JSON.stringify(status.gaps));
  const key = (r: BookRow) => `${r.ts}/${r.seq}/${r.isSnapshot}/${r.side}/${r.price}`;
  assert.equal(new Set(stored.map(key)).size, stored.length, 'no row twice');
  assert.equal(stored.length, result.rowsWritten);
  // After each resync: at its snapshot, and at the last event before the next gap (or the end).
  const snapshots = new Set(snapshotTimes(stored));
  const ends = [...status.gaps.map((g) => BigInt(g.afterNs!)).slice(1), stored.at(-1)!.ts];
  for (const [i, g] of status.gaps.entries()) {
    const resync = BigInt(g.beforeNs);
    assert.ok(snapshots.has(resync), 'a snapshot at the end of each gap');
    for (const at of [resync, ends[i]!]) {
      const inForce = eventAt(stored, at);
      assert.deepEqual(await bookAt(env, at), { ...truth(inForce.seq, DEPTH), ...inForce }, `the book at ${isoFromNs(at)}, after gap ${i + 1}`);
    }
  }
  // Coverage has a hole for each gap, and inventory lists it: the book is not known there.
  const coverage = await (await env.services.coverage()).coverage(BOOK);
  assert.equal(coverage.ws?.length, result.gapsTotal + 1, JSON.stringify(coverage, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
  const [listed] = await inventory(env.services, []);
  assert.equal(listed?.datasetId, 'binance/book/BTC-USDT');
  assert.deepEqual(
    listed.holes.map((h) => [h.reason, h.endNs]),
    status.gaps.map((g) => ['not covered', BigInt(g.beforeNs)]),
  );
}
