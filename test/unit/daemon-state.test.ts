// How a command finds the daemon of its data folder, and what it takes from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonStatePath, findDaemon, type DaemonState } from '../../src/client/daemon-state.ts';
import { asDaemonSees } from '../../src/cli/temporal-session.ts';
import { parseConfig } from '../../src/config/load-config.ts';

const state = (pid: number, exchanges: DaemonState['exchanges'] = {}): DaemonState => ({
  pid,
  role: 'start',
  command: 'dccd start',
  dataPath: '/srv/data',
  version: '0.1.0',
  startedAt: '2026-01-01T00:00:00.000Z',
  temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'dccd' },
  apiUrl: 'http://127.0.0.1:8080',
  exchanges,
});

test('a daemon is found only while the process named in daemon.json lives, and only in a well-formed file', async (t) => {
  const data = mkdtempSync(join(tmpdir(), 'dccd-daemon-state-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  assert.equal(await findDaemon(data), undefined, 'no file');
  mkdirSync(join(data, '.dccd'));
  writeFileSync(daemonStatePath(data), JSON.stringify(state(process.pid)));
  assert.deepEqual(await findDaemon(data), state(process.pid));
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(daemonStatePath(data), JSON.stringify(state(dead)));
  assert.equal(await findDaemon(data), undefined, 'a dead pid');
  writeFileSync(daemonStatePath(data), '{"pid": ');
  assert.equal(await findDaemon(data), undefined, 'half a file');
  assert.equal(await findDaemon(join(daemonStatePath(data), 'x')), undefined, 'a path through a file');
});

test("a command uses the daemon's venue URLs, and says so when its own differ", () => {
  const cfg = parseConfig({ exchanges: { binance: { restUrl: 'http://127.0.0.1:9100/binance', requestBudget: 1200 } } });
  const seen = asDaemonSees(cfg, state(1, {}));
  assert.deepEqual(seen.cfg.exchanges.binance, { restUrl: undefined, wsUrl: undefined, requestBudget: 1200 });
  assert.deepEqual(seen.warnings, [
    "binance.restUrl is http://127.0.0.1:9100/binance here, but dccd start (pid 1, API http://127.0.0.1:8080) uses the default; runs use the daemon's (set DCCD_BINANCE_REST_URL where dccd start runs, or in dccd.yml)",
  ]);
  const same = asDaemonSees(cfg, state(1, { binance: { restUrl: 'http://127.0.0.1:9100/binance' } }));
  assert.deepEqual(same.warnings, []);
  assert.equal(asDaemonSees(cfg, undefined).cfg, cfg);
});
