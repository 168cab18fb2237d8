// dccd's Temporal Schedules, one per scheduled job: `dccd/<spec id>`, visible in
// `temporal schedule list` and the Web UI. Each one's action is the scheduledBackfill trigger
// workflow, whose input carries the spec's version, so reconciling can tell an edited job
// from an unchanged one without a second record of what was applied.
import { MONTHS, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleDescription, type ScheduleHandle, type ScheduleSpec } from '@temporalio/client';
import { NotFound } from '../domain/errors.ts';
import { SCHEDULE_PREFIX, scheduleIdOf, type JobSpec } from '../domain/job-spec.ts';
import { datasetKind } from '../domain/target.ts';
import type { Services } from '../services.ts';
import { SA } from '../workflows/definitions.ts';
import { scheduledBackfill, type ScheduledBackfillInput } from '../workflows/scheduled-backfill.ts';

/**
 * How far back a missed action is still taken when the server comes back (an embedded
 * server is down whenever dccd is). With overlap SKIP, the missed actions of a long outage
 * start one run, and that run's start=last covers the whole outage.
 */
const CATCHUP_RECURRING = '1 day';
/** A once job whose time passed while dccd was down still runs when it is back. */
const CATCHUP_ONCE = '365 days';

/** What one scheduled job should look like on the server. */
export interface DesiredSchedule {
  spec: JobSpec;
  input: ScheduledBackfillInput;
  /** One line for lists and the schedule's note. */
  summary: string;
}

export interface DccdSchedule {
  scheduleId: string;
  specId: string;
  /** Of the spec this schedule was applied from. */
  specVersion: string | undefined;
  paused: boolean;
  note: string;
  nextRuns: string[];
  /** The trigger workflows it started, newest last. */
  recent: { scheduledAt: string; workflowId: string; runId: string }[];
}

/** Every dccd schedule on the namespace. */
export async function listSchedules(services: Services): Promise<DccdSchedule[]> {
  const client = await services.temporal();
  const ids: string[] = [];
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(SCHEDULE_PREFIX)) ids.push(s.scheduleId);
  const described = await Promise.all(ids.sort().map((id) => describeOrNone(services, id)));
  return described.filter((s): s is DccdSchedule => s !== undefined);
}

/**
 * The schedules of these jobs, by id, from describe: a schedule just created may take a
 * moment to show in the list (visibility), never in describe.
 */
export async function schedulesOf(services: Services, specIds: readonly string[]): Promise<DccdSchedule[]> {
  const described = await Promise.all(specIds.map((id) => describeOrNone(services, scheduleIdOf(id))));
  return described.filter((s): s is DccdSchedule => s !== undefined);
}

async function describeOrNone(services: Services, scheduleId: string): Promise<DccdSchedule | undefined> {
  try {
    return fromDescription(await (await services.temporal()).schedule.getHandle(scheduleId).describe());
  } catch (e) {
    // Deleted between the list and the describe.
    if (e instanceof ScheduleNotFoundError) return undefined;
    throw e;
  }
}

function fromDescription(d: ScheduleDescription): DccdSchedule {
  const input = d.action.type === 'startWorkflow' ? (d.action.args?.[0] as Partial<ScheduledBackfillInput> | undefined) : undefined;
  return {
    scheduleId: d.scheduleId,
    specId: d.scheduleId.slice(SCHEDULE_PREFIX.length),
    specVersion: input?.specVersion,
    paused: d.state.paused,
    note: d.state.note ?? '',
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
    recent: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
      runId: a.action.workflow.firstExecutionRunId,
    })),
  };
}

/** The schedule's timing for a spec; once jobs fire at one instant (`at`) and never again. */
function timing(spec: JobSpec, now: Date): { spec: ScheduleSpec; catchupWindow: string; runNow: boolean } {
  const t = spec.trigger;
  if (t.kind === 'interval') return { spec: { intervals: [{ every: t.every }] }, catchupWindow: CATCHUP_RECURRING, runNow: false };
  if (t.kind === 'cron') return { spec: { cronExpressions: [t.cron] }, catchupWindow: CATCHUP_RECURRING, runNow: false };
  if (t.kind !== 'once') throw new Error(`a ${t.kind} job has no schedule`);
  const at = t.at === undefined ? now : new Date(Number(BigInt(t.at) / 1_000_000n));
  const when = at > now ? at : now;
  const calendar = {
    year: when.getUTCFullYear(),
    month: MONTHS[when.getUTCMonth()]!,
    dayOfMonth: when.getUTCDate(),
    hour: when.getUTCHours(),
    minute: when.getUTCMinutes(),
    second: when.getUTCSeconds(),
  };
  return { spec: { calendars: [calendar] }, catchupWindow: CATCHUP_ONCE, runNow: when <= now };
}

