// `dccd stream`: check the request, start the dataset's stream run; with --wait (or when this
// command hosts the server itself) follow it on one live line until Ctrl-C. Ctrl-C stops a
// stream this command hosts (it flushes what it received); a daemon's stream goes on.
import type { AppConfig } from '../config/app-config.ts';
import { ValidationError } from '../domain/errors.ts';
import type { LastSample, StreamRequest, StreamStatus } from '../domain/stream.ts';
import { parseExchange, parseKind } from '../domain/target.ts';
import { durationMs } from '../domain/time.ts';
import type { StreamResult } from '../workflows/stream.ts';
import { printStarted } from './started-run.ts';
import { asDaemonSees, localDaemon, openSession } from './temporal-session.ts';
import { endStatus, setStatus, writeLine } from './terminal.ts';

export interface StreamFlags {
  kind: string;
  span?: string;
  flushRows?: string;
  flushSecs?: string;
  depth?: string;
  snapshotInterval?: string;
  wait?: boolean;
  json?: boolean;
}

const DRAW_EVERY_MS = 1_000;
const LOG_EVERY_MS = 5_000;

function wholeNumber(v: string | undefined, flag: string, scale = 1): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,7}$/.test(v) || Number(v) === 0) throw new ValidationError(flag, `'${v}' is not a positive whole number`);
  return Number(v) * scale;
}

function duration(v: string, flag: string): number {
  const ms = durationMs(v);
  if (ms === undefined) throw new ValidationError(flag, `'${v}' is not a duration such as '30s', '15m', '1h', '1d'`);
  return ms;
}

/** Request fields as this command's flags name them. */
const FLAGS: Record<string, string> = { flushRows: '--flush-rows', flushMs: '--flush-secs', depth: '--depth', snapshotIntervalMs: '--snapshot-interval' };

function streamRequest(exchange: string, symbol: string, f: StreamFlags): StreamRequest {
  const flushRows = wholeNumber(f.flushRows, '--flush-rows');
  const flushMs = wholeNumber(f.flushSecs, '--flush-secs', 1000);
  const depth = wholeNumber(f.depth, '--depth');
  // Seconds, or a duration as a job's snapshot_interval takes it (30s, 5m, 1h).
  const snapshotIntervalMs = f.snapshotInterval === undefined ? undefined : /^\d+$/.test(f.snapshotInterval) ? wholeNumber(f.snapshotInterval, '--snapshot-interval', 1000) : duration(f.snapshotInterval, '--snapshot-interval');
  return {
    target: { exchange: parseExchange(exchange), symbol, kind: parseKind(f.kind, '--kind'), ...(f.span && { span: f.span }) },
    ...(flushRows !== undefined && { flushRows }),
    ...(flushMs !== undefined && { flushMs }),
    ...(depth !== undefined && { depth }),
    ...(snapshotIntervalMs !== undefined && { snapshotIntervalMs }),
  };
}

export async function runStream(cfg: AppConfig, exchange: string, symbol: string, f: StreamFlags, command: string): Promise<number> {
  const raw = streamRequest(exchange, symbol, f);
  const daemon = await localDaemon(cfg);
  const seen = asDaemonSees(cfg, daemon);
  for (const w of seen.warnings) writeLine(`warning: ${w}`);
  const request = await checkRequest(raw, seen.cfg);
  const session = await openSession(cfg, { worker: true }, command);
  try {
    const [{ submitStream, streamStatus, streamResult }, { runHandle, stopRun }] = await Promise.all([import('../client/streams.ts'), import('../client/runs.ts')]);
    const started = await submitStream(session.services, request);
    if (!f.json) printStarted(started, session.uiUrl, session.services.temporalTarget().namespace);
    // A server hosted here stops with this command, so the stream is followed until Ctrl-C.
    const hosted = session.mode === 'hosted';
    if (!f.wait && !hosted) {
      if (f.json) console.log(JSON.stringify(started));
      return 0;
    }
    const handle = await runHandle(session.services, started.runId);
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) return;
      interrupted = true;
      if (hosted) {
        writeLine('stopping: the stream flushes what it received');
        void stopRun(handle).catch((e) => writeLine(`dccd: could not stop the stream: ${(e as Error).message}`));
      }
    };
    process.on('SIGINT', onSigint);
    try {
      let ended = false;
      const result = streamResult(handle).finally(() => (ended = true));
      let printedAt = 0;
      while (!ended && !(interrupted && !hosted)) {
        const s = await streamStatus(handle).catch(() => undefined);
        if (s && !f.json) {
          // On a terminal one line redrawn in place; elsewhere (a log file) a line now and then.
          if (process.stderr.isTTY) setStatus(liveLine(s));
          else if (Date.now() - printedAt >= LOG_EVERY_MS) {
            printedAt = Date.now();
            writeLine(liveLine(s));
          }
        }
        await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, DRAW_EVERY_MS))]);
      }
      endStatus();
      if (!ended) {
        writeLine(`detached from stream ${started.runId}; it goes on in the background. Stop it with: dccd stop ${started.runId}`);
        return 0;
      }
      const r = await result;
      if (f.json) console.log(JSON.stringify(r));
      else console.log(streamSummary(r));
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
    }
  } finally {
    await session.close();
  }
}

export const streamSummary = (r: StreamResult): string =>
  `${r.state}: ${r.rowsWritten.toLocaleString('en-US')} rows, ${r.reconnects} reconnects, ${r.gapsTotal} gaps  run ${r.runId}`;

/** `12,345 rows  104/s  last 43,012.5 at 12:00:01  2 reconnects  1 gap (healed)`; a book shows its best bid and ask. */
export function liveLine(s: StreamStatus & { state: string }): string {
  const sample = s.lastSample ? `  ${sampleText(s.lastSample)} at ${s.lastSample.ts.slice(11, 19)}` : '  waiting for the first row';
  const healed = s.gaps.filter((g) => g.state === 'healed').length;
  const gaps = s.gapsTotal === 0 ? '0 gaps' : `${s.gapsTotal} gap${s.gapsTotal === 1 ? '' : 's'} (${healed === s.gaps.length ? 'healed' : `${s.gaps.length - healed} open`})`;
  return `${s.state}  ${s.rowsWritten.toLocaleString('en-US')} rows  ${s.rate}/s${sample}  ${s.reconnects} reconnects  ${gaps}`;
}

const price = (n: number | undefined) => (n === undefined ? '-' : n.toLocaleString('en-US'));
const sampleText = (x: LastSample) => (x.price !== undefined ? `last ${price(x.price)}` : `bid ${price(x.bid)} ask ${price(x.ask)}`);

/** Runs `fn`, naming a request field it refuses by this command's flag. */
function asFlags<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError && FLAGS[e.field]) throw new ValidationError(FLAGS[e.field]!, e.reason);
    throw e;
  }
}

/** The request as the venue answers it (symbol listed), before anything starts. */
async function checkRequest(request: StreamRequest, cfg: AppConfig): Promise<StreamRequest> {
  const [{ venueAdapters }, { shapeStream }] = await Promise.all([import('../venue-adapters.ts'), import('../jobs/stream.ts')]);
  const adapter = venueAdapters(cfg)(request.target.exchange, { interactive: true });
  const shaped = asFlags(() => shapeStream(request, adapter));
  await adapter.checkSymbol(shaped.target.symbol);
  return shaped;
}
