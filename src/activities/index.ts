// Activities: the only place where sources meet storage. Plain async functions bound to the
// services they need, so each can be tested without a worker.
import { hostname } from 'node:os';
import type { Services } from '../services.ts';
import type { ExchangeName } from '../domain/target.ts';
import { createBackfillActivities } from './backfill.ts';
import { createStreamActivities } from './stream.ts';

export function createActivities(services: Services) {
  const deps = { store: services.store, coverage: () => services.coverage(), adapter: (name: ExchangeName) => services.adapter(name) };
  return {
    ...createBackfillActivities(deps),
    ...createStreamActivities(deps),
    async describeWorker(): Promise<{ worker: string; at: string }> {
      return { worker: `${hostname()}:${process.pid}`, at: new Date().toISOString() };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
