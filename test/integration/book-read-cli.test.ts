// `dccd read --kind book --at` as a real process: the book rebuilt at an instant from the
// stored snapshot and diffs, as CSV and as JSON lines, cut to --depth; an instant before any
// snapshot is one line naming --at, and nothing is printed before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshotRows } from '../../src/domain/order-book.ts';
import type { BookRow } from '../../src/domain/records.ts';
import { isoFromNs, NS_PER_S } from '../../src/domain/time.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { DAY0 } from '../helpers/store-fixtures.ts';

const BOOK = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'book' } as const;
const at = (s: number) => DAY0 + BigInt(s) * NS_PER_S;

test('dccd read --at prints the book at that instant; before the first snapshot it is an error naming --at', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'dccd-book-read-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const store = new ParquetStore(data);
  const diff = (s: number, seq: bigint, side: 'bid' | 'ask', price: number, amount: number): BookRow => ({ ts: at(s), seq, isSnapshot: false, side, level: null, price, amount });
  const snapshot = snapshotRows({ bids: [{ price: 100, amount: 1 }, { price: 99, amount: 2 }], asks: [{ price: 101, amount: 3 }, { price: 102, amount: 4 }] }, at(10), 7n);
  await store.append(BOOK, [...snapshot, diff(11, 9n, 'bid', 100, 0), diff(11, 9n, 'bid', 98, 5), diff(12, 12n, 'ask', 101, 6)], { session: 'cli', seq: 0 }, { source: 'binance:ws', adapterVersion: 'test' });
  await store.close();
  const env = { DCCD_DATA: data, TEMPORAL_ADDRESS: '', DATABASE_URL: '' };
  const read = async (...args: string[]) => {
    const p = runDccd(['read', 'binance', 'BTCUSDT', '--kind', 'book', ...args], env, data);
    return { code: (await p.exited).code, out: p.output() };
  };

  const csv = await read('--at', isoFromNs(at(11) + 500_000_000n));
  assert.equal(csv.code, 0, csv.out);
  const ts = isoFromNs(at(11));
  assert.equal(
    csv.out,
    [
      'ts,ts_ns,side,price,amount,level,seq,is_snapshot',
      `${ts},${at(11)},ask,101,3,0,9,true`,
      `${ts},${at(11)},ask,102,4,1,9,true`,
      `${ts},${at(11)},bid,99,2,0,9,true`,
      `${ts},${at(11)},bid,98,5,1,9,true`,
      '',
    ].join('\n'),
  );

  const jsonl = await read('--at', String(at(12)), '--depth', '1', '--format', 'jsonl');
  assert.equal(jsonl.code, 0, jsonl.out);
  assert.deepEqual(
    jsonl.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).map((r) => [r.side, r.level, r.price, r.amount, r.seq, r.ts_ns]),
    [
      ['ask', 0, 101, 6, '12', String(at(12))],
      ['bid', 0, 99, 2, '12', String(at(12))],
    ],
  );

  const before = await read('--at', String(at(10) - 1n));
  assert.equal(before.code, 1);
  assert.equal(before.out, `error: --at: no snapshot of the binance BTC/USDT book at or before ${isoFromNs(at(10) - 1n)} to rebuild it from; its rows run from ${isoFromNs(at(10))} to ${isoFromNs(at(12))}\n`);
});
