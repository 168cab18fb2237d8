// The fields every route group shares, as zod schemas: the same patterns the CLI and the
// domain check, so no path is ever built from a value that did not pass one of them.
import { z } from 'zod';
import { JOB_RUN_STATES } from '../domain/job-run.ts';
import { OPERATIONS, SPEC_ID_PATTERN } from '../domain/job-spec.ts';
import { EXCHANGES, KINDS } from '../domain/target.ts';

export const ExchangeName = z.enum(EXCHANGES);
/** BTCUSDT, BTC/USDT, BTC-USDT or BTC_USDT: letters and digits around at most one separator. */
export const Symbol = z.string().regex(/^[A-Za-z0-9]{1,20}([/_-][A-Za-z0-9]{1,20})?$/, 'a symbol such as BTCUSDT, BTC/USDT or BTC-USDT');
export const DatasetKind = z.string().regex(/^(ohlc-\d{1,3}[smhdwM]|trades|book)$/, 'ohlc-<span> (e.g. ohlc-1m), trades or book');
export const RunId = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a run id (a UUID)');
export const SpecId = z.string().regex(SPEC_ID_PATTERN, 'a job id such as backfill:binance:BTC-USDT:ohlc-1m');
export const TimeText = z.union([z.string().max(40), z.number().int()]).transform(String);

export const ErrorBody = z.object({ error: z.string(), field: z.string().nullable(), reason: z.string(), runId: z.string().optional(), jobId: z.string().optional() });
export const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, 503: ErrorBody } as const;

export const Target = z.object({ exchange: ExchangeName, symbol: z.string(), kind: z.enum(KINDS), span: z.string().optional() });

/** A stream's liveness: counters over the run, and the latest of what it saw. */
export const StreamLive = z.object({
  rowsWritten: z.number(),
  lastTs: z.string().nullable(),
  lastSample: z.object({ price: z.number().optional(), bid: z.number().optional(), ask: z.number().optional(), ts: z.string(), receivedAt: z.string() }).nullable(),
  reconnects: z.number(),
  gapsTotal: z.number(),
  gaps: z.array(
    z.object({
      afterNs: z.string().nullable(),
      beforeNs: z.string(),
      missingIds: z.object({ from: z.string(), to: z.string() }).optional(),
      reason: z.string(),
      state: z.enum(['healed', 'open']),
      at: z.string(),
    }),
  ),
  rate: z.number(),
});

export const JobRun = z.object({
  runId: z.string(),
  workflowId: z.string(),
  specId: z.string().nullable(),
  operation: z.enum(OPERATIONS),
  target: Target,
  state: z.enum(JOB_RUN_STATES),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  rowsWritten: z.number(),
  error: z.string().nullable(),
  progress: z.object({ done: z.number(), total: z.number(), unit: z.literal('windows'), rows: z.number() }).nullable(),
  range: z.object({ start: z.string(), end: z.string() }).nullable(),
  logTail: z.array(z.string()),
  live: StreamLive.optional(),
});
