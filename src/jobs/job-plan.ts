// The jobs a config declares, as what they need: a schedule per scheduled backfill, a running
// stream per enabled supervised stream job. Each job is checked without Temporal or a venue,
// so `dccd validate`, `dccd start` and `dccd jobs apply` refuse a bad job before anything
// changes. Loads no Temporal code.
import type { DesiredSchedule } from '../client/schedules.ts';
import type { AppConfig } from '../config/app-config.ts';
import type { CheckedBackfill } from '../domain/job.ts';
import { NoCapability, NotFound, ValidationError } from '../domain/errors.ts';
import { isSupervisedStream, specVersion, triggerText, type JobSpec } from '../domain/job-spec.ts';
import { DEFAULT_BOOK_DEPTH, DEFAULT_FLUSH_MS, DEFAULT_FLUSH_ROWS, DEFAULT_SNAPSHOT_INTERVAL_MS, type StreamRequest } from '../domain/stream.ts';
import { datasetKind, type ExchangeName } from '../domain/target.ts';
import { durationMs, isoFromNs } from '../domain/time.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';
import { createAdapter } from '../sources/registry.ts';
import { shapeBackfill } from './backfill-check.ts';
import { configJobSpecs } from './job-specs.ts';
import { shapeStream } from './stream.ts';

const SCHEDULED = new Set(['interval', 'cron', 'once']);

export type AdapterOf = (name: ExchangeName) => ExchangeAdapter;

/** A supervised stream job and the request its stream runs. */
export interface DesiredStream {
  spec: JobSpec;
  request: StreamRequest;
}

export interface JobPlan {
  schedules: DesiredSchedule[];
  streams: DesiredStream[];
}

/** What the specs need; every backfill that has a schedule and every stream job is checked, disabled ones too. */
export function planJobs(adapterOf: AdapterOf, specs: readonly JobSpec[]): JobPlan {
  const plan: JobPlan = { schedules: [], streams: [] };
  for (const spec of specs) {
    if (spec.operation === 'stream') {
      const request = streamJobRequest(adapterOf, spec);
      if (isSupervisedStream(spec)) plan.streams.push({ spec, request });
    } else if (SCHEDULED.has(spec.trigger.kind)) {
      const request = jobRequest(adapterOf, spec);
      plan.schedules.push({ spec, input: { specId: spec.id, specVersion: specVersion(spec), request }, summary: summaryOf(spec) });
    }
  }
  return plan;
}

/** A backfill job's request: a run continues after what is stored; the job's own start applies while nothing is. */
export function jobRequest(adapterOf: AdapterOf, spec: JobSpec): CheckedBackfill {
  const { params } = spec;
  try {
    return shapeBackfill(
      {
        target: spec.target,
        start: 'last',
        ...(params.start !== 'last' && { startIfEmpty: params.start }),
        ...(params.end !== undefined && { end: params.end }),
        ...(params.depth !== undefined && { depth: params.depth }),
        specId: spec.id,
      },
      adapterOf(spec.target.exchange),
    );
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`job ${spec.id}: ${e.field === 'startIfEmpty' ? 'start' : e.field}`, e.reason);
    throw e;
  }
}

/** A stream request's fields as a job names them. */
const JOB_FIELDS: Record<string, string> = { flushMs: 'flushInterval', snapshotIntervalMs: 'snapshotInterval' };

/** A stream job's request: its flush settings, a book's depth and snapshot interval, and its id and version, which its stream carries. */
export function streamJobRequest(adapterOf: AdapterOf, spec: JobSpec): StreamRequest {
  const { params } = spec;
  try {
    return shapeStream(
      {
        target: spec.target,
        ...(params.flushRows !== undefined && { flushRows: params.flushRows }),
        ...(params.flushInterval !== undefined && { flushMs: durationMs(params.flushInterval) }),
        ...(params.depth !== undefined && { depth: params.depth }),
        ...(params.snapshotInterval !== undefined && { snapshotIntervalMs: durationMs(params.snapshotInterval) }),
        specId: spec.id,
        specVersion: specVersion(spec),
      },
      adapterOf(spec.target.exchange),
    );
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`job ${spec.id}: ${JOB_FIELDS[e.field] ?? e.field}`, e.reason);
    if (e instanceof NoCapability) throw new NoCapability(e.exchange, `${e.reason}; job ${spec.id} cannot run`);
    throw e;
  }
}

export function summaryOf(spec: JobSpec): string {
  const { target, params } = spec;
  const start = params.start === 'last' || params.start === 'origin' ? params.start : isoFromNs(BigInt(params.start));
  const range =
    spec.operation === 'stream'
      ? `flushed every ${params.flushRows ?? DEFAULT_FLUSH_ROWS} rows or ${params.flushInterval ?? `${DEFAULT_FLUSH_MS / 1000}s`}${target.kind === 'book' ? `, ${params.depth ?? DEFAULT_BOOK_DEPTH} levels, a snapshot every ${params.snapshotInterval ?? `${DEFAULT_SNAPSHOT_INTERVAL_MS / 1000}s`}` : ''}`
      : target.kind === 'book'
        ? `${params.depth ?? 100} levels`
        : `from ${start}${params.end ? ` to ${isoFromNs(BigInt(params.end))}` : ''}`;
  return `${spec.operation} ${target.exchange} ${target.symbol} ${datasetKind(target)} ${triggerText(spec.trigger)}, ${range}`;
}

/** Adapters that only read symbols and declare what a venue serves: nothing here talks to a venue. */
export function offlineAdapters(): AdapterOf {
  const adapters = new Map<ExchangeName, ExchangeAdapter>();
  return (name) => adapters.get(name) ?? adapters.set(name, createAdapter(name)).get(name)!;
}

/** The config's jobs, expanded and each checked as reconcile will check it. */
export function checkConfigJobs(cfg: AppConfig): JobSpec[] {
  const adapterOf = offlineAdapters();
  const specs = configJobSpecs(cfg, adapterOf);
  planJobs(adapterOf, specs);
  return specs;
}

export function jobById(specs: readonly JobSpec[], id: string): JobSpec {
  const spec = specs.find((s) => s.id === id);
  if (!spec) throw new NotFound(`no job ${id}`);
  return spec;
}
