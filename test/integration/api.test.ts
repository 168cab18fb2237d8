// The REST API over runs, jobs and schedules, through Fastify's inject: the same functions the
// CLI calls, typed errors mapped once, every field validated before anything starts.
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi, listenApi } from '../../src/api/server.ts';
import { runEvents } from '../../src/client/run-events.ts';
import { listRuns } from '../../src/client/run-list.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { JobStore } from '../../src/jobs/job-store.ts';
import { backfillEnv } from '../helpers/backfill-env.ts';
import { until } from '../helpers/until.ts';

const BTC_1H = { exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1h', start: '2024-01-01', end: '2024-01-03' };

test('ad-hoc backfills through the API: started, refused with the running id, listed newest first in pages, shown one by one', async () => {
  const env = await backfillEnv({ latencyMs: 20 });
  const app = await buildApi({ services: env.services });
  const started = await app.inject({ method: 'POST', url: '/api/backfill', payload: BTC_1H });
  assert.equal(started.statusCode, 201, started.body);
  const { runId, notes } = started.json();
  assert.deepEqual(notes, []);
  const again = await app.inject({ method: 'POST', url: '/api/backfill', payload: BTC_1H });
  if (again.statusCode === 409) assert.equal(again.json().runId, runId);
  else assert.equal(again.statusCode, 201, 'the first had already finished');

  const done = await until('the run to succeed', async () => {
    const r = (await app.inject({ url: `/api/runs/${runId}` })).json();
    return r.state === 'succeeded' ? r : undefined;
  });
  assert.equal(done.runId, runId);
  assert.equal(done.workflowId, 'backfill/binance/ohlc-1h/BTC-USDT');
  assert.deepEqual(done.target, { exchange: 'binance', symbol: 'BTC/USDT', kind: 'ohlc', span: '1h' });
  assert.equal(done.rowsWritten, 48);
  assert.equal(done.progress.done, done.progress.total);
  assert.deepEqual(done.range, { start: '2024-01-01T00:00:00.000000000Z', end: '2024-01-03T00:00:00.000000000Z' });
  assert.ok(done.logTail.at(-1).endsWith('completed: 48 rows'));

  const other = await app.inject({ method: 'POST', url: '/api/backfill', payload: { ...BTC_1H, symbol: 'ETH/USDT' } });
  assert.equal(other.statusCode, 201);
  await until('both runs listed as ended', async () => {
    const page = await listRuns(env.services, { exchange: 'binance', state: 'succeeded' });
    return page.runs.length >= 2 || (await listRuns(env.services, {})).runs.length >= 3 ? true : undefined;
  });
  const first = (await app.inject({ url: '/api/runs?limit=1' })).json();
  assert.equal(first.runs.length, 1);
  assert.ok(first.nextCursor, 'a next page');
  const second = (await app.inject({ url: `/api/runs?limit=1&cursor=${first.nextCursor}` })).json();
  assert.equal(second.runs.length, 1);
  assert.notEqual(second.runs[0].runId, first.runs[0].runId);
  const eth = (await app.inject({ url: '/api/runs?symbol=ETH/USDT' })).json();
  assert.deepEqual(eth.runs.map((r: { target: { symbol: string } }) => r.target.symbol), ['ETH/USDT']);
  assert.equal((await app.inject({ url: `/api/runs/00000000-0000-0000-0000-000000000000` })).statusCode, 404);
});

test('a run no worker has taken is pending', async () => {
  const env = await backfillEnv({}, false);
  const app = await buildApi({ services: env.services });
  const { runId } = (await app.inject({ method: 'POST', url: '/api/backfill', payload: BTC_1H })).json();
  const shown = (await app.inject({ url: `/api/runs/${runId}` })).json();
  assert.equal(shown.state, 'pending', JSON.stringify(shown));
  const listed = await until('the run in visibility', async () => (await listRuns(env.services, { state: 'pending' })).runs[0]);
  assert.equal(listed.runId, runId);
});

test('bad requests are 4xx naming the field, and start nothing', async (t) => {
  const env = await backfillEnv({}, false);
  const dir = mkdtempSync(join(tmpdir(), 'dccd-api-bad-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'dccd.yml');
  const file = '# the jobs\njobs:\n  - { exchange: binance, symbols: [BTC/USDT, ETH/USDT], kind: ohlc, span: 1h, start: 2024-01-01, schedule: { every: 1h } }\n';
  writeFileSync(config, file);
  const app = await buildApi({ services: env.services, jobs: new JobStore({ path: config, env: {} }) });
  const BTC_JOB = '/api/jobs/backfill:binance:BTC-USDT:ohlc-1h';
  const JOB = { exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1h', start: '2024-01-01', schedule: { every: '2h' } };
  const SOL = { ...JOB, symbol: 'SOLUSDT' };
  const big = 'x'.repeat(70 * 1024);
  const cases: [string, string, unknown, number, string | null][] = [
    ['GET', '/api/runs?limit=0', undefined, 400, 'limit'],
    ['GET', '/api/runs?limit=-5', undefined, 400, 'limit'],
    ['GET', '/api/runs?limit=100000', undefined, 400, 'limit'],
    ['GET', '/api/runs?limit=ten', undefined, 400, 'limit'],
    ['GET', '/api/runs?state=done', undefined, 400, 'state'],
    ['GET', '/api/runs?exchange=nyse', undefined, 400, 'exchange'],
    ['GET', '/api/runs?kind=ohlc-1x', undefined, 400, 'kind'],
    ['GET', '/api/runs?symbol=BTC%2F..%2F..%2Fetc', undefined, 400, 'symbol'],
    ['GET', "/api/runs?spec_id=backfill:binance:BTC-USDT:trades'%20OR%201=1", undefined, 400, 'spec_id'],
    ['GET', '/api/runs?spec_id=..%2F..%2Fetc%2Fpasswd', undefined, 400, 'spec_id'],
    ['GET', '/api/runs?cursor=%25%25%25', undefined, 400, 'cursor'],
    ['GET', `/api/runs?cursor=${'0'.repeat(300)}.AAAAAAAAAAAAAAAA`, undefined, 400, 'cursor'],
    ['GET', '/api/runs?colour=red', undefined, 400, 'colour'],
    ['GET', '/api/runs/not-a-uuid', undefined, 400, 'id'],
    ['GET', '/api/runs/..%2F..%2Fetc', undefined, 400, 'id'],
    ['POST', '/api/runs/also-not-a-uuid/stop', undefined, 400, 'id'],
    ['GET', '/api/jobs/..%2Fsecret', undefined, 400, 'id'],
    ['GET', '/api/jobs/backfill:binance:BTC-USDT:ohlc-1m', undefined, 404, null],
    ['POST', '/api/schedules/backfill:binance:BTC-USDT:ohlc-1m/pause', undefined, 404, null],
    ['POST', '/api/schedules/nope/trigger', undefined, 400, 'id'],
    ['POST', '/api/backfill', { ...BTC_1H, exchange: 'nyse' }, 400, 'body.exchange'],
    ['POST', '/api/backfill', { ...BTC_1H, exchange: 'kraken' }, 422, null],
    ['POST', '/api/backfill', { ...BTC_1H, symbol: '../../etc/passwd' }, 400, 'body.symbol'],
    ['POST', '/api/backfill', { ...BTC_1H, symbol: 'BTC/USDT/X' }, 400, 'body.symbol'],
    ['POST', '/api/backfill', { ...BTC_1H, kind: 'candles' }, 400, 'body.kind'],
    ['POST', '/api/backfill', { ...BTC_1H, span: '7x' }, 400, 'span'],
    ['POST', '/api/backfill', { ...BTC_1H, span: undefined }, 400, 'span'],
    ['POST', '/api/backfill', { ...BTC_1H, end: '2023-01-01' }, 400, 'end'],
    ['POST', '/api/backfill', { ...BTC_1H, start: 'yesterday' }, 400, 'start'],
    ['POST', '/api/backfill', { ...BTC_1H, start: '2200-01-01', end: undefined }, 400, 'start'],
    ['POST', '/api/backfill', { ...BTC_1H, start: 1704067200 }, 400, 'start'],
    ['POST', '/api/backfill', { ...BTC_1H, depth: -1 }, 400, 'body.depth'],
    ['POST', '/api/backfill', { ...BTC_1H, depth: 'deep' }, 400, 'body.depth'],
    ['POST', '/api/backfill', { ...BTC_1H, kind: 'book', span: undefined, start: undefined, end: undefined, depth: 100_000 }, 400, 'depth'],
    ['POST', '/api/backfill', { ...BTC_1H, sneaky: true }, 400, 'body.sneaky'],
    ['POST', '/api/backfill', [BTC_1H], 400, 'body'],
    ['POST', '/api/backfill', 'not json at all', 415, null],
    ['POST', '/api/backfill', { ...BTC_1H, note: big }, 413, null],
    ['POST', '/api/backfill', {}, 400, 'body.exchange'],
    ['GET', '/api/read?exchange=binance&symbol=BTCUSDT&kind=trades&format=xlsx', undefined, 400, 'format'],
    ['GET', '/api/read?exchange=nyse&symbol=BTCUSDT&kind=trades', undefined, 400, 'exchange'],
    ['GET', '/api/read?exchange=binance&symbol=..%2F..%2Fetc%2Fpasswd&kind=trades', undefined, 400, 'symbol'],
    ['GET', '/api/read?exchange=binance&symbol=NOTAPAIR&kind=trades', undefined, 400, 'symbol'],
    ['GET', '/api/read?exchange=binance&symbol=BTCUSDT&kind=trades&start=2024-01-02&end=2024-01-01', undefined, 400, 'end'],
    ['GET', '/api/read?exchange=binance&symbol=BTCUSDT&kind=ohlc', undefined, 400, 'span'],
    ['GET', '/api/read?exchange=binance&symbol=BTCUSDT&kind=trades&start=yesterday', undefined, 400, 'start'],
    ['GET', '/api/read?exchange=binance&symbol=BTCUSDT&kind=trades', undefined, 404, null],
    ['POST', '/api/jobs', { ...SOL, colour: 'red' }, 400, 'body.colour'],
    ['POST', '/api/jobs', { ...SOL, schedule: { cron: 'every day!' } }, 400, 'body.schedule.cron'],
    ['POST', '/api/jobs', { ...SOL, schedule: { cron: '61 * * * *' } }, 400, 'body.schedule.cron'],
    ['POST', '/api/jobs', { ...SOL, schedule: { every: 'hourly' } }, 400, 'body.schedule.every'],
    ['POST', '/api/jobs', { ...SOL, schedule: 'sometimes' }, 400, 'body.schedule'],
    ['POST', '/api/jobs', { ...SOL, symbol: '../../etc/passwd' }, 400, 'body.symbol'],
    ['POST', '/api/jobs', { ...SOL, symbol: 'BTC/USDT/X' }, 400, 'body.symbol'],
    ['POST', '/api/jobs', { ...SOL, symbol: 42 }, 400, 'body.symbol'],
    ['POST', '/api/jobs', { ...SOL, symbol: undefined, symbols: ['SOLUSDT', 'SOL/USDT'] }, 400, 'body.symbols[1]'],
    ['POST', '/api/jobs', { ...SOL, symbols: ['XRPUSDT'] }, 400, 'body.symbol'],
    ['POST', '/api/jobs', { ...SOL, enabled: 'yes' }, 400, 'body.enabled'],
    ['POST', '/api/jobs', { ...SOL, depth: -1 }, 400, 'body.depth'],
    ['POST', '/api/jobs', { ...SOL, span: '7x' }, 400, 'body.span'],
    ['POST', '/api/jobs', { ...SOL, span: undefined }, 400, 'body.span'],
    ['POST', '/api/jobs', { ...SOL, start: 'yesterday' }, 400, 'body.start'],
    ['POST', '/api/jobs', { ...SOL, kind: 'candles' }, 400, 'body.kind'],
    ['POST', '/api/jobs', { ...SOL, origin: 'config' }, 400, 'body.origin'],
    ['POST', '/api/jobs', { ...SOL, operation: 'stream' }, 400, 'body.schedule'],
    ['POST', '/api/jobs', { ...SOL, flushRows: 10 }, 400, 'body.flushRows'],
    ['POST', '/api/jobs', { ...SOL, operation: 'stream', schedule: undefined, span: undefined, kind: 'trades', flushInterval: '2h' }, 400, 'body.flushInterval'],
    ['POST', '/api/jobs', { ...SOL, operation: 'stream', schedule: undefined, span: '2m' }, 422, null],
    ['POST', '/api/jobs', { ...SOL, operation: 'stream', schedule: undefined, span: undefined, kind: 'book', depth: 6000 }, 400, 'job stream:binance:SOL-USDT:book: depth'],
    ['POST', '/api/jobs', { ...SOL, exchange: 'kraken' }, 422, null],
    ['POST', '/api/jobs', { ...SOL, exchange: 'nyse' }, 400, 'body.exchange'],
    ['POST', '/api/jobs', [SOL], 400, 'body'],
    ['POST', '/api/jobs', JOB, 409, null],
    ['POST', '/api/jobs', { ...JOB, symbol: undefined, symbols: ['SOLUSDT', 'ETH/USDT'] }, 409, null],
    ['PUT', '/api/jobs/..%2F..%2Fetc%2Fpasswd', JOB, 400, 'id'],
    ['PUT', BTC_JOB, { ...JOB, symbol: 'ETHUSDT' }, 400, 'body.symbol'],
    ['PUT', BTC_JOB, { ...JOB, kind: 'trades', span: undefined }, 400, 'body.kind'],
    ['PUT', BTC_JOB, { ...JOB, span: '1d' }, 400, 'body.span'],
    ['PUT', BTC_JOB, { ...JOB, operation: 'stream', schedule: 'supervised' }, 400, 'body.operation'],
    ['PUT', BTC_JOB, { ...JOB, symbol: undefined, symbols: ['BTCUSDT'] }, 400, 'body.symbols'],
    ['PUT', BTC_JOB, { ...JOB, schedule: { cron: '* * *' } }, 400, 'body.schedule.cron'],
    ['PUT', BTC_JOB, { ...JOB, origin: 'api' }, 400, 'body.origin'],
    ['PUT', BTC_JOB, { ...JOB, wat: 1 }, 400, 'body.wat'],
    ['PUT', BTC_JOB, { ...JOB, start: 1704067200 }, 400, 'body.start'],
    ['PUT', '/api/jobs/backfill:binance:SOL-USDT:ohlc-1h', SOL, 404, null],
    ['DELETE', '/api/jobs/..%2Fsecret', undefined, 400, 'id'],
    ['DELETE', "/api/jobs/backfill:binance:BTC-USDT:ohlc-1h'%20OR%201=1", undefined, 400, 'id'],
    ['DELETE', '/api/jobs/backfill:binance:SOL-USDT:ohlc-1h', undefined, 404, null],
    ['GET', '/api/nothing-here', undefined, 404, null],
    ['DELETE', '/api/runs', undefined, 404, null],
  ];
  const wrong: string[] = [];
  for (const [method, url, payload, status, field] of cases) {
    const headers = typeof payload === 'string' ? { 'content-type': 'text/plain' } : undefined;
    const res = await app.inject({ method: method as 'GET', url, ...(payload !== undefined && { payload: payload as object }), headers });
    const body = res.json();
    const ok = res.statusCode === status && body.field === field && typeof body.reason === 'string' && typeof body.error === 'string';
    if (!ok) wrong.push(`${method} ${url} ${JSON.stringify(payload)?.slice(0, 80)} → ${res.statusCode} ${res.body.slice(0, 200)}`);
  }
  assert.deepEqual(wrong, []);
  assert.ok(cases.length >= 70);
  assert.deepEqual((await listRuns(env.services, {})).runs, [], 'nothing started');
  assert.equal(readFileSync(config, 'utf8'), file, 'nothing written');
  assert.deepEqual(readdirSync(dir), ['dccd.yml']);
});

test('the OpenAPI document describes every route', async () => {
  const env = await backfillEnv({}, false);
  const app = await buildApi({ services: env.services });
  const doc = (await app.inject({ url: '/docs/json' })).json();
  assert.equal(doc.openapi.slice(0, 2), '3.');
  for (const path of ['/api/runs', '/api/runs/{id}', '/api/runs/{id}/stop', '/api/backfill', '/api/jobs', '/api/jobs/apply', '/api/jobs/{id}/run', '/api/schedules', '/api/schedules/{id}/trigger', '/api/exchanges', '/api/health', '/api/read', '/api/streams']) {
    assert.ok(doc.paths[path], `${path} in the OpenAPI document`);
  }
  assert.deepEqual(Object.keys(doc.paths['/api/jobs']).sort(), ['get', 'post']);
  assert.deepEqual(Object.keys(doc.paths['/api/jobs/{id}']).sort(), ['delete', 'get', 'put']);
  assert.ok(doc.paths['/api/jobs'].post.requestBody.content['application/json'].schema.properties.schedule, 'the job entry schema, as the config takes it');
  const exchanges = (await app.inject({ url: '/api/exchanges' })).json().exchanges;
  const binance = exchanges.find((e: { name: string }) => e.name === 'binance');
  assert.equal(binance.implemented, true);
  assert.deepEqual(Object.keys(binance.capabilities.stream), ['ohlc', 'trades', 'book'], 'live streams: only those this dccd runs');
});

/** Reads server-sent events from `url` until `stop` says so; returns them in order. */
async function readEvents(url: string, stop: (e: { event: string; data: any }) => boolean): Promise<{ event: string; data: any }[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events: { event: string; data: any }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body!) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || data === undefined) continue;
      const e = { event, data: JSON.parse(data) };
      events.push(e);
      if (stop(e)) return events;
    }
  }
  return events;
}

