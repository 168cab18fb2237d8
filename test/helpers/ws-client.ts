// A raw WebSocket client for tests of a venue's streams: it gathers the JSON messages a
// socket receives and waits for them, and for its close.
import { once } from 'node:events';
import { WebSocket, type ClientOptions } from 'ws';

export interface TestSocket {
  ws: WebSocket;
  messages: any[];
  /** Resolves once `n` messages matching `pred` have arrived, with them. */
  take(n: number, pred?: (m: any) => boolean): Promise<any[]>;
  /** The close code and reason, once the socket closed. */
  closed: Promise<{ code: number; reason: string }>;
}

export async function connectWs(url: string, options: ClientOptions = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, options);
  const messages: any[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()));
    waiters.splice(0).forEach((w) => w());
  });
  const closed = once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  await once(ws, 'open');
  const take = async (n: number, pred: (m: any) => boolean = () => true): Promise<any[]> => {
    for (;;) {
      const hits = messages.filter(pred);
      if (hits.length >= n) return hits.slice(0, n);
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { ws, messages, take, closed };
}
