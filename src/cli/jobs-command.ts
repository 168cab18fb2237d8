// `dccd jobs list`: the config's jobs as specs, read offline (no Temporal loaded), and the
// job ids the other job and schedule commands take.
import type { AppConfig } from '../config/app-config.ts';
import { ValidationError } from '../domain/errors.ts';
import { SCHEDULE_PREFIX, triggerText } from '../domain/job-spec.ts';
import { checkConfigJobs, summaryOf } from '../jobs/job-plan.ts';

/** A spec id as dccd makes them: operation:exchange:BASE-QUOTE:dataset kind. */
const SPEC_ID = /^(backfill|stream):[a-z]+:[A-Z0-9]{1,20}-[A-Z0-9]{1,20}:(ohlc-\d{1,3}[smhdwM]|trades|book)$/;

/** Accepts a spec id or its schedule id (dccd/<spec id>). */
export function parseSpecId(text: string, field = 'job'): string {
  const id = text.startsWith(SCHEDULE_PREFIX) ? text.slice(SCHEDULE_PREFIX.length) : text;
  if (!SPEC_ID.test(id)) throw new ValidationError(field, `'${text}' is not a job id such as backfill:binance:BTC-USDT:ohlc-1m`);
  return id;
}

export function runJobsList(cfg: AppConfig, o: { json?: boolean }): void {
  const specs = checkConfigJobs(cfg);
  if (o.json) {
    console.log(JSON.stringify(specs, null, 2));
    return;
  }
  if (specs.length === 0) {
    console.log('no jobs (add them under jobs: in the config)');
    return;
  }
  for (const s of specs) console.log(`${s.id}  ${triggerText(s.trigger)}${s.enabled ? '' : '  (disabled)'}  ${summaryOf(s)}`);
}

