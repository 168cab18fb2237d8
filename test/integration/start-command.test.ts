// `dccd start` as a user runs it: embedded Temporal server, worker and API in one command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DccdClient } from '../../src/client/http-client.ts';
import { startSim } from '../../src/sim/index.ts';
import { probe } from '../../src/workflows/probe.ts';
import { freePort } from '../helpers/ports.ts';
import { processesMatching, runDccd, waitUntil } from '../helpers/dccd-process.ts';
import { until } from '../helpers/until.ts';

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-start-'));
  const [temporalPort, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const config = join(dir, 'dccd.yml');
  writeFileSync(config, `data: ./data\ntemporal: { port: ${temporalPort}, uiPort: ${uiPort} }\napi: { port: ${apiPort} }\n`);
  const env = { TEMPORAL_ADDRESS: '', DCCD_DATA: '', DATABASE_URL: '' };
  return { dir, config, env, temporalPort, uiPort, apiPort, dbFile: join(dir, 'data', '.dccd', 'temporal.db') };
}

test('dccd start serves health and the Temporal UI, stops cleanly on SIGINT, and keeps runs across a restart', async (t) => {
  const s = await setup();
  t.after(() => rmSync(s.dir, { recursive: true, force: true }));

  const first = runDccd(['start', '--config', s.config], s.env);
  const ready = await first.waitFor(/^dccd ready/);
  assert.match(ready, new RegExp(`API http://127.0.0.1:${s.apiPort}`));
  assert.match(ready, new RegExp(`Temporal UI http://127.0.0.1:${s.uiPort}`));

  const health = await fetch(`http://127.0.0.1:${s.apiPort}/api/health`);
  assert.equal(health.status, 200);
  const body = (await health.json()) as Record<string, any>;
  assert.equal(body.status, 'ok');
  assert.deepEqual(body.temporal, { address: `127.0.0.1:${s.temporalPort}`, namespace: 'default', reachable: true });
  assert.deepEqual(body.worker, { taskQueue: 'dccd', running: true });
  assert.equal(body.dataPath, join(s.dir, 'data'));
  assert.equal((await fetch(`http://127.0.0.1:${s.uiPort}/`)).status, 200);

  const address = `127.0.0.1:${s.temporalPort}`;
  let connection = await Connection.connect({ address });
  const workflowId = 'probe/before-restart';
  await new Client({ connection }).workflow.execute(probe, { taskQueue: 'dccd', workflowId });
  await connection.close();

  first.child.kill('SIGINT');
  assert.deepEqual(await first.exited, { code: 0, signal: null });
  assert.deepEqual(processesMatching(s.dbFile), [], 'no Temporal server left behind');

  const second = runDccd(['start', '--config', s.config], s.env);
  try {
    await second.waitFor(/^dccd ready/);
    connection = await Connection.connect({ address });
    const described = await new Client({ connection }).workflow.getHandle(workflowId).describe();
    assert.equal(described.status.name, 'COMPLETED');
    await connection.close();
  } finally {
    second.child.kill('SIGINT');
    assert.equal((await second.exited).code, 0);
  }
});

test('when dccd start is killed outright, its Temporal server does not outlive it', async (t) => {
  const s = await setup();
  t.after(() => rmSync(s.dir, { recursive: true, force: true }));
  const run = runDccd(['start', '--config', s.config], s.env);
  await run.waitFor(/^dccd ready/);
  assert.equal(processesMatching(s.dbFile).length > 0, true);
  run.child.kill('SIGKILL');
  await run.exited;
  await waitUntil(() => processesMatching(s.dbFile).length === 0, 15_000, 'the orphaned server exits');
});

test('dccd start explains a busy API port in one line and leaves nothing running', async (t) => {
  const s = await setup();
  t.after(() => rmSync(s.dir, { recursive: true, force: true }));
  const { createServer } = await import('node:net');
  const blocker = createServer().listen(s.apiPort, '127.0.0.1');
  t.after(() => blocker.close());
  const run = runDccd(['start', '--config', s.config], s.env);
  const { code } = await run.exited;
  assert.equal(code, 1);
  assert.match(run.output().trim(), new RegExp(`^error: api.port: 127.0.0.1:${s.apiPort} is in use by pid ${process.pid} \\(.+\\); pick another with --api-port or DCCD_API_PORT$`));
  assert.deepEqual(processesMatching(s.dbFile), []);
});

test('a supervised stream job in the config is streaming once dccd start is ready, and dccd streams shows it live', async (t) => {
  const s = await setup();
  const sim = await startSim({ port: 0, seed: 11, markets: { tradesPerMinute: 6_000, quietMinuteShare: 0 } });
  t.after(async () => {
    rmSync(s.dir, { recursive: true, force: true });
    await sim.close();
  });
  appendFileSync(
    s.config,
    `exchanges: { binance: { restUrl: ${sim.url}/binance, wsUrl: ${sim.url.replace(/^http/, 'ws')}/binance } }\n` +
      'jobs:\n  - { operation: stream, exchange: binance, symbol: BTC/USDT, kind: trades, flushRows: 50, flushInterval: 1s }\n',
  );
  const run = runDccd(['start', '--config', s.config], s.env);
  try {
    await run.waitFor(/^dccd ready/, 120_000);
    assert.match(run.output(), /^dccd: started stream stream\/binance\/trades\/BTC-USDT$/m);
    const api = new DccdClient(`http://127.0.0.1:${s.apiPort}`);
    // Trades in a minute are uniform in [1, 2·6000): a slow minute may hold the first flush back.
    const stream = await until('rows streamed', async () => {
      const [one] = await api.listStreams();
      return one?.live && one.live.rowsWritten > 0 ? one : undefined;
    }, 150_000);
    assert.deepEqual([stream.workflowId, stream.specId, stream.supervisedBy, stream.state], ['stream/binance/trades/BTC-USDT', 'stream:binance:BTC-USDT:trades', 'stream:binance:BTC-USDT:trades', 'running']);
    const listed = runDccd(['streams', '--config', s.config], s.env);
    assert.equal((await listed.exited).code, 0, listed.output());
    assert.match(listed.output(), new RegExp(`^stream/binance/trades/BTC-USDT  running  [\\d,]+ rows  .+  run ${stream.runId}  kept by job stream:binance:BTC-USDT:trades\n$`));
  } finally {
    run.child.kill('SIGINT');
    assert.equal((await run.exited).code, 0);
  }
});
