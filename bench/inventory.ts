// Inventory on many files: 10,000 parts (100 trade datasets × 100 days by default). Figures:
// a cold inventory (every footer read), a warm one (the footer cache answers) and the floor
// any inventory pays, listing and stat-ing the same files, measured in the same run.
//   BENCH_DATASETS=100 BENCH_DAYS=100 npm run bench -- inventory
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from '../src/domain/target.ts';
import { NS_PER_DAY } from '../src/domain/time.ts';
import { inventory } from '../src/jobs/inventory.ts';
import { openCoverageStore } from '../src/storage/coverage-store.ts';
import { listParts } from '../src/storage/dataset-files.ts';
import { partFileName, partitionOf } from '../src/storage/parquet-layout.ts';
import { ParquetStore } from '../src/storage/parquet-store.ts';
import { makeTrades } from '../test/helpers/store-fixtures.ts';
import { RUNS, median, report, tempDir, time } from './lib.ts';

const BENCH = 'inventory';
const DATASETS = Number(process.env.BENCH_DATASETS ?? 100);
const DAYS = Number(process.env.BENCH_DAYS ?? 100);
const DAY0 = 1_704_067_200_000_000_000n; // 2024-01-01
const PROV = { source: 'binance:rest', adapterVersion: 'bench/1' };

const data = tempDir('inventory');
const store = new ParquetStore(data.path);
const coverage = await openCoverageStore({ dataPath: data.path });
try {
  // One real part per dataset, copied under the names of its other days: real footers, cheap set-up.
  for (let i = 0; i < DATASETS; i++) {
    const target: Target = { exchange: 'binance', symbol: `S${String(i).padStart(3, '0')}/USDT`, kind: 'trades' };
    await store.write(target, makeTrades(500, DAY0, NS_PER_DAY, i + 1), { startNs: DAY0, endNs: DAY0 + NS_PER_DAY }, PROV);
    const dir = store.datasetPath(target);
    const [first] = await listParts(dir);
    for (let d = 1; d < DAYS; d++) {
      const w = { startNs: DAY0 + BigInt(d) * NS_PER_DAY, endNs: DAY0 + BigInt(d + 1) * NS_PER_DAY };
      const folder = join(dir, partitionOf('day', w.startNs).name);
      await mkdir(folder, { recursive: true });
      await copyFile(first!.path, join(folder, partFileName(w)));
    }
    // Every third day missing from the manifest: holes to find.
    for (let d = 0; d < DAYS; d++) if (d % 3 !== 2) await coverage.cover(target, 'rest', { startNs: DAY0 + BigInt(d) * NS_PER_DAY, endNs: DAY0 + BigInt(d + 1) * NS_PER_DAY });
  }
  const parts = DATASETS * DAYS;
  const cacheFile = join(data.path, '.dccd', 'footer-cache.json');
  const services = { store, coverage: async () => coverage };

  const statWalk = async (dir: string): Promise<number> => {
    let n = 0;
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) n += await statWalk(path);
      else {
        await stat(path);
        n++;
      }
    }
    return n;
  };

  const floor: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  let holes = 0;
  for (let r = 0; r < RUNS; r++) {
    const [seen, tFloor] = await time(() => statWalk(data.path));
    if (seen !== parts) throw new Error(`walked ${seen} files, expected ${parts}`);
    floor.push(tFloor);
    await rm(cacheFile, { force: true });
    // A new store each time, so no cache survives in memory either.
    const coldStore = new ParquetStore(data.path);
    const [listed, tCold] = await time(() => inventory({ ...services, store: coldStore }, []));
    await coldStore.close();
    cold.push(tCold);
    const warmStore = new ParquetStore(data.path);
    const [again, tWarm] = await time(() => inventory({ ...services, store: warmStore }, []));
    await warmStore.close();
    warm.push(tWarm);
    const files = again.reduce((n, d) => n + d.files, 0);
    if (listed.length !== DATASETS || files !== parts) throw new Error(`inventory listed ${listed.length} datasets and ${files} parts`);
    holes = again.reduce((n, d) => n + d.holes.length, 0);
  }
  const floorMs = median(floor);
  const note = `${parts.toLocaleString('en-US')} parts in ${DATASETS} datasets, ${holes} holes found; median of ${RUNS}`;
  report({ bench: BENCH, name: 'cold inventory (footers read)', value: median(cold), unit: 'ms', baseline: { name: 'readdir + stat of the same files', value: floorMs }, note });
  report({ bench: BENCH, name: 'warm inventory (footer cache)', value: median(warm), unit: 'ms', baseline: { name: 'readdir + stat of the same files', value: floorMs }, note });
} finally {
  await store.close();
  await coverage.close();
  data.remove();
}
