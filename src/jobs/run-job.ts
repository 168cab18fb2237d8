// Running a job now, outside its schedule: its dataset's backfill or stream with the job's
// request. One writer per dataset makes it idempotent: while a run of the dataset goes on,
// that run is the answer.
import { getRun } from '../client/run-list.ts';
import { submitBackfill, type StartedRun } from '../client/runs.ts';
import { AlreadyRunning } from '../domain/errors.ts';
import type { JobRun } from '../domain/job-run.ts';
import type { JobSpec } from '../domain/job-spec.ts';
import type { Services } from '../services.ts';
import { jobRequest, streamJobRequest, type AdapterOf } from './job-plan.ts';
import { startStream } from './stream.ts';

export interface JobRunStart {
  run: JobRun;
  /** false: the dataset already had this run going. */
  started: boolean;
}

export async function runJobNow(services: Services, spec: JobSpec): Promise<JobRunStart> {
  try {
    const started = await startJob(services, spec);
    return { run: await getRun(services, started.runId), started: true };
  } catch (e) {
    if (e instanceof AlreadyRunning) return { run: await getRun(services, e.runId), started: false };
    throw e;
  }
}

function startJob(services: Services, spec: JobSpec): Promise<StartedRun> {
  const adapterOf: AdapterOf = (name) => services.adapter(name);
  return spec.operation === 'stream' ? startStream(services, streamJobRequest(adapterOf, spec)) : submitBackfill(services, jobRequest(adapterOf, spec));
}
