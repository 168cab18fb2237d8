// Crash trials: a long backfill runs while the worker, the Temporal server or the whole
// `dccd start` is killed with SIGKILL at random moments and restarted; at the end the store
// must equal the simulator's truth exactly (no row missing, none twice).
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runResult, startedHandle } from '../../src/client/runs.ts';
import { startBackfill } from '../../src/jobs/backfill.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import type { Target } from '../../src/domain/target.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import { buildServices } from '../../src/services.ts';
import { startSim } from '../../src/sim/index.ts';
import { ParquetStore } from '../../src/storage/parquet-store.ts';
import type { DevServer } from '../../src/worker/dev-server.ts';
import { startEmbeddedServer } from '../../src/worker/embedded-stack.ts';
import { checksumRows } from '../../src/sim/checksum.ts';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import { freePort } from '../helpers/ports.ts';
import { processesMatching, runDccd, waitUntil, type DccdProcess } from '../helpers/dccd-process.ts';

/** What gets killed: a `dccd worker`, the Temporal server (worker kept), or `dccd start`. */
export type KillTarget = 'worker' | 'server' | 'start';

export interface TrialOptions {
  /** Kill targets in order; each kill is followed by a restart. */
  kills: KillTarget[];
  dataset: 'ohlc' | 'trades';
  seed: number;
  /** Random delay before each kill, ms. */
  killEveryMs: [number, number];
  data: string;
  log?: (line: string) => void;
}

export interface TrialResult {
  kills: number;
  /** Where each kill landed: 'write' when a part was being written, else 'fetch'; or 'server'. */
  killPoints: string[];
  exact: boolean;
  rows: number;
  truthRows: number;
  pages: number;
  detail: string;
}

