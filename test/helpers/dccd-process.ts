// Runs the real `dccd` command as a child process, the way a user does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DCCD_BIN = fileURLToPath(new URL('../../bin/dccd.js', import.meta.url));

export interface DccdProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first stdout line matching `re`; rejects if the process exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface RunOptions {
  /** Runs dccd through another command, e.g. behind a refusing disk (disk-faults.ts). */
  prefix?: string[];
}

export function runDccd(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string, o: RunOptions = {}): DccdProcess {
  const [command, ...rest] = [...(o.prefix ?? []), process.execPath, DCCD_BIN, ...args];
  const child = spawn(command!, rest, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${re}; output:\n${out}`)), timeoutMs);
        const check = () => {
          const m = out.split('\n').find((l) => re.test(l));
          if (m) done(undefined, m);
        };
        const onExit = () => done(new Error(`dccd exited before ${re}; output:\n${out}`));
        function done(err?: Error, line?: string) {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve(line!);
        }
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** Processes whose command line contains `needle` (pgrep -f). */
export function processesMatching(needle: string): string[] {
  const r = spawnSync('pgrep', ['-af', needle], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .filter((l) => !l.includes('pgrep'));
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
