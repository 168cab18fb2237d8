// Closing a client connection while a call is being retried must not crash the process: the
// SDK's retry interceptor re-issues calls from a timer, and one firing on a closed channel
// threw "Channel has been shut down" after `dccd backfill --wait` had printed its summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectTemporal } from '../../src/client/connection.ts';

/** A gRPC endpoint that answers GetSystemInfo (so connecting works) and UNAVAILABLE to the rest, `failures` times. */
async function flakyTemporal(failures = Infinity): Promise<{ address: string; calls: () => number; close(): Promise<void> }> {
  let calls = 0;
  const server: Http2Server = createServer((req, res) => {
    const ok = req.url.endsWith('/GetSystemInfo') || (!req.url.endsWith('/GetSystemInfo') && ++calls > failures);
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/grpc' });
      res.addTrailers(ok ? { 'grpc-status': '0' } : { 'grpc-status': '14', 'grpc-message': 'try again' });
      // An empty protobuf message: flag 0, length 0.
      if (ok) res.end(Buffer.from([0, 0, 0, 0, 0]));
      else res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('closing while a call waits to be retried ends the call as cancelled, and nothing throws later', async (t) => {
  const server = await flakyTemporal();
  t.after(() => server.close());
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on('uncaughtException', onUncaught);
  t.after(() => process.off('uncaughtException', onUncaught));

  const tc = await connectTemporal({ address: server.address, namespace: 'default' });
  const call = tc.client.workflowService.describeNamespace({ namespace: 'default' });
  while (server.calls() < 1) await new Promise((r) => setTimeout(r, 5));
  assert.equal(tc.inFlight(), 1);
  await tc.close(0); // do not wait: the retry timer is pending when the channel closes
  const callsAtClose = server.calls();
  const settled = await Promise.race([call.then(() => 'resolved', (e: Error) => e.message), sleep(3000).then(() => 'never settled')]);
  assert.match(settled, /closing|cancel/i);
  await sleep(1500); // past every retry delay of the first attempts
  assert.deepEqual(uncaught.map(String), []);
  assert.equal(server.calls(), callsAtClose, 'no attempt reached the server after closing');
  assert.equal(tc.inFlight(), 0);
});

test('closing waits for a call that is still being retried to finish', async (t) => {
  const server = await flakyTemporal(2);
  t.after(() => server.close());
  const tc = await connectTemporal({ address: server.address, namespace: 'default' });
  const call = tc.client.workflowService.describeNamespace({ namespace: 'default' });
  while (server.calls() < 1) await new Promise((r) => setTimeout(r, 5));
  await tc.close();
  await call; // succeeded on its third attempt, before the channel closed
  assert.equal(server.calls(), 3);
});
