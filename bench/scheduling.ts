// Scheduling at scale: N datasets (200 by default) on 1-minute interval schedules against one
// worker, for a few minutes. Figures: runs started per minute against runs scheduled, and the
// lag from each scheduled time to the run's first fetch (the adapter's first page call),
// median and p99, against the schedule's own interval.
//   BENCH_DATASETS=200 BENCH_MINUTES=3 npm run bench -- scheduling
import { parseConfig } from '../src/config/load-config.ts';
import type { Target } from '../src/domain/target.ts';
import { checkConfigJobs } from '../src/jobs/job-plan.ts';
import { reconcile } from '../src/jobs/reconcile.ts';
import { listSchedules } from '../src/client/schedules.ts';
import { buildServices } from '../src/services.ts';
import type { ExchangeAdapter } from '../src/sources/adapter.ts';
import { startWorker } from '../src/worker/worker.ts';
import { benchTemporal } from './full-path.ts';
import { fmt, report, simProcess, tempDir } from './lib.ts';

const BENCH = 'scheduling';
const DATASETS = Number(process.env.BENCH_DATASETS ?? 200);
const MINUTES = Number(process.env.BENCH_MINUTES ?? 3);
const INTERVAL_S = 60;

const symbols = Array.from({ length: DATASETS }, (_, i) => `S${String(i).padStart(3, '0')}USDT`);
const sim = await simProcess({ seed: 2, weightBudget: 1e9, markets: { symbols: Object.fromEntries(symbols.map((s) => [s, {}])) } });
const temporal = await benchTemporal();
const data = tempDir('scheduling');
const start = new Date(Date.now() - 10 * 60_000).toISOString();
const cfg = parseConfig({
  data: data.path,
  temporal: { address: temporal.address, taskQueue: 'bench-scheduling' },
  exchanges: { binance: { restUrl: `${sim.url}/binance`, requestBudget: 1e9 } },
  jobs: symbols.map((s) => ({ exchange: 'binance', symbol: s, kind: 'ohlc', span: '1m', start, schedule: { every: `${INTERVAL_S}s` } })),
});
const services = buildServices(cfg);

// The first page call of each run, per symbol: when the run really began to fetch.
const fetches = new Map<string, number[]>();
const adapterOf = services.adapter.bind(services);
services.adapter = (name, profile) => {
  const a = adapterOf(name, profile);
  return new Proxy(a, {
    get(target, prop, receiver) {
      if (prop !== 'ohlcPages') return Reflect.get(target, prop, receiver);
      return (t: Target, range: Parameters<ExchangeAdapter['ohlcPages']>[1]) => {
        const list = fetches.get(t.symbol) ?? [];
        list.push(Date.now());
        fetches.set(t.symbol, list);
        return target.ohlcPages(t, range);
      };
    },
  });
};

const worker = await startWorker(services);
try {
  const specs = checkConfigJobs(cfg);
  const t0 = Date.now();
  const report0 = await reconcile(services, specs);
  console.log(`${BENCH}: ${report0.created.length} schedules created in ${((Date.now() - t0) / 1000).toFixed(1)} s; running ${MINUTES} min`);
  const from = Date.now();
  await new Promise((r) => setTimeout(r, MINUTES * 60_000 + 20_000));
  const to = from + MINUTES * 60_000;

  // Scheduled times in the window, from each schedule's record of its actions.
  const schedules = await listSchedules(services);
  let scheduled = 0;
  let started = 0;
  const lags: number[] = [];
  for (const s of schedules) {
    const symbol = s.specId.split(':')[2]!.replace('-', '/');
    const calls = fetches.get(symbol) ?? [];
    // Every whole minute in [from, to) is a scheduled time of an every-1m schedule.
    for (let t = Math.ceil(from / 60_000) * 60_000; t < to; t += 60_000) {
      scheduled++;
      const taken = s.recent.find((a) => Math.abs(Date.parse(a.scheduledAt) - t) < 1000);
      if (!taken) continue;
      started++;
      const first = calls.find((c) => c >= t);
      if (first !== undefined && first - t < INTERVAL_S * 1000) lags.push(first - t);
    }
  }
  lags.sort((a, b) => a - b);
  const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN;
  const perMin = (n: number) => n / MINUTES;
  report({ bench: BENCH, name: `runs started per minute, ${DATASETS} datasets every 1m`, value: perMin(started), unit: 'runs/min', baseline: { name: 'scheduled', value: perMin(scheduled) } });
  report({ bench: BENCH, name: 'median lag, scheduled time to first fetch', value: q(0.5) / 1000, unit: 's', baseline: { name: 'the interval', value: INTERVAL_S }, note: `${lags.length} runs` });
  report({ bench: BENCH, name: 'p99 lag, scheduled time to first fetch', value: q(0.99) / 1000, unit: 's', baseline: { name: 'the interval', value: INTERVAL_S }, note: `max ${fmt(lags.at(-1)! / 1000)} s` });
} finally {
  await reconcile(services, []).catch(() => undefined);
  await worker.shutdown();
  await services.close();
  await temporal.stop();
  await sim.stop();
  data.remove();
}
