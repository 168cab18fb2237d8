// Turns dccd errors into Temporal failures: permanent ones fail the run at once (not
// retried), transient ones retry, after the venue's Retry-After when it gave one.
import { ApplicationFailure } from '@temporalio/common';
import { DccdError, ExchangeError } from '../domain/errors.ts';

export async function asActivityFailure<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toFailure(e);
  }
}

export function toFailure(e: unknown): unknown {
  if (e instanceof ApplicationFailure || !(e instanceof DccdError)) return e;
  return ApplicationFailure.create({
    message: e.message,
    type: e.type,
    nonRetryable: !e.retryable,
    ...(e instanceof ExchangeError && e.retryAfterMs !== undefined && { nextRetryDelay: e.retryAfterMs }),
    cause: e,
  });
}
