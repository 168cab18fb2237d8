// The Temporal dev server tests run against: the one `npm test` started for the whole run,
// or (when a test file is run alone) one started for this process and stopped at exit.
import { after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevServer } from '../../src/worker/dev-server.ts';
import { startEmbeddedServer } from '../../src/worker/embedded-stack.ts';
import { ensureSearchAttributes } from '../../src/client/search-attributes.ts';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/workflows/definitions.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import type { AppConfig } from '../../src/config/app-config.ts';
import { freePort } from './ports.ts';
import { freshSchema, seedEmbeddedDatabase, testDatabaseUrl } from './postgres.ts';

let own: Promise<DevServer> | undefined;

export async function temporalAddress(): Promise<string> {
  const shared = process.env.DCCD_TEST_TEMPORAL_ADDRESS;
  if (shared) return shared;
  own ??= freePort().then((port) => startEmbeddedServer({ port }));
  const server = await own;
  after(() => server.stop());
  return server.address;
}

/**
 * A namespace of its own, with dccd's search attributes: workflow ids are per dataset, so
 * tests that backfill the same dataset must not share a namespace.
 */
async function freshNamespace(address: string): Promise<string> {
  const namespace = `test-${randomUUID()}`;
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await ensureSearchAttributes(connection.operatorService, namespace, SEARCH_ATTRIBUTE_KEYS);
  } finally {
    await connection.close();
  }
  return namespace;
}


/**
 * A config with a fresh data folder, namespace, task queue and coverage database that no
 * other test uses: a schema of the real PostgreSQL when the run has one, else embedded.
 */
export async function testConfig(overrides: Record<string, unknown> = {}): Promise<AppConfig> {
  const data = mkdtempSync(join(tmpdir(), 'dccd-test-'));
  after(() => rmSync(data, { recursive: true, force: true }));
  const address = await temporalAddress();
  const namespace = await freshNamespace(address);
  const pgUrl = testDatabaseUrl();
  let database = {};
  if (pgUrl) {
    const schema = await freshSchema(pgUrl);
    after(() => schema.drop());
    database = { url: schema.databaseUrl };
  } else await seedEmbeddedDatabase(data);
  return parseConfig({ data, database, temporal: { address, namespace, taskQueue: `test-${randomUUID()}` }, ...overrides });
}
