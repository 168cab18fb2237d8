// The move from the first layout ({data}/{exchange}/{kind}/{SYMBOL}) to
// {data}/{kind}/exchange=…/symbol=…: nothing lost, once, and only dccd's own folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Target } from '../../src/domain/target.ts';
import { NS_PER_DAY } from '../../src/domain/time.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { placeParts, writeOldLayout } from '../helpers/placed-parts.ts';
import { DAY0, duckdbRows, makeTrades } from '../helpers/store-fixtures.ts';

/** A fresh data folder; `open` gives a new store on it (each one a first use), closed at the end. */
async function withDataFolder(fn: (dataPath: string, open: () => ParquetStore) => Promise<void>): Promise<void> {
  const dataPath = await mkdtemp(join(tmpdir(), 'dccd-migrate-'));
  const opened: ParquetStore[] = [];
  try {
    await fn(dataPath, () => {
      const s = new ParquetStore(dataPath);
      opened.push(s);
      return s;
    });
  } finally {
    for (const s of opened) await s.close();
    await rm(dataPath, { recursive: true, force: true });
  }
}

/** Every file under `dir`, relative, with its size and mtime: a fingerprint of the folder. */
async function tree(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })) as string[];
  const out: string[] = [];
  for (const n of names.sort()) {
    const s = await stat(join(dir, n));
    if (s.isFile()) out.push(`${n} ${s.size} ${s.mtimeMs}`);
  }
  return out;
}

const files = async (dir: string): Promise<string[]> => (await tree(dir)).map((l) => l.split(' ')[0]!);

test('the first use of a store moves old-layout datasets into the new layout with every row intact, and leaves other folders alone', async () => {
  await withDataFolder(async (dataPath, open) => {
    const datasets = await writeOldLayout(dataPath);
    const partsBefore = (await files(dataPath)).length;
    // Not datasets: unknown exchange, kind, span and symbol names, a file that is not a part.
    const strays = ['bitstamp/trades/BTC-USDT/date=2024-01-01/part-1-2.parquet', 'binance/ohlc-7x/BTC-USDT/x.txt', 'binance/trades/btc-usdt/x.txt', 'binance/notes.txt'];
    for (const s of strays) {
      await mkdir(join(dataPath, s, '..'), { recursive: true });
      await writeFile(join(dataPath, s), 'not dccd data');
    }

    const store = open();
    for (const d of datasets) assert.deepEqual(await store.readRows(d.target), d.rows, d.from);

    const after = await files(dataPath);
    assert.deepEqual(after.filter((f) => !f.startsWith('.dccd/') && !strays.includes(f)).length, partsBefore);
    for (const f of after.filter((f) => !f.startsWith('.dccd/') && !strays.includes(f))) {
      assert.ok(datasets.some((d) => f.startsWith(`${d.to}/`)), `${f} is in a new-layout dataset folder`);
    }
    for (const s of strays) assert.ok(after.includes(s), `${s} is left where it was`);
    // Emptied old folders are gone; kraken/ held only the book.
    await assert.rejects(stat(join(dataPath, 'binance', 'trades', 'BTC-USDT')), { code: 'ENOENT' });
    await assert.rejects(stat(join(dataPath, 'binance', 'ohlc-1m')), { code: 'ENOENT' });
    await assert.rejects(stat(join(dataPath, 'kraken')), { code: 'ENOENT' });
    assert.equal(await readFile(join(dataPath, '.dccd', 'layout-version'), 'utf8'), '2\n');

    // DuckDB over one glob per kind: every row, told apart by the exchange and symbol columns.
    const trades = `read_parquet('${dataPath}/trades/**/*.parquet', hive_partitioning = true)`;
    const rowsOf = (d: (typeof datasets)[number]) =>
      (d.rows as { ts: bigint; tradeId: string; price: number; amount: number; side: string }[]).map((r) => [
        d.target.exchange,
        d.target.symbol.replace('/', '-'),
        r.ts,
        r.tradeId,
        r.price,
        r.amount,
        r.side,
      ]);
    assert.deepEqual(
      await duckdbRows(`SELECT exchange, symbol, epoch_ns(ts), trade_id, price, amount, side FROM ${trades} ORDER BY symbol, ts, trade_id`),
      [...rowsOf(datasets[0]!), ...rowsOf(datasets[1]!)],
    );
    assert.deepEqual(
      await duckdbRows(`SELECT exchange, symbol, epoch_ns(ts), trade_id, price, amount, side FROM ${trades} WHERE symbol = 'ETH-USDT' ORDER BY ts, trade_id`),
      rowsOf(datasets[1]!),
    );
    const candles = await duckdbRows(`SELECT exchange, symbol, count(*)::INTEGER FROM read_parquet('${dataPath}/ohlc-1m/**/*.parquet', hive_partitioning = true) GROUP BY ALL`);
    assert.deepEqual(candles, [['binance', 'BTC-USDT', datasets[2]!.rows.length]]);
  });
});

