// Timeouts and retry policies of every activity, in one place, each with its reason.
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_TYPES } from '../domain/errors.ts';

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  // Exchanges recover from most incidents within minutes; a minute between attempts keeps
  // a long outage cheap without making recovery slow.
  maximumInterval: '1 minute',
  // Permanent errors (bad symbol, no capability, a 4xx the venue will repeat) fail at once.
  nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
};

/** Resolving a range: one or two light requests (exchangeInfo, earliest row) and a stat. */
export const RESOLVE: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { ...retry, maximumAttempts: 10 },
};

/**
 * One window: up to a day of trades (~10^3 pages at Binance's budget, a few minutes) or ~10
 * pages of candles. The activity heartbeats every 3 s, also while a request waits out a 429
 * (heartbeats come from a timer, not from progress), so a heartbeat timeout of 10 s notices
 * a dead worker within seconds — the window is then retried elsewhere and resumes from the
 * checkpoint in the last heartbeat — while leaving room for a busy event loop. startToClose
 * only bounds a window that is alive but stuck (e.g. a 418 ban of hours); 2 h is far above
 * any healthy window.
 * Transient errors are retried for about an hour (1 s doubling to 1 min, 60 attempts) before
 * the run fails with the last error.
 */
export const WINDOW: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '10 seconds',
  // A stop cancels the windows in flight and waits for each to decide: a healthy one finishes
  // (its rows count), one waiting out errors ends at once. Left unset, the SDK sends
  // TRY_CANCEL (proto value 0), which drops a window's result while it is still writing.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { ...retry, maximumAttempts: 60 },
};

/** The probe that proves the worker runs activities: no retry, it must answer now. */
export const PROBE: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
};

/**
 * One stream session: hours of one socket. The heartbeat (every second) notices a dead
 * worker within 30 s and carries the counters and the last trade written, so the retried
 * attempt (on any worker) resumes them and heals what it missed. Transient failures retry
 * without end (1 s doubling to 1 min): a stream is meant to outlive a venue's outage.
 */
export const STREAM_SESSION_MS = 6 * 3_600_000;
export const STREAM: ActivityOptions = {
  startToCloseTimeout: STREAM_SESSION_MS + 15 * 60_000,
  heartbeatTimeout: '30 seconds',
  // A stop waits for the session to flush what it received.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry,
};
