// The Temporal dev server tests run against: the one `npm test` started for the whole run,
// or (when a test file is run alone) one started for this process and stopped at exit.
import { after } from 'node:test';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../../src/worker/dev-server.ts';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/workflows/definitions.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import type { AppConfig } from '../../src/config/app-config.ts';
import { freePort } from './ports.ts';

let own: Promise<DevServer> | undefined;

export async function temporalAddress(): Promise<string> {
  const shared = process.env.DCCD_TEST_TEMPORAL_ADDRESS;
  if (shared) return shared;
  own ??= freePort().then((port) => startDevServer({ port, namespace: 'default', searchAttributes: SEARCH_ATTRIBUTE_KEYS }));
  const server = await own;
  after(() => server.stop());
  return server.address;
}

/** A config with a fresh data folder and a task queue no other test uses. */
export async function testConfig(overrides: Record<string, unknown> = {}): Promise<AppConfig> {
  const data = mkdtempSync(join(tmpdir(), 'dccd-test-'));
  after(() => rmSync(data, { recursive: true, force: true }));
  const address = await temporalAddress();
  return parseConfig({ data, temporal: { address, taskQueue: `test-${randomUUID()}` }, ...overrides });
}
