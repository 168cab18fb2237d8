// `dccd stop`: ask a run to end after the window in flight.
import type { AppConfig } from '../config/app-config.ts';
import { runHandle, stopBackfill } from '../api/backfills.ts';
import { openSession } from './temporal-session.ts';

export async function runStop(cfg: AppConfig, run: string): Promise<void> {
  const session = await openSession(cfg);
  try {
    const handle = await runHandle(session.services, run);
    await stopBackfill(handle);
    console.log(`stop sent to ${handle.workflowId}; it ends after the window in flight is written`);
  } finally {
    await session.close();
  }
}
