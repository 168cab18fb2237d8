// The WebSocket transport against a local `ws` server that plays the venue: subscriptions
// paced under the venue's limit, protocol and app pings, stale connections replaced,
// reconnects with growing backoff, a rollover before the connection lifetime, and a stop.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { wsSession, type WsDialect, type WsEvent } from '../../src/sources/transport/ws-session.ts';
import { until } from '../helpers/until.ts';

interface Venue {
  url: string;
  wss: WebSocketServer;
  /** Sockets in connection order, with the frames each received and when. */
  sockets: Array<{ ws: WebSocket; received: Array<{ text: string; atMs: number }>; pongs: number }>;
}

async function venue(t: TestContext, onSocket: (ws: WebSocket, n: number) => void = () => {}): Promise<Venue> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', r));
  const v: Venue = { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, wss, sockets: [] };
  wss.on('connection', (ws) => {
    const s = { ws, received: [] as Array<{ text: string; atMs: number }>, pongs: 0 };
    v.sockets.push(s);
    ws.on('message', (d) => s.received.push({ text: d.toString(), atMs: Date.now() }));
    ws.on('pong', () => s.pongs++);
    onSocket(ws, v.sockets.length);
  });
  t.after(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  }));
  return v;
}

const dialect = (url: string, more: Partial<WsDialect> = {}): WsDialect => ({ url, subscribe: [], maxSendsPerSecond: 5, staleAfterMs: 5_000, ...more });

/** Collects events until `until` says stop (or `forMs`, 10 s by default, pass), then aborts the session. */
async function collect(
  d: WsDialect,
  until: (events: WsEvent[]) => boolean,
  o: { random?: () => number; backoff?: { baseMs: number; maxMs: number; healthyAfterMs: number }; forMs?: number } = {},
): Promise<WsEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), o.forMs ?? 10_000);
  const events: WsEvent[] = [];
  try {
    for await (const e of wsSession(d, { signal: ac.signal, ...o })) {
      events.push(e);
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}

const frames = (events: WsEvent[]) => events.filter((e): e is Extract<WsEvent, { kind: 'frame' }> => e.kind === 'frame').map((e) => e.text);

test('subscriptions go out in order, no faster than the venue accepts; replies are consumed, data frames passed on', async (t) => {
  const v = await venue(t, (ws) => {
    ws.on('message', (d) => {
      const { id } = JSON.parse(d.toString()) as { id: number };
      ws.send(JSON.stringify({ result: null, id }));
      if (id === 6) ws.send('{"e":"trade","t":1}');
    });
  });
  const subscribe = Array.from({ length: 6 }, (_, i) => JSON.stringify({ method: 'SUBSCRIBE', params: [`s${i + 1}`], id: i + 1 }));
  const events = await collect(dialect(v.url, { subscribe, isReply: (text) => text.startsWith('{"result"') }), (es) => frames(es).length === 1);
  assert.deepEqual(events[0], { kind: 'open', connection: 1, reconnect: false });
  assert.deepEqual(frames(events), ['{"e":"trade","t":1}']);
  const got = v.sockets[0]!.received;
  assert.deepEqual(got.map((r) => r.text), subscribe);
  // Four frames a second, one of the venue's five left for pongs: six frames span at least 1.25 s.
  assert.ok(got[5]!.atMs - got[0]!.atMs >= 1_250 - 20, `6 frames within ${got[5]!.atMs - got[0]!.atMs} ms`);
});

test('the venue’s pings are answered with pongs, and app pings go out on schedule', async (t) => {
  const v = await venue(t, (ws) => {
    const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), 100);
    ws.on('close', () => clearInterval(timer));
  });
  await collect(dialect(v.url, { appPing: { everyMs: 150, frame: 'ping' } }), () => false, { forMs: 700 });
  assert.ok(v.sockets[0]!.pongs >= 3, `${v.sockets[0]!.pongs} pongs`);
  assert.ok(v.sockets[0]!.received.filter((r) => r.text === 'ping').length >= 3);
});

