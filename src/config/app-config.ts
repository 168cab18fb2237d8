// AppConfig: everything dccd reads from dccd.yml and the environment, validated by zod so a
// bad file fails with one line per problem naming the key path and the reason.
import { z } from 'zod';
import { ValidationError } from '../domain/errors.ts';
import { EXCHANGES, KINDS, parseSpan } from '../domain/target.ts';
import { MAX_FLUSH_MS, MAX_FLUSH_ROWS } from '../domain/stream.ts';
import { durationMs, parseTimeInput } from '../domain/time.ts';
import { cronProblem } from './cron.ts';

const MAX_PORT = 65_535;
const notAPort = (shown: string) => `${shown} is not a port (0–${MAX_PORT})`;
/** How a value appears in a message: text quoted, as the user typed it; numbers bare. */
const shown = (v: unknown) => (typeof v === 'string' ? `'${v}'` : String(v));

const notAPortIssue = { error: (i: { input?: unknown }) => notAPort(shown(i.input)) };
const port = z.number(notAPortIssue).int(notAPortIssue).min(0, notAPortIssue).max(MAX_PORT, notAPortIssue);

/** A port typed as text (a flag, an environment variable): digits only, 0–65535. */
export function parsePort(text: string, field: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n <= MAX_PORT)) throw new ValidationError(field, notAPort(shown(text)));
  return n;
}
const url = (protocols: string[]) =>
  z.string().refine(
    (s) => {
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

const ExchangeSettings = z.strictObject({
  restUrl: url(['http:', 'https:']).optional(),
  wsUrl: url(['ws:', 'wss:']).optional(),
  /** The venue's REST budget per window in its own unit (Binance: request weight per minute). */
  requestBudget: z.number().int().positive().optional(),
});

const Remote = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _ only'),
  /** An rclone destination, e.g. 's3:bucket/dccd'. */
  target: z.string().min(1),
});

const Duration = z.string().regex(/^\d+(s|m|h|d)$/, "a duration such as '30s', '15m', '1h', '1d'");
/** The longest a streamed row waits to be written: from a second to MAX_FLUSH_MS. */
const FlushInterval = Duration.refine((d) => {
  const ms = durationMs(d);
  return ms === undefined || (ms >= 1_000 && ms <= MAX_FLUSH_MS);
}, {
  error: (i) => `'${String(i.input)}' is not from 1s to ${MAX_FLUSH_MS / 3_600_000}h`,
});

const TimeText = z.union([z.string(), z.number().int()]).transform((v, ctx) => {
  try {
    parseTimeInput(v, '');
    return String(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message.replace(/^: /, '') });
    return z.NEVER;
  }
});

/** A 5-field cron expression (minute hour day-of-month month day-of-week, UTC) or @hourly, @daily, @weekly, @monthly, @yearly. */
const Cron = z.string().superRefine((text, ctx) => {
  const why = cronProblem(text);
  if (why) ctx.addIssue({ code: 'custom', message: `'${text}' is not a cron expression: ${why}` });
});

// When a job runs: every <duration>, a cron expression, once (now, or at a time), manual
// (only when asked) or supervised (a stream kept running). Unset: once for a backfill,
// supervised for a stream.
const Schedule = z.union(
  [
    z.strictObject({ every: Duration }),
    z.strictObject({ cron: Cron }),
    z.strictObject({ at: TimeText }),
    z.enum(['once', 'manual', 'supervised']),
  ],
  { error: () => "one of { every: <duration> }, { cron: '<5 fields>' }, { at: <time> }, once, manual or supervised" },
);

/**
 * One entry of `jobs:`, as dccd.yml and the API's POST and PUT /api/jobs bodies take it.
 * `origin: api` marks an entry the API wrote into the file; hand-written ones leave it out.
 */
export const JobEntrySchema = z
  .strictObject({
    operation: z.enum(['backfill', 'stream']).default('backfill'),
    exchange: z.enum(EXCHANGES, { error: (i) => `unknown exchange '${String(i.input)}' (known: ${EXCHANGES.join(', ')})` }),
    /** One pair, or `symbols` for several: each becomes a job of its own. */
    symbol: z.string().min(1).optional(),
    symbols: z.array(z.string().min(1)).min(1).optional(),
    kind: z.enum(KINDS, { error: (i) => `unknown kind '${String(i.input)}' (known: ${KINDS.join(', ')})` }),
    span: z
      .string()
      .optional()
      .refine((v) => v === undefined || isSpan(v), { message: "not a span (a count and a unit: s, m, h, d, w or M, e.g. 1m, 4h, 1M)" }),
    depth: z.number().int().positive().optional(),
    start: TimeText.default('last'),
    end: TimeText.optional(),
    snapshotInterval: Duration.optional(),
    /** Streams: rows buffered before a flush, and the longest a received row waits for one. */
    flushRows: z.number().int().min(1).max(MAX_FLUSH_ROWS).optional(),
    flushInterval: FlushInterval.optional(),
    schedule: Schedule.optional(),
    enabled: z.boolean().default(true),
    origin: z.literal('api', { error: () => "'api' marks a job the API wrote; a hand-written job leaves origin out" }).optional(),
  })
  // Runs even when other keys are invalid, so one pass reports every problem.
  .superRefine(
    (job, ctx) => {
      if (job.kind === 'ohlc' && job.span === undefined) {
        ctx.addIssue({ code: 'custom', path: ['span'], message: 'required for kind ohlc' });
      } else if (job.kind !== 'ohlc' && (KINDS as readonly string[]).includes(job.kind) && job.span !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['span'], message: `only applies to kind ohlc, not ${job.kind}` });
      }
      if ((job.symbol === undefined) === (job.symbols === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['symbol'], message: 'give either symbol or symbols (a list)' });
      }
      for (const key of ['flushRows', 'flushInterval'] as const) {
        if (job[key] !== undefined && job.operation !== 'stream') ctx.addIssue({ code: 'custom', path: [key], message: 'only applies to operation stream' });
      }
    },
    { when: (p) => typeof p.value === 'object' && p.value !== null },
  );

