// One backfill window copied from the simulator into a store, without Temporal: its parts
// cover adjoining sub-ranges exactly, and a copy resumed from a checkpoint rewrites the
// same parts, so the store ends with the truth either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyWindow } from '../../src/activities/backfill.ts';
import type { WindowCheckpoint } from '../../src/domain/job.ts';
import type { Interval } from '../../src/domain/intervals.ts';
import type { Target } from '../../src/domain/target.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import { checksumRows, startSim } from '../../src/sim/index.ts';
import { BinanceAdapter } from '../../src/sources/binance.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';

const TRADES = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' } as const satisfies Target;
// 6 000 trades a minute (fewer aggregate trades): a quarter of an hour holds more than one part's worth (50 000 rows).
const BUSY = { tradesPerMinute: 6_000, quietMinuteShare: 0 };
const START = '2024-01-01T00:00:00Z';
const END = '2024-01-01T00:15:00Z';

test('a window of more than one part of trades is written in parts cut at a page end, covering [committed, cut) exactly; a resumed copy rewrites the same parts', async (t) => {
  const sim = await startSim({ port: 0, seed: 5, markets: BUSY });
  const dataPath = await mkdtemp(join(tmpdir(), 'dccd-copy-window-'));
  const store = new ParquetStore(dataPath);
  t.after(async () => {
    await store.close();
    await sim.close();
    await rm(dataPath, { recursive: true, force: true });
  });
  const adapter = new BinanceAdapter({ restUrl: `${sim.url}/binance` });
  const deps = { store, adapter: () => adapter };
  const [startNs, endNs] = [parseAbsoluteTime(START, 'start'), parseAbsoluteTime(END, 'end')];
  const input = { target: TRADES, startNs: String(startNs), endNs: String(endNs) };
  const truth = sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'trades', start: START, end: END });
  const parts = async () => (await readdir(store.datasetPath(TRADES), { recursive: true })).filter((f) => f.endsWith('.parquet')).sort();
  const assertTruth = async () => {
    const rows = await store.readRows(TRADES, startNs, endNs);
    assert.deepEqual({ rows: rows.length, checksum: checksumRows('trades', rows) }, { rows: truth.rows, checksum: truth.checksum });
  };

  const checkpoints: WindowCheckpoint[] = [];
  const covered: Interval[] = [];
  const result = await copyWindow(deps, input, { onCheckpoint: (c) => checkpoints.push(c), onCovered: async (w) => void covered.push(w) });
  assert.equal(result.rows, truth.rows);
  await assertTruth();
  assert.equal(checkpoints.length, 2);
  const cut = BigInt(checkpoints[0]!.committedNs);
  assert.deepEqual(covered, [
    { startNs, endNs: cut },
    { startNs: cut, endNs },
  ]);
  // The first part holds every row before the cut and none after: rows sharing the cut's ts wait for the next part.
  const first = await store.readRows(TRADES, startNs, cut);
  assert.equal(first.length, checkpoints[0]!.rows);
  assert.ok(first.length >= 49_000 && first.length <= 51_000, `first part of ${first.length} rows`);
  assert.equal(checkpoints[0]!.lastTs, String(first.at(-1)!.ts));
  assert.ok(first.at(-1)!.ts < cut);
  assert.deepEqual(checkpoints[1], { committedNs: String(endNs), rows: truth.rows, pages: result.pages, lastTs: truth.last_ts });
  const files = await parts();
  assert.deepEqual(files, [`date=2024-01-01/part-${startNs}-${cut}.parquet`, `date=2024-01-01/part-${cut}-${endNs}.parquet`]);

  const resumed = await copyWindow(deps, input, { resumeFrom: checkpoints[0] });
  assert.equal(resumed.rows, truth.rows);
  assert.equal(resumed.lastTs, truth.last_ts);
  assert.deepEqual(await parts(), files);
  await assertTruth();
});
