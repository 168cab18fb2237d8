import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nsFromMs } from '../../src/domain/time.ts';
import {
  isTempFileName,
  parsePartFileName,
  parsePartitionName,
  partFileName,
  partitionGrain,
  partitionOf,
  partitionsCovering,
  tempFileName,
} from '../../src/storage/parquet-layout.ts';
import { hasOverlap, visibleWindows } from '../../src/storage/part-precedence.ts';

const at = (iso: string): bigint => nsFromMs(Date.parse(iso));

test('partition grain is the smallest of day, month, year expected to hold 10^4 rows', () => {
  assert.equal(partitionGrain({ kind: 'trades' }), 'day');
  assert.equal(partitionGrain({ kind: 'book' }), 'day');
  assert.equal(partitionGrain({ kind: 'ohlc', span: '1s' }), 'day');
  assert.equal(partitionGrain({ kind: 'ohlc', span: '5s' }), 'day');
  assert.equal(partitionGrain({ kind: 'ohlc', span: '1m' }), 'month');
  assert.equal(partitionGrain({ kind: 'ohlc', span: '3m' }), 'month');
  assert.equal(partitionGrain({ kind: 'ohlc', span: '5m' }), 'year');
  assert.equal(partitionGrain({ kind: 'ohlc', span: '1h' }), 'year');
  assert.equal(partitionGrain({ kind: 'ohlc', span: '1d' }), 'year');
  assert.equal(partitionGrain({ kind: 'ohlc', span: '1M' }), 'year');
});

test('partitions are UTC calendar days, months and years with Hive names', () => {
  const ns = at('2024-02-29T23:59:59.999Z') + 999_999n;
  const bounds = (name: string, start: string, end: string) => ({ name, startNs: at(start), endNs: at(end) });
  assert.deepEqual(partitionOf('day', ns), bounds('date=2024-02-29', '2024-02-29T00:00:00Z', '2024-03-01T00:00:00Z'));
  assert.deepEqual(partitionOf('month', ns), bounds('month=2024-02', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'));
  assert.deepEqual(partitionOf('year', ns), bounds('year=2024', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'));
  assert.equal(partitionOf('day', at('2024-03-01T00:00:00Z')).name, 'date=2024-03-01');
  assert.equal(partitionOf('day', -1n).name, 'date=1969-12-31');
});

test('partitionsCovering lists every partition a half-open window touches', () => {
  const names = partitionsCovering('month', { startNs: at('2023-12-31T23:00:00Z'), endNs: at('2024-03-01T00:00:00Z') }).map((p) => p.name);
  assert.deepEqual(names, ['month=2023-12', 'month=2024-01', 'month=2024-02']);
});

test('partition folder names parse back to their bounds and nothing else parses', () => {
  const samples = [partitionOf('day', at('2024-07-04T12:00:00Z')), partitionOf('month', 0n), partitionOf('year', at('2031-05-05T00:00:00Z'))];
  for (const p of samples) {
    assert.deepEqual(parsePartitionName(p.name), p);
  }
  for (const bad of ['date=2024-02-30', 'month=2024-13', 'date=2024-1-01', 'year=24', '.dccd', 'date=2024-01-01x']) {
    assert.equal(parsePartitionName(bad), undefined, bad);
  }
});

test('part names carry their window and round-trip; temp names never end in .parquet', () => {
  const w = { startNs: 1_704_067_200_000_000_000n, endNs: 1_704_153_600_000_000_000n };
  assert.equal(partFileName(w), 'part-1704067200000000000-1704153600000000000.parquet');
  assert.deepEqual(parsePartFileName(partFileName(w)), w);
  assert.equal(parsePartFileName('part-5-5.parquet'), undefined);
  assert.equal(parsePartFileName('other.parquet'), undefined);
  const tmp = tempFileName();
  assert.ok(isTempFileName(tmp));
  assert.ok(tmp.startsWith('.tmp-') && !tmp.endsWith('.parquet'));
  assert.notEqual(tempFileName(), tmp);
});

const win = (startNs: number, endNs: number, rank = 0) => ({ startNs: BigInt(startNs), endNs: BigInt(endNs), rank: BigInt(rank) });
const visible = (parts: ReturnType<typeof win>[]) =>
  visibleWindows(parts).map(({ part, windows }) => [`${part.startNs}-${part.endNs}`, windows.map((w) => `${w.startNs}-${w.endNs}`)]);

test('overlap is detected only between windows that share time', () => {
  assert.equal(hasOverlap([win(0, 10), win(10, 20)]), false);
  assert.equal(hasOverlap([win(0, 10), win(5, 20)]), true);
  assert.equal(hasOverlap([win(0, 100), win(10, 20), win(30, 40)]), true);
});

test('where windows overlap, the newer part wins and the older keeps only the rest', () => {
  // An interrupted rewrite of [20, 60) inside an older part [0, 100).
  assert.deepEqual(visible([win(0, 100, 1), win(20, 60, 2), win(0, 20, 1)]), [
    ['20-60', ['20-60']],
    ['0-20', ['0-20']],
    ['0-100', ['60-100']],
  ]);
  // A newer, larger part hides an older one entirely.
  assert.deepEqual(visible([win(10, 20, 1), win(0, 50, 2)]), [
    ['0-50', ['0-50']],
    ['10-20', []],
  ]);
});
