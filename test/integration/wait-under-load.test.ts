// `dccd backfill --wait` as users run it on a busy machine: both cores loaded by other work,
// several instances side by side. Every run that completed exits 0, with no stack trace
// (a retried gRPC call outliving the closed connection used to crash it after the summary).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startSim } from '../../src/sim/index.ts';
import { runDccd } from '../helpers/dccd-process.ts';

const ROUNDS = 3;
const SIDE_BY_SIDE = 2;

test(`${ROUNDS * SIDE_BY_SIDE} backfill --wait runs, ${SIDE_BY_SIDE} at a time, with every core busy: each exits 0 with its summary and nothing else`, async () => {
  const sim = await startSim({ port: 0, seed: 11 });
  after(() => sim.close());
  const burners = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  after(() => burners.forEach((b) => b.kill('SIGKILL')));
  const symbols = ['BTCUSDT', 'ETHUSDT'];
  for (let round = 0; round < ROUNDS; round++) {
    const runs = symbols.slice(0, SIDE_BY_SIDE).map((symbol) => {
      const dir = mkdtempSync(join(tmpdir(), 'dccd-load-'));
      after(() => rmSync(dir, { recursive: true, force: true }));
      // Own data folder, default ports: the second instance hosts its server on free ones.
      const env = { TEMPORAL_ADDRESS: '', DATABASE_URL: '', DCCD_API_PORT: '', DCCD_DATA: join(dir, 'data'), DCCD_BINANCE_REST_URL: `${sim.url}/binance` };
      return runDccd(['backfill', 'binance', symbol, '--kind', 'ohlc', '--span', '1m', '--start', '2024-01-01', '--end', '2024-01-31', '--wait'], env, dir);
    });
    for (const p of runs) {
      const { code, signal } = await p.exited;
      const out = p.output();
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, out);
      assert.match(out, /^completed: [\d,]+ rows \[2024-01-01T00:00:00\.000000000Z, 2024-01-31T00:00:00\.000000000Z\)  run [0-9a-f-]{36}$/m);
      assert.doesNotMatch(out, /Error|^\s+at /m, out);
    }
  }
});
