// The job model: what a user declares (in dccd.yml or through the API) for dccd to do, one
// spec per dataset and operation. Reconciling specs with Temporal (jobs/reconcile.ts) turns
// interval, cron and once triggers into Schedules; a spec is never a run itself.
import type { Target } from './target.ts';
import { datasetIdOf, datasetKind, symbolSlug } from './target.ts';
import { ValidationError } from './errors.ts';
import { isoFromNs } from './time.ts';

export const OPERATIONS = ['backfill', 'stream'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const TRIGGER_KINDS = ['once', 'interval', 'cron', 'supervised', 'manual'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/**
 * When a spec runs. interval: every `every` (a duration such as '15m'); cron: a 5-field
 * expression in UTC; once: one run per version of the spec, at `at` (ns text) or as soon as
 * it is applied; supervised: a stream kept running; manual: only when asked.
 */
export type Trigger =
  | { kind: 'interval'; every: string }
  | { kind: 'cron'; cron: string }
  | { kind: 'once'; at?: `${bigint}` }
  | { kind: 'supervised' }
  | { kind: 'manual' };

export interface JobParams {
  /** 'last', 'origin', or integer ns text: where the first run starts; later runs continue from the last stored row. */
  start: string;
  /** Integer ns text, exclusive; omitted means up to each run's start. */
  end?: `${bigint}`;
  /** Book snapshot depth per side. */
  depth?: number;
  /** Streams: a book snapshot every this long (a duration). */
  snapshotInterval?: string;
  /** Streams: rows buffered before a flush, and the longest (a duration) a received row waits for one. */
  flushRows?: number;
  flushInterval?: string;
}

export interface JobSpec {
  /** operation:exchange:BASE-QUOTE:dataset kind, e.g. backfill:binance:BTC-USDT:ohlc-1m. */
  id: string;
  operation: Operation;
  target: Target;
  trigger: Trigger;
  params: JobParams;
  enabled: boolean;
  origin: 'config' | 'api';
}

/** A stream job dccd keeps running: enabled, with trigger supervised. */
export const isSupervisedStream = (s: Pick<JobSpec, 'operation' | 'enabled' | 'trigger'>): boolean => s.operation === 'stream' && s.enabled && s.trigger.kind === 'supervised';

/** A spec's id: readable, and the same whatever its trigger, params or start say. */
export function specId(operation: Operation, target: Target): string {
  return `${operation}:${target.exchange}:${symbolSlug(target.symbol)}:${datasetKind(target)}`;
}

/** A spec id as specId makes them: operation:exchange:BASE-QUOTE:dataset kind. */
export const SPEC_ID_PATTERN = /^(backfill|stream):[a-z]{2,20}:[A-Z0-9]{1,20}-[A-Z0-9]{1,20}:(ohlc-\d{1,3}[smhdwM]|trades|book)$/;

/** Accepts a spec id or its schedule id (dccd/<spec id>). */
export function parseSpecId(text: string, field = 'job'): string {
  const id = text.startsWith(SCHEDULE_PREFIX) ? text.slice(SCHEDULE_PREFIX.length) : text;
  if (!SPEC_ID_PATTERN.test(id)) throw new ValidationError(field, `'${text}' is not a job id such as backfill:binance:BTC-USDT:ohlc-1m`);
  return id;
}

/** The workflow id of a spec's runs (`stream/binance/trades/BTC-USDT`), from a spec id as specId makes them. */
export function specWorkflowId(id: string): string {
  const [operation, exchange, slug, kind] = id.split(':') as [string, string, string, string];
  return `${operation}/${datasetIdOf(exchange, kind, slug)}`;
}

/** A scheduled spec's Temporal Schedule: `dccd/<spec id>`, as `temporal schedule list` shows it. */
export const SCHEDULE_PREFIX = 'dccd/';
export const scheduleIdOf = (id: string) => `${SCHEDULE_PREFIX}${id}`;

/**
 * What makes two versions of a spec different runs: its operation, target, trigger and
 * params, in a fixed key order. `enabled` pauses and resumes, so it is not part of it.
 */
export function specVersion(spec: Pick<JobSpec, 'operation' | 'target' | 'trigger' | 'params'>): string {
  const canonical = JSON.stringify([spec.operation, sorted(spec.target), sorted(spec.trigger), sorted(spec.params)]);
  return fnv1a(canonical);
}

function sorted(o: object): [string, unknown][] {
  return Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/** 32-bit FNV-1a as 8 hex digits: a short, stable fingerprint (not a security measure). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** How a trigger reads in a list or a schedule's note: 'every 1h', 'cron 0 * * * *', 'once'. */
export function triggerText(t: Trigger): string {
  switch (t.kind) {
    case 'interval':
      return `every ${t.every}`;
    case 'cron':
      return `cron ${t.cron} (UTC)`;
    case 'once':
      return t.at ? `once at ${isoFromNs(BigInt(t.at))}` : 'once';
    default:
      return t.kind;
  }
}
