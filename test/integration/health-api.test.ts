import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApi } from '../../src/api/server.ts';
import { buildServices } from '../../src/services.ts';
import { startWorker } from '../../src/worker/worker.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { freePort } from '../helpers/ports.ts';
import { testConfig } from '../helpers/temporal.ts';

test('health is 503 with the reason when Temporal is unreachable', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const services = buildServices(parseConfig({ data: '/tmp/dccd-none', temporal: { address } }));
  const app = await buildApi({ services });
  const res = await app.inject({ url: '/api/health' });
  assert.equal(res.statusCode, 503);
  const body = res.json();
  assert.equal(body.status, 'unavailable');
  assert.match(body.reason, new RegExp(`Temporal at ${address} is unreachable`));
  assert.deepEqual(body.temporal, { address, namespace: 'default', reachable: false });
  await app.close();
});

test('health reports the worker as running only while one polls the task queue, and ?probe=1 runs a workflow end to end that leaves nothing in the workflow list', async () => {
  const services = buildServices(await testConfig());
  const app = await buildApi({ services });
  try {
    assert.equal((await app.inject({ url: '/api/health' })).json().worker.running, false);
    const worker = await startWorker(services);
    try {
      const res = await app.inject({ url: '/api/health?probe=1' });
      assert.equal(res.statusCode, 200);
      assert.match(res.json().probe.worker, /:\d+$/);
      // The probe's workflow ran, so the worker has polled: it is listed from now on.
      assert.equal((await app.inject({ url: '/api/health' })).json().worker.running, true);
      // ...and it was deleted: health checks do not clutter the runs users see.
      // (The dev server carries out a deletion some 30 s later.)
      const client = await services.temporal();
      let left: string[] = [];
      for (let tries = 0; tries < 450; tries++) {
        left = [];
        for await (const wf of client.workflow.list()) left.push(wf.workflowId);
        if (left.length === 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(left, []);
    } finally {
      await worker.shutdown();
    }
  } finally {
    await app.close();
    await services.close();
  }
});

test('with a token configured, requests without the bearer token get 401', async () => {
  const services = buildServices(await testConfig({ api: { token: 'x'.repeat(24) } }));
  const app = await buildApi({ services });
  try {
    assert.equal((await app.inject({ url: '/api/health' })).statusCode, 401);
    const ok = await app.inject({ url: '/api/health', headers: { authorization: `Bearer ${'x'.repeat(24)}` } });
    assert.equal(ok.statusCode, 200);
  } finally {
    await app.close();
    await services.close();
  }
});

test('a bad query parameter is a 400 naming it', async () => {
  const services = buildServices(await testConfig());
  const app = await buildApi({ services });
  const res = await app.inject({ url: '/api/health?probe=maybe' });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().field, 'probe');
  assert.match(res.json().error, /^probe: /);
  await app.close();
  await services.close();
});
