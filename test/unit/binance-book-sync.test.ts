// The local book procedure on hand-made events: buffering until a snapshot, stale events
// dropped, a snapshot older than the stream refetched, the first event spanning the
// snapshot's id + 1, events out of order ignored, a break or a crossed book rebuilt from a
// new snapshot with the gap recorded, and the rows: a snapshot, then each event's changes
// of the top levels, and a snapshot again every interval.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rebuildBook } from '../../src/domain/order-book.ts';
import type { BookRow } from '../../src/domain/records.ts';
import { BinanceBookSync, type ReceivedUpdate, type SyncOutput } from '../../src/sources/binance-book-sync.ts';
import type { DepthSnapshot } from '../../src/sources/binance.ts';

const lv = (...pairs: Array<[number, number]>) => pairs.map(([price, amount]) => ({ price, amount }));
const T0 = 1_700_000_000_000;

/** Event U..u at T0 + u*100 ms. */
function ev(U: number, u: number, bids: Array<[number, number]> = [], asks: Array<[number, number]> = []): ReceivedUpdate {
  return { E: T0 + u * 100, U: BigInt(U), u: BigInt(u), bids: lv(...bids), asks: lv(...asks), receivedAtMs: T0 + u * 100 };
}

const SNAP: DepthSnapshot = { lastUpdateId: 10n, bids: lv([100, 1], [99, 2], [98, 3]), asks: lv([101, 1], [102, 2], [103, 3]) };
const tsOf = (u: number) => BigInt(T0 + u * 100) * 1_000_000n;

const kinds = (out: SyncOutput[]) => out.map((o) => o.kind);
const rowsOf = (out: SyncOutput[]): BookRow[] => out.flatMap((o) => (o.kind === 'rows' ? o.rows : []));
const gapsOf = (out: SyncOutput[]) => out.flatMap((o) => (o.kind === 'gap' ? [o.gap] : []));

function synced(depth = 2, snapshotIntervalMs = 60_000) {
  const sync = new BinanceBookSync({ depth, snapshotIntervalMs });
  sync.restart(null);
  assert.deepEqual(kinds(sync.event(ev(9, 10))), ['need-snapshot'], 'the first buffered event asks for a snapshot');
  assert.deepEqual(kinds(sync.event(ev(11, 11, [[100, 5]]))), []);
  const out = sync.snapshot(SNAP);
  return { sync, out };
}

test('buffered events up to the snapshot are dropped; the first applied spans lastUpdateId+1 and stores a snapshot', () => {
  const { out } = synced();
  assert.deepEqual(kinds(out), ['rows'], 'no gap on the first build');
  const rows = rowsOf(out);
  assert.ok(rows.every((r) => r.isSnapshot && r.seq === 11n && r.ts === tsOf(11)));
  assert.deepEqual(rows.map((r) => [r.side, r.level, r.price, r.amount]), [['ask', 0, 101, 1], ['ask', 1, 102, 2], ['bid', 0, 100, 5], ['bid', 1, 99, 2]]);
  const first = out[0] as Extract<SyncOutput, { kind: 'rows' }>;
  assert.equal(first.settled, true);
  assert.deepEqual(first.sample, { bid: 100, ask: 101 });
});

test('then each event stores the changes of the top levels only, and stale or repeated events are ignored', () => {
  const { sync } = synced();
  const out = sync.event(ev(12, 13, [[99, 0]], [[101.5, 4], [110, 1]]));
  // 99 left the top 2 (98 moved in, unchanged in the event, known from the snapshot); 102 was pushed out; 110 is below the top.
  assert.deepEqual(rowsOf(out).map((r) => [r.side, r.level, r.price, r.amount, r.seq, r.isSnapshot]), [
    ['ask', null, 101.5, 4, 13n, false],
    ['ask', null, 102, 0, 13n, false],
    ['bid', null, 98, 3, 13n, false],
    ['bid', null, 99, 0, 13n, false],
  ]);
  assert.deepEqual(sync.event(ev(12, 13, [[50, 1]])), [], 'an event seen already (u <= the book) is ignored');
  assert.deepEqual(sync.event(ev(5, 8)), [], 'an old event is ignored');
  assert.deepEqual(sync.event(ev(14, 14, [[50, 1]])), [], 'a change below the top stores nothing');
});

test('an event overlapping the book (U <= id < u) is applied', () => {
  const { sync } = synced();
  const rows = rowsOf(sync.event(ev(10, 12, [[100, 9]])));
  assert.deepEqual(rows.map((r) => [r.side, r.price, r.amount, r.seq]), [['bid', 100, 9, 12n]]);
});

test('a snapshot older than the first buffered event is fetched again; events then wait for a newer one', () => {
  const sync = new BinanceBookSync({ depth: 2, snapshotIntervalMs: 60_000 });
  sync.restart(null);
  assert.deepEqual(kinds(sync.event(ev(20, 22))), ['need-snapshot']);
  const again = sync.snapshot({ ...SNAP, lastUpdateId: 18n });
  assert.deepEqual(kinds(again), ['need-snapshot']);
  assert.match((again[0] as { reason: string }).reason, /older than the first buffered event \(U 20\)/);
  // One id before the first event already meets the first-event rule.
  assert.deepEqual(kinds(sync.snapshot({ ...SNAP, lastUpdateId: 19n })), ['rows']);
});