test('migrateLayout reports each dataset it moved; a second migration changes nothing', async () => {
  await withDataFolder(async (dataPath, open) => {
    const datasets = await writeOldLayout(dataPath);
    const partsPerDataset = await Promise.all(datasets.map(async (d) => (await files(join(dataPath, d.from))).length));
    const moved = await open().migrateLayout();
    assert.deepEqual(
      moved.sort((a, b) => a.from.localeCompare(b.from)),
      datasets.map((d, i) => ({ from: d.from, to: d.to, moved: partsPerDataset[i], inBoth: 0 })).sort((a, b) => a.from.localeCompare(b.from)),
    );
    const fingerprint = await tree(dataPath);
    assert.deepEqual(await open().migrateLayout(), []);
    assert.deepEqual(await tree(dataPath), fingerprint);
    const rereads = open();
    for (const d of datasets) assert.deepEqual(await rereads.readRows(d.target), d.rows);
  });
});

test('a part name found in both layouts keeps the newer write, whichever layout holds it', async () => {
  await withDataFolder(async (dataPath, open) => {
    const target: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
    const [day1, day2] = [
      { startNs: DAY0, endNs: DAY0 + NS_PER_DAY },
      { startNs: DAY0 + NS_PER_DAY, endNs: DAY0 + 2n * NS_PER_DAY },
    ];
    const oldDir = join(dataPath, 'binance', 'trades', 'BTC-USDT');
    const newDir = join(dataPath, 'trades', 'exchange=binance', 'symbol=BTC-USDT');
    const older1 = makeTrades(100, day1.startNs, NS_PER_DAY, 1, 1000);
    const older2 = makeTrades(100, day2.startNs, NS_PER_DAY, 2, 2000);
    const newer1 = makeTrades(80, day1.startNs, NS_PER_DAY, 3, 3000);
    const newer2 = makeTrades(80, day2.startNs, NS_PER_DAY, 4, 4000);
    // Written in this order, so stamped in it: day 1's newer part is in the new layout,
    // day 2's in the old one.
    await placeParts(oldDir, target, older1, day1);
    await placeParts(newDir, target, older2, day2);
    await placeParts(newDir, target, newer1, day1);
    await placeParts(oldDir, target, newer2, day2);
    assert.deepEqual(await files(oldDir), await files(newDir), 'the same part names in both layouts');

    assert.deepEqual(await open().migrateLayout(), [
      { from: 'binance/trades/BTC-USDT', to: 'trades/exchange=binance/symbol=BTC-USDT', moved: 1, inBoth: 2 },
    ]);
    assert.deepEqual(await open().readRows(target), [...newer1, ...newer2]);
    await assert.rejects(stat(join(dataPath, 'binance')), { code: 'ENOENT' });
  });
});

test('overlapping parts of both layouts all survive the move, and reads show the newer rows where they overlap', async () => {
  await withDataFolder(async (dataPath, open) => {
    const target: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
    const older = makeTrades(200, DAY0, NS_PER_DAY, 5, 1000);
    const half = { startNs: DAY0 + NS_PER_DAY / 2n, endNs: DAY0 + NS_PER_DAY };
    const newer = makeTrades(50, half.startNs, NS_PER_DAY / 2n, 6, 9000);
    await placeParts(join(dataPath, 'binance', 'trades', 'BTC-USDT'), target, older, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY });
    await placeParts(join(dataPath, 'trades', 'exchange=binance', 'symbol=BTC-USDT'), target, newer, half);
    assert.deepEqual(await open().readRows(target), [...older.filter((r) => r.ts < half.startNs), ...newer]);
  });
});

test('while another live process holds the migration lock, a store waits for it instead of migrating alongside', async () => {
  await withDataFolder(async (dataPath, open) => {
    const datasets = await writeOldLayout(dataPath);
    const holder = spawn('sleep', ['60']);
    await once(holder, 'spawn');
    try {
      await mkdir(join(dataPath, '.dccd'), { recursive: true });
      await writeFile(join(dataPath, '.dccd', 'layout-migration.lock'), `${holder.pid}\n`);
      const store = open();
      const reading = store.readRows(datasets[0]!.target);
      await sleep(500);
      assert.ok((await files(join(dataPath, datasets[0]!.from))).length > 0, 'nothing moved while the lock is held');
      holder.kill();
      await once(holder, 'exit');
      assert.deepEqual(await reading, datasets[0]!.rows);
      await assert.rejects(stat(join(dataPath, datasets[0]!.from)), { code: 'ENOENT' });
    } finally {
      holder.kill();
    }
  });
});

test('a store on a folder with nothing old records the layout and is not slowed by it again', async () => {
  await withDataFolder(async (dataPath, open) => {
    const target: Target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
    const rows = makeTrades(10, DAY0, NS_PER_DAY);
    await open().write(target, rows, { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, { source: 'test', adapterVersion: 't' });
    assert.equal(await readFile(join(dataPath, '.dccd', 'layout-version'), 'utf8'), '2\n');
    // An old-layout folder copied in afterwards is left for `dccd migrate`: opens read only the record.
    const copied = join(dataPath, 'binance', 'trades', 'ETH-USDT', 'date=2024-01-01');
    await mkdir(copied, { recursive: true });
    const [part] = await files(join(dataPath, 'trades'));
    await copyFile(join(dataPath, 'trades', part!), join(copied, part!.split('/').at(-1)!));
    assert.deepEqual(await open().readRows({ ...target, symbol: 'ETH/USDT' }), []);
    const moved = await open().migrateLayout();
    assert.deepEqual(moved, [{ from: 'binance/trades/ETH-USDT', to: 'trades/exchange=binance/symbol=ETH-USDT', moved: 1, inBoth: 0 }]);
    assert.deepEqual(await open().readRows({ ...target, symbol: 'ETH/USDT' }), rows);
  });
});
