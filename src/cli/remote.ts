// How a command that only reads or steers runs and schedules reaches them: through the REST
// API of the daemon that serves its data folder (the typed client), else directly through
// Temporal (a cluster, or a server this command hosts while it runs). Both sides answer with
// the same types, so the commands print the same whichever way they went.
import type { AppConfig } from '../config/app-config.ts';
import { DccdClient } from '../client/http-client.ts';
import type { RunEvent } from '../client/run-events.ts';
import type { RunFilter, RunPage } from '../client/run-list.ts';
import type { DccdSchedule, ScheduleAction } from '../client/schedules.ts';
import type { StreamEntry } from '../client/stream-runs.ts';
import type { JobRun } from '../domain/job-run.ts';
import type { JobRunStart } from '../jobs/run-job.ts';
import { localDaemon, openSession } from './temporal-session.ts';

export interface RunsApi {
  listRuns(f: RunFilter): Promise<RunPage>;
  getRun(id: string): Promise<JobRun>;
  runEvents(id: string, signal?: AbortSignal): AsyncGenerator<RunEvent>;
  /** Through the daemon, its jobs' streams; directly, this command's config's. */
  listStreams(): Promise<StreamEntry[]>;
  listSchedules(): Promise<DccdSchedule[]>;
  scheduleAction(id: string, action: ScheduleAction): Promise<void>;
  /** Through the daemon, one of its jobs; directly, one of this command's config. */
  runJob(specId: string): Promise<JobRunStart>;
}

export interface RunsApiReach {
  /** This command hosts the folder's server and worker: its runs pause when it exits. */
  hosted: boolean;
}

export async function withRunsApi<T>(cfg: AppConfig, command: string, fn: (api: RunsApi, reach: RunsApiReach) => Promise<T>): Promise<T> {
  const daemon = await localDaemon(cfg);
  if (daemon?.apiUrl) return fn(new DccdClient(daemon.apiUrl, { token: cfg.api.token }), { hosted: false });
  const session = await openSession(cfg, { worker: false }, command);
  const [{ getRun, listRuns }, { runEvents }, { listStreams }, schedules, { checkConfigJobs, jobById }, { runJobNow }] = await Promise.all([
    import('../client/run-list.ts'),
    import('../client/run-events.ts'),
    import('../client/stream-runs.ts'),
    import('../client/schedules.ts'),
    import('../jobs/job-plan.ts'),
    import('../jobs/run-job.ts'),
  ]);
  const s = session.services;
  try {
    return await fn(
      {
        listRuns: (f) => listRuns(s, f),
        getRun: (id) => getRun(s, id),
        runEvents: (id, signal) => runEvents(s, id, signal ?? new AbortController().signal),
        listStreams: () => listStreams(s, checkConfigJobs(cfg)),
        listSchedules: () => schedules.listSchedules(s),
        scheduleAction: (id, action) => schedules.scheduleAction(s, id, action, command),
        runJob: (specId) => runJobNow(s, jobById(checkConfigJobs(cfg), specId)),
      },
      { hosted: session.mode === 'hosted' },
    );
  } finally {
    await session.close();
  }
}
