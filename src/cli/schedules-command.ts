// `dccd jobs apply` and `dccd schedules list|pause|unpause|trigger`: the Temporal Schedules
// the config's jobs become, reached the way every one-shot command reaches Temporal
// (temporal-session.ts).
import type { AppConfig } from '../config/app-config.ts';
import { listSchedules, pauseSchedule, triggerSchedule, unpauseSchedule } from '../client/schedules.ts';
import { parseSpecId, SCHEDULE_PREFIX } from '../domain/job-spec.ts';
import { checkConfigJobs } from '../jobs/job-plan.ts';
import { reconcile, reportLines } from '../jobs/reconcile.ts';
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
  const session = await openSession(cfg, { worker: false }, command);
  try {
    const schedules = await listSchedules(session.services);
    if (o.json) console.log(JSON.stringify(schedules, null, 2));
    else if (schedules.length === 0) console.log('no schedules (jobs with schedule every, cron, once or at have one)');
    else {
      for (const s of schedules) {
        const next = s.nextRuns[0] ? `next ${s.nextRuns[0]}` : 'no next run';
        console.log(`${s.scheduleId}  ${s.paused ? 'paused' : 'active'}  ${next}  ${s.recent.length} run(s)  ${s.note}`);
      }
    }
  } finally {
    await session.close();
  }
}

export type ScheduleAction = 'pause' | 'unpause' | 'trigger';

export async function runScheduleAction(cfg: AppConfig, action: ScheduleAction, job: string, command: string): Promise<void> {
  const specId = parseSpecId(job);
  const session = await openSession(cfg, { worker: false }, command);
  try {
    if (action === 'pause') await pauseSchedule(session.services, specId, `paused by ${command}`);
    else if (action === 'unpause') await unpauseSchedule(session.services, specId, `unpaused by ${command}`);
    else await triggerSchedule(session.services, specId);
    const done = { pause: 'paused', unpause: 'unpaused', trigger: 'triggered' }[action];
    console.log(`${done} schedule ${SCHEDULE_PREFIX}${specId}`);
  } finally {
    await session.close();
  }
}