test('a snapshot that arrives before the event that follows it waits for that event', () => {
  const sync = new BinanceBookSync({ depth: 2, snapshotIntervalMs: 60_000 });
  sync.restart(null);
  sync.event(ev(8, 9));
  assert.deepEqual(sync.snapshot(SNAP), [], 'every buffered event is older than the snapshot');
  assert.deepEqual(kinds(sync.event(ev(10, 10))), [], 'still at or before lastUpdateId');
  assert.deepEqual(rowsOf(sync.event(ev(11, 12))).map((r) => r.seq), [12n, 12n, 12n, 12n]);
});

test('a break in the update ids rebuilds the book from a new snapshot and records the gap', () => {
  const { sync } = synced();
  sync.event(ev(12, 12, [[100, 6]]));
  const broke = sync.event(ev(15, 16, [[100, 7]]));
  assert.deepEqual(kinds(broke), ['need-snapshot'], 'nothing is stored from a broken book');
  assert.deepEqual(sync.event(ev(17, 17)), [], 'events wait in the buffer meanwhile');
  const out = sync.snapshot({ lastUpdateId: 16n, bids: lv([100, 7], [97, 1]), asks: lv([104, 1], [105, 1]) });
  assert.deepEqual(kinds(out), ['gap', 'rows']);
  assert.deepEqual(gapsOf(out), [
    { afterTs: tsOf(12), beforeTs: tsOf(17), missingIds: { from: '13', to: '16' }, reason: "a break in the book's update ids (13 expected, the next event starts at 15)", healable: false },
  ]);
  const rows = rowsOf(out);
  assert.ok(rows.every((r) => r.isSnapshot && r.seq === 17n));
  assert.deepEqual(rebuildBook(rows, []), { ts: tsOf(17), seq: 17n, bids: lv([100, 7], [97, 1]), asks: lv([104, 1], [105, 1]) });
});

test('a crossed book is a break: the event is not stored, the book is rebuilt, the gap recorded', () => {
  const { sync } = synced();
  assert.deepEqual(kinds(sync.event(ev(12, 12, [[101, 1]]))), [], 'a crossed book waits for the next event before a snapshot');
  assert.deepEqual(kinds(sync.event(ev(13, 13))), ['need-snapshot']);
  const out = sync.snapshot({ lastUpdateId: 12n, bids: lv([100, 1]), asks: lv([101, 1]) });
  const [gap] = gapsOf(out);
  assert.match(gap!.reason, /^a crossed book after update 12 \(best bid 101 >= best ask 101\)$/);
  assert.deepEqual([gap!.afterTs, gap!.beforeTs, gap!.missingIds], [tsOf(11), tsOf(13), { from: '12', to: '12' }]);
});

test('a lost connection rebuilds the book on the next one, and the gap names the loss', () => {
  const { sync } = synced();
  sync.restart('closed (1006)');
  sync.restart(null); // the new connection opens
  assert.deepEqual(kinds(sync.event(ev(40, 41))), ['need-snapshot']);
  const out = sync.snapshot({ ...SNAP, lastUpdateId: 40n });
  const [gap] = gapsOf(out);
  assert.deepEqual(gap, { afterTs: tsOf(11), beforeTs: tsOf(41), missingIds: { from: '12', to: '40' }, reason: 'book updates missed while reconnecting (closed (1006))', healable: false });
});

test('a new session after an earlier one records the updates between them as a gap', () => {
  const sync = new BinanceBookSync({ depth: 2, snapshotIntervalMs: 60_000, resumeAfter: { ts: tsOf(5), id: '5' } });
  sync.restart(null);
  sync.event(ev(11, 11));
  const [gap] = gapsOf(sync.snapshot(SNAP));
  assert.deepEqual(gap, { afterTs: tsOf(5), beforeTs: tsOf(11), missingIds: { from: '6', to: '10' }, reason: 'book updates missed between sessions', healable: false });
});

test('a snapshot is stored again at the first event an interval after the last one, beside its changes', () => {
  const { sync } = synced(2, 1_000);
  const quiet = sync.event(ev(12, 15, [[100, 2]]));
  assert.ok(rowsOf(quiet).every((r) => !r.isSnapshot));
  const due = rowsOf(sync.event(ev(16, 21, [[100, 3]]))); // 1 s after the snapshot at u=11
  assert.deepEqual(due.map((r) => [r.isSnapshot, r.side, r.level, r.price, r.amount]), [
    [false, 'bid', null, 100, 3],
    [true, 'ask', 0, 101, 1],
    [true, 'ask', 1, 102, 2],
    [true, 'bid', 0, 100, 3],
    [true, 'bid', 1, 99, 2],
  ]);
  assert.ok(rowsOf(sync.event(ev(22, 22, [[100, 4]]))).every((r) => !r.isSnapshot));
});

test('a snapshot answer that comes after the book was already rebuilt is ignored', () => {
  const { sync } = synced();
  assert.deepEqual(sync.snapshot({ ...SNAP, lastUpdateId: 30n }), []);
  assert.deepEqual(rowsOf(sync.event(ev(12, 12, [[100, 8]]))).map((r) => r.amount), [8]);
});
