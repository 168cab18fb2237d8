// Temporal's cost at start-up: `dccd start --headless` from launch to its `dccd ready` line,
// on a fresh data dir (cold: the server creates its SQLite database) and again on the same
// one (warm). Baseline: the bare `temporal server start-dev` that dccd embeds, same binary,
// same kind of db file, reaching health; dccd cannot start faster than that.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startEmbeddedServer } from '../src/worker/embedded-stack.ts';
import { freePort } from '../test/helpers/ports.ts';
import { median, report, RUNS, tempDir, time } from './lib.ts';

const BENCH = 'temporal-start';
const DCCD = fileURLToPath(new URL('../bin/dccd.js', import.meta.url));
const READY_TIMEOUT_MS = 120_000;
const SIGNAL_GRACE_MS = 100;

/** The environment without settings that would point dccd elsewhere than the config file. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|DCCD_|DATABASE_URL$)/.test(k)));

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
  const t0 = performance.now();
  const child = spawn(process.execPath, [DCCD, '--config', config, 'start', '--headless'], { env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`dccd start: no ready line after ${READY_TIMEOUT_MS / 1000} s\n${err}`)), READY_TIMEOUT_MS);
      child.stdout!.on('data', (d) => {
        out += d;
        if (/^dccd ready/m.test(out)) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`dccd start exited (${code}) before it was ready\n${err}`));
      });
    });
    // dccd installs its SIGINT handler just after printing the ready line; a signal in
    // between would meet Node's default action and skip the clean stop being timed.
    await sleep(SIGNAL_GRACE_MS);
    const t1 = performance.now();
    child.kill('SIGINT');
    const code = await exited;
    if (code !== 0) throw new Error(`dccd start exited with ${code ?? child.signalCode} after SIGINT\n${err}`);
    return { readyMs, stopMs: performance.now() - t1 };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
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
