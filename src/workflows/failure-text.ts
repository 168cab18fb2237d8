// What a failed activity said, for a run's log and its error.
import { ActivityFailure } from '@temporalio/workflow';

/** The innermost message: "binance: unknown symbol ..." rather than "Activity task failed". */
export function describeFailure(e: unknown): string {
  let err = e as Error & { cause?: unknown };
  while (err instanceof ActivityFailure && err.cause) err = err.cause as Error & { cause?: unknown };
  return err?.message ?? String(e);
}
