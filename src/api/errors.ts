// Every error the API answers with, mapped once: `{error, field, reason}` and a status that
// says whose fault it is. Request validation (zod, on each route's schema) names the field.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ConfigError } from '../config/config-error.ts';
import { AlreadyRunning, Conflict, DccdError, ExchangeError, JobExists, NoCapability, NotFound, ValidationError } from '../domain/errors.ts';

export interface ErrorBody {
  error: string;
  field: string | null;
  reason: string;
  /** AlreadyRunning: the run that holds the dataset. */
  runId?: string;
  /** JobExists: the job that has the id. */
  jobId?: string;
}

const body = (reason: string, field: string | null = null, error = field ? `${field}: ${reason}` : reason): ErrorBody => ({ error, field, reason });

/** Where a request was invalid, as the client named it: `limit`, `body.start`, `id`. */
function fieldOf(err: FastifyError & { validation: { instancePath?: string; params?: Record<string, unknown> }[] }): string | null {
  const first = err.validation[0];
  const path = (first?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  const extra = first?.params?.keys ?? first?.params?.key;
  const key = path || (Array.isArray(extra) ? String(extra[0]) : typeof extra === 'string' ? extra : '');
  return key ? (err.validationContext === 'body' ? `body.${key}` : key) : err.validationContext === 'body' ? 'body' : null;
}

export function errorReply(e: unknown): { status: number; body: ErrorBody } {
  const err = e as FastifyError;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0] as { message?: string } | undefined;
    return { status: 400, body: body(first?.message ?? 'invalid', fieldOf(err as never)) };
  }
  if (e instanceof ValidationError) return { status: 400, body: body(e.reason, e.field || null) };
  // The daemon's own config file, read again for its jobs, is wrong: not the request's fault.
  if (e instanceof ConfigError) return { status: 422, body: body(`the config file is invalid: ${e.problems.join('; ')}`) };
  if (e instanceof NotFound) return { status: 404, body: body(e.message) };
  if (e instanceof AlreadyRunning) return { status: 409, body: { ...body(e.message), runId: e.runId } };
  if (e instanceof JobExists) return { status: 409, body: { ...body(e.message), jobId: e.jobId } };
  if (e instanceof Conflict) return { status: 409, body: body(e.message) };
  if (e instanceof NoCapability) return { status: 422, body: body(e.message) };
  if (e instanceof ExchangeError) return { status: e.retryable ? 503 : 422, body: body(e.message) };
  // Fastify's own: a body too large, not JSON, of a type the route does not take.
  if (typeof err?.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return { status: err.statusCode, body: body(err.message.replace(/^Body /, 'body ')) };
  }
  if (e instanceof DccdError) return { status: 500, body: body(e.message) };
  return { status: 500, body: body('internal error; the daemon log has the details') };
}

export function handleError(e: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body: b } = errorReply(e);
  if (status >= 500) req.log.error(e);
  if (status === 500 && !(e instanceof DccdError)) process.stderr.write(`dccd api: ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}\n`);
  return reply.code(status).send(b);
}
