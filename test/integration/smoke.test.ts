import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildServices } from '../../src/services.ts';
import { startWorker } from '../../src/worker/worker.ts';
import { probe } from '../../src/workflows/probe.ts';
import { testConfig } from '../helpers/temporal.ts';

test('a workflow started by the client runs its activity on the worker and returns the result', async () => {
  const services = buildServices(await testConfig());
  const worker = await startWorker(services);
  try {
    const client = await services.temporal();
    const result = await client.workflow.execute(probe, {
      taskQueue: services.temporalTarget().taskQueue,
      workflowId: `probe/smoke/${Date.now()}`,
    });
    assert.match(result.worker, /:\d+$/);
    assert.ok(!Number.isNaN(Date.parse(result.at)));
  } finally {
    await worker.shutdown();
    await services.close();
  }
});
