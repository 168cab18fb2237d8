// The HTTP API (Fastify). Talks to Temporal through the client and reads the store; never
// imports worker/.
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { healthRoutes, type WorkerProbe } from './routes/health.ts';

export interface ApiOptions {
  services: Services;
  /** When the worker runs in this process, its state; otherwise pollers are asked. */
  localWorker?: WorkerProbe;
}

export async function buildApi(o: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const token = o.services.config.api.token;
  if (token) {
    const expected = Buffer.from(`Bearer ${token}`);
    app.addHook('onRequest', async (req, reply) => {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        return reply.code(401).send({ error: 'unauthorized', reason: 'missing or wrong bearer token (Authorization: Bearer <api.token>)' });
      }
    });
  }
  await app.register(healthRoutes, { services: o.services, localWorker: o.localWorker });
  return app;
}

/** Starts listening; returns the base URL. */
export async function listenApi(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
}
