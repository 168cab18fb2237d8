// From the `jobs:` of a config to JobSpecs: an entry with several symbols becomes one spec per
// pair, symbols take the venue's unified form (so BTCUSDT and BTC/USDT are one dataset), and
// times their canonical form (so a spec's version does not change with how a date is typed).
import type { AppConfig, JobConfig } from '../config/app-config.ts';
import { ValidationError } from '../domain/errors.ts';
import { specId, type JobSpec, type Trigger } from '../domain/job-spec.ts';
import { checkTarget, type ExchangeName, type Target } from '../domain/target.ts';
import { parseAbsoluteTime, parseTimeInput } from '../domain/time.ts';
import type { ExchangeAdapter } from '../sources/adapter.ts';

/** The venue's symbol parser (adapter.parseSymbol); throws a ValidationError for a symbol it cannot read. */
export type SymbolParser = (exchange: ExchangeName, symbol: string) => string;

/** The config's jobs as specs, symbols read by each venue's adapter. */
export function configJobSpecs(cfg: AppConfig, adapterOf: (name: ExchangeName) => ExchangeAdapter): JobSpec[] {
  return specsFromConfig(cfg.jobs, (exchange, symbol) => adapterOf(exchange).parseSymbol(symbol));
}

export function specsFromConfig(jobs: readonly JobConfig[], parseSymbol: SymbolParser): JobSpec[] {
  return placedSpecs(jobs, parseSymbol).map((p) => p.spec);
}

/** A spec and the entry it came from: jobs[entry], and its place in the entry's `symbols` when it lists them. */
export interface PlacedSpec {
  spec: JobSpec;
  entry: number;
  symbol?: number;
}

/** The specs of `jobs`, each with its place; `entryField` names an entry in errors (`jobs[2]`, or `body` for the API's). */
export function placedSpecs(jobs: readonly JobConfig[], parseSymbol: SymbolParser, entryField = (i: number) => `jobs[${i}]`): PlacedSpec[] {
  const placed: PlacedSpec[] = [];
  const where = new Map<string, string>();
  jobs.forEach((job, i) => {
    const symbols = job.symbols ?? [job.symbol!];
    symbols.forEach((raw, k) => {
      const field = job.symbols ? `${entryField(i)}.symbols[${k}]` : `${entryField(i)}.symbol`;
      const spec = specFromEntry(job, raw, field, entryField(i), parseSymbol);
      const earlier = where.get(spec.id);
      if (earlier) throw new ValidationError(field, `${spec.id} is also ${earlier}: one job per dataset and operation`);
      where.set(spec.id, field);
      placed.push({ spec, entry: i, ...(job.symbols && { symbol: k }) });
    });
  });
  return placed;
}

function specFromEntry(job: JobConfig, rawSymbol: string, symbolField: string, entry: string, parseSymbol: SymbolParser): JobSpec {
  let symbol: string;
  try {
    symbol = parseSymbol(job.exchange, rawSymbol);
  } catch (e) {
    if (e instanceof ValidationError) throw new ValidationError(symbolField, e.reason);
    throw e;
  }
  const target: Target = checkTarget({ exchange: job.exchange, symbol, kind: job.kind, ...(job.span && { span: job.span }) });
  const start = parseTimeInput(job.start, `${entry}.start`);
  const params = {
    start: start.kind === 'ns' ? String(start.ns) : start.kind,
    ...(job.end !== undefined && { end: `${parseAbsoluteTime(job.end, `${entry}.end`)}` as const }),
    ...(job.depth !== undefined && { depth: job.depth }),
    ...(job.snapshotInterval !== undefined && { snapshotInterval: job.snapshotInterval }),
    ...(job.flushRows !== undefined && { flushRows: job.flushRows }),
    ...(job.flushInterval !== undefined && { flushInterval: job.flushInterval }),
  };
  return {
    id: specId(job.operation, target),
    operation: job.operation,
    target,
    trigger: triggerOf(job, entry),
    params,
    enabled: job.enabled,
    origin: job.origin ?? 'config',
  };
}

function triggerOf(job: JobConfig, entry: string): Trigger {
  const s = job.schedule;
  if (s === undefined) return job.operation === 'stream' ? { kind: 'supervised' } : { kind: 'once' };
  if (s === 'once' || s === 'manual') return { kind: s };
  if (s === 'supervised') {
    if (job.operation !== 'stream') throw new ValidationError(`${entry}.schedule`, 'supervised applies to streams; a backfill runs once, every, cron, at or manual');
    return { kind: 'supervised' };
  }
  if (job.operation === 'stream') throw new ValidationError(`${entry}.schedule`, 'a stream is supervised (kept running) or manual, not scheduled');
  if ('every' in s) return { kind: 'interval', every: s.every };
  if ('cron' in s) return { kind: 'cron', cron: s.cron.trim() };
  return { kind: 'once', at: `${parseAbsoluteTime(s.at, `${entry}.schedule.at`)}` };
}
