// Two servers started a moment apart on one port both find it free; the one that loses the bind
// must say the port was taken (which a one-shot command answers with other ports), not
// "exited (code 2)" with the tail of a Go stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevServer } from '../../src/worker/dev-server.ts';
import { PortBusy } from '../../src/worker/ports.ts';
import { freePort } from '../helpers/ports.ts';

test('of two dev servers started a moment apart on one port, one serves and the other fails with the port named as taken', async () => {
  const port = await freePort();
  const portFields = { port: { field: 'temporal.port', fix: 'pick another' }, uiPort: { field: 'temporal.uiPort', fix: 'pick another' } };
  const start = () => startDevServer({ port, namespace: 'default', searchAttributes: [], portFields });
  // The second starts once the first has checked the port, long before either binds it.
  const [a, b] = await Promise.allSettled([start(), new Promise((r) => setTimeout(r, 20)).then(start)]);
  const won = [a, b].filter((r) => r.status === 'fulfilled');
  const lost = [a, b].filter((r) => r.status === 'rejected');
  try {
    assert.equal(won.length, 1, 'exactly one server serves');
    const e = lost[0]!.reason as Error;
    assert.ok(e instanceof PortBusy, e.message);
    assert.equal(e.field, 'temporal.port');
    // Taken while it bound (the usual case), or already bound when it checked: either way the field and the port.
    assert.match(e.message, new RegExp(`^temporal\\.port: 127\\.0\\.0\\.1:${port} (was taken|is in use by)`));
    assert.doesNotMatch(e.message, /goroutine|\n/);
  } finally {
    await Promise.all(won.map((r) => r.value.stop()));
  }
});
