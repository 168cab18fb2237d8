// A worker on a busy machine: every core loaded by other processes, as on a shared box. A
// window's activity heartbeats every 3 s against a 10 s timeout; an event loop blocked for
// longer (synchronous work on the worker's thread) makes Temporal retry the window. Measures
// the worker's event-loop delay through a 1 M-trade backfill, and counts retried windows in
// one-shot `dccd backfill --wait` runs (each hosting its own server and worker).
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { runDccd } from '../test/helpers/dccd-process.ts';
import { benchTemporal, runFullPath } from './full-path.ts';
import { median, report, simProcess, tempDir } from './lib.ts';

const BENCH = 'busy-machine';
const ONE_SHOTS = Number(process.env.BENCH_ONESHOTS ?? 20);
const HEARTBEAT_TIMEOUT_MS = 10_000;
const UNLIMITED = 1e9;

const sim = await simProcess({ seed: 3, weightBudget: UNLIMITED, markets: { symbols: { ETHUSDT: { tradesPerMinute: 1000, quietMinuteShare: 0 } } } });
const restUrl = `${sim.url}/binance`;
const burners = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
try {
  const temporal = await benchTemporal();
  const delay = monitorEventLoopDelay({ resolution: 20 });
  try {
    delay.enable();
    const run = await runFullPath(temporal.address, restUrl, { name: 'trades, 1 M', target: { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' }, start: '2024-01-01T00:00:00Z', end: '2024-01-01T16:40:00Z' }, { requestBudget: UNLIMITED });
    delay.disable();
    const note = `${run.rows.toLocaleString('en-US')} trades in ${(run.ms / 1000).toFixed(1)} s, p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms, ${run.retries} activity retries`;
    report({ bench: BENCH, name: 'worker event-loop delay, max, 1 M-trade backfill, cores busy', value: delay.max / 1e6, unit: 'ms', baseline: { name: 'heartbeat timeout', value: HEARTBEAT_TIMEOUT_MS }, note });
  } finally {
    await temporal.stop();
  }

  const walls: number[] = [];
  let retried = 0;
  let failed = 0;
  for (let i = 0; i < ONE_SHOTS; i++) {
    const dir = tempDir('busy');
    try {
      const env = { TEMPORAL_ADDRESS: '', DATABASE_URL: '', DCCD_API_PORT: '', DCCD_DATA: join(dir.path, 'data'), DCCD_BINANCE_REST_URL: restUrl };
      const t0 = performance.now();
      const p = runDccd(['backfill', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1m', '--start', '2024-01-01', '--end', '2024-01-31', '--wait'], env, dir.path);
      const { code } = await p.exited;
      walls.push(performance.now() - t0);
      // Without a terminal the run's log tail is printed: a retried window says "attempt N:".
      retried += (p.output().match(/attempt \d+:/g) ?? []).length;
      if (code !== 0) failed++;
    } finally {
      dir.remove();
    }
  }
  const note = `${ONE_SHOTS} runs of 30 days of 1m candles, median ${(median(walls) / 1000).toFixed(1)} s each, ${failed} failed`;
  report({ bench: BENCH, name: `retried windows in ${ONE_SHOTS} one-shot backfills, cores busy`, value: retried, unit: 'windows', note });
  if (failed) process.exitCode = 1;
} finally {
  burners.forEach((b) => b.kill('SIGKILL'));
  await sim.stop();
}
