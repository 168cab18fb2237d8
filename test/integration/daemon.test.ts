// One daemon per data folder, found through {data}/.dccd/daemon.json: instances side by side
// on one machine never share a server or a task queue, a busy port is one line naming its
// holder, one-shot commands reach the daemon of *their* folder or host their own, and a
// daemon whose embedded server dies brings it back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startSim } from '../../src/sim/index.ts';
import { freePort } from '../helpers/ports.ts';
import { processesMatching, runDccd, waitUntil, type DccdProcess } from '../helpers/dccd-process.ts';

const sim = await startSim({ port: 0, seed: 5 });
after(() => sim.close());
const SIM_URL = `${sim.url}/binance`;

interface Instance {
  dir: string;
  data: string;
  config: string;
  ports: { temporal: number; ui: number; api: number };
  env: NodeJS.ProcessEnv;
  dbFile: string;
}

async function instance(name: string, ports?: Instance['ports']): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), `dccd-daemon-${name}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const p = ports ?? { temporal: await freePort(), ui: await freePort(), api: await freePort() };
  const config = join(dir, 'dccd.yml');
  writeFileSync(config, `data: ./data\ntemporal: { port: ${p.temporal}, uiPort: ${p.ui} }\napi: { port: ${p.api} }\n`);
  const env = { TEMPORAL_ADDRESS: '', DCCD_DATA: '', DATABASE_URL: '', DCCD_API_PORT: '', DCCD_BINANCE_REST_URL: SIM_URL };
  return { dir, data: join(dir, 'data'), config, ports: p, env, dbFile: join(dir, 'data', '.dccd', 'temporal.db') };
}

async function start(i: Instance, ...flags: string[]): Promise<DccdProcess> {
  const p = runDccd(['start', '--config', i.config, ...flags], i.env, i.dir);
  after(async () => {
    if (p.child.exitCode === null) {
      p.child.kill('SIGINT');
      await p.exited;
    }
  });
  await p.waitFor(/^dccd ready/, 90_000);
  return p;
}

async function dccd(i: Instance, args: string[], env: NodeJS.ProcessEnv = {}) {
  const p = runDccd([...args, '--config', i.config], { ...i.env, ...env }, i.dir);
  const { code } = await p.exited;
  return { code, output: p.output() };
}

const backfill1h = (symbol: string) => ['backfill', 'binance', symbol, '--kind', 'ohlc', '--span', '1h', '--start', '2024-01-01', '--end', '2024-01-08', '--wait'];

/** Symbols stored under a data folder for 1h candles. */
const symbolsIn = (data: string): string[] => {
  const dir = join(data, 'ohlc-1h', 'exchange=binance');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

async function workflowExists(address: string, workflowId: string): Promise<boolean> {
  const connection = await Connection.connect({ address });
  try {
    await new Client({ connection }).workflow.getHandle(workflowId).describe();
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

const noStack = (output: string) => assert.doesNotMatch(output, /^\s+at .+:\d+:\d+\)?$/m, output);

test('a second dccd start on the same ports is refused in one line naming the first; on its own ports it runs, and each folder gets only its own runs', async () => {
  const a = await instance('a');
  const b = await instance('b', a.ports);
  const first = await start(a);
  const state = JSON.parse(readFileSync(join(a.data, '.dccd', 'daemon.json'), 'utf8'));
  assert.equal(state.pid, first.child.pid);
  assert.equal(state.role, 'start');
  assert.equal(state.temporal.address, `127.0.0.1:${a.ports.temporal}`);
  assert.equal(state.apiUrl, `http://127.0.0.1:${a.ports.api}`);
  assert.deepEqual(state.exchanges.binance, { restUrl: SIM_URL });

  // The same folder again: refused whatever the ports.
  const twice = runDccd(['start', '--config', a.config, '--api-port', String(await freePort())], a.env, a.dir);
  assert.equal((await twice.exited).code, 1);
  assert.equal(
    twice.output(),
    `error: data: ${a.data} is in use by dccd start (pid ${first.child.pid}, API http://127.0.0.1:${a.ports.api}); use that one, or give this one another data folder (DCCD_DATA)\n`,
  );

  const refused = runDccd(['start', '--config', b.config], b.env, b.dir);
  assert.equal((await refused.exited).code, 1);
  const lines = refused.output().trim().split('\n');
  assert.equal(lines.length, 1, refused.output());
  // The API port is checked first, before anything starts.
  assert.match(lines[0]!, new RegExp(`^error: api.port: 127.0.0.1:${a.ports.api} is in use by pid ${first.child.pid}, .*dccd.* start.*; pick another with --api-port or DCCD_API_PORT$`));
  const refusedTemporal = runDccd(['start', '--config', b.config, '--api-port', String(await freePort())], b.env, b.dir);
  assert.equal((await refusedTemporal.exited).code, 1);
  assert.match(
    refusedTemporal.output().trim(),
    new RegExp(`^error: temporal.port: 127.0.0.1:${a.ports.temporal} is in use by pid \\d+, the embedded Temporal server of dccd data folder ${a.data}; pick another with --temporal-port or DCCD_TEMPORAL_PORT$`),
  );
  assert.deepEqual(processesMatching(b.dbFile), [], 'nothing left running for b');

  const [temporal, ui, api] = [await freePort(), await freePort(), await freePort()];
  await start(b, '--temporal-port', String(temporal), '--temporal-ui-port', String(ui), '--api-port', String(api));
  const [ra, rb] = await Promise.all([dccd(a, backfill1h('BTCUSDT')), dccd(b, backfill1h('ETHUSDT'))]);
  assert.equal(ra.code, 0, ra.output);
  assert.equal(rb.code, 0, rb.output);
  noStack(ra.output + rb.output);
  assert.doesNotMatch(ra.output + rb.output, /no worker polls/);
  assert.deepEqual(symbolsIn(a.data), ['symbol=BTC-USDT']);
  assert.deepEqual(symbolsIn(b.data), ['symbol=ETH-USDT']);
  // Each run went through its own folder's daemon: no one-shot server was hosted for it.
  assert.equal(await workflowExists(`127.0.0.1:${a.ports.temporal}`, 'backfill/binance/ohlc-1h/BTC-USDT'), true);
  assert.equal(await workflowExists(`127.0.0.1:${a.ports.temporal}`, 'backfill/binance/ohlc-1h/ETH-USDT'), false);
  assert.equal(await workflowExists(`127.0.0.1:${temporal}`, 'backfill/binance/ohlc-1h/ETH-USDT'), true);
  // Through the daemon's API the command tells the end as a hosted one does: the range, and --json's result.
  assert.match(ra.output, /completed: 168 rows \[2024-01-01T00:00:00\.000000000Z, 2024-01-08T00:00:00\.000000000Z\)  run [0-9a-f-]{36}/);
  const json = await dccd(a, [...backfill1h('ETHUSDT'), '--json']);
  assert.equal(json.code, 0, json.output);
  const result = JSON.parse(json.output.trim().split('\n').at(-1)!);
  assert.deepEqual({ ...result, runId: '' }, { runId: '', state: 'completed', rowsWritten: 168, startNs: '1704067200000000000', endNs: '1704672000000000000' });

  first.child.kill('SIGINT');
  assert.equal((await first.exited).code, 0);
  assert.equal(existsSync(join(a.data, '.dccd', 'daemon.json')), false, 'daemon.json goes with its daemon');
});

