// Store writes in a process of their own, for tests that run them behind a refusing disk
// (disk-faults.ts) or beside another writer. Usage:
//   store-write-child.ts <data folder> <rows> [write <windows> | append <flushes> <session>]
// Takes that many binance BTC/USDT trades over 2024-01-01 (makeTrades) and writes them as a
// backfill does, in `windows` consecutive windows (default one), or appends what a stream saw
// of them (streamedTrades) in `flushes` flushes of session `session`. Prints one JSON line:
// the rows written or the error, and every file left under the data folder, so a test sees
// that nothing was half-written even where the folder is gone once the child exits.
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { StorageError } from '../../src/domain/errors.ts';
import { NS_PER_DAY } from '../../src/domain/time.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import { DAY0, PROV, WS_PROV, makeTrades, streamedTrades } from './store-fixtures.ts';

export interface ChildOutcome {
  rows?: number;
  error?: Pick<StorageError, 'type' | 'path' | 'reason' | 'action' | 'message' | 'retryable'> | { message: string };
  files: string[];
}

const [dataPath, count, mode = 'write', pieces = '1', session = 'child'] = process.argv.slice(2) as [string, string, string?, string?, string?];
const store = new ParquetStore(dataPath);
const outcome: ChildOutcome = { files: [] };
try {
  const target = { exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' } as const;
  const rows = makeTrades(Number(count), DAY0, NS_PER_DAY);
  const n = Number(pieces);
  outcome.rows = 0;
  if (mode === 'append') {
    const streamed = streamedTrades(rows);
    for (let i = 0; i < n; i++) {
      const flush = streamed.slice(Math.floor((i * streamed.length) / n), Math.floor(((i + 1) * streamed.length) / n));
      outcome.rows += (await store.append(target, flush, { session, seq: i }, WS_PROV)).rows;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const [startNs, endNs] = [DAY0 + (BigInt(i) * NS_PER_DAY) / BigInt(n), DAY0 + (BigInt(i + 1) * NS_PER_DAY) / BigInt(n)];
      outcome.rows += (await store.write(target, rows.filter((r) => r.ts >= startNs && r.ts < endNs), { startNs, endNs }, PROV)).rows;
    }
  }
} catch (e) {
  const { type, path, reason, action, message, retryable } = e as StorageError;
  outcome.error = e instanceof StorageError ? { type, path, reason, action, message, retryable } : { message: String(e) };
} finally {
  await store.close();
}
const entries = await readdir(dataPath, { recursive: true, withFileTypes: true });
outcome.files = entries.filter((e) => e.isFile()).map((e) => relative(dataPath, join(e.parentPath, e.name))).sort();
console.log(JSON.stringify(outcome));
