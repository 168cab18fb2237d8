// `dccd backfill`: check the request, start its run; with --wait, follow it to its end.
// With a daemon serving the data folder, its API takes the request (check, run, events), so
// this process loads neither Temporal's client nor the storage engines.
import type { AppConfig } from '../config/app-config.ts';
import { DccdClient } from '../client/http-client.ts';
import type { DaemonState } from '../client/daemon-state.ts';
import type { BackfillRequest, BackfillResult } from '../domain/job.ts';
import type { JobRun } from '../domain/job-run.ts';
import type { BackfillCheck } from '../jobs/backfill-check.ts';
import { ValidationError } from '../domain/errors.ts';
import { parseExchange, parseKind } from '../domain/target.ts';
import { isoFromNs, parseAbsoluteTime } from '../domain/time.ts';
import { followEvents } from './follow-events.ts';
import { printStarted } from './started-run.ts';
import { asDaemonSees, localDaemon, openSession } from './temporal-session.ts';
import { writeLine } from './terminal.ts';

export interface BackfillFlags {
  kind: string;
  span?: string;
  start?: string;
  end?: string;
  depth?: string;
  wait?: boolean;
  json?: boolean;
  stopOnExit?: boolean;
}

function backfillRequest(exchange: string, symbol: string, f: BackfillFlags): BackfillRequest {
  const depth = f.depth === undefined ? undefined : Number(f.depth);
  if (depth !== undefined && !(Number.isInteger(depth) && depth > 0)) throw new ValidationError('--depth', `'${f.depth}' is not a positive integer`);
  return {
    target: { exchange: parseExchange(exchange), symbol, kind: parseKind(f.kind, '--kind'), ...(f.span && { span: f.span }) },
    ...(f.start !== undefined && { start: f.start }),
    ...(f.end !== undefined && { end: f.end }),
    ...(depth !== undefined && { depth }),
  };
}

export async function runBackfill(cfg: AppConfig, exchange: string, symbol: string, f: BackfillFlags, command: string): Promise<number> {
  const request = backfillRequest(exchange, symbol, f);
  // The check runs against the venue URLs the run will use: the daemon's, when one serves the folder.
  const daemon = await localDaemon(cfg);
  const seen = asDaemonSees(cfg, daemon);
  for (const w of seen.warnings) writeLine(`warning: ${w}`);
  if (daemon?.apiUrl) return backfillThroughDaemon(new DccdClient(daemon.apiUrl, { token: cfg.api.token }), daemon, request, f);
  // Checked before anything is written (a refused request leaves no trace), with the venue's
  // modules only: a hosted server then starts at once, and the worker's modules load while it does.
  const check = await checkRequest(request, seen.cfg);
  const session = await openSession(cfg, { worker: true }, command);
  for (const n of check.notes) writeLine(`note: ${n}`);
  try {
    const [{ submitBackfill }, { followRun }] = await Promise.all([import('../client/runs.ts'), import('./follow-run.ts')]);
    const started = await submitBackfill(session.services, check.request);
    if (!f.json) printStarted(started, session.uiUrl, session.services.temporalTarget().namespace);
    if (session.mode === 'cluster' && !(await session.services.workerPolling())) {
      writeLine(`note: no worker polls task queue '${session.services.temporalTarget().taskQueue}'; the run starts when one does (dccd worker)`);
    }
    // A server hosted here stops with this command, so the run is followed to its end.
    const hosted = session.mode === 'hosted';
    if (!f.wait && !hosted) {
      if (f.json) console.log(JSON.stringify(started));
      return 0;
    }
    const result = await followRun(session.services, started, {
      quiet: Boolean(f.json),
      onInterrupt: f.stopOnExit ? 'stop' : 'ask',
      hosted,
      failed: session.failed,
    });
    return ended(started, result, f, hosted);
  } finally {
    await session.close();
  }
}

/** The daemon's API checks and starts the run; --wait follows its events. */
async function backfillThroughDaemon(client: DccdClient, daemon: DaemonState, request: BackfillRequest, f: BackfillFlags): Promise<number> {
  const { target, ...range } = request;
  const { notes = [], ...started } = await client.backfill({ ...target, ...range });
  for (const n of notes) writeLine(`note: ${n}`);
  if (!f.json) printStarted(started, daemon.temporal.uiUrl, daemon.temporal.namespace);
  if (!f.wait) {
    if (f.json) console.log(JSON.stringify(started));
    return 0;
  }
  const last = await followEvents(client, started.runId, { quiet: Boolean(f.json), interrupt: { choice: f.stopOnExit ? 'stop' : 'ask', stop: () => client.stopRun(started.runId) } });
  return ended(started, last && resultOf(last), f, false);
}

/** Prints how the followed run ended (or that this command detached from it); the exit code. */
function ended(started: { runId: string; workflowId: string }, result: BackfillResult | undefined, f: BackfillFlags, hosted: boolean): number {
  if (!result) {
    const where = hosted ? 'it pauses until a worker runs again (dccd start or dccd worker)' : 'it goes on in the background';
    writeLine(`detached from run ${started.runId}; ${where}. Stop it with: dccd stop ${started.runId}`);
    if (f.json) console.log(JSON.stringify({ ...started, detached: true }));
    return 0;
  }
  if (f.json) console.log(JSON.stringify(result));
  else console.log(summary(result));
  return result.state === 'failed' ? 1 : 0;
}

/** A run's last status as the result a backfill run returns. */
function resultOf(run: JobRun): BackfillResult {
  const state = run.state === 'succeeded' ? 'completed' : run.state === 'stopped' ? 'stopped' : 'failed';
  const ns = (iso: string | undefined, field: string) => (iso === undefined ? null : String(parseAbsoluteTime(iso, field)));
  return {
    runId: run.runId,
    state,
    rowsWritten: run.rowsWritten,
    startNs: ns(run.range?.start, 'range.start'),
    endNs: ns(run.range?.end, 'range.end'),
    ...(state === 'failed' && { error: run.error ?? `the run ended ${run.state}` }),
  };
}

/** The request as the venue answers it (symbol listed, range clamped), with notes for the user. */
async function checkRequest(request: BackfillRequest, cfg: AppConfig): Promise<BackfillCheck> {
  const [{ venueAdapters }, { checkBackfill }] = await Promise.all([import('../venue-adapters.ts'), import('../jobs/backfill-check.ts')]);
  return checkBackfill(request, venueAdapters(cfg)(request.target.exchange, { interactive: true }));
}

export function summary(r: BackfillResult): string {
  const range = r.startNs && r.endNs ? ` [${isoFromNs(BigInt(r.startNs))}, ${isoFromNs(BigInt(r.endNs))})` : '';
  const rows = `${r.rowsWritten.toLocaleString('en-US')} rows`;
  if (r.state === 'failed') return `failed after ${rows}: ${r.error}`;
  return `${r.state}: ${rows}${range}  run ${r.runId}`;
}
