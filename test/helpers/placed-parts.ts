// Part files placed by hand where a test wants them, e.g. in the first layout's folders
// ({data}/{exchange}/{datasetKind}/{SYMBOL}), which the store no longer writes. The parts are
// real: written by a store into a scratch folder and copied over, footers and write stamps
// included.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowsByKind } from '../../src/domain/records.ts';
import type { Kind, Target } from '../../src/domain/target.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { NS_PER_DAY, NS_PER_MIN } from '../../src/domain/time.ts';
import { DAY0, PROV, makeBook, makeCandles, makeTrades } from './store-fixtures.ts';

/**
 * Writes `rows` covering `range` as `target`'s parts and copies them into `datasetFolder`
 * (the folder holding the partition folders), beside whatever it holds already. Each call
 * stamps its parts later than the call before.
 */
export async function placeParts<K extends Kind>(
  datasetFolder: string,
  target: Target & { kind: K },
  rows: RowsByKind[K][],
  range: { startNs: bigint; endNs: bigint },
): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'dccd-scratch-'));
  const store = new ParquetStore(scratch);
  try {
    await store.write(target, rows, range, PROV);
    await cp(store.datasetPath(target), datasetFolder, { recursive: true, force: true });
  } finally {
    await store.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface OldDataset {
  target: Target;
  rows: RowsByKind[Kind][];
  /** Its folder in the first layout and in the current one, relative to the data folder. */
  from: string;
  to: string;
}

/**
 * Four datasets in the first layout: two symbols of binance trades over two day partitions,
 * binance 1m candles across a month boundary, a kraken book snapshot.
 */
export async function writeOldLayout(dataPath: string): Promise<OldDataset[]> {
  const twoDays = 2n * NS_PER_DAY;
  const datasets: OldDataset[] = [
    {
      target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' },
      rows: makeTrades(400, DAY0, twoDays, 1, 1000),
      from: 'binance/trades/BTC-USDT',
      to: 'trades/exchange=binance/symbol=BTC-USDT',
    },
    {
      target: { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' },
      rows: makeTrades(250, DAY0, twoDays, 2, 7000),
      from: 'binance/trades/ETH-USDT',
      to: 'trades/exchange=binance/symbol=ETH-USDT',
    },
    {
      target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' },
      rows: makeCandles(90, DAY0 - 30n * NS_PER_MIN),
      from: 'binance/ohlc-1m/BTC-USDT',
      to: 'ohlc-1m/exchange=binance/symbol=BTC-USDT',
    },
    {
      target: { exchange: 'kraken', symbol: 'ETH/USD', kind: 'book' },
      rows: makeBook(3, DAY0, 4),
      from: 'kraken/book/ETH-USD',
      to: 'book/exchange=kraken/symbol=ETH-USD',
    },
  ];
  for (const d of datasets) await placeParts(join(dataPath, d.from), d.target, d.rows, { startNs: DAY0 - NS_PER_DAY, endNs: DAY0 + twoDays });
  return datasets;
}
