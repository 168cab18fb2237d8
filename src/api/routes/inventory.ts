// Inventory: every dataset stored, with its coverage and holes (jobs/inventory.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobSpec } from '../../domain/job-spec.ts';
import { HOLE_REASONS, inventory, inventoryEntry } from '../../jobs/inventory.ts';
import type { Services } from '../../services.ts';
import { DatasetKind, ExchangeName, errors } from '../schemas.ts';

const Span = z.object({ startNs: z.string(), endNs: z.string(), start: z.string(), end: z.string() });
const Entry = z.object({
  datasetId: z.string(),
  exchange: z.string(),
  symbol: z.string(),
  kind: z.string(),
  files: z.number(),
  rows: z.number(),
  bytes: z.number(),
  firstTs: z.string().nullable(),
  lastTs: z.string().nullable(),
  first: z.string().nullable(),
  last: z.string().nullable(),
  coverage: z.object({ rest: z.array(Span).optional(), ws: z.array(Span).optional(), files: z.array(Span).optional() }),
  holes: z.array(Span.extend({ reason: z.enum(HOLE_REASONS) })),
  recordedRows: z.number().nullable(),
  jobs: z.array(z.string()),
});

export const inventoryRoutes: FastifyPluginAsyncZod<{ services: Services; jobs: () => JobSpec[] }> = async (app, { services, jobs }) => {
  app.get(
    '/api/inventory',
    {
      schema: {
        summary: 'Every dataset stored (tracked by a job or not): files, rows, bytes, first and last ts, coverage and holes',
        querystring: z.strictObject({ exchange: ExchangeName.optional(), kind: DatasetKind.optional() }),
        response: { 200: z.object({ datasets: z.array(Entry) }), ...errors },
      },
    },
    async (req) => {
      const { exchange, kind } = req.query;
      const all = await inventory(services, jobs());
      return { datasets: all.filter((d) => (!exchange || d.exchange === exchange) && (!kind || d.kind === kind)).map(inventoryEntry) };
    },
  );
};
