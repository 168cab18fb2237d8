// How long a command takes when there is nothing to do but start: users pay it on every CLI
// call and every scheduled run. Each figure is the whole process, median of BENCH_RUNS
// (default 5), against a bare `node -e 0` measured alternately in the same run.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchRuns, median, report, tempDir } from './lib.ts';

const BENCH = 'cli-start';
const DCCD = fileURLToPath(new URL('../bin/dccd.js', import.meta.url));
const runs = benchRuns(5);
const dir = tempDir('cli');
const env = { ...process.env, DCCD_DATA: join(dir.path, 'data'), TEMPORAL_ADDRESS: '', DATABASE_URL: '' };

const COMMANDS: Record<string, string[]> = {
  '--help': ['--help'],
  '--version': ['--version'],
  validate: ['validate'],
  'read (empty range)': ['read', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1m'],
};

function wallMs(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, cwd: dir.path, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

try {
  for (const [name, args] of Object.entries(COMMANDS)) {
    const bare: number[] = [];
    const dccd: number[] = [];
    for (let i = 0; i < runs; i++) {
      bare.push(wallMs(['-e', '0']));
      dccd.push(wallMs([DCCD, ...args]));
    }
    report({ bench: BENCH, name: `dccd ${name}`, value: median(dccd), unit: 'ms', baseline: { name: 'node -e 0', value: median(bare) }, note: `median of ${runs}` });
  }
} finally {
  dir.remove();
}
