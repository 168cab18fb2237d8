// `dccd jobs list`: the config's jobs as specs, read offline (no Temporal loaded).
import type { AppConfig } from '../config/app-config.ts';
import { triggerText } from '../domain/job-spec.ts';
import { checkConfigJobs, summaryOf } from '../jobs/job-plan.ts';

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

