// A worker against a cluster whose namespace lacks dccd's search attributes registers them
// itself, so the first run (and every list filtering by them) works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { parseConfig } from '../../src/config/load-config.ts';
import { buildServices } from '../../src/services.ts';
import { startWorker } from '../../src/worker/worker.ts';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/workflows/definitions.ts';
import { temporalAddress, testConfig } from '../helpers/temporal.ts';

test('a worker registers the search attributes a namespace lacks, and only those', async () => {
  const address = await temporalAddress();
  const namespace = `bare-${randomUUID()}`;
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const { data, database } = await testConfig();
    const services = buildServices(parseConfig({ data, database, temporal: { address, namespace, taskQueue: `sa-${randomUUID()}` } }));
    const worker = await startWorker(services);
    await worker.shutdown();
    await services.close();
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    for (const key of SEARCH_ATTRIBUTE_KEYS) assert.ok(key.name in (listed.customAttributes ?? {}), `${key.name} registered`);

    // A second worker finds them there and adds nothing.
    const again = buildServices(parseConfig({ data, database, temporal: { address, namespace, taskQueue: `sa-${randomUUID()}` } }));
    const second = await startWorker(again);
    await second.shutdown();
    await again.close();
    const after = await connection.operatorService.listSearchAttributes({ namespace });
    assert.deepEqual(Object.keys(after.customAttributes ?? {}).sort(), Object.keys(listed.customAttributes ?? {}).sort());
  } finally {
    await connection.close();
  }
});