const DATASETS = {
  // ~526 pages of klines: a year of 1-minute candles.
  ohlc: { target: { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m' } as Target, start: '2023-01-01', end: '2024-01-01', latencyMs: 30 },
  // ~1 000 pages of aggTrades: 1 M trades of a dense market.
  trades: { target: { exchange: 'binance', symbol: 'ETH/USDT', kind: 'trades' } as Target, start: '2024-01-01', end: '2024-01-01T16:40:00Z', latencyMs: 10 },
};

const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runTrial(o: TrialOptions): Promise<TrialResult> {
  const say = o.log ?? (() => undefined);
  const ds = DATASETS[o.dataset];
  const sim = await startSim({
    port: 0,
    seed: o.seed,
    latencyMs: ds.latencyMs,
    markets: { symbols: { ETHUSDT: { tradesPerMinute: 1000, quietMinuteShare: 0 } } },
  });
  const [temporalPort, apiPort] = [await freePort(), await freePort()];
  const taskQueue = `chaos-${randomUUID()}`;
  const dbFile = join(o.data, '.dccd', 'temporal.db');
  const env = {
    DCCD_DATA: o.data,
    DCCD_TASK_QUEUE: taskQueue,
    DCCD_BINANCE_REST_URL: `${sim.url}/binance`,
    DCCD_API_PORT: String(apiPort),
    DATABASE_URL: process.env.DATABASE_URL ?? '',
  };
  const usesStart = o.kills.includes('start');
  const config = join(o.data, 'dccd.yml');
  writeFileSync(config, `temporal: { port: ${temporalPort}, ui: false }\n`);
  const address = `127.0.0.1:${temporalPort}`;

  let server: DevServer | undefined;
  let proc: DccdProcess | undefined;
  const startServer = async () => {
    server = await startEmbeddedServer({ dbFile, port: temporalPort });
  };
  const startProc = async () => {
    proc = usesStart
      ? runDccd(['start', '--config', config], { ...env, TEMPORAL_ADDRESS: '' })
      : runDccd(['worker'], { ...env, TEMPORAL_ADDRESS: address });
    await proc.waitFor(usesStart ? /^dccd ready/ : /^dccd worker ready/);
  };
  if (!usesStart) await startServer();
  await startProc();

  const services = buildServices(parseConfig({ data: o.data, temporal: { address, taskQueue }, exchanges: { binance: { restUrl: `${sim.url}/binance` } } }));
  const killPoints: string[] = [];
  try {
    const started = await retrying(() => startBackfill(services, { target: ds.target, start: ds.start, end: ds.end }));
    say(`run ${started.runId}: ${o.dataset}, kills ${o.kills.join(',')}`);
    const outcome = backfillUntilDone(services, started);
    let finished = false;
    const markFinished = () => (finished = true);
    outcome.then(markFinished, markFinished);
    for (const [k, target] of o.kills.entries()) {
      await sleep(rand(...o.killEveryMs));
      if (finished) break;
      // Every other process kill waits for a part being written, to hit the write path.
      if (target !== 'server' && k % 2 === 1) await waitForWrite(o.data, () => finished);
      if (target === 'server') {
        for (const line of processesMatching(dbFile)) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
        killPoints.push('server');
        await server!.exited;
        await sleep(rand(0, 1000));
        await startServer();
      } else {
        const writing = tempFiles(o.data).length > 0;
        proc!.child.kill('SIGKILL');
        await proc!.exited;
        killPoints.push(`${target}@${writing ? 'write' : 'fetch'}`);
        if (target === 'start') await waitUntil(() => processesMatching(dbFile).length === 0, 15_000, 'the embedded server exits with dccd start');
        await sleep(rand(0, 1000));
        await startProc();
      }
      say(`  killed ${killPoints.at(-1)}`);
    }
    const result = await outcome;
    const store = new ParquetStore(o.data);
    try {
      const start = parseAbsoluteTime(ds.start, 'start');
      const end = parseAbsoluteTime(ds.end, 'end');
      const rows = (await store.readRows(ds.target as Target & { kind: 'ohlc' | 'trades' }, start, end)) as (OhlcRow | TradeRow)[];
      const truth = sim.truth({ exchange: 'binance', symbol: ds.target.symbol.replace('/', ''), kind: o.dataset, span: ds.target.span, start: ds.start, end: ds.end });
      const checksum = checksumRows(o.dataset, rows as never);
      const exact = result.state === 'completed' && rows.length === truth.rows && checksum === truth.checksum && tempFiles(o.data).length === 0;
      const pages = sim.stats('binance').byPath[o.dataset === 'ohlc' ? '/api/v3/klines' : '/api/v3/aggTrades'] ?? 0;
      return {
        kills: killPoints.length,
        killPoints,
        exact,
        rows: rows.length,
        truthRows: truth.rows,
        pages,
        detail: `${result.state}${result.error ? `: ${result.error}` : ''}; stored ${rows.length} rows, truth ${truth.rows}; checksum ${checksum === truth.checksum ? 'equal' : 'differs'}`,
      };
    } finally {
      await store.close();
    }
  } finally {
    proc?.child.kill('SIGINT');
    await proc?.exited;
    await services.close();
    await server?.stop();
    await sim.close();
  }
}

/** Follows the run to its end across server restarts (the client reconnects). */
async function backfillUntilDone(services: ReturnType<typeof buildServices>, started: { runId: string; workflowId: string }) {
  return retrying(async () => runResult(await startedHandle(services, started), started.runId), 600);
}

/** Retries calls that fail while the server is down. */
async function retrying<T>(fn: () => Promise<T>, attempts = 120): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const text = `${(e as Error).message} ${((e as Error).cause as Error | undefined)?.message ?? ''}`;
      const transient = /UNAVAILABLE|ECONNREFUSED|Connection dropped|connect|deadline/i.test(text);
      if (!transient || i >= attempts) throw e;
      await sleep(500);
    }
  }
}

/** Returns as soon as a temp file (a part being written) shows, or after 5 s. */
async function waitForWrite(dir: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !done() && tempFiles(dir).length === 0) await sleep(2);
}

function tempFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.includes('.tmp-'));
}
