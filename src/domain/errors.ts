// Error types shared by every layer. Each carries a machine-readable `type` (used as the
// Temporal ApplicationFailure type, so retry policies can name it) and, where a user's
// input is at fault, the field that was wrong.

export class DccdError extends Error {
  readonly type: string = 'DccdError';
  /** Permanent errors fail a run at once instead of being retried. */
  readonly retryable: boolean = false;
}

/** Bad input from a user, a config file, a request or an exchange answer. */
export class ValidationError extends DccdError {
  override readonly type = 'ValidationError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
  }
}

/** The exchange cannot serve what was asked (kind, span, depth of history, transport). */
export class NoCapability extends DccdError {
  override readonly type = 'NoCapability';
  constructor(
    readonly exchange: string,
    readonly reason: string,
  ) {
    super(`${exchange}: ${reason}`);
  }
}

/** A second writer for a dataset that already has one. */
export class AlreadyRunning extends DccdError {
  override readonly type = 'AlreadyRunning';
  constructor(
    readonly runId: string,
    readonly workflowId: string,
  ) {
    super(`already running: ${runId} (${workflowId})`);
  }
}

/** A request that contradicts what stands (answered 409). */
export class Conflict extends DccdError {
  override readonly type: string = 'Conflict';
}

/** A job created with the id of one that exists: the id comes from what it collects, so there is one job per dataset and operation. */
export class JobExists extends Conflict {
  override readonly type = 'JobExists';
  constructor(readonly jobId: string) {
    super(`job ${jobId} exists already (PUT /api/jobs/${jobId} changes it)`);
  }
}

export class NotFound extends DccdError {
  override readonly type = 'NotFound';
}

/**
 * An exchange answered with an error. `retryable` is true for rate limits (429/418),
 * server errors and network failures; `retryAfterMs` carries the venue's Retry-After.
 */
export class ExchangeError extends DccdError {
  override readonly type: string;
  override readonly retryable: boolean;
  constructor(
    readonly exchange: string,
    message: string,
    opts: { status?: number; code?: number | string; retryable: boolean; retryAfterMs?: number },
  ) {
    super(`${exchange}: ${message}`);
    this.status = opts.status;
    this.code = opts.code;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.type = opts.retryable ? 'ExchangeTransientError' : 'ExchangeRejected';
  }
  readonly status: number | undefined;
  readonly code: number | string | undefined;
  readonly retryAfterMs: number | undefined;
}

/**
 * The local disk refused a read or write in a way no retry mends: permissions, a full or
 * read-only file system, a file where a folder should be. `reason` is short and names the
 * errno, e.g. 'permission denied (EACCES)'.
 */
export class StorageError extends DccdError {
  override readonly type = 'StorageError';
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly action: 'read' | 'write' = 'write',
  ) {
    super(`cannot ${action} ${path}: ${reason}`);
  }
}

/** Error types a retry policy must never retry. */
export const NON_RETRYABLE_TYPES = ['ValidationError', 'NoCapability', 'ExchangeRejected', 'NotFound', 'StorageError'] as const;
