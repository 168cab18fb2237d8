// Running a job now, outside its schedule: its dataset's backfill with the job's request. One
// writer per dataset makes it idempotent: while a run of the dataset goes on, that run is the answer.
import { getRun } from '../client/run-list.ts';
import { submitBackfill } from '../client/runs.ts';
import { AlreadyRunning, NoCapability } from '../domain/errors.ts';
import type { JobRun } from '../domain/job-run.ts';
import type { JobSpec } from '../domain/job-spec.ts';
import type { Services } from '../services.ts';
import { jobRequest } from './job-plan.ts';

export interface JobRunStart {
  run: JobRun;
  /** false: the dataset already had this run going. */
  started: boolean;
}

export async function runJobNow(services: Services, spec: JobSpec): Promise<JobRunStart> {
  if (spec.operation !== 'backfill') throw new NoCapability(spec.target.exchange, `job ${spec.id}: this dccd does not stream yet`);
  try {
    const started = await submitBackfill(services, jobRequest((name) => services.adapter(name), spec));
    return { run: await getRun(services, started.runId), started: true };
  } catch (e) {
    if (e instanceof AlreadyRunning) return { run: await getRun(services, e.runId), started: false };
    throw e;
  }
}
