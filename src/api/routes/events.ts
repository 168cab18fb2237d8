// Server-sent events: GET /api/runs/:id/events follows one run to its end, GET /api/events
// every run. A late client gets the current state first; a comment every 15 s keeps proxies
// from closing a quiet stream.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allRunEvents, runEvents, type RunEvent } from '../../client/run-events.ts';
import type { Services } from '../../services.ts';
import { errorReply } from '../errors.ts';
import { RunId, errors } from '../schemas.ts';

const KEEPALIVE_MS = 15_000;

/**
 * `checkFirst`: the first event is awaited before the stream opens, so a run that does not
 * exist is a 404 rather than an empty stream. A stream of every run opens at once: its first
 * event may be a long way off.
 */
async function stream(req: FastifyRequest, reply: FastifyReply, events: (signal: AbortSignal) => AsyncGenerator<RunEvent>, checkFirst: boolean): Promise<void> {
  const closed = new AbortController();
  req.raw.once('close', () => closed.abort());
  const source = events(closed.signal);
  let first: IteratorResult<RunEvent> | undefined;
  if (checkFirst) {
    try {
      first = await source.next();
    } catch (e) {
      const { status, body } = errorReply(e);
      return reply.code(status).send(body);
    }
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const send = (e: RunEvent) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
  res.write(': connected\n\n');
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  try {
    if (first && !first.done) send(first.value);
    for await (const e of source) send(e);
  } catch (e) {
    res.write(`event: error\ndata: ${JSON.stringify(errorReply(e).body)}\n\n`);
  } finally {
    clearInterval(keepalive);
    res.end();
  }
}

export const eventRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/api/runs/:id/events',
    { schema: { summary: "One run's events (text/event-stream): status first, then progress and log, ending with the final status", params: z.strictObject({ id: RunId }), response: errors } },
    async (req, reply) => stream(req, reply, (signal) => runEvents(services, req.params.id, signal), true),
  );
  app.get('/api/events', { schema: { summary: 'Status events of every run (text/event-stream)' } }, async (req, reply) =>
    stream(req, reply, (signal) => allRunEvents(services, signal), false),
  );
};
