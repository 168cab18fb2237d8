// The HTTP API (Fastify). Talks to Temporal through the client and reads the store; never
// imports worker/.
import { timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { JobStore } from '../jobs/job-store.ts';
import { checkConfigJobs } from '../jobs/job-plan.ts';
import type { Services } from '../services.ts';
import { VERSION } from '../version.ts';
import { handleError } from './errors.ts';
import { eventRoutes } from './routes/events.ts';
import { exchangeRoutes } from './routes/exchanges.ts';
import { healthRoutes, type WorkerProbe } from './routes/health.ts';
import { inventoryRoutes } from './routes/inventory.ts';
import { jobRoutes } from './routes/jobs.ts';
import { readRoutes } from './routes/read.ts';
import { runRoutes } from './routes/runs.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { streamRoutes } from './routes/streams.ts';

/** Requests are small JSON documents; anything larger is refused before it is read. */
const BODY_LIMIT_BYTES = 64 * 1024;

export interface ApiOptions {
  services: Services;
  /**
   * Where the jobs are kept: `dccd start` and `dccd api` pass their config file's, read again
   * on each call (an edited file is what the jobs routes list and apply) and changed by the
   * API's job edits. Without it, the jobs are the services' config's, and read-only.
   */
  jobs?: JobStore;
  /** When the worker runs in this process, its state; otherwise pollers are asked. */
  localWorker?: WorkerProbe;
}

export async function buildApi(o: ApiOptions): Promise<FastifyInstance> {
  // Event streams stay open until their client goes: closing the API ends them.
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, forceCloseConnections: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  // JSON only: a body of any other type is 415, not a string for the schema to puzzle over.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}`, field: null, reason: `no route ${req.method} ${req.url.split('?')[0]}` }));
  // Another site's page may call the API only from an origin the config names. Registered
  // before the token check: a browser's preflight carries no credentials, and is answered here.
  const origins = o.services.config.api.corsOrigins;
  if (origins.length > 0) await app.register(cors, { origin: origins, methods: ['GET', 'POST', 'PUT', 'DELETE'], allowedHeaders: ['authorization', 'content-type'] });
  const token = o.services.config.api.token;
  if (token) {
    const expected = Buffer.from(`Bearer ${token}`);
    app.addHook('onRequest', async (req, reply) => {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        const reason = 'missing or wrong bearer token (Authorization: Bearer <api.token>)';
        return reply.code(401).send({ error: `unauthorized: ${reason}`, field: 'authorization', reason });
      }
    });
  }
  // The OpenAPI document is built from the routes' zod schemas: /docs (browsable) and /docs/json.
  await app.register(swagger, {
    openapi: { info: { title: 'dccd', description: 'Crypto market data into Parquet, on Temporal: jobs, runs, schedules, data', version: VERSION } },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const services = o.services;
  const jobs = () => o.jobs?.specs() ?? checkConfigJobs(services.config);
  await app.register(healthRoutes, { services, localWorker: o.localWorker });
  await app.register(runRoutes, { services });
  await app.register(jobRoutes, { services, store: o.jobs });
  await app.register(inventoryRoutes, { services, jobs });
  await app.register(streamRoutes, { services, jobs });
  await app.register(scheduleRoutes, { services });
  await app.register(exchangeRoutes, { services });
  await app.register(eventRoutes, { services });
  await app.register(readRoutes, { services });
  return app;
}

/** Starts listening; returns the base URL. */
export async function listenApi(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
}
