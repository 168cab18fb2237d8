// Backfill overhead: the full path (Temporal dev server persisted like `dccd start`, worker,
// workflow, activities, store) against a raw loop that copies the same windows with the same
// adapter and writer and no Temporal, both against the simulator at zero latency. Also the
// Temporal cost in history: events per million rows backfilled.
//
// For profiling, BENCH_CASE=<part of a case name> keeps matching cases only and
// BENCH_ONLY=raw|full runs one side alone (no ratio then); see README.md.
import { copyWindow } from '../src/activities/backfill.ts';
import { parseAbsoluteTime } from '../src/domain/time.ts';
import { planWindows, windowLengthNs } from '../src/domain/windows.ts';
import { RateLimiters } from '../src/sources/rate-limiter.ts';
import { createAdapter } from '../src/sources/registry.ts';
import { ParquetStore } from '../src/storage/parquet-store.ts';
import { WINDOW_CONCURRENCY } from '../src/workflows/backfill.ts';
import { benchTemporal, runFullPath, type BackfillCase } from './full-path.ts';
import { median, report, RUNS, simProcess, tempDir, time } from './lib.ts';

const BENCH = 'backfill-overhead';

// A dense market so 1 M trades fit in ~17 hours of history.
const TRADES_PER_MINUTE = 1000;
const ALL_CASES: BackfillCase[] = [
  { name: 'ohlc 1m, 30 days', target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' }, start: '2024-01-01', end: '2024-01-31' },
  { name: 'trades, 1 M', target: { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' }, start: '2024-01-01T00:00:00Z', end: '2024-01-01T16:40:00Z' },
  // What every run costs whatever its size (what a scheduled job pays each time): one page.
  { name: 'one page, the per-run fixed cost', target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' }, start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' },
];
const CASES = ALL_CASES.filter((c) => c.name.includes(process.env.BENCH_CASE ?? ''));
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'raw' && ONLY !== 'full') throw new Error(`BENCH_ONLY: 'raw' or 'full', got '${ONLY}'`);

// No rate budget on either side: this measures what Temporal adds, not the venue's limits.
const UNLIMITED = 1e9;
const sim = await simProcess({ seed: 1, weightBudget: UNLIMITED, markets: { symbols: { ETHUSDT: { tradesPerMinute: TRADES_PER_MINUTE, quietMinuteShare: 0 } } } });
const temporal = ONLY === 'raw' ? undefined : await benchTemporal();
const restUrl = `${sim.url}/binance`;

/** The simulator builds a market's tables on its first request; that stays out of the timings. */
async function warmUp(c: BackfillCase): Promise<void> {
  const adapter = createAdapter('binance', { restUrl }, { limiters: new RateLimiters({ binance: { budget: UNLIMITED } }) });
  const startNs = parseAbsoluteTime(c.start, 'start');
  const range = { startNs, endNs: startNs + windowLengthNs(c.target, 1000) };
  const pages = c.target.kind === 'ohlc' ? adapter.ohlcPages(c.target, range) : adapter.tradePages(c.target, range);
  for await (const _ of pages as AsyncIterable<unknown>) break;
}

async function rawLoop(c: BackfillCase): Promise<{ rows: number; ms: number }> {
  const data = tempDir('raw');
  const store = new ParquetStore(data.path);
  const adapter = createAdapter('binance', { restUrl }, { limiters: new RateLimiters({ binance: { budget: UNLIMITED } }) });
  const deps = { store, adapter: () => adapter };
  try {
    const [rows, ms] = await time(async () => {
      await adapter.checkSymbol(c.target.symbol);
      const plan = planWindows(parseAbsoluteTime(c.start, 'start'), parseAbsoluteTime(c.end, 'end'), windowLengthNs(c.target, 1000));
      let total = 0;
      // Windows in batches, as the workflow schedules them.
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

const coverageOpen: number[] = [];
try {
  for (const c of CASES) {
    const full: number[] = [];
    const raw: number[] = [];
    let rows = 0;
    let events = 0;
    await warmUp(c);
    for (let i = 0; i < RUNS; i++) {
      const r = ONLY === 'full' ? undefined : await rawLoop(c);
      if (r) raw.push((r.rows * 1000) / r.ms);
      const f = temporal && (await runFullPath(temporal.address, restUrl, c, { requestBudget: UNLIMITED }));
      if (f) {
        full.push((f.rows * 1000) / f.ms);
        events = f.events;
        coverageOpen.push(f.coverageOpenMs / 1000);
      }
      if (r && f && f.rows !== r.rows) throw new Error(`row counts differ: full ${f.rows}, raw ${r.rows}`);
      rows = f?.rows ?? r!.rows;
    }
    const note = `${rows.toLocaleString('en-US')} rows, median of ${RUNS}`;
    if (ONLY === 'raw') report({ bench: BENCH, name: `${c.name}: raw loop`, value: median(raw), unit: 'rows/s', note });
    else if (ONLY === 'full') report({ bench: BENCH, name: `${c.name}: full path`, value: median(full), unit: 'rows/s', note });
    else report({ bench: BENCH, name: `${c.name}: full path`, value: median(full), unit: 'rows/s', baseline: { name: 'raw loop', value: median(raw) }, note });
    if (ONLY !== 'raw') report({ bench: BENCH, name: `${c.name}: history events per 1 M rows`, value: (events * 1e6) / rows, unit: 'events', note: `${events} events in all segments` });
  }
  if (coverageOpen.length) {
    report({
      bench: BENCH,
      name: 'coverage manifest first open (embedded Postgres, fresh data dir)',
      value: median(coverageOpen),
      unit: 's',
      note: `once per worker process, before its first backfill; not in the rows/s above; median of ${coverageOpen.length}`,
    });
  }
} finally {
  await temporal?.stop();
  await sim.stop();
}