test('an event-stream client follows a backfill: its state first, progress and log lines, then the final status; a late client gets the end at once', async () => {
  const env = await backfillEnv({ latencyMs: 25 });
  const app = await buildApi({ services: env.services });
  const url = await listenApi(app, '127.0.0.1', 0);
  try {
    const started = await app.inject({ method: 'POST', url: '/api/backfill', payload: { ...BTC_1H, span: '1m', start: '2024-01-01', end: '2024-01-15' } });
    const { runId } = started.json();
    const final = (e: { event: string; data: any }) => e.event === 'status' && ['succeeded', 'failed', 'stopped'].includes(e.data.state);
    const events = await readEvents(`${url}/api/runs/${runId}/events`, final);
    assert.equal(events[0]!.event, 'status');
    assert.equal(events[0]!.data.runId, runId);
    const progress = events.filter((e) => e.event === 'progress');
    assert.ok(progress.length >= 2, `progress events as windows finish (${progress.length})`);
    assert.ok(progress.every((p, i) => i === 0 || p.data.done >= progress[i - 1]!.data.done), 'progress only grows');
    assert.ok(events.some((e) => e.event === 'log' && / rows in \d+ pages$/.test(e.data.line)));
    const last = events.at(-1)!;
    assert.equal(last.data.state, 'succeeded');
    const truth = env.sim.truth({ exchange: 'binance', symbol: 'BTCUSDT', kind: 'ohlc', span: '1m', start: '2024-01-01', end: '2024-01-15' });
    assert.equal(last.data.rowsWritten, truth.rows);

    const late = await readEvents(`${url}/api/runs/${runId}/events`, () => false);
    assert.deepEqual(late.map((e) => [e.event, e.data.state]), [['status', 'succeeded']]);
    assert.equal((await fetch(`${url}/api/runs/00000000-0000-0000-0000-000000000000/events`)).status, 404);

    // A client of every run hears each run that starts.
    const heard = readEvents(`${url}/api/events`, (e) => e.data.target?.symbol === 'ETH/USDT');
    await sleep(1500);
    const eth = (await app.inject({ method: 'POST', url: '/api/backfill', payload: { ...BTC_1H, symbol: 'ETHUSDT' } })).json();
    const all = await heard;
    assert.equal(all.at(-1)!.data.runId, eth.runId);
  } finally {
    await app.close();
  }
});

