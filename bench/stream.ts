// Live trade streams through the full path: the simulator's aggTrade stream (in a process of
// its own), a real worker on a Temporal dev server, the stream workflow and its activity
// (the source's parse and de-duplication, the activity's buffer, Parquet flushes through
// ParquetStore.append, coverage in the embedded manifest). Four figures:
//   ingest   msg/s one stream sustains from a firehose market, against a plain `ws` loop
//            on the same stream that JSON-parses each message and drops it;
//   latency  receipt (the transport's receivedAtMs) to durable (the flush's append and
//            cover answered), p50 and p99, for a listed pair and a busy one at the default
//            flush settings;
//   memory   RSS and heap of the worker process through one long stream;
//   streams  receipt lag (receipt minus the trade's own time) with 1, 4, 16, 64, 96 streams
//            on one worker, and the most it keeps up with.
//   BENCH_PHASES=ingest,latency,memory,streams  BENCH_MEMORY_MINUTES=10  BENCH_RUNS=3
//   BENCH_INGEST_SECONDS=20  BENCH_STREAMS=1,4,16,64,96  BENCH_STREAM_RATE=100  (see README.md)
// For profiling the ingest phase, BENCH_ONLY=raw|dccd runs one side alone and BENCH_CASE=<part
// of a case name> keeps matching flush cases only.
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { runHandle, stopRun, type RunHandle } from '../src/client/runs.ts';
import { streamResult } from '../src/client/streams.ts';
import { parseConfig } from '../src/config/load-config.ts';
import { DEFAULT_FLUSH_MS, DEFAULT_FLUSH_ROWS } from '../src/domain/stream.ts';
import { startStream } from '../src/jobs/stream.ts';
import type { MarketParams } from '../src/sim/index.ts';
import { buildServices } from '../src/services.ts';
import { startWorker } from '../src/worker/worker.ts';
import { until } from '../test/helpers/until.ts';
import { benchTemporal } from './full-path.ts';
import { benchRuns, fmt, median, report, simProcess, tempDir } from './lib.ts';
import { cpuSeconds } from './processes.ts';
import { MsHistogram, probeStreams, type StreamProbe, type StreamSeen } from './stream-probe.ts';

