// The contenders of bench/peer.ts, each one whole backfill as a user runs it, into a fresh
// folder: dccd's one-shot command alone (cold), the same command beside a running
// `dccd start` (warm), and dccd-python's Client in a process of its own.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ChecksumSummary } from '../../src/sim/checksum.ts';
import { parseAbsoluteTime } from '../../src/domain/time.ts';
import { spanNs } from '../../src/domain/target.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { cleanEnv, DCCD, peakRssKb, runMeasured, startDccd, type MeasuredRun } from '../processes.ts';
import { dccdOutput, pythonOutput, type PeerKind } from './check.ts';

/** A request budget (dccd, the simulator) no backfill here comes near. */
export const UNLIMITED = 1e9;
const DRIVER = fileURLToPath(new URL('./dccd_python_backfill.py', import.meta.url));
// The log line of a window attempt that resumes from the checkpoint of one that timed out or failed.
const RETRIED = /\battempt \d+: /;
// Untimed, on another dataset: a warm daemon has already run a backfill (its store, manifest and code paths are open).
const PRIME = ['backfill', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1h', '--start', '2023-12-01', '--end', '2023-12-02', '--wait'];

export interface PeerCase {
  name: string;
  /** The venue's symbol (dccd, the simulator) and the unified one (dccd-python). */
  native: string;
  symbol: string;
  kind: PeerKind;
  span?: string;
  /** A date: dccd-python's backfill reads only the date of its start. */
  start: string;
  end: string;
}

export interface ToolRun {
  ms: number;
  /** Peak RSS of the process hosting the backfill, kB. */
  peakKb: number;
  output: ChecksumSummary;
  /** A window of the run took more than one attempt (dccd's log says `attempt N:`). */
  retried: boolean;
}

export interface Tool {
  name: string;
  run(c: PeerCase, simUrl: string, dir: string, lifted: boolean): Promise<ToolRun>;
}

/** dccd's config, data folder and environment in `dir`, and its backfill command for `c`. */
function dccdSetup(c: PeerCase, simUrl: string, dir: string, lifted: boolean) {
  const config = join(dir, 'dccd.yml');
  writeFileSync(config, stringify(lifted ? { exchanges: { binance: { requestBudget: UNLIMITED } } } : {}));
  const data = join(dir, 'data');
  const env = { ...cleanEnv, DCCD_DATA: data, DCCD_BINANCE_REST_URL: `${simUrl}/binance`, TEMPORAL_ADDRESS: '', DATABASE_URL: '' };
  const span = c.span ? ['--span', c.span] : [];
  const backfill = [DCCD, '--config', config, 'backfill', 'binance', c.native, '--kind', c.kind, ...span, '--start', c.start, '--end', c.end, '--wait'];
  const output = () => dccdOutput(data, { exchange: 'binance', symbol: c.symbol, kind: c.kind, ...(c.span && { span: c.span }) });
  return { config, env, backfill, output };
}

/** Ports free on 127.0.0.1 now, one per listener. */
async function freePorts(n: number): Promise<string[]> {
  const ports: string[] = [];
  while (ports.length < n) ports.push(String(await freePort()));
  return ports;
}

export const dccdCold: Tool = {
  name: 'dccd cold',
  async run(c, simUrl, dir, lifted) {
    const s = dccdSetup(c, simUrl, dir, lifted);
    // Its own ports rather than the defaults it would take when free (7233, 8233), which a
    // Temporal or dccd of someone else on the machine may be about to claim.
    const [port, uiPort] = await freePorts(2);
    const env = { ...s.env, DCCD_TEMPORAL_PORT: port, DCCD_TEMPORAL_UI_PORT: uiPort };
    const r = await runMeasured(process.execPath, s.backfill, { env, cwd: dir });
    return { ms: r.ms, peakKb: r.peakKb, output: await s.output(), retried: RETRIED.test(r.output) };
  },
};

export const dccdWarm: Tool = {
  name: 'dccd warm',
  async run(c, simUrl, dir, lifted) {
    const s = dccdSetup(c, simUrl, dir, lifted);
    const [port, uiPort, apiPort] = await freePorts(3);
    const start = ['--config', s.config, 'start', '--headless', '--temporal-port', port!, '--temporal-ui-port', uiPort!, '--api-port', apiPort!];
    const daemon = await startDccd(start, s.env, dir);
    let r: MeasuredRun;
    let peakKb: number;
    try {
      await runMeasured(process.execPath, [DCCD, '--config', s.config, ...PRIME], { env: s.env, cwd: dir });
      r = await runMeasured(process.execPath, s.backfill, { env: s.env, cwd: dir });
      // The worker runs in the daemon; its high-water mark includes its start-up and the priming run.
      peakKb = await peakRssKb(daemon.pid);
    } finally {
      await daemon.stop();
    }
    return { ms: r.ms, peakKb, output: await s.output(), retried: RETRIED.test(r.output) };
  },
};

export function dccdPython(python: string): Tool {
  return {
    name: 'dccd-python',
    async run(c, simUrl, dir, lifted) {
      const config = join(dir, 'config.yml');
      const data = join(dir, 'data');
      writeFileSync(config, stringify({ settings: { data_path: data } }));
      const args = {
        config,
        restBase: `${simUrl}/binance/api/v3`,
        symbol: c.symbol,
        kind: c.kind,
        span: c.span ? Number(spanNs(c.span)! / 1_000_000_000n) : null,
        start: c.start,
        endNs: String(parseAbsoluteTime(c.end, 'end')),
        lifted,
      };
      const r = await runMeasured(python, [DRIVER, JSON.stringify(args)], { cwd: dir });
      return { ms: r.ms, peakKb: r.peakKb, output: await pythonOutput(data, c.kind), retried: false };
    },
  };
}