test('a connection that goes silent is replaced; frames continue on the new one', async (t) => {
  const v = await venue(t, (ws, n) => {
    // The first socket says one thing and then nothing (open, but silent); the second talks.
    ws.send(`hello ${n}`);
    if (n > 1) {
      const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(`more ${n}`), 50);
      ws.on('close', () => clearInterval(timer));
    }
  });
  const events = await collect(dialect(v.url, { staleAfterMs: 300 }), (es) => frames(es).includes('more 2'), { backoff: { baseMs: 10, maxMs: 10, healthyAfterMs: 60_000 } });
  const kinds = events.map((e) => (e.kind === 'frame' ? `frame ${e.text}` : e.kind === 'lost' ? `lost ${e.reason}` : `${e.kind}`));
  assert.deepEqual(kinds.slice(0, 5), ['open', 'frame hello 1', 'lost no frame for 300 ms', 'open', 'frame hello 2']);
  assert.deepEqual(events[3], { kind: 'open', connection: 2, reconnect: true });
});

test('a venue that keeps refusing is retried with a growing backoff, capped', async (t) => {
  const v = await venue(t, (ws) => ws.close(1013, 'try again later'));
  const events = await collect(dialect(v.url), (es) => es.filter((e) => e.kind === 'lost').length === 5, { random: () => 1, backoff: { baseMs: 20, maxMs: 100, healthyAfterMs: 60_000 } });
  const lost = events.filter((e): e is Extract<WsEvent, { kind: 'lost' }> => e.kind === 'lost');
  assert.deepEqual(lost.map((e) => e.retryInMs), [20, 40, 80, 100, 100]);
  assert.match(lost[0]!.reason, /^closed \(1013 try again later\)$/);
});

test('before the connection lifetime the next socket is opened and subscribed, then takes over; the old one is closed', async (t) => {
  const v = await venue(t, (ws, n) => {
    let i = 0;
    const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(`c${n} #${++i}`), 40);
    ws.on('close', () => clearInterval(timer));
  });
  const events = await collect(dialect(v.url, { subscribe: ['sub'], lifetimeMs: 700, rolloverLeadMs: 400 }), (es) => frames(es).some((f) => f.startsWith('c2 #5')));
  const rollover = events.findIndex((e) => e.kind === 'rollover');
  assert.deepEqual(events[rollover], { kind: 'rollover', from: 1, to: 2 });
  assert.ok(frames(events.slice(0, rollover)).every((f) => f.startsWith('c1 ')));
  assert.ok(frames(events.slice(rollover + 1)).every((f) => f.startsWith('c2 ')));
  assert.ok(!events.some((e) => e.kind === 'lost'), 'no loss at a rollover');
  assert.deepEqual(v.sockets.map((s) => s.received.map((r) => r.text)), [['sub'], ['sub']]);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(v.sockets[0]!.ws.readyState, WebSocket.CLOSED);
});

test('an abort ends the session and closes its socket', async (t) => {
  const v = await venue(t, (ws) => ws.send('x'));
  const events = await collect(dialect(v.url), (es) => frames(es).length === 1);
  assert.deepEqual(frames(events), ['x']);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(v.sockets[0]!.ws.readyState, WebSocket.CLOSED);
});

test('a consumer far behind the venue gets every frame in order; meanwhile the socket stops reading and the venue holds the rest', async (t) => {
  const FRAMES = 50_000;
  const pad = 'x'.repeat(1000);
  const v = await venue(t, (ws) => {
    for (let i = 1; i <= FRAMES; i++) ws.send(`${i} ${pad}`);
  });
  const ac = new AbortController();
  t.after(() => ac.abort());
  const session = wsSession(dialect(v.url, { staleAfterMs: 60_000 }), { signal: ac.signal });
  const texts: string[] = [];
  const take = async () => {
    for (;;) {
      const { value } = await session.next();
      if (value?.kind === 'frame') return texts.push(value.text);
    }
  };
  await take();
  // The consumer stalls: what the venue still holds for it stops draining, well above zero.
  let held = -1;
  const settled = await until('the venue’s send buffer to stop draining', async () => {
    const [before, now] = [held, v.sockets[0]!.ws.bufferedAmount];
    held = now;
    return now === before ? now : undefined;
  });
  assert.ok(settled > 10e6, `${settled} bytes held by the venue`);
  while (texts.length < FRAMES) await take();
  texts.forEach((text, i) => assert.equal(text.slice(0, text.indexOf(' ')), String(i + 1)));
  await session.return(undefined);
});
