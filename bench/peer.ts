// dccd against dccd-python (PyPI `dccd`, the Python collector of the same name), side by side:
// the same backfills from the same simulated market, each tool as a whole process into a
// fresh folder, its output checked against the simulator's truth. Figures are dccd's wall
// time over dccd-python's, cold (the one-shot command hosts Temporal and a worker) and warm
// (beside a running `dccd start`); and the peak RSS of the process that runs the backfill.
//
// BENCH_CASE=<part of a case name> keeps matching cases only, e.g. 'ohlc' or 'lifted'.
import { fmt, median, report, simProcess, tempDir, benchRuns } from './lib.ts';
import { difference, truth } from './peer/check.ts';
import { dccdCold, dccdPython, dccdWarm, UNLIMITED, type PeerCase, type Tool, type ToolRun } from './peer/tools.ts';
import { DCCD_PYTHON_VERSION, ensurePeerVenv } from './peer/venv.ts';

const BENCH = 'peer';
const RUNS = benchRuns(5);

const CASES: PeerCase[] = [
  { name: 'ohlc 1m, 30 days', native: 'BTCUSDT', symbol: 'BTC/USDT', kind: 'ohlc', span: '1m', start: '2024-01-01', end: '2024-01-31' },
  { name: 'trades, 1 M', native: 'ETHUSDT', symbol: 'ETH/USDT', kind: 'trades', start: '2024-01-01', end: '2024-01-01T16:40:00Z' },
];
// 1000 trades in every minute: 1 M in the 1000 minutes of the trades case.
const MARKETS = { symbols: { ETHUSDT: { tradesPerMinute: 1000, quietMinuteShare: 0 } } };
const LIMITS = [
  { name: 'default limits', lifted: false },
  { name: 'limits lifted', lifted: true },
];

const python = ensurePeerVenv();
const tools: Tool[] = [dccdPython(python), dccdCold, dccdWarm];
const [PY, COLD, WARM] = tools.map((t) => t.name) as [string, string, string];
const failures: string[] = [];
const table: string[][] = [];

async function measure(c: PeerCase, lifted: boolean, tool: Tool, label: string): Promise<ToolRun> {
  // A simulator per run: Binance's budget is per IP and wall-clock minute, and a run must
  // not start with the weight the one before it spent.
  const sim = await simProcess({ seed: 1, markets: MARKETS, ...(lifted && { weightBudget: UNLIMITED }) });
  const dir = tempDir('peer');
  try {
    // Computing the truth also builds the market's tables, which stays out of the timing.
    const want = await truth(sim.url, c);
    const r = await tool.run(c, sim.url, dir.path, lifted);
    const diff = difference(want, r.output);
    if (diff) failures.push(`${label}, ${tool.name}: ${diff}`);
    const notes = [r.retried && 'a window took more than one attempt', diff && `DIFFER FROM THE TRUTH: ${diff}`].filter(Boolean);
    console.log(`${BENCH}: ${label}: ${tool.name} ${(r.ms / 1000).toFixed(1)} s, ${r.output.rows.toLocaleString('en-US')} rows${notes.map((n) => `; ${n}`).join('')}`);
    return r;
  } finally {
    dir.remove();
    await sim.stop();
  }
}

for (const c of CASES) {
  for (const limits of LIMITS) {
    const label = `${c.name}, ${limits.name}`;
    if (!label.includes(process.env.BENCH_CASE ?? '')) continue;
    const runs = new Map<string, ToolRun[]>(tools.map((t) => [t.name, []]));
    for (let i = 0; i < RUNS; i++) {
      // The order rotates run by run, so no tool always follows the same other one.
      for (let k = 0; k < tools.length; k++) {
        const tool = tools[(i + k) % tools.length]!;
        runs.get(tool.name)!.push(await measure(c, limits.lifted, tool, label));
      }
    }
    const seconds = (name: string) => median(runs.get(name)!.map((r) => r.ms)) / 1000;
    const mb = (name: string) => median(runs.get(name)!.map((r) => r.peakKb)) / 1024;
    const rows = runs.get(PY)![0]!.output.rows.toLocaleString('en-US');
    const py = seconds(PY);
    for (const name of [COLD, WARM]) {
      const retried = runs.get(name)!.filter((r) => r.retried).length;
      const retries = retried ? `; a window retried in ${retried} of ${RUNS} runs` : '';
      const note = `${fmt(seconds(name))} s vs ${fmt(py)} s; ${rows} rows; median of ${RUNS}${retries}`;
      report({ bench: BENCH, name: `${label}: ${name}`, value: seconds(name), unit: 's', baseline: { name: PY, value: py }, note });
    }
    table.push([label, ...[COLD, WARM, PY].map((n) => `${seconds(n).toFixed(1)} s`), (seconds(COLD) / py).toFixed(2), (seconds(WARM) / py).toFixed(2)]);
    if (c.kind !== 'trades') continue;
    const where = { [COLD]: 'the one-shot command', [WARM]: 'dccd start, since its start' };
    for (const name of [COLD, WARM]) {
      report({ bench: BENCH, name: `${label}: peak RSS, ${name} (${where[name]})`, value: mb(name), unit: 'MB', baseline: { name: PY, value: mb(PY) }, note: `median of ${RUNS}` });
    }
    table.push([`  peak RSS`, ...[COLD, WARM, PY].map((n) => `${mb(n).toFixed(0)} MB`), (mb(COLD) / mb(PY)).toFixed(2), (mb(WARM) / mb(PY)).toFixed(2)]);
  }
}

const head = ['case', COLD, WARM, `${PY} ${DCCD_PYTHON_VERSION}`, 'cold/py', 'warm/py'];
const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
console.log(`\n${BENCH}: wall time of the whole process, median of ${RUNS} (peak RSS of the process running the backfill)`);
for (const r of [head, ...table]) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
if (failures.length) {
  console.log(`\n${BENCH}: output that differs from the simulator's truth:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  process.exitCode = 1;
}
