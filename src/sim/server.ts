// The simulator's one HTTP server: each venue below its prefix (/binance/...), WebSocket
// upgrades on the same port, and the control routes below /_sim (stats, faults, truth).
// Transport faults (latency, timeouts, error statuses, broken bodies) are applied here, the
// same way for every venue; what an error looks like is up to the venue.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ValidationError } from '../domain/errors.ts';
import { FaultInjector, parseFaultConfig, type FaultConfig, type TransportFault } from './faults.ts';
import type { Sim, SimOptions } from './index.ts';
import { mergeStats, StatsRecorder, type SimStats } from './stats.ts';
import { parseTruthQuery, type TruthKind, type TruthQuery, type TruthResult } from './truth.ts';
import type { Venue, VenueReply, VenueRequest } from './venue.ts';
import { VENUES } from './venues.ts';

interface VenueSlot {
  venue: Venue;
  faults: FaultInjector;
  stats: StatsRecorder;
}

const MAX_CONTROL_BODY = 1 << 20;
/** What a proxy in front of an API answers when the API is down: not JSON. */
const MALFORMED_BODY = '<html><head><title>Service Unavailable</title></head><body>upstream connect error or disconnect/reset before headers</body></html>';

export class SimServer implements Sim {
  url = '';
  port = 0;
  private readonly server: Server;
  private readonly venues = new Map<string, VenueSlot>();
  private readonly latencyMs: number;