test("a run's events end with the run, not with the next poll: followed with an hour between polls, the final status still comes", async () => {
  const env = await backfillEnv({ latencyMs: 25 });
  const app = await buildApi({ services: env.services });
  const { runId } = (await app.inject({ method: 'POST', url: '/api/backfill', payload: BTC_1H })).json();
  const seen: string[] = [];
  // Would wait an hour for its second poll if only polls told the end; the abort turns that into a failure.
  for await (const e of runEvents(env.services, runId, AbortSignal.timeout(120_000), 3_600_000)) if (e.type === 'status') seen.push(e.data.state);
  assert.equal(seen.at(-1), 'succeeded', `states seen: ${seen.join(', ')}`);
});

test('bound beyond loopback, every route wants the token: missing or wrong is 401 and starts nothing', async () => {
  const token = 'a-long-enough-secret-token';
  const env = await backfillEnv({}, false);
  const { buildServices } = await import('../../src/services.ts');
  const services = buildServices({ ...env.services.config, api: { ...env.services.config.api, host: '0.0.0.0', token } });
  const app = await buildApi({ services });
  try {
    for (const authorization of [undefined, 'Bearer wrong-token-of-some-length', `Bearer ${token}x`, token, `bearer ${token}`]) {
      for (const [method, url] of [['GET', '/api/runs'], ['POST', '/api/backfill'], ['GET', '/docs/json'], ['GET', '/api/events']] as const) {
        const res = await app.inject({ method, url, payload: method === 'POST' ? BTC_1H : undefined, headers: authorization ? { authorization } : {} });
        assert.equal(res.statusCode, 401, `${method} ${url} with ${authorization}`);
        assert.equal(res.json().field, 'authorization');
      }
    }
    assert.equal((await app.inject({ url: '/api/runs', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
    assert.deepEqual((await listRuns(env.services, {})).runs, [], 'nothing started');
  } finally {
    await app.close();
    await services.close();
  }
});

test('CORS is off unless origins are configured; then only those get the headers, and a preflight needs no token', async () => {
  const env = await backfillEnv({}, false);
  const plain = await buildApi({ services: env.services });
  const origin = 'https://dash.example.com';
  const noCors = await plain.inject({ url: '/api/runs', headers: { origin } });
  assert.equal(noCors.headers['access-control-allow-origin'], undefined);

  const { buildServices } = await import('../../src/services.ts');
  const api = { ...env.services.config.api, host: '0.0.0.0', token: 'a-long-enough-secret-token', corsOrigins: [origin] };
  const services = buildServices({ ...env.services.config, api });
  const app = await buildApi({ services });
  try {
    const preflight = await app.inject({ method: 'OPTIONS', url: '/api/runs', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], origin);
    const allowed = await app.inject({ url: '/api/runs', headers: { origin, authorization: `Bearer ${api.token}` } });
    assert.equal(allowed.statusCode, 200);
    assert.equal(allowed.headers['access-control-allow-origin'], origin);
    const other = await app.inject({ url: '/api/runs', headers: { origin: 'https://evil.example.com', authorization: `Bearer ${api.token}` } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  } finally {
    await app.close();
    await services.close();
  }
  assert.match(
    (() => {
      try {
        parseConfig({ api: { corsOrigins: ['https://x.example.com/path'] } });
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    })(),
    /api\.corsOrigins\[0\]: an origin: scheme:\/\/host\[:port\], no path/,
  );
});
