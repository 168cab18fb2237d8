import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { startSim, type FaultConfig, type Sim, type SimStats } from '../../src/sim/index.ts';

const T0 = Date.UTC(2024, 4, 2, 6, 0);
/** A page entirely in the past, so the same request always has the same clean answer. */
const PAGE = `/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${T0}&endTime=${T0 + 3_600_000}&limit=20`;

let sim: Sim;
let clean: unknown[][];
before(async () => {
  sim = await startSim({ port: 0, seed: 5 });
  clean = (await call(PAGE)).json as unknown[][];
});
after(() => sim.close());
beforeEach(() => {
  sim.setFaults('binance', {});
  sim.resetStats();
});

async function call(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${sim.url}/binance${path}`, { headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function statuses(n: number, faults: FaultConfig): Promise<number[]> {
  sim.setFaults('binance', faults);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call('/api/v3/ping')).status);
  return out;
}

test('status429Every answers every Nth request with 429, Retry-After 1 and -1003, without charging weight', async () => {
  assert.deepEqual(await statuses(6, { status429Every: 3 }), [200, 200, 429, 200, 200, 429]);
  const before = await call('/api/v3/ping');
  sim.setFaults('binance', { status429Every: 1 });
  const r = await call(PAGE);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '1');
  assert.equal((r.json as { code: number }).code, -1003);
  assert.equal(r.headers.get('x-mbx-used-weight-1m'), before.headers.get('x-mbx-used-weight-1m'));
  assert.equal(sim.stats('binance').faultsInjected.status429, 3);
});

test('burst429 answers runs of 429 at the end of every block of requests', async () => {
  assert.deepEqual(await statuses(10, { burst429: { every: 5, length: 2 } }), [200, 200, 200, 429, 429, 200, 200, 200, 429, 429]);
});

test('status5xxEvery rotates 502 (gateway HTML), 503 and 500 with Binance bodies', async () => {
  sim.setFaults('binance', { status5xxEvery: 1 });
  const a = await call('/api/v3/ping');
  const b = await call('/api/v3/ping');
  const c = await call('/api/v3/ping');
  assert.equal(a.status, 502);
  assert.match(a.text, /502 Bad Gateway/);
  assert.equal(b.status, 503);
  assert.deepEqual(b.json, { code: -1008, msg: 'Server is currently overloaded with other requests. Please try again in a few minutes.' });
  assert.equal(c.status, 500);
  assert.deepEqual(c.json, { code: -1001, msg: 'Internal error; unable to process your request. Please try again.' });
  assert.equal(sim.stats('binance').status5xx, 3);
});

test('timeoutEvery leaves every Nth request unanswered until the client gives up', async () => {
  sim.setFaults('binance', { timeoutEvery: 2 });
  assert.equal((await call('/api/v3/ping')).status, 200);
  await assert.rejects(fetch(`${sim.url}/binance/api/v3/ping`, { signal: AbortSignal.timeout(300) }), { name: 'TimeoutError' });
  assert.equal((await call('/api/v3/ping')).status, 200);
  assert.equal(sim.stats('binance').faultsInjected.timeout, 1);
});

test('truncatedEvery cuts the JSON answer in the middle', async () => {
  sim.setFaults('binance', { truncatedEvery: 1 });
  const r = await call(PAGE);
  assert.equal(r.status, 200);
  assert.equal(r.json, undefined, 'not parseable');
  assert.ok(r.text.length > 10);
  assert.ok(JSON.stringify(clean).startsWith(r.text), 'a prefix of the real answer');
});

test('malformedEvery answers something that is not JSON', async () => {
  sim.setFaults('binance', { malformedEvery: 1 });
  const r = await call(PAGE);
  assert.equal(r.json, undefined);
  assert.match(r.headers.get('content-type')!, /text\/html/);
});

test('duplicateBoundaryEvery adds the row before the start or repeats a row; de-duplicated, the page is intact', async () => {
  sim.setFaults('binance', { duplicateBoundaryEvery: 1 });
  let sawBoundary = false;
  let sawRepeat = false;
  for (let i = 0; i < 12; i++) {
    const rows = (await call(PAGE)).json as unknown[][];
    assert.equal(rows.length, clean.length);
    const opens = rows.map((r) => r[0] as number);
    if (opens[0]! < T0) sawBoundary = true;
    if (new Set(opens).size < opens.length) sawRepeat = true;
    const unique = rows.filter((r, k) => (r[0] as number) >= T0 && opens.indexOf(r[0] as number) === k);
    assert.deepEqual(unique, clean.slice(0, unique.length));
  }
  assert.ok(sawBoundary && sawRepeat, 'both variants occur');
  assert.equal(sim.stats('binance').faultsInjected.duplicateBoundary, 12);
});

test('shortPageEvery returns fewer rows than the limit although more exist', async () => {
  sim.setFaults('binance', { shortPageEvery: 2 });
  assert.deepEqual((await call(PAGE)).json, clean);
  const short = (await call(PAGE)).json as unknown[][];
  assert.ok(short.length >= 1 && short.length < clean.length);
  assert.deepEqual(short, clean.slice(0, short.length));
});

test('latencyMs delays answers without changing them', async () => {
  sim.setFaults('binance', { latencyMs: 30 });
  assert.deepEqual((await call(PAGE)).json, clean);
});

test('the X-Sim-Fault header forces one fault on one request', async () => {
  assert.equal((await call('/api/v3/ping', { 'X-Sim-Fault': '429' })).status, 429);
  assert.equal((await call('/api/v3/ping', { 'X-Sim-Fault': '500' })).status, 500);
  assert.equal((await call(PAGE, { 'X-Sim-Fault': 'truncated' })).json, undefined);
  assert.equal((await call(PAGE, { 'X-Sim-Fault': 'malformed' })).json, undefined);
  await assert.rejects(
    fetch(`${sim.url}/binance/api/v3/ping`, { headers: { 'X-Sim-Fault': 'timeout' }, signal: AbortSignal.timeout(200) }),
    { name: 'TimeoutError' },
  );
  assert.equal((await call('/api/v3/ping')).status, 200);
  const bad = await call('/api/v3/ping', { 'X-Sim-Fault': 'gremlins' });
  assert.equal(bad.status, 400);
  assert.match((bad.json as { error: string }).error, /X-Sim-Fault/);
});

test('faults are set over HTTP, reported in stats, and stats reset over HTTP', async () => {
  const post = (route: string, body?: unknown) =>
    fetch(`${sim.url}/_sim/${route}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
  const set = await post('faults', { exchange: 'binance', faults: { status429Every: 1 } });
  assert.equal(set.status, 200);
  await set.text();
  assert.equal((await call('/api/v3/ping')).status, 429);
  const stats = (await (await fetch(`${sim.url}/_sim/stats?exchange=binance`)).json()) as SimStats;
  assert.equal(stats.status429, 1);
  assert.equal(stats.faultsInjected.status429, 1);
  (await post('reset-stats')).body?.cancel();
  assert.equal(sim.stats('binance').requests, 0);

  const invalid = await post('faults', { exchange: 'binance', faults: { status429Every: 0 } });
  assert.equal(invalid.status, 400);
  assert.match(((await invalid.json()) as { error: string }).error, /faults\.status429Every/);
  const unknown = await post('faults', { exchange: 'mtgox', faults: {} });
  assert.equal(unknown.status, 400);
  assert.match(((await unknown.json()) as { error: string }).error, /mtgox/);
});