const BENCH = 'stream';

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  const v = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name}: a number from ${min} up, got '${raw}'`);
  return v;
}

const PHASES = ['ingest', 'latency', 'memory', 'streams'] as const;
type Phase = (typeof PHASES)[number];
const phases = (process.env.BENCH_PHASES ?? PHASES.join(',')).split(',').filter(Boolean);
for (const p of phases) if (!PHASES.includes(p as Phase)) throw new Error(`BENCH_PHASES: '${p}' is not one of ${PHASES.join(', ')}`);
const RUNS = benchRuns(3);
const INGEST_S = envNumber('BENCH_INGEST_SECONDS', 20, 1);
const LATENCY_S = envNumber('BENCH_LATENCY_SECONDS', 60, 10);
const MEMORY_MIN = envNumber('BENCH_MEMORY_MINUTES', 10, 0.5);
const STEP_S = envNumber('BENCH_STEP_SECONDS', 30, 5);
const STREAM_RATE = envNumber('BENCH_STREAM_RATE', 100, 1);
const STEPS = (process.env.BENCH_STREAMS ?? '1,4,16,64,96').split(',').map((s) => {
  const n = Number(s);
  // A worker runs 100 activities at once by default: https://typescript.temporal.io/api/interfaces/worker.WorkerOptions#maxconcurrentactivitytaskexecutions
  if (!Number.isSafeInteger(n) || n < 1 || n > 99) throw new Error(`BENCH_STREAMS: whole numbers from 1 to 99 (a worker runs 100 activities at most), got '${s}'`);
  return n;
});
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'raw' && ONLY !== 'dccd') throw new Error(`BENCH_ONLY: 'raw' or 'dccd', got '${ONLY}'`);
/** A worker keeps up with its streams while it takes this share of what their markets trade... */
const KEPT_UP_SHARE = 0.95;
/** ...and receives 99 % of it within this long of the trade (the simulator pushes every 100 ms). */
const KEPT_UP_LAG_MS = 1_000;
/** Before a window is measured, after the stream's first flush: the JIT, DuckDB and the manifest settle. */
const WARM_MS = 3_000;
const MEMORY_SAMPLE_MS = 5_000;

// Markets of steady rates (every minute the same count), priced and sized so that a busy
// minute's notional still sums exactly.
const steady = (perSecond: number): Partial<MarketParams> => ({
  listing: '2024-01-01',
  tradesPerMinute: perSecond * 60,
  tradeCountSpread: 0,
  quietMinuteShare: 0,
  startPrice: 100,
  tickSize: 0.01,
  lotSize: 0.01,
});
/** Above the 100 k msg/s the product aims at. */
const FIREHOSE_RATE = 120_000;
const LISTED_RATE = 10;
const BUSY_RATE = 10_000;
const MEMORY_RATE = 1_000;
const streamSymbol = (i: number) => `S${String(i + 1).padStart(3, '0')}USDT`;
const symbols: Record<string, Partial<MarketParams>> = {
  FIREUSDT: steady(FIREHOSE_RATE),
  LISTEDUSDT: steady(LISTED_RATE),
  BUSYUSDT: steady(BUSY_RATE),
  MEMUSDT: steady(MEMORY_RATE),
};
for (let i = 0; i < Math.max(...STEPS); i++) symbols[streamSymbol(i)] = steady(STREAM_RATE);

// A tick may carry up to a second of the firehose, so the simulator catches up after a pause.
const sim = await simProcess({ seed: 1, weightBudget: 1e9, wsTradesPerTick: 120_000, markets: { symbols } });
const wsBase = `${sim.url.replace(/^http/, 'ws')}/binance`;
const temporal = await benchTemporal().catch(async (e: unknown) => {
  await sim.stop();
  throw e;
});

interface StreamWorker {
  probe: StreamProbe;
  start(symbol: string, flush?: { flushRows?: number; flushMs?: number }): Promise<RunHandle>;
  /** Stops the streams it started (each flushes and ends), then the worker. */
  stop(): Promise<void>;
}

/** A worker of its own (data folder, manifest, task queue) with its streams watched. */
async function streamWorker(): Promise<StreamWorker> {
  const data = tempDir('stream');
  const services = buildServices(
    parseConfig({
      data: data.path,
      temporal: { address: temporal.address, taskQueue: `bench-${randomUUID()}` },
      exchanges: { binance: { restUrl: `${sim.url}/binance`, wsUrl: wsBase, requestBudget: 1e9 } },
    }),
  );
  const probe = await probeStreams(services, 'binance');
  const worker = await startWorker(services);
  const handles: RunHandle[] = [];
  return {
    probe,
    async start(symbol, flush = {}) {
      const started = await startStream(services, { target: { exchange: 'binance', symbol, kind: 'trades' }, ...flush });
      const handle = await runHandle(services, started.runId);
      handles.push(handle);
      return handle;
    },
    async stop() {
      try {
        await Promise.all(
          handles.map(async (h) => {
            await stopRun(h);
            await streamResult(h);
          }),
        );
      } finally {
        await worker.shutdown();
        await services.close();
        data.remove();
      }
    },
  };
}

const flushed = (w: StreamWorker, n: number) =>
  until(`the first flush of ${n} stream(s)`, async () => (w.probe.streams.size >= n && w.probe.all().every((s) => s.flushes > 0) ? true : undefined), 120_000);

/** CPU share of this process and of the simulator over `fn`, in % of one core. */
async function withCpu<T>(fn: () => Promise<T>): Promise<{ result: T; selfPct: number; simPct: number; seconds: number }> {
  const [self0, sim0, t0] = [await cpuSeconds(process.pid), await cpuSeconds(sim.pid), performance.now()];
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const [self1, sim1] = [await cpuSeconds(process.pid), await cpuSeconds(sim.pid)];
  return { result, seconds, selfPct: ((self1 - self0) / seconds) * 100, simPct: ((sim1 - sim0) / seconds) * 100 };
}

const pct = (x: number) => `${Math.round(x)} %`;

// ---- ingest ------------------------------------------------------------------------------

interface Ingest {
  perS: number;
  selfPct: number;
  simPct: number;
  note?: string;
}

/** A plain `ws` client on the firehose: every message JSON-parsed and dropped. */
async function rawIngest(): Promise<Ingest> {
  const ws = new WebSocket(`${wsBase}/ws/fireusdt@aggTrade`);
  let n = 0;
  ws.on('message', (data) => {
    JSON.parse(data.toString());
    n++;
  });
  try {
    await once(ws, 'open');
    await until('the first message', async () => (n > 0 ? true : undefined));
    await sleep(WARM_MS);
    const n0 = n;
    const m = await withCpu(() => sleep(INGEST_S * 1000));
    return { perS: (n - n0) / m.seconds, selfPct: m.selfPct, simPct: m.simPct };
  } finally {
    ws.terminate();
  }
}

/** One stream of the firehose through worker, workflow and activity: rows made durable per second. */
async function dccdIngest(flush: { flushRows?: number }): Promise<Ingest> {
  const w = await streamWorker();
  try {
    await w.start('FIRE/USDT', flush);
    await flushed(w, 1);
    await sleep(WARM_MS);
    const [seen] = w.probe.all() as [StreamSeen];
    const [d0, f0] = [seen.durable, seen.flushes];
    const m = await withCpu(() => sleep(INGEST_S * 1000));
    const flushes = seen.flushes - f0;
    const note = `${flushes} flushes of ${fmt((seen.durable - d0) / Math.max(1, flushes))} rows, ${fmt(seen.flushMs.quantile(0.5))} ms each (median)`;
    return { perS: (seen.durable - d0) / m.seconds, selfPct: m.selfPct, simPct: m.simPct, note };
  } finally {
    await w.stop();
  }
}

async function ingestPhase(): Promise<void> {
  const cases = [
    { name: `default flush (${fmt(DEFAULT_FLUSH_ROWS)} rows / ${DEFAULT_FLUSH_MS / 1000} s)`, flush: {} },
    { name: 'flush every 100,000 rows', flush: { flushRows: 100_000 } },
  ].filter((c) => c.name.includes(process.env.BENCH_CASE ?? ''));
  const raw: Ingest[] = [];
  const dccd = cases.map(() => [] as Ingest[]);
  // The sides take turns run by run, so a noisy minute of the machine falls on both.
  for (let r = 0; r < RUNS; r++) {
    if (ONLY !== 'dccd') raw.push(await rawIngest());
    if (ONLY !== 'raw') for (const [i, c] of cases.entries()) dccd[i]!.push(await dccdIngest(c.flush));
  }
  const cpuNote = (xs: Ingest[]) => `CPU: dccd process ${pct(median(xs.map((x) => x.selfPct)))}, simulator ${pct(median(xs.map((x) => x.simPct)))}`;
  const market = `firehose market ${fmt(FIREHOSE_RATE)} trades/s, ${INGEST_S} s windows, median of ${RUNS}`;
  const rawPerS = raw.length ? median(raw.map((x) => x.perS)) : undefined;
  if (rawPerS !== undefined) report({ bench: BENCH, name: 'ingest, raw ws loop (JSON.parse and drop)', value: rawPerS, unit: 'msg/s', note: `${market}; ${cpuNote(raw)}` });
  for (const [i, c] of cases.entries()) {
    const xs = dccd[i]!;
    if (xs.length === 0) continue;
    const mid = [...xs].sort((a, b) => a.perS - b.perS)[xs.length >> 1]!;
    const baseline = rawPerS === undefined ? {} : { baseline: { name: 'raw ws loop', value: rawPerS } };
    report({ bench: BENCH, name: `ingest, dccd path, ${c.name}`, value: median(xs.map((x) => x.perS)), unit: 'msg/s', ...baseline, note: `${cpuNote(xs)}; ${mid.note}` });
  }
}

// ---- latency -----------------------------------------------------------------------------

async function latencyCase(name: string, symbol: string, rate: number, seconds: number, baseline: (seen: StreamSeen) => { name: string; value: number }): Promise<void> {
  const w = await streamWorker();
  try {
    await w.start(symbol);
    await flushed(w, 1);
    const [seen] = w.probe.all() as [StreamSeen];
    seen.reset();
    await sleep(seconds * 1000);
    const h = seen.receiptToDurable;
    const note = `${fmt(rate)} trades/s, default flush (${fmt(DEFAULT_FLUSH_ROWS)} rows / ${DEFAULT_FLUSH_MS / 1000} s), ${seen.flushes} flushes, ${fmt(h.count)} rows over ${seconds} s`;
    const base = baseline(seen);
    report({ bench: BENCH, name: `receipt to durable, ${name}: p50`, value: h.quantile(0.5), unit: 'ms', baseline: base, note });
    report({ bench: BENCH, name: `receipt to durable, ${name}: p99`, value: h.quantile(0.99), unit: 'ms', baseline: base, note });
  } finally {
    await w.stop();
  }
}

async function latencyPhase(): Promise<void> {
  await latencyCase('listed pair', 'LISTED/USDT', LISTED_RATE, LATENCY_S, () => ({ name: 'flush interval', value: DEFAULT_FLUSH_MS }));
  await latencyCase('busy pair', 'BUSY/USDT', BUSY_RATE, Math.ceil(LATENCY_S / 2), (seen) => ({ name: 'one flush (append + cover), median', value: seen.flushMs.quantile(0.5) }));
}

// ---- memory ------------------------------------------------------------------------------

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function memoryPhase(): Promise<void> {
  const w = await streamWorker();
  const MB = 2 ** 20;
  try {
    const idleRss = process.memoryUsage().rss / MB;
    await w.start('MEM/USDT');
    await flushed(w, 1);
    const [seen] = w.probe.all() as [StreamSeen];
    const minutes: number[] = [];
    const rss: number[] = [];
    const heap: number[] = [];
    // What one flush costs in the first minute and in the last: parts pile up in the partition meanwhile.
    let firstMinuteFlushMs: number | undefined;
    let inLastMinute = false;
    const t0 = performance.now();
    for (;;) {
      const m = process.memoryUsage();
      const at = (performance.now() - t0) / 60_000;
      minutes.push(at);
      rss.push(m.rss / MB);
      heap.push(m.heapUsed / MB);
      if (at >= MEMORY_MIN) break;
      if (firstMinuteFlushMs === undefined && at >= 1) {
        firstMinuteFlushMs = seen.flushMs.quantile(0.5);
        seen.flushMs = new MsHistogram();
      } else if (firstMinuteFlushMs !== undefined && !inLastMinute && at >= MEMORY_MIN - 1) {
        inLastMinute = true;
        seen.flushMs = new MsHistogram();
      }
      await sleep(MEMORY_SAMPLE_MS);
    }
    const half = minutes.findIndex((m) => m >= MEMORY_MIN / 2);
    const series = (name: string, ys: number[]) => {
      const note = `start ${fmt(ys[0]!)} MB, end ${fmt(ys.at(-1)!)} MB, max ${fmt(Math.max(...ys))} MB; slope over the second half ${fmt(slope(minutes.slice(half), ys.slice(half)))} MB/min; ${minutes.length} samples`;
      report({ bench: BENCH, name: `memory, one stream for ${MEMORY_MIN} min: ${name} slope`, value: slope(minutes, ys), unit: 'MB/min', note });
    };
    series('RSS', rss);
    series('heap used', heap);
    const run = `${fmt(MEMORY_RATE)} trades/s, ${fmt(seen.durable)} rows in ${seen.flushes} flushes; the idle worker's RSS before the stream ${fmt(idleRss)} MB`;
    if (firstMinuteFlushMs !== undefined && inLastMinute) {
      report({ bench: BENCH, name: 'memory run: one flush (append + cover) in the last minute, median', value: seen.flushMs.quantile(0.5), unit: 'ms', baseline: { name: 'in the first minute', value: firstMinuteFlushMs }, note: run });
    } else console.log(`${BENCH}: memory run: ${run}`);
  } finally {
    await w.stop();
  }
}

