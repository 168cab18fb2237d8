// A one-activity workflow that proves the whole chain (client → server → worker →
// activity → result); `GET /api/health?probe=1` runs it.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { PROBE } from './activity-options.ts';

const { describeWorker } = proxyActivities<Activities>(PROBE);

export async function probe(): Promise<{ worker: string; at: string }> {
  return describeWorker();
}
