// `dccd jobs list`: the config's jobs as specs, read offline (no Temporal loaded).
// `dccd jobs run <id>`: one of them now, through the daemon's API when one serves the data folder.
import type { AppConfig } from '../config/app-config.ts';
import { parseSpecId, triggerText } from '../domain/job-spec.ts';
import { checkConfigJobs, summaryOf } from '../jobs/job-plan.ts';

export function runJobsList(cfg: AppConfig, o: { json?: boolean }): void {
  const specs = checkConfigJobs(cfg);
  if (o.json) {
    console.log(JSON.stringify(specs, null, 2));
    return;
  }
  if (specs.length === 0) {
    console.log('no jobs (add them under jobs: in the config, or with POST /api/jobs)');
    return;
  }
  for (const s of specs) console.log(`${s.id}  ${triggerText(s.trigger)}${s.enabled ? '' : '  (disabled)'}  ${s.origin}  ${summaryOf(s)}`);
}

/**
 * Starts a run of the job, or names the one its dataset has going. With --wait (and always
 * when this command hosts the server, which stops with it) the run is followed to its end.
 */
export async function runJobsRun(cfg: AppConfig, job: string, o: { wait?: boolean }, command: string): Promise<number> {
  const id = parseSpecId(job);
  const [{ withRunsApi }, { followRunEvents, runLine }] = await Promise.all([import('./remote.ts'), import('./runs-command.ts')]);
  return withRunsApi(cfg, command, async (api, { hosted }) => {
    const { run, started } = await api.runJob(id);
    console.log(`${started ? 'started' : 'already running'}: run ${run.runId}  (${run.workflowId})`);
    console.log(runLine(run));
    return o.wait || hosted ? followRunEvents(api, run.runId) : 0;
  });
}
