// Makes Temporal match the job specs: interval, cron and once backfills are Schedules
// `dccd/<spec id>`; a schedule whose job is gone is deleted (never its data); a disabled job's
// schedule is paused. Supervised stream jobs are running streams (reconcile-streams.ts).
// Idempotent: applying the same specs twice changes nothing. Every spec is checked
// (job-plan.ts) before anything changes, so a bad one leaves schedules and streams as they were.
import {
  createSchedule,
  deleteSchedule,
  listSchedules,
  schedulesOf,
  pauseSchedule,
  unpauseSchedule,
  updateSchedule,
  type DccdSchedule,
  type DesiredSchedule,
} from '../client/schedules.ts';
import { scheduleIdOf, specWorkflowId, type JobSpec } from '../domain/job-spec.ts';
import type { Services } from '../services.ts';
import { planJobs } from './job-plan.ts';
import { reconcileStreams, type StreamsReport } from './reconcile-streams.ts';

export interface ReconcileReport {
  created: string[];
  updated: string[];
  deleted: string[];
  paused: string[];
  unpaused: string[];
  unchanged: string[];
  /** Supervised stream jobs' streams, by spec id. */
  streams: StreamsReport;
  /** What was not done, and why (a stream job that could not start). */
  notes: string[];
}

/**
 * `touched`: other jobs whose schedules may exist (the ones a change just removed). The list
 * comes from visibility, which may not show a schedule created a moment ago, so every job
 * desired or touched is also looked up by id: applying right after a change never creates a
 * schedule twice nor leaves a deleted job's behind.
 */
export async function reconcile(services: Services, specs: readonly JobSpec[], now = new Date(), touched: readonly string[] = []): Promise<ReconcileReport> {
  const { schedules: desired, streams: desiredStreams } = planJobs((name) => services.adapter(name), specs);
  const existing = new Map<string, DccdSchedule>((await listSchedules(services)).map((s) => [s.specId, s]));
  const unseen = [...new Set([...desired.map((d) => d.spec.id), ...touched])].filter((id) => !existing.has(id));
  for (const s of await schedulesOf(services, unseen)) existing.set(s.specId, s);
  const report: Omit<ReconcileReport, 'streams' | 'notes'> = { created: [], updated: [], deleted: [], paused: [], unpaused: [], unchanged: [] };
  for (const d of desired) {
    const id = d.spec.id;
    const have = existing.get(id);
    existing.delete(id);
    if (!have) {
      await createSchedule(services, d, now);
      report.created.push(id);
    } else if (have.specVersion !== d.input.specVersion) {
      // A once job runs once per version: an edited one is a new schedule, so it runs again.
      if (d.spec.trigger.kind === 'once') {
        await deleteSchedule(services, id);
        await createSchedule(services, d, now);
      } else await updateSchedule(services, d, now);
      report.updated.push(id);
    } else if (have.paused === d.spec.enabled) {
      if (d.spec.enabled) await unpauseSchedule(services, id, d.summary);
      else await pauseSchedule(services, id, `disabled: ${d.summary}`);
      (d.spec.enabled ? report.unpaused : report.paused).push(id);
    } else report.unchanged.push(id);
  }
  for (const gone of existing.keys()) {
    await deleteSchedule(services, gone);
    report.deleted.push(gone);
  }
  return { ...report, ...(await reconcileStreams(services, specs, desiredStreams, touched)) };
}

/** One line per change, for the CLI and the daemon's log. */
export function reportLines(r: ReconcileReport): string[] {
  const lines = [
    ...r.created.map((id) => `created schedule ${scheduleIdOf(id)}`),
    ...r.updated.map((id) => `updated schedule ${scheduleIdOf(id)}`),
    ...r.paused.map((id) => `paused schedule ${scheduleIdOf(id)} (job disabled)`),
    ...r.unpaused.map((id) => `unpaused schedule ${scheduleIdOf(id)}`),
    ...r.deleted.map((id) => `deleted schedule ${scheduleIdOf(id)} (no such job any more; its data stays)`),
    ...r.streams.started.map((id) => `started stream ${specWorkflowId(id)}`),
    ...r.streams.restarted.map((id) => `restarted stream ${specWorkflowId(id)} (job changed; the old run wrote what it received)`),
    ...r.streams.stopped.map((id) => `stopped stream ${specWorkflowId(id)} (job removed or disabled; it wrote what it received)`),
    ...r.notes,
  ];
  const { started, restarted, stopped, unchanged } = r.streams;
  const changed = r.created.length + r.updated.length + r.paused.length + r.unpaused.length + r.deleted.length + started.length + restarted.length + stopped.length;
  const streams = unchanged.length ? `, ${unchanged.length} stream(s) unchanged` : '';
  lines.push(`jobs applied: ${changed} change(s), ${r.unchanged.length} schedule(s) unchanged${streams}`);
  return lines;
}
