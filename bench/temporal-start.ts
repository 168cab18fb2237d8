// Temporal's cost at start-up: `dccd start --headless` from launch to its `dccd ready` line,
// on a fresh data dir (cold: the server creates its SQLite database) and again on the same
// one (warm). Baseline: the bare `temporal server start-dev` that dccd embeds, same binary,
// same kind of db file, reaching health; dccd cannot start faster than that.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startEmbeddedServer } from '../src/worker/embedded-stack.ts';
import { freePort } from '../test/helpers/ports.ts';
import { median, report, RUNS, tempDir, time } from './lib.ts';
import { cleanEnv, startDccd } from './processes.ts';

const BENCH = 'temporal-start';

/** The bare dev server on `dir`'s database, as dccd embeds it: ms to health, then stopped. */
async function bareServer(dir: string): Promise<number> {
  const port = await freePort();
  const [server, ms] = await time(() => startEmbeddedServer({ dbFile: join(dir, '.dccd', 'temporal.db'), port }));
  await server.stop();
  return ms;
}

/** `dccd start --headless` on `dir`: ms to the ready line, and ms from SIGINT to exit. */
async function dccdStart(dir: string): Promise<{ readyMs: number; stopMs: number }> {
  const config = join(dir, 'dccd.yml');
  writeFileSync(config, stringify({ data: dir, temporal: { port: await freePort(), ui: false }, api: { port: await freePort() } }));
  const daemon = await startDccd(['--config', config, 'start', '--headless'], cleanEnv);
  return { readyMs: daemon.readyMs, stopMs: await daemon.stop() };
}

const ms = { bareCold: [] as number[], bareWarm: [] as number[], dccdCold: [] as number[], dccdWarm: [] as number[], stop: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  const bare = tempDir('bare');
  const dccd = tempDir('start');
  try {
    ms.bareCold.push(await bareServer(bare.path));
    const cold = await dccdStart(dccd.path);
    ms.bareWarm.push(await bareServer(bare.path));
    const warm = await dccdStart(dccd.path);
    ms.dccdCold.push(cold.readyMs);
    ms.dccdWarm.push(warm.readyMs);
    ms.stop.push(cold.stopMs, warm.stopMs);
  } finally {
    bare.remove();
    dccd.remove();
  }
}
const s = (xs: number[]) => median(xs) / 1000;
const note = `median of ${RUNS}; SIGINT to exit ${s(ms.stop).toFixed(1)} s`;
report({ bench: BENCH, name: 'dccd start cold: to ready', value: s(ms.dccdCold), unit: 's', baseline: { name: 'temporal start-dev cold', value: s(ms.bareCold) }, note });
report({ bench: BENCH, name: 'dccd start warm: to ready', value: s(ms.dccdWarm), unit: 's', baseline: { name: 'temporal start-dev warm', value: s(ms.bareWarm) }, note });
