// Rate-budget saturation: a long trades backfill through the full path against the
// simulator enforcing the venue's published budget with a 50 ms round trip. A collector
// that fills history fast uses nearly all of the budget in every window, is never told off
// (no 429, no 418 ban) and asks for each page once. Baseline: the budget itself.
import type { ExchangeName, Kind } from '../src/domain/target.ts';
import { isoFromNs, NS_PER_DAY, parseAbsoluteTime } from '../src/domain/time.ts';
import type { MarketParams } from '../src/sim/index.ts';
import { benchTemporal, runFullPath } from './full-path.ts';
import { report, simProcess } from './lib.ts';

const BENCH = 'rate-budget';
const LATENCY_MS = 50;
/** Slack over the time the budget imposes, after which the run counts as stuck. */
const DEADLINE_SLACK_MS = 90_000;

interface VenueCase {
  /** Unified symbol backfilled, and the venue-native name the simulator lists it under. */
  symbol: string;
  native: string;
  kind: Kind;
  /** The venue's published budget per window, as dccd's limiter enforces it by default. */
  budget: number;
  windowMs: number;
  unit: string;
  /** The paging route, its cost and the rows a page holds. */
  pagePath: string;
  pageWeight: number;
  pageRows: number;
  /** Cost of the requests outside paging (symbol check). */
  fixedWeight: number;
  /** A market dense enough that the range needs at least 4 windows of budget. */
  market: Partial<MarketParams>;
  start: string;
  days: number;
}

/**
 * Binance: REQUEST_WEIGHT 6000/min, aggTrades weight 4 and 1000 rows a page, so at most
 * 1500 pages (1.5 M trades) a minute. 4 days × 1440 min × 900 trades ≈ 5.2 M trades ≈ 20 700
 * weight: at least 4 minute windows, the inner 2 or more whole ones. 4 days are 4 windows
 * of the workflow, fetched at once (WINDOW_CONCURRENCY), so the run never drops to one pager.
 * https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
 */
const VENUES: Partial<Record<ExchangeName, VenueCase>> = {
  binance: {
    symbol: 'ETH/USDT',
    native: 'ETHUSDT',
    kind: 'trades',
    budget: 6000,
    windowMs: 60_000,
    unit: 'weight/min',
    pagePath: '/api/v3/aggTrades',
    pageWeight: 4,
    pageRows: 1000,
    fixedWeight: 20,
    market: { tradesPerMinute: 900, quietMinuteShare: 0 },
    start: '2024-01-01',
    days: 4,
  },
};

for (const [exchange, v] of Object.entries(VENUES) as [ExchangeName, VenueCase][]) {
  const sim = await simProcess({ seed: 1, latencyMs: LATENCY_MS, weightBudget: v.budget, markets: { symbols: { [v.native]: v.market } } });
  const temporal = await benchTemporal();
  try {
    const startNs = parseAbsoluteTime(v.start, 'start');
    const end = isoFromNs(startNs + BigInt(v.days) * NS_PER_DAY);
    const truth = (await (await fetch(`${sim.url}/_sim/truth?exchange=${exchange}&symbol=${v.native}&kind=${v.kind}&start=${v.start}&end=${end}`)).json()) as { rows: number };
    // One page more per workflow window at most: its last page is partial.
    const pagesNeeded = Math.ceil(truth.rows / v.pageRows) + v.days;
    // The whole weight at exactly the budget: a bound on what a healthy run takes.
    const budgetMs = ((pagesNeeded * v.pageWeight + v.fixedWeight) / v.budget) * v.windowMs;
    const c = { name: `${exchange} ${v.kind}`, target: { exchange, symbol: v.symbol, kind: v.kind }, start: v.start, end };
    const run = await runFullPath(temporal.address, `${sim.url}/${exchange}`, c, { deadlineMs: budgetMs + DEADLINE_SLACK_MS });
    const stats = await sim.stats(exchange);

    const whole = Object.entries(stats.weightByWindow)
      .map(([iso, used]) => ({ startMs: Date.parse(iso), used }))
      .filter((w) => w.startMs >= run.startedAtMs && w.startMs + v.windowMs <= run.endedAtMs);
    if (whole.length === 0) throw new Error(`${exchange}: the run (${(run.ms / 1000).toFixed(0)} s) held no whole rate-limit window; lengthen the range`);
    const used = whole.map((w) => w.used);
    const share = used.reduce((s, x) => s + x, 0) / used.length;
    const outcome = run.completed
      ? `${run.rows.toLocaleString('en-US')} rows in ${(run.ms / 1000).toFixed(0)} s`
      : `STUCK: not done after ${(run.ms / 1000).toFixed(0)} s (${run.rows.toLocaleString('en-US')} of ${truth.rows.toLocaleString('en-US')} rows): ${run.stuck}`;
    if (!run.completed) process.exitCode = 1;
    report({
      bench: BENCH,
      name: `${exchange} ${v.kind}: budget used`,
      value: share,
      unit: v.unit,
      baseline: { name: 'budget', value: v.budget },
      note: `mean of ${whole.length} whole windows, min ${Math.min(...used)}; ${LATENCY_MS} ms latency; ${outcome}`,
    });
    report({
      bench: BENCH,
      name: `${exchange} ${v.kind}: page requests`,
      value: stats.byPath[v.pagePath] ?? 0,
      unit: 'requests',
      baseline: { name: 'pages needed (+1 a window)', value: pagesNeeded },
      note: `${run.retries} activity retries`,
    });
    report({ bench: BENCH, name: `${exchange} ${v.kind}: 429 answers`, value: stats.status429, unit: 'responses', note: `of ${stats.requests} requests` });
    report({ bench: BENCH, name: `${exchange} ${v.kind}: 418 answers`, value: stats.status418, unit: 'responses', note: 'IP bans' });
  } finally {
    await temporal.stop();
    await sim.stop();
  }
}
