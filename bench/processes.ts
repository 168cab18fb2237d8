// Whole processes as users run them, for benchmarks: `dccd start` up to its ready line and
// stopped with Ctrl-C, and one-shot commands timed from spawn to exit with their peak RSS.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const DCCD = fileURLToPath(new URL('../bin/dccd.js', import.meta.url));
const READY_TIMEOUT_MS = 120_000;
const SIGNAL_GRACE_MS = 100;
/** VmHWM only grows, so a sample after the peak catches it; the last ~50 ms before exit may be missed. */
const RSS_SAMPLE_MS = 50;

/** The environment without settings that would point dccd elsewhere than the config file. */
export const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|DCCD_|DATABASE_URL$)/.test(k)));

export interface DccdDaemon {
  pid: number;
  /** From spawn to the `dccd ready` line. */
  readyMs: number;
  /** SIGINT, then waits for a clean exit: ms from the signal to the exit. */
  stop(): Promise<number>;
}

/** `dccd <args>` (a `start`) up to its ready line. */
export async function startDccd(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<DccdDaemon> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [DCCD, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`dccd start: no ready line after ${READY_TIMEOUT_MS / 1000} s\n${err}`)), READY_TIMEOUT_MS);
      child.stdout!.on('data', (d) => {
        out += d;
        if (/^dccd ready/m.test(out)) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`dccd start exited (${code}) before it was ready\n${err}`));
      });
    });
    return {
      pid: child.pid!,
      readyMs,
      async stop() {
        // dccd installs its SIGINT handler just after printing the ready line; a signal in
        // between would meet Node's default action and skip the clean stop.
        await sleep(SIGNAL_GRACE_MS);
        const t1 = performance.now();
        child.kill('SIGINT');
        const code = await exited;
        if (code !== 0) throw new Error(`dccd start exited with ${code ?? child.signalCode} after SIGINT\n${err}`);
        return performance.now() - t1;
      },
    };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}

/** The peak resident set of a live process, in kB (VmHWM). */
export async function peakRssKb(pid: number): Promise<number> {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]);
}

/** CPU time (user + system) a live process has used so far, in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name, in clock ticks (USER_HZ, 100 on Linux).
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface MeasuredRun {
  /** Spawn to exit. */
  ms: number;
  /** Peak RSS of the process itself (not its children), sampled. */
  peakKb: number;
  /** Its stdout and stderr, interleaved as they came. */
  output: string;
}

/** Runs a command to its end; fails on a non-zero exit, with the end of its output. */
export async function runMeasured(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<MeasuredRun> {
  const t0 = performance.now();
  const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (d) => (output += d));
  let peakKb = 0;
  const sample = () =>
    peakRssKb(child.pid!).then(
      (kb) => (peakKb = Math.max(peakKb, kb)),
      () => undefined, // gone between two samples
    );
  const sampler = setInterval(sample, RSS_SAMPLE_MS);
  void sample();
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  }).finally(() => clearInterval(sampler));
  const ms = performance.now() - t0;
  await closed; // the rest of its output
  if (code !== 0) throw new Error(`${[command, ...args].join(' ')}: exit code ${code ?? child.signalCode}\n${output.slice(-2000)}`);
  return { ms, peakKb, output };
}
