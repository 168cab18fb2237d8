// Activities: the only place where sources meet storage. Plain async functions bound to the
// services they need, so each can be tested without a worker.
import { hostname } from 'node:os';
import type { Services } from '../services.ts';
import { createBackfillActivities } from './backfill.ts';

export function createActivities(services: Services) {
  return {
    ...createBackfillActivities({ store: services.store, coverage: () => services.coverage(), adapter: (name) => services.adapter(name) }),
    async describeWorker(): Promise<{ worker: string; at: string }> {
      return { worker: `${hostname()}:${process.pid}`, at: new Date().toISOString() };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