test('a one-shot command with no daemon of its own hosts a server on a free port when another instance holds the configured one', async () => {
  const a = await instance('busy');
  await start(a);
  const c = await instance('c', a.ports);
  const r = await dccd(c, backfill1h('BNBBTC'));
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /^completed: /m);
  assert.deepEqual(symbolsIn(c.data), ['symbol=BNB-BTC']);
  assert.deepEqual(symbolsIn(a.data), []);
  assert.equal(await workflowExists(`127.0.0.1:${a.ports.temporal}`, 'backfill/binance/ohlc-1h/BNB-BTC'), false);
  assert.deepEqual(processesMatching(c.dbFile), [], 'the hosted server went with its command');
});

test('with nothing running, dccd stop hosts a worker until the run has stopped; the next start=last is not refused', async () => {
  const slow = await startSim({ port: 0, seed: 5, latencyMs: 60 });
  after(() => slow.close());
  const d = await instance('stop');
  d.env.DCCD_BINANCE_REST_URL = `${slow.url}/binance`;
  const args = ['backfill', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1m', '--start', '2023-01-01', '--end', '2024-01-01', '--wait'];
  const hosted = runDccd([...args, '--config', d.config], d.env, d.dir);
  const runLine = await hosted.waitFor(/^run [0-9a-f-]{36}/);
  const runId = runLine.split(/\s+/)[1]!;
  await hosted.waitFor(/window 1\//);
  hosted.child.kill('SIGKILL'); // the run stays Running in the folder's Temporal database
  await hosted.exited;
  await waitUntil(() => processesMatching(d.dbFile).length === 0, 15_000, 'the killed command\'s server exits');

  const stop = await dccd(d, ['stop', runId]);
  assert.equal(stop.code, 0, stop.output);
  noStack(stop.output);
  assert.match(stop.output, new RegExp(`stopping run ${runId} \\(backfill/binance/ohlc-1m/BTC-USDT\\): .*this command runs a worker until it has stopped`));
  assert.match(stop.output, new RegExp(`^stopped: [\\d,]+ rows \\[2023-01-01T00:00:00\\.000000000Z, 2024-01-01T00:00:00\\.000000000Z\\)  run ${runId}$`, 'm'));

  const again = await dccd(d, ['stop', runId]);
  assert.equal(again.code, 0, again.output);
  assert.match(again.output, new RegExp(`run ${runId} \\(backfill/binance/ohlc-1m/BTC-USDT\\) is not running: completed`));

  const resumed = await dccd(d, ['backfill', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1m', '--start', 'last', '--end', '2023-02-01', '--json']);
  assert.equal(resumed.code, 0, resumed.output);
  assert.doesNotMatch(resumed.output, /already running/);
});

test('a venue URL set only on the command is named in a warning, and an unreachable venue is reported at once, before any run', async () => {
  const e = await instance('url');
  const closed = await freePort();
  e.env.DCCD_BINANCE_REST_URL = `http://127.0.0.1:${closed}/binance`;
  await start(e);
  const r = await dccd(e, ['backfill', 'binance', 'BTCUSDT', '--kind', 'ohlc', '--span', '1h', '--start', '2024-01-01', '--wait'], { DCCD_BINANCE_REST_URL: SIM_URL });
  assert.equal(r.code, 1, r.output);
  noStack(r.output);
  const lines = r.output.trim().split('\n');
  assert.equal(lines.length, 2, r.output);
  assert.match(lines[0]!, new RegExp(`^warning: binance.restUrl is ${SIM_URL} here, but dccd start \\(pid \\d+, API [^)]+\\) uses http://127.0.0.1:${closed}/binance; runs use the daemon's`));
  assert.match(lines[1]!, new RegExp(`^error: binance: gave up after 2 attempts in [\\d.]+ m?s: GET http://127.0.0.1:${closed}/binance/api/v3/exchangeInfo: unreachable \\(ECONNREFUSED`));
  assert.equal(await workflowExists(`127.0.0.1:${e.ports.temporal}`, 'backfill/binance/ohlc-1h/BTC-USDT'), false);
});

test('when its embedded Temporal server is killed, dccd start restarts it and serves again', async () => {
  const f = await instance('restart');
  const daemon = await start(f, '--headless');
  const [server] = processesMatching(f.dbFile).filter((l) => /\btemporal\b.*start-dev/.test(l) && !l.includes('dccd-temporal-guard'));
  assert.ok(server, 'the embedded server runs');
  process.kill(Number(server.split(' ')[0]), 'SIGKILL');
  await daemon.waitFor(/the embedded Temporal server exited \(code \S+\); restarting in 1 s/, 30_000);
  await daemon.waitFor(/the embedded Temporal server is back at 127\.0\.0\.1:\d+/, 60_000);
  const health = await fetch(`http://127.0.0.1:${f.ports.api}/api/health?probe=1`);
  assert.equal(health.status, 200, await health.clone().text());
  const body = (await health.json()) as { status: string; probe?: { worker: string } };
  assert.equal(body.status, 'ok');
  assert.ok(body.probe?.worker, 'the worker ran the probe after the restart');
  daemon.child.kill('SIGINT');
  assert.equal((await daemon.exited).code, 0, daemon.output());
});
