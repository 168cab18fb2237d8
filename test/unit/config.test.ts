import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/load-config.ts';

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
  - { id: a, exchange: binance, symbol: BTCUSDT, kind: ohlc }
  - { id: b, exchange: krakken, symbol: X, kind: trades }
  - { id: c, exchange: binance, symbol: X, kind: ohlc, span: 7x, start: yesterday, foo: 1 }
`;
  withFile(yml, (path) => {
    assert.deepEqual(
      problems(() => loadConfig({ path, env: {} })),
      [
        'data: expected string, received number',
        'temporal.port: expected number, received string',
        'jobs[0].span: required for kind ohlc',
        "jobs[1].exchange: unknown exchange 'krakken' (known: binance, coinbase, kraken, bybit, okx, bitfinex, bitmex)",
        'jobs[2].span: not a span (a count and a unit: s, m, h, d, w or M, e.g. 1m, 4h, 1M)',
        "jobs[2].start: 'yesterday' is not a date (YYYY-MM-DD), an ISO date-time, an integer of ns, 'last' or 'origin'",
        "jobs[2]: unknown key 'foo'",
      ],
    );
  });
});

test('YAML syntax errors name the line', () => {
  withFile('data: [unclosed\n', (path) => {
    const [p] = problems(() => loadConfig({ path, env: {} }));
    assert.match(p!, /^line \d+, column \d+: /);
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
    assert.deepEqual(cfg.api, { host: '0.0.0.0', port: 9000, token: 'a-long-enough-secret' });
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

test('jobs get defaults and duplicate ids are refused', () => {
  const cfg = parseConfig({ jobs: [{ id: 'btc', exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' }] });
  assert.equal(cfg.jobs[0]!.start, 'last');
  assert.equal(cfg.jobs[0]!.operation, 'backfill');
  const dup = { id: 'x', exchange: 'binance', symbol: 'BTC/USDT', kind: 'trades' };
  assert.deepEqual(problems(() => parseConfig({ jobs: [dup, dup] })), ["jobs[1].id: duplicate job id 'x'"]);
});

test('the example config is valid', () => {
  const cfg = loadConfig({ path: new URL('../../dccd.example.yml', import.meta.url).pathname, env: {} });
  assert.ok(cfg.jobs.length > 0);
});