  constructor(private readonly opts: SimOptions) {
    const seed = opts.seed ?? 1;
    this.latencyMs = opts.latencyMs ?? 0;
    const faults = parseFaultConfig(opts.faults ?? {});
    const ws = {
      ...(opts.wsPingEveryMs !== undefined && { wsPingEveryMs: positiveMs(opts.wsPingEveryMs, 'wsPingEveryMs') }),
      ...(opts.wsPongTimeoutMs !== undefined && { wsPongTimeoutMs: positiveMs(opts.wsPongTimeoutMs, 'wsPongTimeoutMs') }),
    };
    const wsTradesPerTick = opts.wsTradesPerTick ?? 1000;
    if (!Number.isSafeInteger(wsTradesPerTick) || wsTradesPerTick < 1) throw new ValidationError('wsTradesPerTick', `must be a whole number from 1, got ${wsTradesPerTick}`);
    for (const [name, create] of Object.entries(VENUES)) {
      const stats = new StatsRecorder();
      const injector = new FaultInjector(seed, faults, (kind) => stats.fault(kind));
      const venue = create({
        seed,
        markets: opts.markets ?? {},
        weightBudget: opts.weightBudget ?? 6000,
        banMs: opts.banMs ?? 2000,
        ...ws,
        wsTradesPerTick,
        faults: injector,
        stats,
      });
      this.venues.set(name, { venue, faults: injector, stats });
    }
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => send(res, { status: 500, body: JSON.stringify({ error: String(e) }) }));
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  listen(): Promise<void> {
    const host = this.opts.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 9100, host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as { port: number }).port;
        this.url = `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const { venue } of this.venues.values()) venue.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  stats(exchange?: string): SimStats {
    if (exchange !== undefined) return this.slot(exchange).stats.snapshot();
    return mergeStats(Object.fromEntries([...this.venues].map(([name, s]) => [name, s.stats.snapshot()])));
  }

  setFaults(exchange: string, faults: FaultConfig): void {
    this.slot(exchange).faults.set(faults);
  }

  truth(q: TruthQuery): TruthResult {
    return this.slot(q.exchange).venue.truth(parseTruthQuery(q), Date.now());
  }

  resetStats(): void {
    for (const { stats } of this.venues.values()) stats.reset();
  }

  private slot(exchange: string): VenueSlot {
    const s = this.venues.get(exchange);
    if (!s) throw new ValidationError('exchange', `'${exchange}' is not simulated (simulated: ${[...this.venues.keys()].join(', ')})`);
    return s;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const [, prefix = '', ...rest] = url.pathname.split('/');
    if (prefix === '_sim') return this.control(rest.join('/'), url.searchParams, req, res);
    const slot = this.venues.get(prefix);
    if (!slot) return send(res, { status: 404, body: JSON.stringify({ error: `no venue at /${prefix}` }) });

    const vreq: VenueRequest = {
      method: req.method ?? 'GET',
      path: `/${rest.join('/')}`,
      query: url.searchParams,
      ip: req.socket.remoteAddress ?? '',
      nowMs: Date.now(),
    };
    slot.stats.request(vreq.path);
    let fault: TransportFault | null;
    try {
      fault = slot.faults.nextTransportFault(header(req, 'x-sim-fault'));
    } catch (e) {
      return send(res, simError(e));
    }
    if (fault) slot.faults.record(fault.startsWith('status5') ? 'status5xx' : fault);
    if (fault === 'timeout') return; // never answered; the socket closes when the client gives up

    let reply: VenueReply =
      fault === 'status429' || fault === 'status500' || fault === 'status502' || fault === 'status503'
        ? slot.venue.faultReply(fault, vreq)
        : slot.venue.http(vreq);
    if (fault === 'truncated') reply = { ...reply, body: reply.body.slice(0, Math.max(1, Math.floor(reply.body.length / 2))) };
    if (fault === 'malformed') reply = { ...reply, body: MALFORMED_BODY, headers: { ...reply.headers, 'Content-Type': 'text/html' } };
    slot.stats.status(reply.status);

    const delay = this.latencyMs + (slot.faults.config.latencyMs ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    send(res, reply);
  }

  private async control(route: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (body: unknown) => send(res, { status: 200, body: JSON.stringify(body) });
    try {
      if (req.method === 'GET' && route === 'stats') return json(this.stats(q.get('exchange') ?? undefined));
      if (req.method === 'POST' && route === 'reset-stats') {
        this.resetStats();
        return json({ ok: true });
      }
      if (req.method === 'POST' && route === 'faults') {
        const body = await readJson(req);
        if (typeof body.exchange !== 'string') throw new ValidationError('exchange', 'required');
        this.setFaults(body.exchange, parseFaultConfig(body.faults));
        return json({ ok: true });
      }
      if (req.method === 'GET' && route === 'truth') {
        return json(
          this.truth({
            exchange: q.get('exchange') ?? '',
            symbol: q.get('symbol') ?? '',
            kind: (q.get('kind') ?? '') as TruthKind,
            span: q.get('span') ?? undefined,
            start: q.get('start') ?? '',
            end: q.get('end') ?? '',
          }),
        );
      }
      send(res, { status: 404, body: JSON.stringify({ error: `no control route ${req.method} /_sim/${route}` }) });
    } catch (e) {
      send(res, simError(e));
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const [, prefix = '', ...rest] = url.pathname.split('/');
    const slot = this.venues.get(prefix);
    if (!slot) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    slot.venue.upgrade(req, socket, head, `/${rest.join('/')}`, url.searchParams);
  }
}

function positiveMs(v: number, field: string): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new ValidationError(field, `must be a whole number of milliseconds above 0, got ${v}`);
  return v;
}

function send(res: ServerResponse, reply: VenueReply): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(reply.status, {
    'Content-Type': 'application/json',
    ...reply.headers,
    'Content-Length': Buffer.byteLength(reply.body),
  });
  res.end(reply.body);
}

/** The simulator's own errors (bad control input), not a venue's. */
function simError(e: unknown): VenueReply {
  if (e instanceof ValidationError) return { status: 400, body: JSON.stringify({ error: e.message, field: e.field }) };
  return { status: 500, body: JSON.stringify({ error: String(e) }) };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CONTROL_BODY) throw new ValidationError('body', `larger than ${MAX_CONTROL_BODY} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ValidationError('body', 'is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('body', 'is not a JSON object');
  return body as Record<string, unknown>;
}
