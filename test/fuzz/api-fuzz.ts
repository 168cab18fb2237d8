// schemathesis (PyPI) against a real `dccd start`: it reads the OpenAPI document at
// /docs/json, sends generated requests to every operation, and fails on any 5xx.
//   npm run fuzz:api                      a long pass (FUZZ_EXAMPLES per operation, default 100)
//   FUZZ_EXAMPLES=10 npm run fuzz:api     a short one
// The test suite runs a bounded pass (test/integration/api-fuzz.test.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureVenv } from '../../scripts/python-venv.ts';
import { startSim } from '../../src/sim/index.ts';
import { runDccd } from '../helpers/dccd-process.ts';
import { freePort } from '../helpers/ports.ts';

export const SCHEMATHESIS_VERSION = '4.32.5';

export interface FuzzOptions {
  maxExamples: number;
  /** Seconds for the whole run. */
  maxTime: number;
  seed?: number;
}

export interface FuzzResult {
  code: number | null;
  output: string;
}

export async function fuzzApi(o: FuzzOptions): Promise<FuzzResult> {
  ensureVenv({
    dir: fileURLToPath(new URL('../../.tools/schemathesis-venv', import.meta.url)),
    requirements: [`schemathesis==${SCHEMATHESIS_VERSION}`],
    probe: 'import importlib.metadata as m; print(m.version("schemathesis"))',
    expect: SCHEMATHESIS_VERSION,
  });
  const sim = await startSim({ port: 0, seed: 5 });
  const dir = mkdtempSync(join(tmpdir(), 'dccd-fuzz-'));
  const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  // A throwaway config: the generated POST, PUT and DELETE /api/jobs write their jobs into it
  // (a supervised stream job among them streams from the simulator too).
  const config = join(dir, 'dccd.yml');
  writeFileSync(
    config,
    `data: ./data\ntemporal: { port: ${temporalPort}, uiPort: ${uiPort} }\napi: { port: ${apiPort} }\nexchanges: { binance: { restUrl: ${sim.url}/binance, wsUrl: ${sim.url.replace(/^http/, 'ws')}/binance } }\n` +
      'jobs:\n  - { exchange: binance, symbol: BTCUSDT, kind: ohlc, span: 1h, start: 2024-01-01, end: 2024-01-02, schedule: { every: 1h } }\n',
  );
  const daemon = runDccd(['start', '--config', config], { TEMPORAL_ADDRESS: '', DCCD_DATA: '', DATABASE_URL: '' });
  try {
    await daemon.waitFor(/^dccd ready/, 120_000);
    const st = fileURLToPath(new URL('../../.tools/schemathesis-venv/bin/st', import.meta.url));
    const args = ['run', `http://127.0.0.1:${apiPort}/docs/json`, '--checks', 'not_a_server_error', '--max-examples', String(o.maxExamples),
      '--max-time', String(o.maxTime), '--workers', '1', '--request-timeout', '30', '--seed', String(o.seed ?? 1)];
    const child = spawn(st, args, { cwd: dir, env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, output: `${output}\n--- dccd start ---\n${daemon.output()}` };
  } finally {
    daemon.child.kill('SIGINT');
    await daemon.exited;
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await fuzzApi({ maxExamples: Number(process.env.FUZZ_EXAMPLES ?? 100), maxTime: Number(process.env.FUZZ_SECONDS ?? 1800) });
  console.log(r.output);
  process.exitCode = r.code ?? 1;
}
