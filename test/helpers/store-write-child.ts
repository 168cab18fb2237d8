// One store write in a process of its own, for tests that run it behind a refusing disk
// (disk-faults.ts). Usage: store-write-child.ts <data folder> <rows>. Writes that many
// binance BTC/USDT trades over 2024-01-01 and prints one JSON line: the rows written or the
// error, and every file left under the data folder, so a test sees that nothing was
// half-written even where the folder is gone once the child exits.
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { StorageError } from '../../src/domain/errors.ts';
import { NS_PER_DAY } from '../../src/domain/time.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { DAY0, PROV, makeTrades } from './store-fixtures.ts';

export interface ChildOutcome {
  rows?: number;
  error?: Pick<StorageError, 'type' | 'path' | 'reason' | 'action' | 'message' | 'retryable'> | { message: string };
  files: string[];
}

const [dataPath, count] = process.argv.slice(2) as [string, string];
const store = new ParquetStore(dataPath);
const outcome: ChildOutcome = { files: [] };
try {
  const target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' } as const;
  outcome.rows = (await store.write(target, makeTrades(Number(count), DAY0, NS_PER_DAY), { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV)).rows;
} catch (e) {
  const { type, path, reason, action, message, retryable } = e as StorageError;
  outcome.error = e instanceof StorageError ? { type, path, reason, action, message, retryable } : { message: String(e) };
} finally {
  await store.close();
}
const entries = await readdir(dataPath, { recursive: true, withFileTypes: true });
outcome.files = entries.filter((e) => e.isFile()).map((e) => relative(dataPath, join(e.parentPath, e.name))).sort();
console.log(JSON.stringify(outcome));
