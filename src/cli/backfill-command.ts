// `dccd backfill`: start a backfill run; with --wait, follow it with a progress bar.
import { createInterface } from 'node:readline/promises';
import type { AppConfig } from '../config/app-config.ts';
import { checkBackfillRequest } from '../activities/backfill-plan.ts';
import { backfillProgress, backfillResult, startBackfill, startedHandle, stopBackfill, type StartedRun } from '../api/backfills.ts';
import { buildServices, type Services } from '../services.ts';
import type { BackfillRequest, BackfillResult } from '../domain/job.ts';
import { parseExchange, parseKind } from '../domain/target.ts';
import { isoFromNs } from '../domain/time.ts';
import { renderProgress } from './progress-bar.ts';
import { openSession } from './temporal-session.ts';

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
  if (depth !== undefined && !(Number.isInteger(depth) && depth > 0)) throw new Error(`--depth: '${f.depth}' is not a positive integer`);
  return {
    target: { exchange: parseExchange(exchange), symbol, kind: parseKind(f.kind, '--kind'), ...(f.span && { span: f.span }) },
    start: f.start ?? 'last',
    ...(f.end && { end: f.end }),
    ...(depth !== undefined && { depth }),
  };
}

export async function runBackfill(cfg: AppConfig, exchange: string, symbol: string, f: BackfillFlags): Promise<number> {
  const request = backfillRequest(exchange, symbol, f);
  // Fail fast on a bad request, before any server or worker is started for it.
  await checkBackfillRequest(request, buildServices(cfg).adapter(request.target.exchange));
  const session = await openSession(cfg);
  try {
    const started = await startBackfill(session.services, request);
    const { namespace } = session.services.temporalTarget();
    const link = session.uiUrl
      ? `${session.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(started.workflowId)}/${started.runId}/history`
      : undefined;
    if (!f.json) {
      console.log(`run ${started.runId}  (${started.workflowId})`);
      if (link) console.log(`Temporal UI: ${link}`);
    }
    if (!session.hosted && !(await session.services.workerPolling())) {
      process.stderr.write(`note: no worker polls task queue '${cfg.temporal.taskQueue}'; the run starts when one does (dccd start or dccd worker)\n`);
    }
    // A server hosted here stops with this command, so the run is followed to its end.
    if (!f.wait && !session.hosted) {
      if (f.json) console.log(JSON.stringify(started));
      return 0;
    }
    const result = await follow(session.services, started, f, session.hosted);
    if (!result) {
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

/** Follows the run to its end; undefined when the user detached from it. */
async function follow(services: Services, started: StartedRun, f: BackfillFlags, hosted: boolean): Promise<BackfillResult | undefined> {
  const handle = await startedHandle(services, started);
  const { runId } = started;
  const t0 = Date.now();
  const tty = process.stderr.isTTY && !f.json;
  let lastLine: string | undefined;
  let asking = false; // no redraw over the Ctrl-C question
  const draw = async () => {
    const p = await backfillProgress(handle).catch(() => undefined);
    if (!p || asking) return;
    if (tty) process.stderr.write(`\r\x1b[2K${renderProgress(p, Date.now() - t0)}`);
    else if (!f.json) {
      // Without a terminal, print the new log lines instead of redrawing (lines are timestamped).
      const from = lastLine === undefined ? 0 : p.log.lastIndexOf(lastLine) + 1;
      for (const line of p.log.slice(from)) process.stderr.write(`${line}\n`);
      lastLine = p.log.at(-1) ?? lastLine;
    }
  };
  let drawing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => (drawing = draw()), 500);
  let detach: () => void = () => undefined;
  const detached = new Promise<'detached'>((res) => (detach = () => res('detached')));
  const onSigint = () => {
    asking = true;
    void askOnInterrupt(f, hosted).then((choice) => {
      asking = false;
      return choice === 'stop' ? stopBackfill(handle) : detach();
    });
  };
  process.on('SIGINT', onSigint);
  try {
    // The result call long-polls; on detach it is aborted so nothing outlives the connection.
    const client = await services.temporal();
    const polling = new AbortController();
    const result = client.withAbortSignal(polling.signal, () => backfillResult(handle, runId));
    const outcome = await Promise.race([result, detached]);
    polling.abort();
    await result.catch(() => undefined);
    // No query may be left in flight when the connection closes.
    clearInterval(timer);
    await drawing;
    await draw();
    if (tty) process.stderr.write('\n');
    if (outcome === 'detached') {
      const where = hosted ? 'it pauses until a worker runs again (dccd start or dccd worker)' : 'it goes on in the background';
      process.stderr.write(`detached from run ${runId}; ${where}. Stop it with: dccd stop ${runId}\n`);
      return undefined;
    }
    return outcome;
  } finally {
    clearInterval(timer);
    process.off('SIGINT', onSigint);
  }
}

/** Ctrl-C while following: stop the run, or only stop following it (the default). */
async function askOnInterrupt(f: BackfillFlags, hosted: boolean): Promise<'stop' | 'detach'> {
  if (f.stopOnExit) {
    process.stderr.write('\nstopping the run after the window in flight...\n');
    return 'stop';
  }
  if (!process.stdin.isTTY) return 'detach';
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const pause = hosted ? ' (detached, it pauses until dccd runs again)' : '';
    const answer = await rl.question(`\nStop the run too? [y/N]${pause} `);
    return /^y(es)?$/i.test(answer.trim()) ? 'stop' : 'detach';
  } finally {
    rl.close();
  }
}

function summary(r: BackfillResult): string {
  const range = r.startNs && r.endNs ? ` [${isoFromNs(BigInt(r.startNs))}, ${isoFromNs(BigInt(r.endNs))})` : '';
  const rows = `${r.rowsWritten.toLocaleString('en-US')} rows`;
  if (r.state === 'failed') return `failed after ${rows}: ${r.error}`;
  return `${r.state}: ${rows}${range}  run ${r.runId}`;
}
