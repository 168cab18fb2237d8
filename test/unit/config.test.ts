import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig, parseConfig } from '../../src/config/load-config.ts';

function withFile(text: string, fn: (path: string, dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-cfg-'));
  try {
    const path = join(dir, 'dccd.yml');
    writeFileSync(path, text);
    fn(path, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test('a missing default file means defaults: embedded Temporal, API on 127.0.0.1:8080, data next to the cwd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-cfg-'));
  try {
    const cfg = loadConfig({ cwd: dir, env: {} });
    assert.equal(cfg.temporal.address, undefined);
    assert.equal(cfg.api.host, '127.0.0.1');
    assert.equal(cfg.api.port, 8080);
    assert.equal(cfg.data, join(dir, 'data'));
    assert.deepEqual(cfg.jobs, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an explicit --config path that does not exist is an error', () => {
  assert.deepEqual(problems(() => loadConfig({ path: '/nonexistent/dccd.yml', env: {} })), ['file not found: /nonexistent/dccd.yml']);
});

test('a malformed file reports one line per problem, naming the key path and the reason', () => {
  const yml = `
data: 5
temporal: { port: "x" }
jobs:
  - { exchange: binance, symbol: BTCUSDT, kind: ohlc }
  - { exchange: krakken, symbol: X, kind: trades }
  - { exchange: binance, symbol: X, kind: ohlc, span: 7x, start: yesterday, foo: 1 }
  - { exchange: binance, symbol: X, kind: trades, schedule: { cron: "every day!" } }
  - { exchange: binance, symbols: [X], symbol: Y, kind: trades, schedule: { cron: "61 * * * *" } }
`;
  withFile(yml, (path) => {
    assert.deepEqual(
      problems(() => loadConfig({ path, env: {} })),
      [
        'data: expected string, received number',
        "temporal.port: 'x' is not a port (0–65535)",
        'jobs[0].span: required for kind ohlc',
        "jobs[1].exchange: unknown exchange 'krakken' (known: binance, coinbase, kraken, bybit, okx, bitfinex, bitmex)",
        'jobs[2].span: not a span (a count and a unit: s, m, h, d, w or M, e.g. 1m, 4h, 1M)',
        "jobs[2].start: 'yesterday' is not a date (YYYY-MM-DD), an ISO date-time, an integer of ns, 'last' or 'origin'",
        "jobs[2]: unknown key 'foo'",
        "jobs[3].schedule.cron: 'every day!' is not a cron expression: 2 fields; it takes 5 (minute hour day-of-month month day-of-week)",
        "jobs[4].schedule.cron: '61 * * * *' is not a cron expression: got value 61 expected range 0-59",
        'jobs[4].symbol: give either symbol or symbols (a list)',
      ],
    );
  });
});

/** The error's whole text, as `dccd` prints it. */
function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return assert.fail('expected a ConfigError');
}

test('a YAML syntax error is one line: the file, the position once, and the reason', () => {
  withFile('data: x\ntemporal:\n  port: [1\n', (path) => {
    assert.equal(
      message(() => loadConfig({ path, env: {} })),
      `${path}: line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    );
  });
});

test("an environment variable's problem names the variable, not the file", () => {
  withFile('api: { port: 9000 }\n', (path) => {
    assert.equal(message(() => loadConfig({ path, env: { DCCD_API_PORT: '99999' } })), "DCCD_API_PORT: '99999' is not a port (0–65535)");
  });
  const cases: [NodeJS.ProcessEnv, string][] = [
    [{ DCCD_API_PORT: '99999' }, "DCCD_API_PORT: '99999' is not a port (0–65535)"],
    [{ DCCD_API_PORT: '80a' }, "DCCD_API_PORT: '80a' is not a port (0–65535)"],
    [{ DCCD_TEMPORAL_PORT: '-1' }, "DCCD_TEMPORAL_PORT: '-1' is not a port (0–65535)"],
    [{ DCCD_TEMPORAL_UI_PORT: '1e3' }, "DCCD_TEMPORAL_UI_PORT: '1e3' is not a port (0–65535)"],
    [{ TEMPORAL_ADDRESS: 'temporal' }, "TEMPORAL_ADDRESS: 'temporal' is not host:port"],
    [{ DATABASE_URL: 'mysql://db/dccd' }, 'DATABASE_URL: must be a URL (postgres: or postgresql:)'],
    [{ DCCD_API_TOKEN: 'short' }, 'DCCD_API_TOKEN: at least 16 characters'],
    [{ DCCD_BINANCE_REST_URL: 'ftp://x' }, 'DCCD_BINANCE_REST_URL: must be a URL (http: or https:)'],
    [{ DCCD_KRAKEN_WS_URL: 'http://x' }, 'DCCD_KRAKEN_WS_URL: must be a URL (ws: or wss:)'],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'dccd-cfg-'));
  try {
    for (const [env, expected] of cases) assert.equal(message(() => loadConfig({ cwd: dir, env })), expected, JSON.stringify(env));
    // Several problems: one line each, the variables' apart from the file's.
    withFile('api: { port: 99999 }\n', (path) => {
      assert.equal(
        message(() => loadConfig({ path, env: { DCCD_TEMPORAL_PORT: 'x', TEMPORAL_ADDRESS: 'temporal' } })),
        [`DCCD_TEMPORAL_PORT: 'x' is not a port (0–65535)`, "TEMPORAL_ADDRESS: 'temporal' is not host:port", `${path}: api.port: 99999 is not a port (0–65535)`].join('\n'),
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DCCD_TEMPORAL_PORT and DCCD_TEMPORAL_UI_PORT set the embedded server ports', () => {
  withFile('temporal: { port: 1, uiPort: 2 }\n', (path) => {
    const cfg = loadConfig({ path, env: { DCCD_TEMPORAL_PORT: '17233', DCCD_TEMPORAL_UI_PORT: '18233' } });
    assert.equal(cfg.temporal.port, 17233);
    assert.equal(cfg.temporal.uiPort, 18233);
  });
});

test('two listeners on one port are refused, naming both keys', () => {
  assert.deepEqual(problems(() => parseConfig({ temporal: { uiPort: 8080 } })), ['temporal.uiPort: 8080 is also api.port']);
  assert.deepEqual(problems(() => parseConfig({ temporal: { port: 9000, uiPort: 9000 }, api: { port: 9000 } })), [
    'temporal.port: 9000 is also api.port',
    'temporal.uiPort: 9000 is also api.port',
  ]);
  // Port 0 is any free port; no embedded server without temporal.ui or with a cluster address;
  // an API on another address than loopback does not share the embedded server's ports.
  assert.doesNotThrow(() => parseConfig({ temporal: { port: 0, uiPort: 0 }, api: { port: 0 } }));
  assert.doesNotThrow(() => parseConfig({ temporal: { ui: false, uiPort: 8080 } }));
  assert.doesNotThrow(() => parseConfig({ temporal: { address: 'temporal:7233' }, api: { port: 7233 } }));
  assert.doesNotThrow(() => parseConfig({ api: { host: '192.168.1.5', port: 7233, token: 'a-long-enough-secret' } }));
  for (const host of ['localhost', '127.0.0.2', '::1', '0.0.0.0', '::']) {
    const token = host === '0.0.0.0' || host === '::' ? { token: 'a-long-enough-secret' } : {};
    assert.deepEqual(problems(() => parseConfig({ api: { host, port: 7233, ...token } })), ['api.port: 7233 is also temporal.port'], host);
  }
});

test('a port clash set from the environment names the variable, and the key that was given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dccd-cfg-'));
  try {
    assert.equal(message(() => loadConfig({ cwd: dir, env: { DCCD_TEMPORAL_UI_PORT: '8080' } })), 'DCCD_TEMPORAL_UI_PORT: 8080 is also api.port');
    // temporal.uiPort is left at its default: the variable that moved api.port onto it is at fault.
    assert.equal(message(() => loadConfig({ cwd: dir, env: { DCCD_API_PORT: '8233' } })), 'DCCD_API_PORT: 8233 is also temporal.uiPort');
    assert.equal(
      message(() => loadConfig({ cwd: dir, env: { DCCD_API_PORT: '7000', DCCD_TEMPORAL_PORT: '7000' } })),
      'DCCD_TEMPORAL_PORT: 7000 is also DCCD_API_PORT',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  withFile('api: { port: 7000 }\n', (path) => {
    assert.equal(message(() => loadConfig({ path, env: { DCCD_TEMPORAL_PORT: '7000' } })), 'DCCD_TEMPORAL_PORT: 7000 is also api.port');
  });
});

test('environment variables override the file', () => {
  withFile('api: { port: 1 }\nexchanges: { binance: { restUrl: "https://api.binance.com" } }\n', (path, dir) => {
    const cfg = loadConfig({
      path,
      env: {
        DCCD_DATA: 'store',
        TEMPORAL_ADDRESS: 'temporal:7233',
        TEMPORAL_NAMESPACE: 'prod',
        DATABASE_URL: 'postgres://u@localhost/dccd',
        DCCD_API_HOST: '0.0.0.0',
        DCCD_API_PORT: '9000',
        DCCD_API_TOKEN: 'a-long-enough-secret',
        DCCD_BINANCE_REST_URL: 'http://127.0.0.1:9100/binance',
        DCCD_KRAKEN_WS_URL: 'ws://127.0.0.1:9100/kraken',
      },
    });
    assert.equal(cfg.data, join(dir, 'store'));
    assert.equal(cfg.temporal.address, 'temporal:7233');
    assert.equal(cfg.temporal.namespace, 'prod');
    assert.equal(cfg.database.url, 'postgres://u@localhost/dccd');
    assert.deepEqual(cfg.api, { host: '0.0.0.0', port: 9000, token: 'a-long-enough-secret', corsOrigins: [] });
    assert.equal(cfg.exchanges.binance?.restUrl, 'http://127.0.0.1:9100/binance');
    assert.equal(cfg.exchanges.kraken?.wsUrl, 'ws://127.0.0.1:9100/kraken');
  });
});

test('an API bound beyond loopback requires a token', () => {
  assert.deepEqual(
    problems(() => parseConfig({ api: { host: '0.0.0.0' } })),
    ['api.token: required when api.host (0.0.0.0) is not a loopback address'],
  );
  assert.equal(parseConfig({ api: { host: '127.0.0.1' } }).api.token, undefined);
});

test('jobs get defaults: a backfill, from last, enabled', () => {
  const cfg = parseConfig({ jobs: [{ exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' }] });
  assert.equal(cfg.jobs[0]!.start, 'last');
  assert.equal(cfg.jobs[0]!.operation, 'backfill');
  assert.equal(cfg.jobs[0]!.enabled, true);
  assert.deepEqual(problems(() => parseConfig({ jobs: [{ id: 'x', exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' }] })), [
    "jobs[0]: unknown key 'id'",
  ]);
  assert.deepEqual(problems(() => parseConfig({ jobs: [{ exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades', schedule: 'weekly' }] })), [
    "jobs[0].schedule: one of { every: <duration> }, { cron: '<5 fields>' }, { at: <time> }, once, manual or supervised",
  ]);
});

test('the example config is valid', () => {
  const cfg = loadConfig({ path: new URL('../../dccd.example.yml', import.meta.url).pathname, env: {} });
  assert.ok(cfg.jobs.length > 0);
});
