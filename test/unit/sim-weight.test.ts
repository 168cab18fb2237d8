import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { startSim } from '../../src/sim/index.ts';
import { WeightLimiter } from '../../src/sim/weight.ts';

const MINUTE = Date.UTC(2024, 0, 1, 12, 0);

test('weight adds up within a wall-clock minute and resets with the next one', () => {
  const w = new WeightLimiter(10, 1000);
  assert.deepEqual(w.charge('a', 4, MINUTE + 1_000), { kind: 'ok', used: 4 });
  assert.deepEqual(w.charge('a', 4, MINUTE + 59_999), { kind: 'ok', used: 8 });
  assert.deepEqual(w.charge('b', 4, MINUTE + 59_999), { kind: 'ok', used: 4 }, 'each IP has its own count');
  assert.deepEqual(w.charge('a', 4, MINUTE + 60_000), { kind: 'ok', used: 4 });
});

test('a request past the budget is limited until the window ends', () => {
  const w = new WeightLimiter(10, 1000);
  w.charge('a', 10, MINUTE + 1_000);
  assert.deepEqual(w.charge('a', 1, MINUTE + 20_500), { kind: 'limited', used: 10, retryAfterS: 40 });
});

test('sending again after a 429 while over budget bans, longer each time', () => {
  const w = new WeightLimiter(10, 1000);
  w.charge('a', 10, MINUTE);
  assert.equal(w.charge('a', 1, MINUTE + 100).kind, 'limited');
  assert.deepEqual(w.charge('a', 1, MINUTE + 200), { kind: 'banned', used: 10, retryAfterS: 1, untilMs: MINUTE + 1_200 });
  assert.deepEqual(w.charge('a', 1, MINUTE + 700), { kind: 'banned', used: 10, retryAfterS: 1, untilMs: MINUTE + 1_200 }, 'a ban is not extended by requests during it');
  assert.deepEqual(w.charge('a', 1, MINUTE + 1_300), { kind: 'banned', used: 10, retryAfterS: 2, untilMs: MINUTE + 3_300 }, 'still over budget: banned again, twice as long');
  assert.deepEqual(w.charge('a', 1, MINUTE + 3_300), { kind: 'banned', used: 10, retryAfterS: 4, untilMs: MINUTE + 7_300 });
});

test('a ban outlives the window, and a new window starts with a clean slate', () => {
  const w = new WeightLimiter(10, 30_000);
  w.charge('a', 10, MINUTE + 50_000);
  w.charge('a', 1, MINUTE + 50_000);
  assert.equal(w.charge('a', 1, MINUTE + 50_000).kind, 'banned');
  assert.equal(w.charge('a', 1, MINUTE + 65_000).kind, 'banned');
  assert.deepEqual(w.charge('a', 1, MINUTE + 80_000), { kind: 'ok', used: 1 });
  assert.equal(w.charge('a', 10, MINUTE + 80_000).kind, 'limited', 'over budget in a new window: a 429 first, not a ban');
});

test('the HTTP answers carry the used weight, then 429 with Retry-After, then 418', async () => {
  // A minute rollover in the middle would reset the count: start well inside a minute.
  const toEdge = 60_000 - (Date.now() % 60_000);
  if (toEdge < 3_000) await sleep(toEdge + 50);
  const sim = await startSim({ port: 0, weightBudget: 10, banMs: 1_500 });
  try {
    const url = `${sim.url}/binance/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1`;
    const used: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(url);
      assert.equal(r.status, 200);
      await r.text();
      used.push(r.headers.get('x-mbx-used-weight-1m')!);
    }
    assert.deepEqual(used, ['2', '4', '6', '8', '10']);

    const limited = await fetch(url);
    assert.equal(limited.status, 429);
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.deepEqual(await limited.json(), {
      code: -1003,
      msg: 'Too much request weight used; current limit is 10 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.',
    });

    const banned = await fetch(url);
    assert.equal(banned.status, 418);
    assert.equal(banned.headers.get('retry-after'), '2');
    const body = (await banned.json()) as { code: number; msg: string };
    assert.equal(body.code, -1003);
    assert.match(body.msg, /^Way too much request weight used; IP banned until \d{13}\. Please use WebSocket Streams for live updates to avoid bans\.$/);

    const s = sim.stats('binance');
    assert.equal(s.status429, 1);
    assert.equal(s.status418, 1);
    assert.equal(s.weightUsedMax, 10);
  } finally {
    await sim.close();
  }
});
