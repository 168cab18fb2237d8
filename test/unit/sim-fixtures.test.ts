import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { startSim, type Sim } from '../../src/sim/index.ts';

// The simulator must answer in the shapes Binance documents (test/fixtures/binance/README.md):
// same keys, same JSON types, arrays of the same element shape.

const T0 = Date.UTC(2024, 4, 2, 6, 0);

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/binance/${name}`, import.meta.url), 'utf8'));

/** The JSON shape of a value: key sets, element shapes (first element) and primitive types. */
function shape(x: unknown): unknown {
  if (Array.isArray(x)) return x.length === 0 ? [] : [shape(x[0])];
  if (x === null) return 'null';
  if (typeof x === 'object') return Object.fromEntries(Object.entries(x as object).map(([k, v]) => [k, shape(v)]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)));
  return typeof x;
}

/** Shape of a fixture without the keys the simulator leaves out on purpose. */
function without(x: unknown, keys: string[]): unknown {
  return Object.fromEntries(Object.entries(x as object).filter(([k]) => !keys.includes(k)));
}

let sim: Sim;
before(async () => {
  sim = await startSim({ port: 0, markets: { tradesPerMinute: 600, quietMinuteShare: 0 } });
});
after(() => sim.close());

async function rest(path: string): Promise<unknown> {
  return (await fetch(`${sim.url}/binance${path}`)).json();
}

/** The first message on a stream path, or the answer to the last of `requests` (by its id). */
async function firstMessage(path: string, ...requests: { method: string; params?: string[]; id: number }[]): Promise<any> {
  const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/binance${path}`);
  const wanted = requests.at(-1)?.id;
  const reply = new Promise((resolve) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (wanted === undefined || msg.id === wanted) resolve(msg);
    });
  });
  await once(ws, 'open');
  for (const r of requests) ws.send(JSON.stringify(r));
  const msg = await reply;
  ws.close();
  return msg;
}

test('REST answers have the documented shapes', async () => {
  const cases: [string, string][] = [
    ['klines.json', `/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${T0}&limit=2`],
    ['aggTrades.json', `/api/v3/aggTrades?symbol=BTCUSDT&startTime=${T0}&limit=2`],
    ['trades.json', '/api/v3/trades?symbol=BTCUSDT&limit=2'],
    ['trades.json', '/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1000&limit=2'],
    ['depth.json', '/api/v3/depth?symbol=BTCUSDT&limit=5'],
    ['time.json', '/api/v3/time'],
    ['ping.json', '/api/v3/ping'],
    ['exchangeInfo.json', '/api/v3/exchangeInfo?symbol=BTCUSDT'],
    ['error-invalid-symbol.json', '/api/v3/klines?symbol=NOPE&interval=1m'],
    ['error-illegal-characters.json', '/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=None'],
  ];
  for (const [file, path] of cases) assert.deepEqual(shape(await rest(path)), shape(fixture(file)), `${path} vs ${file}`);
});

test('stream events have the documented shapes', { timeout: 15_000 }, async () => {
  assert.deepEqual(shape(await firstMessage('/ws/btcusdt@aggTrade')), shape(fixture('ws-aggTrade.json')));
  // Binance's current stream no longer carries the buyer and seller order ids.
  assert.deepEqual(shape(await firstMessage('/ws/btcusdt@trade')), shape(without(fixture('ws-trade.json'), ['b', 'a'])));
  assert.deepEqual(shape(await firstMessage('/ws/btcusdt@kline_1m')), shape(fixture('ws-kline.json')));
  assert.deepEqual(shape(await firstMessage('/ws/btcusdt@depth@100ms')), shape(fixture('ws-depthUpdate.json')));
  assert.deepEqual(shape(await firstMessage('/ws/btcusdt@depth10@100ms')), shape(fixture('ws-partialDepth.json')));
  const subscribe = { method: 'SUBSCRIBE', params: ['btcusdt@aggTrade'], id: 1 };
  assert.deepEqual(shape(await firstMessage('/ws', subscribe)), shape(fixture('ws-subscribe-response.json')));
  assert.deepEqual(
    shape(await firstMessage('/ws', subscribe, { method: 'LIST_SUBSCRIPTIONS', id: 3 })),
    shape(fixture('ws-list-subscriptions-response.json')),
  );
});
