// `dccd jobs apply` and `dccd schedules list|pause|unpause|trigger`: the Temporal Schedules
// the config's jobs become. Apply reconciles this command's reading of the config file
// through Temporal; the schedule commands go through the daemon's API when one serves the
// data folder (remote.ts).
import type { AppConfig } from '../config/app-config.ts';
import type { ScheduleAction } from '../client/schedules.ts';
import { parseSpecId, SCHEDULE_PREFIX } from '../domain/job-spec.ts';
import { checkConfigJobs } from '../jobs/job-plan.ts';
import { reconcile, reportLines } from '../jobs/reconcile.ts';
import { withRunsApi } from './remote.ts';
import { openSession } from './temporal-session.ts';

export async function runJobsApply(cfg: AppConfig, command: string): Promise<void> {
  const specs = checkConfigJobs(cfg);
  const session = await openSession(cfg, { worker: false }, command);
  try {
    for (const line of reportLines(await reconcile(session.services, specs))) console.log(line);
  } finally {
    await session.close();
  }
}

export async function runSchedulesList(cfg: AppConfig, o: { json?: boolean }, command: string): Promise<void> {
  const schedules = await withRunsApi(cfg, command, (api) => api.listSchedules());
  if (o.json) console.log(JSON.stringify(schedules, null, 2));
  else if (schedules.length === 0) console.log('no schedules (jobs with schedule every, cron, once or at have one)');
  else {
    for (const s of schedules) {
      const next = s.nextRuns[0] ? `next ${s.nextRuns[0]}` : 'no next run';
      console.log(`${s.scheduleId}  ${s.paused ? 'paused' : 'active'}  ${next}  ${s.recent.length} run(s)  ${s.note}`);
    }
  }
}

export async function runScheduleAction(cfg: AppConfig, action: ScheduleAction, job: string, command: string): Promise<void> {
  const specId = parseSpecId(job);
  await withRunsApi(cfg, command, (api) => api.scheduleAction(specId, action));
  const done = { pause: 'paused', unpause: 'unpaused', trigger: 'triggered' }[action];
  console.log(`${done} schedule ${SCHEDULE_PREFIX}${specId}`);
}