function options(services: Services, d: DesiredSchedule, now: Date) {
  const { spec } = d;
  const { target } = spec;
  const time = timing(spec, now);
  return {
    time,
    common: {
      spec: time.spec,
      action: {
        type: 'startWorkflow' as const,
        workflowType: scheduledBackfill,
        // Temporal appends the scheduled time to it.
        workflowId: `scheduled/${spec.id}`,
        taskQueue: services.temporalTarget().taskQueue,
        args: [d.input] as [ScheduledBackfillInput],
        staticSummary: `scheduled ${d.summary}`,
        typedSearchAttributes: [{ key: SA.specId, value: spec.id }],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: time.catchupWindow, pauseOnFailure: false },
      typedSearchAttributes: [
        { key: SA.specId, value: spec.id },
        { key: SA.operation, value: spec.operation },
        { key: SA.exchange, value: target.exchange },
        { key: SA.symbol, value: target.symbol },
        { key: SA.kind, value: datasetKind(target) },
      ],
    },
  };
}

/** Creates the schedule of `d`; a once job whose time has come runs now. */
export async function createSchedule(services: Services, d: DesiredSchedule, now = new Date()): Promise<void> {
  const client = await services.temporal();
  const { time, common } = options(services, d, now);
  await client.schedule.create({
    scheduleId: scheduleIdOf(d.spec.id),
    ...common,
    memo: { specId: d.spec.id, summary: d.summary },
    state: {
      paused: !d.spec.enabled,
      note: d.summary,
      // Its one instant is now: a backfill over it takes that action at once.
      ...(time.runNow && { backfill: [{ start: new Date(now.getTime() - 1000), end: new Date(now.getTime() + 1000), overlap: ScheduleOverlapPolicy.SKIP }] }),
    },
  });
}

/** Replaces an existing schedule's timing, action and state with those of `d`. */
export async function updateSchedule(services: Services, d: DesiredSchedule, now = new Date()): Promise<void> {
  const { common } = options(services, d, now);
  await (await services.temporal()).schedule.getHandle(scheduleIdOf(d.spec.id)).update(() => ({ ...common, state: { paused: !d.spec.enabled, note: d.summary } }));
}

export async function deleteSchedule(services: Services, specId: string): Promise<void> {
  await withSchedule(services, specId, (h) => h.delete());
}

export async function pauseSchedule(services: Services, specId: string, note: string): Promise<void> {
  await withSchedule(services, specId, (h) => h.pause(note));
}

export async function unpauseSchedule(services: Services, specId: string, note: string): Promise<void> {
  await withSchedule(services, specId, (h) => h.unpause(note));
}

/** Takes the schedule's action now (overlap SKIP: nothing starts while its last run runs). */
export async function triggerSchedule(services: Services, specId: string): Promise<void> {
  await withSchedule(services, specId, (h) => h.trigger(ScheduleOverlapPolicy.SKIP));
}

export type ScheduleAction = 'pause' | 'unpause' | 'trigger';

/** What a user asks of a schedule by name; `by` says who, in the schedule's note. */
export async function scheduleAction(services: Services, specId: string, action: ScheduleAction, by: string): Promise<void> {
  if (action === 'pause') await pauseSchedule(services, specId, `paused by ${by}`);
  else if (action === 'unpause') await unpauseSchedule(services, specId, `unpaused by ${by}`);
  else await triggerSchedule(services, specId);
}

async function withSchedule<T>(services: Services, specId: string, fn: (h: ScheduleHandle) => Promise<T>): Promise<T> {
  const handle = (await services.temporal()).schedule.getHandle(scheduleIdOf(specId));
  try {
    return await fn(handle);
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) throw new NotFound(`no schedule ${scheduleIdOf(specId)}`);
    throw e;
  }
}
