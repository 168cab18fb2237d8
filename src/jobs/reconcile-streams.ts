// Supervised stream jobs as running streams. Each enabled supervised job has its dataset's
// stream workflow running, started from the job's version; a stream started from a job is
// stopped (it writes what it received first) when its job is removed or disabled, and
// restarted when the job's version changes (flush settings, depth, snapshot interval). A
// stream started by hand carries no spec id and is never touched: a job whose dataset
// streams that way already is left with a note. So is one the venue cannot serve.
import { AlreadyRunning, ExchangeError, NoCapability, ValidationError } from '../domain/errors.ts';
import { specWorkflowId, type JobSpec } from '../domain/job-spec.ts';
import type { Services } from '../services.ts';
import { runningStreams, stopStream, type LiveStreamRun } from '../client/stream-runs.ts';
import { submitStream } from '../client/streams.ts';
import type { DesiredStream } from './job-plan.ts';

export interface StreamsReport {
  started: string[];
  restarted: string[];
  stopped: string[];
  unchanged: string[];
}

/** How long a stop may take to flush and end before reconcile goes on without it. */
const STOP_WAIT_MS = 120_000;

/**
 * `specs`: every job (a manual stream job's run is left alone); `touched`: jobs a change just
 * removed, whose streams are looked up by id. Returns the report (spec ids) and notes.
 */
export async function reconcileStreams(
  services: Services,
  specs: readonly JobSpec[],
  desired: readonly DesiredStream[],
  touched: readonly string[],
): Promise<{ streams: StreamsReport; notes: string[] }> {
  const wanted = new Map(desired.map((d) => [specWorkflowId(d.spec.id), d]));
  const known = new Map(specs.map((s) => [s.id, s]));
  const lookups = [...wanted.keys(), ...touched.filter((id) => id.startsWith('stream:')).map(specWorkflowId)];
  const running = await runningStreams(services, lookups);
  const streams: StreamsReport = { started: [], restarted: [], stopped: [], unchanged: [] };
  const notes: string[] = [];
  const stops: { run: LiveStreamRun; then?: DesiredStream }[] = [];
  const starts: DesiredStream[] = [];

  for (const run of running.values()) {
    if (!run.specId || wanted.has(run.workflowId)) continue;
    const spec = known.get(run.specId);
    // A manual job's stream runs because someone asked for it: it ends when asked, or when its job goes.
    if (spec?.enabled && spec.trigger.kind === 'manual') continue;
    stops.push({ run });
  }
  for (const [workflowId, d] of wanted) {
    const run = running.get(workflowId);
    if (!run) starts.push(d);
    else if (run.specId !== d.spec.id) {
      notes.push(`stream job ${d.spec.id} not started: ${workflowId} is running already, started by hand (run ${run.runId}); stop it (dccd stop ${run.runId}) and apply again for the job to keep it`);
    } else if (run.specVersion === d.request.specVersion && run.state !== 'stopping') streams.unchanged.push(d.spec.id);
    else stops.push({ run, then: d });
  }

  await Promise.all(
    stops.map(async ({ run, then }) => {
      const ended = await stopStream(services, run, STOP_WAIT_MS);
      if (!ended) notes.push(`stream ${run.workflowId} was asked to stop but has not ended after ${STOP_WAIT_MS / 1000} s${then ? `; job ${then.spec.id}'s new version starts once it has (apply again)` : ''}`);
      else if (then) starts.push(then);
      else streams.stopped.push(run.specId!);
    }),
  );
  const restarting = new Set(stops.flatMap((s) => (s.then ? [s.then.spec.id] : [])));
  await Promise.all(
    starts.map(async (d) => {
      const problem = await startJobStream(services, d);
      if (problem) notes.push(`stream job ${d.spec.id} not started: ${problem}`);
      else (restarting.has(d.spec.id) ? streams.restarted : streams.started).push(d.spec.id);
    }),
  );
  for (const list of Object.values(streams)) list.sort();
  return { streams, notes: notes.sort() };
}

/**
 * Starts a job's stream once the venue lists its symbol; returns why it did not start when the
 * venue cannot serve it. An unreachable venue does not keep it from starting: its sessions
 * retry until the venue answers.
 */
async function startJobStream(services: Services, d: DesiredStream): Promise<string | undefined> {
  const { target } = d.request;
  try {
    await services
      .adapter(target.exchange, { interactive: true })
      .checkSymbol(target.symbol)
      .catch((e: unknown) => {
        if (!(e instanceof ExchangeError && e.retryable)) throw e;
      });
    await submitStream(services, d.request);
    return undefined;
  } catch (e) {
    if (e instanceof ValidationError || e instanceof NoCapability || e instanceof AlreadyRunning || (e instanceof ExchangeError && !e.retryable)) return e.message;
    throw e;
  }
}
