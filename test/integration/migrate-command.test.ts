// `dccd migrate` as a user runs it, on a data folder still in the first layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { writeOldLayout } from '../helpers/placed-parts.ts';

async function migrate(dataPath: string) {
  const p = runDccd(['migrate'], { DCCD_DATA: dataPath }, dataPath);
  const { code } = await p.exited;
  return { code, lines: p.output().trim().split('\n') };
}

test('dccd migrate prints one line per dataset it moved, then nothing to migrate; rows read back the same', async (t) => {
  const dataPath = await mkdtemp(join(tmpdir(), 'dccd-migrate-cli-'));
  t.after(() => rm(dataPath, { recursive: true, force: true }));
  const datasets = await writeOldLayout(dataPath);

  const first = await migrate(dataPath);
  assert.equal(first.code, 0, first.lines.join('\n'));
  assert.deepEqual(
    first.lines.sort(),
    [
      'moved binance/ohlc-1m/BTC-USDT -> ohlc-1m/exchange=binance/symbol=BTC-USDT: 2 parts',
      'moved binance/trades/BTC-USDT -> trades/exchange=binance/symbol=BTC-USDT: 2 parts',
      'moved binance/trades/ETH-USDT -> trades/exchange=binance/symbol=ETH-USDT: 2 parts',
      'moved kraken/book/ETH-USD -> book/exchange=kraken/symbol=ETH-USD: 1 part',
    ],
  );
  const again = await migrate(dataPath);
  assert.equal(again.code, 0, again.lines.join('\n'));
  assert.deepEqual(again.lines, ['nothing to migrate']);

  const store = new ParquetStore(dataPath);
  t.after(() => store.close());
  for (const d of datasets) assert.deepEqual(await store.readRows(d.target), d.rows, d.to);
});

test('two dccd migrate processes at once move each dataset exactly once', async (t) => {
  const dataPath = await mkdtemp(join(tmpdir(), 'dccd-migrate-cli-'));
  t.after(() => rm(dataPath, { recursive: true, force: true }));
  const datasets = await writeOldLayout(dataPath);
  const [a, b] = await Promise.all([migrate(dataPath), migrate(dataPath)]);
  assert.equal(a.code, 0, a.lines.join('\n'));
  assert.equal(b.code, 0, b.lines.join('\n'));
  const moved = [...a.lines, ...b.lines].filter((l) => l !== 'nothing to migrate');
  assert.deepEqual(moved.map((l) => l.split(' ')[1]).sort(), datasets.map((d) => d.from).sort());
  const store = new ParquetStore(dataPath);
  t.after(() => store.close());
  for (const d of datasets) assert.deepEqual(await store.readRows(d.target), d.rows, d.to);
});

test('dccd migrate --help says what it does, with an example', async () => {
  const p = runDccd(['migrate', '--help']);
  assert.equal((await p.exited).code, 0);
  assert.match(p.output(), /Usage: dccd migrate/);
  assert.match(p.output(), /exchange=…\/symbol=…/);
  assert.match(p.output(), /Example:\n {2}DCCD_DATA=\S+ dccd migrate/);
});
