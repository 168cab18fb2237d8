// Backfill overhead: the full path (Temporal dev server persisted like `dccd start`, worker,
// workflow, activities, store) against a raw loop that copies the same windows with the same
// adapter and writer and no Temporal, both against the simulator at zero latency.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { copyWindow } from '../src/activities/backfill.ts';
import { backfillResult, startBackfill, startedHandle } from '../src/api/backfills.ts';
import { parseConfig } from '../src/config/load-config.ts';
import type { Target } from '../src/domain/target.ts';
import { parseAbsoluteTime } from '../src/domain/time.ts';
import { planWindows, windowLengthNs } from '../src/domain/windows.ts';
import { buildServices } from '../src/services.ts';
import { RateLimiters } from '../src/sources/rate-limiter.ts';
import { createAdapter } from '../src/sources/registry.ts';
import { ParquetStore } from '../src/storage/parquet-store.ts';
import { startDevServer } from '../src/worker/dev-server.ts';
import { startWorker } from '../src/worker/worker.ts';
import { WINDOW_CONCURRENCY } from '../src/workflows/backfill.ts';
import { SEARCH_ATTRIBUTE_KEYS } from '../src/workflows/definitions.ts';
import { freePort } from '../test/helpers/ports.ts';
import { median, report, RUNS, simProcess, tempDir, time } from './lib.ts';

const BENCH = 'backfill-overhead';

interface Case {
  name: string;
  target: Target;
  start: string;
  end: string;
}

// A dense market so 1 M trades fit in ~17 hours of history.
const TRADES_PER_MINUTE = 1000;
const CASES: Case[] = [
  { name: 'ohlc 1m, 30 days', target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' }, start: '2024-01-01', end: '2024-01-31' },
  { name: 'trades, 1 M', target: { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' }, start: '2024-01-01T00:00:00Z', end: '2024-01-01T16:40:00Z' },
];

// No rate budget on either side: this measures what Temporal adds, not the venue's limits.
const UNLIMITED = 1e9;
const sim = await simProcess({ seed: 1, weightBudget: UNLIMITED, markets: { symbols: { ETHUSDT: { tradesPerMinute: TRADES_PER_MINUTE, quietMinuteShare: 0 } } } });
const state = tempDir('temporal');
const server = await startDevServer({ dbFile: join(state.path, 'temporal.db'), port: await freePort(), namespace: 'default', searchAttributes: SEARCH_ATTRIBUTE_KEYS });
const restUrl = `${sim.url}/binance`;

async function fullPath(c: Case): Promise<{ rows: number; ms: number; events: number }> {
  const data = tempDir('full');
  const services = buildServices(parseConfig({ data: data.path, temporal: { address: server.address, taskQueue: `bench-${randomUUID()}` }, exchanges: { binance: { restUrl, requestBudget: UNLIMITED } } }));
  const worker = await startWorker(services);
  try {
    const [result, ms] = await time(async () => {
      const started = await startBackfill(services, { target: c.target, start: c.start, end: c.end });
      return backfillResult(await startedHandle(services, started), started.runId);
    });
    if (result.state !== 'completed') throw new Error(`backfill ${result.state}: ${result.error}`);
    const events = await historyEvents(services, result.runId);
    return { rows: result.rowsWritten, ms, events };
  } finally {
    await worker.shutdown();
    await services.close();
    data.remove();
  }
}

/** Events over every segment of the run (continue-as-new starts a new history). */
async function historyEvents(services: ReturnType<typeof buildServices>, runId: string): Promise<number> {
  const client = await services.temporal();
  let total = 0;
  for await (const wf of client.workflow.list({ query: `DccdRunId = '${runId}'` })) total += wf.historyLength;
  return total;
}

async function rawLoop(c: Case): Promise<{ rows: number; ms: number }> {
  const data = tempDir('raw');
  const store = new ParquetStore(data.path);
  const adapter = createAdapter('binance', { restUrl }, { limiters: new RateLimiters({ binance: { budget: UNLIMITED } }) });
  const deps = { store, adapter: () => adapter };
  try {
    const [rows, ms] = await time(async () => {
      await adapter.checkSymbol(c.target.symbol);
      const plan = planWindows(parseAbsoluteTime(c.start, 'start'), parseAbsoluteTime(c.end, 'end'), windowLengthNs(c.target, 1000));
      let total = 0;
      for (let i = 0; i < plan.count; i += WINDOW_CONCURRENCY) {
        const batch = Array.from({ length: Math.min(WINDOW_CONCURRENCY, plan.count - i) }, (_, k) => plan.window(i + k));
        const results = await Promise.all(batch.map(([lo, hi]) => copyWindow(deps, { target: c.target, startNs: String(lo), endNs: String(hi) })));
        total += results.reduce((s, r) => s + r.rows, 0);
      }
      return total;
    });
    return { rows, ms };
  } finally {
    await store.close();
    data.remove();
  }
}

try {
  for (const c of CASES) {
    const full: number[] = [];
    const raw: number[] = [];
    let rows = 0;
    let events = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = await rawLoop(c);
      raw.push((r.rows * 1000) / r.ms);
      const f = await fullPath(c);
      full.push((f.rows * 1000) / f.ms);
      if (f.rows !== r.rows) throw new Error(`row counts differ: full ${f.rows}, raw ${r.rows}`);
      [rows, events] = [f.rows, f.events];
    }
    report({ bench: BENCH, name: `${c.name}: full path`, value: median(full), unit: 'rows/s', baseline: { name: 'raw loop', value: median(raw) }, note: `${rows.toLocaleString('en-US')} rows, median of ${RUNS}` });
    report({ bench: BENCH, name: `${c.name}: history events per 1 M rows`, value: (events * 1e6) / rows, unit: 'events', note: `${events} events in all segments` });
  }
} finally {
  await server.stop();
  await sim.stop();
  state.remove();
}
