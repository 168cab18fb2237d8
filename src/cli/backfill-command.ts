// `dccd backfill`: check the request, start its run; with --wait, follow it to its end.
import type { AppConfig } from '../config/app-config.ts';
import type { BackfillRequest, BackfillResult } from '../domain/job.ts';
import type { BackfillCheck } from '../jobs/backfill-check.ts';
import { ValidationError } from '../domain/errors.ts';
import { parseExchange, parseKind } from '../domain/target.ts';
import { isoFromNs } from '../domain/time.ts';
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
  // Checked before anything is written (a refused request leaves no trace); the worker's
  // modules load meanwhile when this command will host one.
  if (!daemon && !cfg.temporal.address) void import('../worker/worker.ts').catch(() => undefined);
  const check = await checkRequest(request, seen.cfg);
  const session = await openSession(cfg, { worker: true }, command);
  for (const n of check.notes) writeLine(`note: ${n}`);
  try {
    const [{ submitBackfill }, { followRun }] = await Promise.all([import('../client/runs.ts'), import('./follow-run.ts')]);
    const started = await submitBackfill(session.services, check.request);
    const { namespace } = session.services.temporalTarget();
    if (!f.json) {
      console.log(`run ${started.runId}  (${started.workflowId})`);
      if (session.uiUrl) console.log(`Temporal UI: ${session.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(started.workflowId)}/${started.runId}/history`);
    }
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
    if (!result) {
      const where = hosted ? 'it pauses until a worker runs again (dccd start or dccd worker)' : 'it goes on in the background';
      writeLine(`detached from run ${started.runId}; ${where}. Stop it with: dccd stop ${started.runId}`);
      if (f.json) console.log(JSON.stringify({ ...started, detached: true }));
      return 0;
    }
    if (f.json) console.log(JSON.stringify(result));
    else console.log(summary(result));
    return result.state === 'failed' ? 1 : 0;
  } finally {
    await session.close();
  }
}

/** The request as the venue answers it (symbol listed, range clamped), with notes for the user. */
async function checkRequest(request: BackfillRequest, cfg: AppConfig): Promise<BackfillCheck> {
  const [{ buildServices }, { checkBackfill }] = await Promise.all([import('../services.ts'), import('../jobs/backfill-check.ts')]);
  const services = buildServices(cfg);
  try {
    return await checkBackfill(request, services.adapter(request.target.exchange, { interactive: true }));
  } finally {
    await services.close();
  }
}

export function summary(r: BackfillResult): string {
  const range = r.startNs && r.endNs ? ` [${isoFromNs(BigInt(r.startNs))}, ${isoFromNs(BigInt(r.endNs))})` : '';
  const rows = `${r.rowsWritten.toLocaleString('en-US')} rows`;
  if (r.state === 'failed') return `failed after ${rows}: ${r.error}`;
  return `${r.state}: ${rows}${range}  run ${r.runId}`;
}
