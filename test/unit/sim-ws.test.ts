import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, beforeEach, test } from 'node:test';
import { WebSocket } from 'ws';
import { startSim, type Sim } from '../../src/sim/index.ts';
import { connectWs } from '../helpers/ws-client.ts';
import { until } from '../helpers/until.ts';

let sim: Sim;
let wsBase: string;
before(async () => {
  // Ten trades a second and no quiet minutes, so streams have something to say at once.
  sim = await startSim({ port: 0, seed: 3, markets: { tradesPerMinute: 600, quietMinuteShare: 0 } });
  wsBase = `${sim.url.replace('http', 'ws')}/binance`;
});
after(() => sim.close());
beforeEach(() => sim.setFaults('binance', {}));

const connect = (path: string) => connectWs(`${wsBase}${path}`);

test('a raw trade stream pushes Binance trade events that match the REST history', { timeout: 15_000 }, async () => {
  const { ws, take } = await connect('/ws/btcusdt@trade');
  const events = await take(5);
  ws.close();
  events.forEach((e, i) => {
    assert.deepEqual(Object.keys(e), ['e', 'E', 's', 't', 'p', 'q', 'T', 'm', 'M']);
    assert.equal(e.e, 'trade');
    assert.equal(e.s, 'BTCUSDT');
    assert.ok(e.E >= e.T);
    if (i > 0) assert.equal(e.t, events[i - 1].t + 1);
  });
  const rest = (await (await fetch(`${sim.url}/binance/api/v3/historicalTrades?symbol=BTCUSDT&fromId=${events[0].t}&limit=5`)).json()) as any[];
  assert.deepEqual(
    rest.map((t: any) => [t.id, t.price, t.qty, t.time, t.isBuyerMaker]),
    events.map((e) => [e.t, e.p, e.q, e.T, e.m]),
  );
});

test('a combined stream wraps events in {stream, data}: aggTrade and kline', { timeout: 15_000 }, async () => {
  const { ws, take } = await connect('/stream?streams=btcusdt@aggTrade/ethusdt@kline_1s');
  const [agg] = await take(1, (m) => m.stream === 'btcusdt@aggTrade');
  const [kline] = await take(1, (m) => m.stream === 'ethusdt@kline_1s');
  ws.close();
  assert.deepEqual(Object.keys(agg), ['stream', 'data']);
  assert.deepEqual(Object.keys(agg.data), ['e', 'E', 's', 'a', 'p', 'q', 'f', 'l', 'T', 'm', 'M']);
  assert.equal(agg.data.e, 'aggTrade');
  assert.equal(kline.data.e, 'kline');
  assert.equal(kline.data.s, 'ETHUSDT');
  const k = kline.data.k;
  assert.deepEqual(Object.keys(k), ['t', 'T', 's', 'i', 'f', 'L', 'o', 'c', 'h', 'l', 'v', 'n', 'x', 'q', 'V', 'Q', 'B']);
  assert.equal(k.i, '1s');
  assert.equal(k.T, k.t + 999);
  assert.equal(k.n, k.L - k.f + 1);
});

test('SUBSCRIBE, LIST_SUBSCRIPTIONS and UNSUBSCRIBE answer with the request id', { timeout: 15_000 }, async () => {
  const { ws, take } = await connect('/ws');
  ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@aggTrade', 'bnbbtc@depth5@100ms'], id: 1 }));
  assert.deepEqual((await take(1, (m) => m.id === 1))[0], { result: null, id: 1 });
  await take(1, (m) => m.e === 'aggTrade');
  const [depth] = await take(1, (m) => 'lastUpdateId' in m);
  assert.equal(depth.bids.length, 5);
  assert.equal(depth.asks.length, 5);
  ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 2 }));
  assert.deepEqual((await take(1, (m) => m.id === 2))[0], { result: ['btcusdt@aggTrade', 'bnbbtc@depth5@100ms'], id: 2 });
  ws.send(JSON.stringify({ method: 'UNSUBSCRIBE', params: ['bnbbtc@depth5@100ms'], id: 3 }));
  assert.deepEqual((await take(1, (m) => m.id === 3))[0], { result: null, id: 3 });
  ws.send('{not json');
  assert.equal((await take(1, (m) => m.code === 3))[0].msg, 'Invalid JSON: expected value at line 1 column 1');
  ws.send(JSON.stringify({ method: 'PUBLISH', id: 4 }));
  assert.match((await take(1, (m) => m.code === 2))[0].msg, /^Invalid request: unknown variant `PUBLISH`/);
  ws.close();
});

