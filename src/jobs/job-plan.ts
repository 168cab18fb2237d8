// The jobs a config declares, as the schedules they need: expanded, and each checked
// without Temporal or a venue, so `dccd validate`, `dccd start` and `dccd jobs apply` refuse
// a bad job before anything changes. Loads no Temporal code.
import type { DesiredSchedule } from '../client/schedules.ts';
import type { AppConfig } from '../config/app-config.ts';
import type { CheckedBackfill } from '../domain/job.ts';
import { NotFound, ValidationError } from '../domain/errors.ts';
import { specVersion, triggerText, type JobSpec } from '../domain/job-spec.ts';
import { datasetKind, type ExchangeName } from '../domain/target.ts';
import type { StreamRequest } from '../domain/stream.ts';
import { isoFromNs, parseDurationMs } from '../domain/time.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';
import { createAdapter } from '../sources/registry.ts';
import { shapeBackfill } from './backfill-check.ts';
import { configJobSpecs } from './job-specs.ts';
import { shapeStream } from './stream-check.ts';

const SCHEDULED = new Set(['interval', 'cron', 'once']);

export type AdapterOf = (name: ExchangeName) => ExchangeAdapter;

/** The schedule each spec needs (each checked without the venue); specs that have none are left to `notes`. */
export function desiredSchedules(adapterOf: AdapterOf, specs: readonly JobSpec[]): { desired: DesiredSchedule[]; notes: string[] } {
  const desired: DesiredSchedule[] = [];
  const streams = specs.filter((s) => s.operation === 'stream');
  const notes = streams.length
    ? [`${streams.length} stream job(s) not started: this dccd does not stream yet (${streams.map((s) => s.id).join(', ')})`]
    : [];
  for (const spec of specs) {
    if (spec.operation === 'stream') streamJobRequest(adapterOf, spec);
    if (spec.operation !== 'backfill' || !SCHEDULED.has(spec.trigger.kind)) continue;
    const request = jobRequest(adapterOf, spec);
    desired.push({ spec, input: { specId: spec.id, specVersion: specVersion(spec), request }, summary: summaryOf(spec) });
  }
  return { desired, notes };
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

/** A stream job's request, checked as `dccd stream` checks one: a book's depth and snapshot interval (a duration) included. */
export function streamJobRequest(adapterOf: AdapterOf, spec: JobSpec): StreamRequest {
  const { params } = spec;
  try {
    return shapeStream(
      {
        target: spec.target,
        ...(params.depth !== undefined && { depth: params.depth }),
        ...(params.snapshotInterval !== undefined && { snapshotIntervalMs: parseDurationMs(params.snapshotInterval, 'snapshotInterval') }),
        specId: spec.id,
      },
      adapterOf(spec.target.exchange),
    );
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(`job ${spec.id}: ${e.field === 'snapshotIntervalMs' ? 'snapshotInterval' : e.field}`, e.reason);
    throw e;
  }
}

export function summaryOf(spec: JobSpec): string {
  const { target, params } = spec;
  const start = params.start === 'last' || params.start === 'origin' ? params.start : isoFromNs(BigInt(params.start));
  const range = target.kind === 'book' ? `${params.depth ?? 100} levels` : `from ${start}${params.end ? ` to ${isoFromNs(BigInt(params.end))}` : ''}`;
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
  desiredSchedules(adapterOf, specs);
  return specs;
}


export function jobById(specs: readonly JobSpec[], id: string): JobSpec {
  const spec = specs.find((s) => s.id === id);
  if (!spec) throw new NotFound(`no job ${id}`);
  return spec;
}
