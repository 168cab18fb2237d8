// What a dataset folder holds on disk: partitions and the parts in them, found by name.
// Dot-folders ({data}/.dccd state, editors' and sync tools' folders) are never data.
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Partition, Window } from './parquet-layout.ts';
import { intersect, isTempFileName, parsePartFileName, parsePartitionName } from './parquet-layout.ts';
import { guardStorage } from './storage-failure.ts';

export interface PartFile extends Window {
  path: string;
  partition: Partition;
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

export function cmpWindow(a: Window, b: Window): number {
  if (a.startNs !== b.startNs) return a.startNs < b.startNs ? -1 : 1;
  if (a.endNs !== b.endNs) return a.endNs < b.endNs ? -1 : 1;
  return 0;
}