test('the diff depth stream chains update ids and lists changed levels best first', { timeout: 15_000 }, async () => {
  const { ws, take } = await connect('/ws/btcusdt@depth@100ms');
  const events = await take(4);
  ws.close();
  events.forEach((e, i) => {
    assert.deepEqual(Object.keys(e), ['e', 'E', 's', 'U', 'u', 'b', 'a']);
    assert.equal(e.e, 'depthUpdate');
    assert.ok(e.U <= e.u);
    if (i > 0) assert.equal(e.U, events[i - 1].u + 1);
    const bids = e.b.map((l: string[]) => Number(l[0]));
    assert.ok(bids.every((p: number, k: number) => k === 0 || p < bids[k - 1]));
  });
  const snapshot = (await (await fetch(`${sim.url}/binance/api/v3/depth?symbol=BTCUSDT&limit=1000`)).json()) as { lastUpdateId: number };
  assert.ok(snapshot.lastUpdateId >= events[3].u, 'REST snapshots and streams share update ids');
});

test('dropSocketEvery drops the connection without a close frame after N messages', { timeout: 15_000 }, async () => {
  sim.setFaults('binance', { dropSocketEvery: 3 });
  sim.resetStats();
  const { messages, closed } = await connect('/ws/btcusdt@trade');
  assert.equal((await closed).code, 1006);
  assert.equal(messages.length, 3);
  assert.equal(sim.stats('binance').faultsInjected.dropSocket, 1);
});

test('wsTradesPerTick caps the trades a stream pushes on one tick; the rest follow in order', { timeout: 15_000 }, async () => {
  await assert.rejects(startSim({ wsTradesPerTick: 0 }), /wsTradesPerTick: must be a whole number/);
  const capped = await startSim({ port: 0, seed: 3, wsTradesPerTick: 3, markets: { tradesPerMinute: 6000, quietMinuteShare: 0 } });
  try {
    const ws = new WebSocket(`${capped.url.replace('http', 'ws')}/binance/ws/btcusdt@aggTrade`);
    const events: { a: number; E: number }[] = [];
    ws.on('message', (d) => events.push(JSON.parse(d.toString())));
    await until('60 events', async () => (events.length >= 60 ? true : undefined));
    ws.close();
    // Events of one tick share their event time E: never more than 3, and at 100 trades a second some ticks are full.
    const perTick = new Map<number, number>();
    for (const e of events) perTick.set(e.E, (perTick.get(e.E) ?? 0) + 1);
    assert.equal(Math.max(...perTick.values()), 3);
    events.forEach((e, i) => i > 0 && assert.equal(e.a, events[i - 1]!.a + 1));
  } finally {
    await capped.close();
  }
});

test('a client that stops reading gets nothing more until it reads again, and misses nothing', { timeout: 60_000 }, async () => {
  // 60,000 trades a second: some MB a second that a paused reader leaves in the socket.
  const fast = await startSim({
    port: 0,
    seed: 3,
    wsTradesPerTick: 20_000,
    markets: { symbols: { BTCUSDT: { tradesPerMinute: 3_600_000, tradeCountSpread: 0, quietMinuteShare: 0, startPrice: 100, lotSize: 0.01 } } },
  });
  try {
    const ws = new WebSocket(`${fast.url.replace('http', 'ws')}/binance/ws/btcusdt@aggTrade`);
    const ids: number[] = [];
    ws.on('message', (d) => ids.push(JSON.parse(d.toString()).a));
    await until('the first events', async () => (ids.length > 1000 ? true : undefined));
    ws.pause();
    // The simulator stops pushing once the unread bytes pile up (without that it would push on, into its memory).
    let sent = -1;
    await until('the simulator to hold back', async () => {
      const [before, now] = [sent, fast.stats('binance').wsMessages];
      sent = now;
      return now === before ? true : undefined;
    });
    const held = fast.stats('binance').wsMessages;
    ws.resume();
    await until('events pushed after the pause', async () => (ids.length > held + 1000 ? true : undefined));
    ws.terminate();
    ids.forEach((id, i) => i > 0 && assert.equal(id, ids[i - 1]! + 1));
  } finally {
    await fast.close();
  }
});

test('an upgrade outside the stream paths is refused', async () => {
  const ws = new WebSocket(`${wsBase}/api/v3/klines`);
  const [err] = await once(ws, 'error');
  assert.match(err.message, /Unexpected server response: 404/);
});
