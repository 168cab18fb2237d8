// The simulator's Binance connection rules (pings answered within a deadline, at most 5
// incoming messages a second) and its stream faults (stalled sockets, sequence gaps, slow
// consumers), each against a raw client; and dccd's own transport under the message limit.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, beforeEach, test } from 'node:test';
import { WebSocket } from 'ws';
import { ValidationError } from '../../src/domain/errors.ts';
import { parseFaultConfig } from '../../src/sim/faults.ts';
import { startSim, type Sim } from '../../src/sim/index.ts';
import { wsSession, type WsEvent } from '../../src/sources/transport/ws-session.ts';
import { until } from '../helpers/until.ts';
import { connectWs } from '../helpers/ws-client.ts';

const MARKETS = { tradesPerMinute: 600, quietMinuteShare: 0 };
// Pongs to pings this frequent stay under the 5 messages a second.
const PING_EVERY_MS = 300;
const PONG_TIMEOUT_MS = 900;

/** Documented ping period and pong deadline. */
let sim: Sim;
/** Pings every 300 ms, a pong owed within 900 ms. */
let quick: Sim;
const wsBase = (s: Sim) => `${s.url.replace('http', 'ws')}/binance`;

before(async () => {
  [sim, quick] = await Promise.all([
    startSim({ port: 0, seed: 3, markets: MARKETS }),
    startSim({ port: 0, seed: 3, markets: MARKETS, wsPingEveryMs: PING_EVERY_MS, wsPongTimeoutMs: PONG_TIMEOUT_MS }),
  ]);
});
after(() => Promise.all([sim.close(), quick.close()]));
beforeEach(() => {
  for (const s of [sim, quick]) {
    s.setFaults('binance', {});
    s.resetStats();
  }
});

const listRequest = (id: number) => JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id });

test('pings carry a payload; a client that answers them stays, one that does not is cut at the deadline, unsolicited pongs notwithstanding', async () => {
  const answering = await connectWs(`${wsBase(quick)}/ws/btcusdt@trade`);
  const payloads: string[] = [];
  answering.ws.on('ping', (data) => payloads.push(data.toString()));
  const silent = await connectWs(`${wsBase(quick)}/ws/btcusdt@trade`, { autoPong: false });
  // Pongs nobody asked for (empty payload, as the docs recommend) do not count as answers.
  const unsolicited = setInterval(() => silent.ws.readyState === WebSocket.OPEN && silent.ws.pong(), 300);
  try {
    assert.equal((await silent.closed).code, 1006, 'cut without a close frame');
  } finally {
    clearInterval(unsolicited);
  }
  // Many ping periods and more than two pong deadlines later, the answering client is still there.
  await until('ten pings', async () => (payloads.length >= 10 ? true : undefined));
  assert.equal(answering.ws.readyState, WebSocket.OPEN);
  assert.ok(payloads.every((p) => p.length > 0) && new Set(payloads).size === payloads.length, 'each ping its own payload');
  assert.deepEqual(quick.stats('binance').wsCut, { pongTimeout: 1 });
  assert.ok(quick.stats('binance').wsPings >= 10);
  answering.ws.close();
});

test('five messages within a second are accepted; a sixth, PING frames counted, cuts the connection with 1008', async () => {
  const five = await connectWs(`${wsBase(sim)}/ws/btcusdt@trade`);
  for (let id = 1; id <= 5; id++) five.ws.send(listRequest(id));
  assert.equal((await five.take(5, (m) => 'id' in m)).length, 5);

  const ten = await connectWs(`${wsBase(sim)}/ws/btcusdt@trade`);
  for (let id = 1; id <= 10; id++) ten.ws.send(listRequest(id));
  assert.deepEqual(await ten.closed, { code: 1008, reason: 'Too many requests' });
  assert.ok(ten.messages.filter((m) => 'id' in m).length <= 5, 'nothing beyond the limit is answered');

  const pings = await connectWs(`${wsBase(sim)}/ws/btcusdt@trade`);
  for (let id = 1; id <= 3; id++) pings.ws.send(listRequest(id));
  for (let i = 0; i < 3; i++) pings.ws.ping();
  assert.equal((await pings.closed).code, 1008);

  assert.equal(five.ws.readyState, WebSocket.OPEN);
  assert.deepEqual(sim.stats('binance').wsCut, { messageRate: 2 });
  five.ws.close();
});

