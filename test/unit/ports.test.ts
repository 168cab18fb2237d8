// A busy port is named with the process that holds it, so a clash is one line a user can act on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describeHolder, ephemeralPort, PortBusy, portHolder, portIsFree, requireFreePort } from '../../src/worker/ports.ts';

test('a listened port is busy, held by this process, and refused naming the field, the holder and the fix', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  assert.equal(await portIsFree('127.0.0.1', port), false);
  const holder = await portHolder(port);
  assert.equal(holder?.pid, process.pid);
  const e = await requireFreePort('api.port', '127.0.0.1', port, 'pick another').then(
    () => assert.fail('accepted a busy port'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof PortBusy);
  assert.equal(e.message, `api.port: 127.0.0.1:${port} is in use by ${describeHolder(holder)}; pick another`);
  await new Promise<void>((r) => server.close(() => r()));
  assert.equal(await portIsFree('127.0.0.1', port), true);
});

test('holders are described as a person would name them', () => {
  const d = (command: string) => describeHolder({ pid: 7, ppid: 1, command });
  assert.equal(d('/opt/dccd/.tools/temporal/1.9.1/temporal server start-dev --port 7233 --db-filename /srv/a/data/.dccd/temporal.db'), 'pid 7, the embedded Temporal server of dccd data folder /srv/a/data');
  assert.equal(d('/usr/bin/node /opt/dccd/bin/dccd.js start --headless'), 'pid 7, dccd start --headless');
  assert.equal(d('node /opt/dccd/dist/cli/main.js backfill binance BTCUSDT'), 'pid 7, dccd backfill binance BTCUSDT');
  assert.equal(d('/usr/bin/node /home/me/dccd/test/x.test.ts'), 'pid 7 (/usr/bin/node /home/me/dccd/test/x.test.ts)');
  assert.equal(d('nginx: master process'), 'pid 7 (nginx: master process)');
  assert.equal(describeHolder(undefined), 'another process');
});

test('ports handed out one after another are all different, though the kernel may repeat a closed one', async () => {
  const ports = [];
  for (let i = 0; i < 200; i++) ports.push(await ephemeralPort());
  assert.equal(new Set(ports).size, ports.length);
});
