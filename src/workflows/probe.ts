// A one-activity workflow that proves the whole chain (client → server → worker →
// activity → result); `GET /api/health?probe=1` runs it.
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities/index.ts';

const { describeWorker } = proxyActivities<ReturnType<typeof activities.createActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function probe(): Promise<{ worker: string; at: string }> {
  return describeWorker();
}