// ---- streams per worker ------------------------------------------------------------------

async function streamsPhase(): Promise<void> {
  let oneStreamP99: number | undefined;
  let held = 0;
  let heldNote = 'none';
  for (const n of STEPS) {
    const w = await streamWorker();
    try {
      for (let i = 0; i < n; i++) await w.start(streamSymbol(i));
      await flushed(w, n);
      w.probe.reset();
      const m = await withCpu(() => sleep(STEP_S * 1000));
      const lag = new MsHistogram();
      const durable = new MsHistogram();
      let rows = 0;
      for (const s of w.probe.all()) {
        lag.merge(s.receiptLag);
        durable.merge(s.durableLag);
        rows += s.received;
      }
      const [p50, p99] = [lag.quantile(0.5), lag.quantile(0.99)];
      oneStreamP99 ??= p99;
      const taken = rows / m.seconds / (n * STREAM_RATE);
      const cpu = `CPU: worker process ${pct(m.selfPct)}, simulator ${pct(m.simPct)}`;
      if (taken >= KEPT_UP_SHARE && p99 < KEPT_UP_LAG_MS) [held, heldNote] = [n, `${fmt(p99)} ms receipt lag p99, ${cpu}`];
      const note = `p50 ${fmt(p50)} ms; trade to durable p99 ${fmt(durable.quantile(0.99))} ms; ${fmt(rows / m.seconds)} msg/s taken in all (${pct(taken * 100)} of the markets' trades); ${cpu}`;
      report({ bench: BENCH, name: `${n} stream(s) at ${fmt(STREAM_RATE)} trades/s each: receipt lag p99`, value: p99, unit: 'ms', baseline: { name: `${STEPS[0]} stream(s)`, value: oneStreamP99 }, note });
    } finally {
      await w.stop();
    }
  }
  const rule = `the largest step of ${STEPS.join(', ')} that takes ≥ ${pct(KEPT_UP_SHARE * 100)} of its markets' trades with a receipt lag p99 under ${fmt(KEPT_UP_LAG_MS)} ms`;
  report({ bench: BENCH, name: `streams one worker keeps up with at ${fmt(STREAM_RATE)} trades/s each`, value: held, unit: 'streams', note: `${rule}; there: ${heldNote}` });
}

try {
  const run: Record<Phase, () => Promise<void>> = { ingest: ingestPhase, latency: latencyPhase, memory: memoryPhase, streams: streamsPhase };
  for (const p of PHASES) if (phases.includes(p)) await run[p]();
} finally {
  await temporal.stop();
  await sim.stop();
}
