// `dccd stream` as a real process with nothing else running: it hosts the server and the
// worker, shows the stream's liveness, and on Ctrl-C stops it with every received row
// written; `dccd read` then finds exactly the rows the stream said it wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim } from '../../src/sim/index.ts';
import { runDccd } from '../helpers/dccd-process.ts';

test('dccd stream hosts the stream until Ctrl-C, then every received row is on disk', { timeout: 240_000 }, async (t) => {
  const sim = await startSim({ port: 0, seed: 11, markets: { tradesPerMinute: 6_000, quietMinuteShare: 0 } });
  const data = mkdtempSync(join(tmpdir(), 'dccd-stream-cli-'));
  t.after(async () => {
    await sim.close();
    rmSync(data, { recursive: true, force: true });
  });
  const env = {
    DCCD_DATA: data,
    TEMPORAL_ADDRESS: '',
    DATABASE_URL: '',
    DCCD_BINANCE_REST_URL: `${sim.url}/binance`,
    DCCD_BINANCE_WS_URL: `${sim.url.replace(/^http/, 'ws')}/binance`,
  };
  const stream = runDccd(['stream', 'binance', 'BTCUSDT', '--kind', 'trades', '--flush-rows', '100', '--flush-secs', '1'], env);
  await stream.waitFor(/^run [0-9a-f-]{36} {2}\(stream\/binance\/trades\/BTC-USDT\)$/, 120_000);
  // Without a terminal the live line comes every few seconds as a log line.
  await stream.waitFor(/^running {2}[1-9][\d,]* rows {2}\d+\/s {2}last [\d,.]+ at \d\d:\d\d:\d\d {2}0 reconnects {2}0 gaps$/, 120_000);
  stream.child.kill('SIGINT');
  const { code } = await stream.exited;
  const out = stream.output();
  assert.equal(code, 0, out);
  assert.match(out, /^stopping: the stream flushes what it received$/m);
  const m = /^stopped: ([\d,]+) rows, 0 reconnects, 0 gaps {2}run [0-9a-f-]{36}$/m.exec(out);
  assert.ok(m, out);
  const written = Number(m[1]!.replace(/,/g, ''));
  assert.ok(written > 0);
  assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');

  const read = runDccd(['read', 'binance', 'BTCUSDT', '--kind', 'trades', '--format', 'jsonl'], env);
  assert.equal((await read.exited).code, 0, read.output());
  const rows = read.output().trim().split('\n').filter((l) => l.startsWith('{'));
  assert.equal(rows.length, written, 'every row the stream counted is on disk');
});
