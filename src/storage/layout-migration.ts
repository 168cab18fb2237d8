// The one-time move from the first dataset layout, {data}/{exchange}/{datasetKind}/{SYMBOL}/…,
// to the current one, {data}/{datasetKind}/exchange=…/symbol=…/… (parquet-layout.ts). A store
// runs it the first time it opens a data folder that still holds old datasets; `dccd migrate`
// runs it on demand. Parts are renamed, never rewritten; a part name found in both layouts
// keeps the part with the higher write stamp, the one a read would show. Only folders whose
// names all fit a dataset are touched. {data}/.dccd/layout-version records that the folder
// is migrated, so later opens read one small file; a lock lets one process migrate at a time.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageError, ValidationError } from '../domain/errors.ts';
import { UNIFIED_SYMBOL, checkTarget, datasetKind, isExchange } from '../domain/target.ts';
import type { Target } from '../domain/target.ts';
import { entries, listPartitions, listParts } from './dataset-files.ts';
import { fileExists, makeDirs, removeEmptyDirs, syncDir } from './durable-files.ts';
import { datasetDir } from './parquet-layout.ts';
import { tryLock } from './pid-lock.ts';
import type { PidLock } from './pid-lock.ts';
import { guardStorage } from './storage-failure.ts';

/** 1: {exchange}/{kind}/{SYMBOL}; 2: {kind}/exchange=…/symbol=…. */
const LAYOUT_VERSION = '2';
const LOCK_POLL_MS = 100;

export interface MovedDataset {
  /** Old and new dataset folders, relative to the data folder. */
  from: string;
  to: string;
  /** Parts renamed into the new folder. */
  moved: number;
  /** Part names present in both layouts; of each pair, the newer write stayed. */
  inBoth: number;
}

/** Write stamps (footer dccd.written_ns) of part files, by path; a part without one is absent. */
export type StampsOf = (paths: string[]) => Promise<Map<string, bigint>>;

interface OldDataset {
  dir: string;
  target: Target;
}

/** What a store does before its first use: migrate, unless the folder is known to be current. */
export async function ensureLayout(dataPath: string, stampsOf: StampsOf): Promise<void> {
  if ((await readLayoutVersion(dataPath)) === LAYOUT_VERSION) return;
  await migrateLayout(dataPath, stampsOf);
}

/** Moves every dataset still in the first layout into the current one; returns what it moved. */
export async function migrateLayout(dataPath: string, stampsOf: StampsOf): Promise<MovedDataset[]> {
  if ((await findOldDatasets(dataPath)).length === 0) {
    // Best effort: a data folder mounted read-only is still readable, and nothing was to move.
    if (await fileExists(dataPath)) {
      await recordLayout(dataPath).catch((e: unknown) => {
        if (!(e instanceof StorageError)) throw e;
      });
    }
    return [];
  }
  const lock = await waitForLock(dataPath);
  try {
    const moved: MovedDataset[] = [];
    // Listed again under the lock: another process may have migrated meanwhile.
    for (const old of await findOldDatasets(dataPath)) {
      const m = await moveDataset(dataPath, old, stampsOf);
      if (m.moved + m.inBoth > 0) moved.push(m);
    }
    await recordLayout(dataPath);
    return moved;
  } finally {
    await lock.release();
  }
}

async function findOldDatasets(dataPath: string): Promise<OldDataset[]> {
  const found: OldDataset[] = [];
  for (const ex of await entries(dataPath)) {
    if (!ex.isDirectory() || !isExchange(ex.name)) continue;
    for (const kind of await entries(join(dataPath, ex.name))) {
      if (!kind.isDirectory()) continue;
      for (const sym of await entries(join(dataPath, ex.name, kind.name))) {
        const target = sym.isDirectory() ? oldTarget(ex.name, kind.name, sym.name) : undefined;
        if (target) found.push({ dir: join(dataPath, ex.name, kind.name, sym.name), target });
      }
    }
  }
  return found;
}

/** The target whose first-layout folder is exactly {exchange}/{kindFolder}/{slug}; undefined for other names. */
function oldTarget(exchange: string, kindFolder: string, slug: string): Target | undefined {
  const symbol = slug.replace('-', '/');
  if (!isExchange(exchange) || !UNIFIED_SYMBOL.test(symbol)) return undefined;
  const span = /^ohlc-(.+)$/.exec(kindFolder)?.[1];
  const kind = span ? 'ohlc' : kindFolder;
  if (kind !== 'ohlc' && kind !== 'trades' && kind !== 'book') return undefined;
  try {
    const t = checkTarget({ exchange, symbol, kind, ...(span && { span }) });
    return datasetKind(t) === kindFolder ? t : undefined;
  } catch (e) {
    if (e instanceof ValidationError) return undefined; // e.g. ohlc-7x: not a span
    throw e;
  }
}

/** Renames the parts of one old dataset into its new folder, then removes the folders it emptied. */
async function moveDataset(dataPath: string, old: OldDataset, stampsOf: StampsOf): Promise<MovedDataset> {
  const to = datasetDir(dataPath, old.target);
  const result = { from: relative(dataPath, old.dir), to: relative(dataPath, to), moved: 0, inBoth: 0 };
  const landed = new Set<string>();
  for (const part of await listParts(old.dir)) {
    const dest = join(to, part.partition.name, basename(part.path));
    await guardStorage(dest, async () => {
      await makeDirs(dirname(dest));
      if (await fileExists(dest)) {
        result.inBoth++;
        const stamps = await stampsOf([part.path, dest]);
        if ((stamps.get(part.path) ?? 0n) <= (stamps.get(dest) ?? 0n)) return rm(part.path);
      }
      await rename(part.path, dest);
      result.moved++;
    });
    landed.add(dirname(dest));
  }
  for (const dir of landed) await guardStorage(dir, () => syncDir(dir));
  const partitions = (await listPartitions(old.dir)).map((p) => join(old.dir, p.name));
  await guardStorage(old.dir, () => removeEmptyDirs([...partitions, old.dir, dirname(old.dir), dirname(dirname(old.dir))]));
  return result;
}

const layoutFile = (dataPath: string): string => join(dataPath, '.dccd', 'layout-version');

/** The recorded layout; none when there is no record (or no data folder: listing it then says why). */
function readLayoutVersion(dataPath: string): Promise<string | undefined> {
  const path = layoutFile(dataPath);
  return guardStorage(
    path,
    () =>
      readFile(path, 'utf8').then(
        (text) => text.trim(),
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
          throw e;
        },
      ),
    'read',
  );
}

async function recordLayout(dataPath: string): Promise<void> {
  if ((await readLayoutVersion(dataPath)) === LAYOUT_VERSION) return;
  const path = layoutFile(dataPath);
  await guardStorage(path, async () => {
    await makeDirs(dirname(path));
    await writeFile(path, `${LAYOUT_VERSION}\n`);
  });
}

/** The migration lock; while another live process holds it, waits for it to finish. */
async function waitForLock(dataPath: string): Promise<PidLock> {
  const path = join(dataPath, '.dccd', 'layout-migration.lock');
  await guardStorage(path, () => makeDirs(dirname(path)));
  for (;;) {
    const lock = await guardStorage(path, () => tryLock(path));
    if ('release' in lock) return lock;
    await sleep(LOCK_POLL_MS);
  }
}