function isSpan(v: string): boolean {
  try {
    parseSpan(v);
    return true;
  } catch {
    return false;
  }
}

export const AppConfigSchema = z
  .strictObject({
    /** Root of the Parquet datasets; {data}/.dccd holds local state. */
    data: z.string().min(1).default('./data'),
    temporal: z
      .strictObject({
        /** host:port of a Temporal server; unset = the embedded dev server. */
        address: z
          .string()
          .regex(/^[^\s:]+:\d+$/, { error: (i) => `${shown(i.input)} is not host:port` })
          .optional(),
        namespace: z.string().min(1).default('default'),
        taskQueue: z.string().min(1).default('dccd'),
        /** Port of the embedded server's gRPC frontend. */
        port: port.default(7233),
        /** Serve the Temporal Web UI from the embedded server. */
        ui: z.boolean().default(true),
        uiPort: port.default(8233),
      })
      .prefault({}),
    api: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: port.default(8080),
        token: z.string().min(16, 'at least 16 characters').optional(),
        /** Origins (scheme://host[:port]) whose web pages may call the API; none by default. */
        corsOrigins: z.array(url(['http:', 'https:']).refine((u) => /^https?:\/\/[^/]+$/.test(u), { message: 'an origin: scheme://host[:port], no path' })).default([]),
      })
      .prefault({}),
    database: z.strictObject({ url: url(['postgres:', 'postgresql:']).optional() }).prefault({}),
    exchanges: z.partialRecord(z.enum(EXCHANGES), ExchangeSettings).default({}),
    storage: z
      .strictObject({
        remotes: z.array(Remote).default([]),
        syncInterval: Duration.default('1h'),
        minFreeGb: z.number().nonnegative().default(0),
      })
      .prefault({}),
    jobs: z.array(JobEntrySchema).default([]),
  })
  .superRefine(
    (cfg, ctx) => {
      const api = cfg.api as Partial<AppConfigBase['api']> | undefined;
      if (typeof api?.host === 'string' && !isLoopback(api.host) && !api.token) {
        ctx.addIssue({ code: 'custom', path: ['api', 'token'], message: `required when api.host (${api.host}) is not a loopback address` });
      }
      for (const clash of portClashes(cfg as Partial<AppConfigBase>)) {
        ctx.addIssue({ code: 'custom', path: clash.key, message: `${clash.port} is also ${clash.sameAs.join('.')}`, params: clash });
      }
    },
    { when: (p) => typeof p.value === 'object' && p.value !== null },
  );

type AppConfigBase = z.output<typeof AppConfigSchema>;

export type AppConfig = z.output<typeof AppConfigSchema>;
export type JobConfig = AppConfig['jobs'][number];
/** A job entry as it is written (dccd.yml, the API's bodies): defaults not yet filled in. */
export type JobEntryInput = z.input<typeof JobEntrySchema>;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Two listening keys on one port: `key` is reported, naming `sameAs`, the one before it. */
export interface PortClash {
  key: string[];
  sameAs: string[];
  port: number;
}

/**
 * The ports a `dccd start` binds that fall on one address: the embedded server's gRPC
 * frontend and Web UI on 127.0.0.1 (only when no temporal.address names a cluster), and the
 * API on api.host, which shares them when it is a loopback address or a wildcard (0.0.0.0
 * and :: take the port on loopback too). Port 0 asks for any free port, so never clashes.
 * The input may hold invalid values (the check runs next to the others), hence the typeof guards.
 */
function portClashes(cfg: Partial<AppConfigBase>): PortClash[] {
  const { api, temporal } = cfg;
  const embedded = temporal?.address === undefined;
  const bound: { key: string[]; port: unknown }[] = [
    ...(typeof api?.host === 'string' && (isLoopback(api.host) || isWildcard(api.host)) ? [{ key: ['api', 'port'], port: api.port }] : []),
    ...(embedded ? [{ key: ['temporal', 'port'], port: temporal?.port }] : []),
    ...(embedded && temporal?.ui !== false ? [{ key: ['temporal', 'uiPort'], port: temporal?.uiPort }] : []),
  ];
  const listening = bound.filter((b): b is { key: string[]; port: number } => typeof b.port === 'number' && b.port !== 0);
  return listening.flatMap((b, i) => {
    const earlier = listening.slice(0, i).find((a) => a.port === b.port);
    return earlier ? [{ key: b.key, sameAs: earlier.key, port: b.port }] : [];
  });
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';
