// Runs every benchmark in a process of its own, one after the other (they would disturb each
// other's timings on a small machine), and prints one table of their figures with the
// machine they ran on. `npm run bench`, or `npm run bench -- read rate-budget` for some.
import { spawn } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fmt, RUNS, type Figure } from './lib.ts';

const BENCHES = ['backfill-overhead', 'rate-budget', 'read', 'read-stream', 'inventory', 'temporal-start', 'busy-machine', 'cli-start', 'scheduling', 'stream', 'peer'];

interface Outcome {
  bench: string;
  figures: Figure[];
  exitCode: number | null;
  seconds: number;
}

function runBench(name: string): Promise<Outcome> {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const figures: Figure[] = [];
  let pending = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (pending + d.toString()).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('BENCH ')) figures.push(JSON.parse(line.slice(6)) as Figure);
      else console.log(`  ${line}`);
    }
  });
  return new Promise((resolve) => child.once('close', (exitCode) => resolve({ bench: name, figures, exitCode, seconds: (performance.now() - t0) / 1000 })));
}

function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

const selected = process.argv.slice(2);
const unknown = selected.filter((b) => !BENCHES.includes(b));
if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')} (known: ${BENCHES.join(', ')})`);

const cpu = cpus();
console.log(`machine: ${cpu[0]?.model ?? 'unknown cpu'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`);
console.log(`date: ${new Date().toISOString()}; BENCH_RUNS=${RUNS}`);
const t0 = performance.now();
const outcomes: Outcome[] = [];
for (const name of selected.length ? selected : BENCHES) {
  console.log(`${name}...`);
  const o = await runBench(name);
  console.log(`${name}: ${o.seconds.toFixed(0)} s${o.exitCode ? `, exit code ${o.exitCode}` : ''}`);
  outcomes.push(o);
}

console.log();
console.log(row(['bench', 'figure', 'value', 'unit', 'baseline', 'ratio', 'note']));
console.log(row(Array(7).fill('---')));
for (const o of outcomes) {
  for (const f of o.figures) {
    const base = f.baseline ? `${f.baseline.name} ${fmt(f.baseline.value)}` : '';
    const ratio = f.baseline ? (f.value / f.baseline.value).toFixed(3) : '';
    console.log(row([f.bench, f.name, fmt(f.value), f.unit, base, ratio, f.note ?? '']));
  }
  if (o.exitCode !== 0) console.log(row([o.bench, `FAILED (exit code ${o.exitCode})`, '', '', '', '', 'see its output above']));
}
const perBench = outcomes.map((o) => `${o.bench} ${o.seconds.toFixed(0)} s`).join(', ');
console.log(`\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s (${perBench})`);
if (outcomes.some((o) => o.exitCode !== 0)) process.exitCode = 1;
