// What a dataset folder holds on disk: partitions and the parts in them, found by name.
// Dot-folders ({data}/.dccd state, editors' and sync tools' folders) are never data.
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PartName, Partition, Window } from './parquet-layout.ts';
import { intersect, isTempFileName, parsePartFileName, parsePartitionName } from './parquet-layout.ts';
import { guardStorage } from './storage-failure.ts';
import { cmpInterval as cmpWindow } from '../domain/intervals.ts';

export interface PartFile extends PartName {
  path: string;
  partition: Partition;
}

/** DuckDB's and Node's words for a file listed a moment ago and deleted since by a concurrent write. */
export const VANISHED_FILE = /No such file or directory|No files found|ENOENT/;

export interface DatasetDir {
  dir: string;
  /** The folder names' values: 'ohlc-1m', 'binance', 'BTC-USDT'. */
  datasetKind: string;
  exchange: string;
  symbolSlug: string;
}

/** What a folder holds; nothing when it does not exist. */
export async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await guardStorage(dir, () => readdir(dir, { withFileTypes: true }), 'read');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Partition folders of a dataset, in time order; with `range`, only those intersecting it. */
export async function listPartitions(datasetDir: string, range?: Window): Promise<Partition[]> {
  const out: Partition[] = [];
  for (const e of await entries(datasetDir)) {
    if (!e.isDirectory()) continue;
    const p = parsePartitionName(e.name);
    if (p && (!range || intersect(p, range))) out.push(p);
  }
  return out.sort(cmpWindow);
}

/** Parts of one partition folder, in window order; with `range`, only those intersecting it. */
export async function listPartsIn(datasetDir: string, partition: Partition, range?: Window): Promise<PartFile[]> {
  const dir = join(datasetDir, partition.name);
  const out: PartFile[] = [];
  for (const e of await entries(dir)) {
    if (!e.isFile()) continue;
    const w = parsePartFileName(e.name);
    if (w && (!range || intersect(w, range))) out.push({ ...w, path: join(dir, e.name), partition });
  }
  return out.sort(cmpWindow);
}

/** Every part of a dataset whose window intersects `range` (all parts without one), in window order. */
export async function listParts(datasetDir: string, range?: Window): Promise<PartFile[]> {
  const parts: PartFile[] = [];
  for (const p of await listPartitions(datasetDir, range)) parts.push(...(await listPartsIn(datasetDir, p, range)));
  // Partitions of different grains (a changed rule) may nest, so sort across them too.
  return parts.sort(cmpWindow);
}

const KIND_FOLDER = /^(?:ohlc-\d{1,3}[smhdwM]|trades|book)$/;
const EXCHANGE_FOLDER = /^exchange=([a-z0-9][a-z0-9_-]{0,31})$/;
const SYMBOL_FOLDER = /^symbol=([A-Z0-9]{1,20}-[A-Z0-9]{1,20})$/;

/** Every dataset folder in the layout {kind}/exchange={x}/symbol={S}, in name order; anything else is not a dataset. */
export async function listDatasetDirs(dataPath: string): Promise<DatasetDir[]> {
  const out: DatasetDir[] = [];
  const folders = async (dir: string) => (await entries(dir)).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const kind of await folders(dataPath)) {
    if (!KIND_FOLDER.test(kind)) continue;
    for (const ex of await folders(join(dataPath, kind))) {
      const exchange = EXCHANGE_FOLDER.exec(ex)?.[1];
      if (!exchange) continue;
      for (const sym of await folders(join(dataPath, kind, ex))) {
        const symbolSlug = SYMBOL_FOLDER.exec(sym)?.[1];
        if (symbolSlug) out.push({ dir: join(dataPath, kind, ex, sym), datasetKind: kind, exchange, symbolSlug });
      }
    }
  }
  return out;
}

/** Temp files of interrupted writes anywhere under `root`, skipping dot-folders. */
export async function findTempFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await entries(root)) {
    const path = join(root, e.name);
    if (e.isFile() && isTempFileName(e.name)) found.push(path);
    else if (e.isDirectory() && !e.name.startsWith('.')) found.push(...(await findTempFiles(path)));
  }
  return found;
}