test('dccd’s transport subscribes to 20 streams on one connection, answering pings meanwhile, and stays under the limit', { timeout: 60_000 }, async (t) => {
  // A ping every 1.5 s: a pong or two among the subscriptions, as Binance's 20 s period gives among a few hundred.
  const pinging = await startSim({ port: 0, seed: 3, markets: MARKETS, wsPingEveryMs: 1_500 });
  t.after(() => pinging.close());
  // Binance's dialect: 5 messages a second; subscription answers are consumed by the transport.
  const streams = ['btcusdt', 'ethusdt'].flatMap((s) =>
    ['trade', 'aggTrade', 'kline_1s', 'kline_1m', 'depth', 'depth@100ms', 'depth5', 'depth10@100ms', 'depth20'].map((k) => `${s}@${k}`),
  );
  streams.push('bnbbtc@depth@100ms', 'bnbbtc@depth20@100ms');
  const subscribe = streams.map((name, i) => JSON.stringify({ method: 'SUBSCRIBE', params: [name], id: i + 1 }));
  const ac = new AbortController();
  const heard = new Set<string>();
  const events: WsEvent[] = [];
  const dialect = { url: `${wsBase(pinging)}/stream`, subscribe, maxSendsPerSecond: 5, staleAfterMs: 5_000, isReply: (t: string) => t.startsWith('{"result"') };
  const deadline = setTimeout(() => ac.abort(), 50_000);
  try {
    for await (const e of wsSession(dialect, { signal: ac.signal })) {
      events.push(e);
      if (e.kind === 'frame') heard.add((JSON.parse(e.text) as { stream: string }).stream);
      if (heard.size === streams.length || e.kind === 'lost') break;
    }
  } finally {
    clearTimeout(deadline);
    ac.abort();
  }
  assert.deepEqual(events.filter((e) => e.kind === 'lost'), []);
  assert.equal(heard.size, streams.length, 'every stream subscribed and delivering');
  const stats = pinging.stats('binance');
  assert.deepEqual(stats.wsCut, {});
  assert.ok(stats.wsPings >= 2, `${stats.wsPings} pings while subscribing`);
});

test('stallSocketEvery: after N messages the connection stays open and says nothing more — no data, no ping, no answer', async () => {
  quick.setFaults('binance', { stallSocketEvery: 4 });
  const c = await connectWs(`${wsBase(quick)}/ws/btcusdt@aggTrade`);
  await c.take(4);
  let pings = 0;
  c.ws.on('ping', () => pings++);
  c.ws.send(listRequest(1));
  // Longer than a ping period and the pong deadline: a live connection would have been pinged.
  await sleep(PING_EVERY_MS + PONG_TIMEOUT_MS + 300);
  assert.equal(c.messages.length, 4);
  assert.equal(pings, 0);
  assert.equal(c.ws.readyState, WebSocket.OPEN);
  assert.equal(quick.stats('binance').faultsInjected.stallSocket, 1);
  c.ws.close();
});

test('sequenceGapEvery: every Nth aggTrade is not sent (the ids jump) and every Nth depth diff (U skips); REST still has every trade', async () => {
  sim.setFaults('binance', { sequenceGapEvery: 3 });
  const trades = await connectWs(`${wsBase(sim)}/ws/btcusdt@aggTrade`);
  const depth = await connectWs(`${wsBase(sim)}/ws/btcusdt@depth@100ms`);
  const agg = await trades.take(8);
  const diffs = await depth.take(6);
  trades.ws.close();
  depth.ws.close();
  // Events 3, 6, 9 ... of each stream are skipped: of 1, 2, _, 4, 5, _, 7, 8, _, 10, 11 the client sees the rest.
  assert.deepEqual(agg.slice(1).map((e, i) => e.a - agg[i].a), [1, 2, 1, 2, 1, 2, 1]);
  assert.deepEqual(diffs.slice(1).map((e, i) => e.U === diffs[i].u + 1), [true, false, true, false, true]);
  assert.ok(diffs.every((e) => e.U <= e.u));
  const from = agg[0].a;
  const rest = (await (await fetch(`${sim.url}/binance/api/v3/aggTrades?symbol=BTCUSDT&fromId=${from}&limit=11`)).json()) as Array<{ a: number }>;
  assert.deepEqual(rest.map((t) => t.a), Array.from({ length: 11 }, (_, i) => from + i), 'the truth is whole');
  assert.ok(sim.stats('binance').faultsInjected.sequenceGap! >= 5);
});

test('slowConsumerBytes: a connection that stops reading is cut once its unsent data passes the limit; one that reads is not', { timeout: 60_000 }, async (t) => {
  // Thousands of trades a second: the socket buffers of the loopback (megabytes) fill within seconds.
  const busy = await startSim({ port: 0, seed: 3, markets: { symbols: { BTCUSDT: { tradesPerMinute: 300_000, quietMinuteShare: 0, lotSize: 0.01 } } }, faults: { slowConsumerBytes: 256 * 1024 } });
  t.after(() => busy.close());
  const heavy = `${wsBase(busy)}/stream?streams=btcusdt@trade/btcusdt@aggTrade`;
  const reader = await connectWs(heavy);
  const stalled = await connectWs(heavy);
  stalled.ws.pause();
  await until('the slow consumer is cut', async () => (busy.stats('binance').faultsInjected.slowConsumer ? true : undefined), 50_000);
  stalled.ws.resume();
  assert.equal((await stalled.closed).code, 1006);
  await reader.take(reader.messages.length + 10);
  assert.equal(reader.ws.readyState, WebSocket.OPEN);
  assert.equal(busy.stats('binance').faultsInjected.slowConsumer, 1);
  reader.ws.close();
});

test('bad rule options and stream fault settings are refused, naming the field', async () => {
  await assert.rejects(startSim({ port: 0, wsPingEveryMs: 0 }), (e: unknown) => e instanceof ValidationError && e.message === 'wsPingEveryMs: must be a whole number of milliseconds above 0, got 0');
  await assert.rejects(startSim({ port: 0, wsPongTimeoutMs: 1.5 }), (e: unknown) => e instanceof ValidationError && e.field === 'wsPongTimeoutMs');
  for (const field of ['stallSocketEvery', 'sequenceGapEvery', 'slowConsumerBytes']) {
    assert.throws(() => parseFaultConfig({ [field]: 0 }), (e: unknown) => e instanceof ValidationError && e.field === `faults.${field}`);
  }
});
