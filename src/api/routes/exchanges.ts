// The capability matrix: what each venue serves through this dccd, from the declarations the
// checks obey (live streams only where the adapter has one: jobs/capabilities.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EXCHANGES } from '../../domain/target.ts';
import { servedCapabilities } from '../../jobs/capabilities.ts';
import type { Services } from '../../services.ts';
import { implementedExchanges } from '../../sources/registry.ts';

export const exchangeRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  app.get('/api/exchanges', { schema: { summary: 'Every venue dccd knows, and what each implemented one serves', response: { 200: z.object({ exchanges: z.array(z.object({ name: z.string(), implemented: z.boolean(), capabilities: z.unknown() })) }) } } }, async () => {
    const implemented = new Set(implementedExchanges());
    return {
      exchanges: EXCHANGES.map((name) => ({ name, implemented: implemented.has(name), capabilities: implemented.has(name) ? servedCapabilities(services.adapter(name)) : null })),
    };
  });
};
