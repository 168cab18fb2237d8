// Shared benchmark plumbing: medians of repeated runs, ratios against a baseline measured in
// the same run (the machines are shared and noisy, so only ratios are comparable), and a
// JSON line per figure that run-all.ts collects into the table.
import { spawn } from 'node:child_process';
import type { SimOptions, SimStats } from '../src/sim/index.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Runs per figure: BENCH_RUNS, else the bench's own default. */
export const benchRuns = (fallback: number): number => Number(process.env.BENCH_RUNS ?? fallback);
export const RUNS = benchRuns(3);

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Figure {
  bench: string;
  name: string;
  value: number;
  unit: string;
  /** The baseline this figure is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
  note?: string;
}

/** Prints a figure for people and a tagged JSON line for run-all.ts. */
export function report(f: Figure): void {
  const base = f.baseline ? `  baseline ${f.baseline.name} ${fmt(f.baseline.value)} ${f.unit}  ratio ${(f.value / f.baseline.value).toFixed(3)}` : '';
  console.log(`${f.bench}: ${f.name} ${fmt(f.value)} ${f.unit}${base}${f.note ? `  (${f.note})` : ''}`);
  console.log(`BENCH ${JSON.stringify(f)}`);
}

export function fmt(x: number): string {
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(4)).toString();
}

export async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `dccd-bench-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const SIM_CHILD = fileURLToPath(new URL('./sim-child.ts', import.meta.url));

/** The simulator in a process of its own, so it does not share the measured event loop. */
export async function simProcess(options: SimOptions): Promise<{ url: string; pid: number; stats(exchange?: string): Promise<SimStats>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SIM_CHILD, JSON.stringify({ port: 0, ...options })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /ready (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`simulator exited (${c})`)));
  });
  return {
    url,
    pid: child.pid!,
    stats: async (exchange = 'binance') => (await (await fetch(`${url}/_sim/stats?exchange=${exchange}`)).json()) as SimStats,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
