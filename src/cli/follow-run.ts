// Following a run until it ends: a progress line on a terminal (new log lines elsewhere),
// what holds the run up as soon as the server knows it (a retrying window, an unreachable
// venue), and Ctrl-C to stop or detach. One status call at a time, all of them finished
// before this returns, so no call outlives the connection that carries it.
import type { BackfillResult } from '../domain/job.ts';
import { runResult, runStatus, startedHandle, stopRun, type RunStatus, type StartedRun } from '../client/runs.ts';
import type { Services } from '../services.ts';
import { interruptChoice } from './follow-events.ts';
import { renderProgress } from './progress-bar.ts';
import { endStatus, setStatus, writeLine } from './terminal.ts';

const DRAW_EVERY_MS = 500;

export interface FollowOptions {
  /** Print nothing while following (--json). */
  quiet: boolean;
  /** On Ctrl-C: 'ask' whether to stop (a terminal) or detach; 'stop' the run; 'detach' only. */
  onInterrupt: 'ask' | 'stop' | 'detach';
  /** The runs pause when this process exits (it hosts the server and the worker). */
  hosted: boolean;
  /** Rejects when the stack this command hosts can no longer work. */
  failed: Promise<never>;
}

/** Follows the run to its end; undefined when the user detached from it. */
export async function followRun(services: Services, started: StartedRun, o: FollowOptions): Promise<BackfillResult | undefined> {
  const handle = await startedHandle(services, started);
  const t0 = Date.now();
  let finished = false;
  let asking = false; // no redraw over the Ctrl-C question
  const printed = new Set<string>(); // lines already printed
  const once = (line: string, text = line) => {
    if (printed.has(line)) return;
    printed.add(line);
    writeLine(text);
  };
  const show = (s: RunStatus) => {
    if (o.quiet || asking) return;
    if (process.stderr.isTTY) {
      // What holds the run up goes above the bar as it happens (timestamp dropped); the bar
      // itself stays one line.
      for (const n of s.activities.flatMap((a) => a.notes)) once(n, `! ${n.replace(/^\S+ /, '')}`);
      setStatus(renderProgress(s.progress, Date.now() - t0));
      return;
    }
    // Without a terminal, the new lines of the log tail instead of a redrawn bar: the run's
    // own and its activities' (a retrying window's events show while it retries).
    for (const line of s.logTail) once(line);
  };
  let wake = () => undefined as void;
  const drawing = (async () => {
    while (!finished) {
      const s = await runStatus(handle).catch(() => undefined);
      if (s) show(s);
      // Woken when the run ends: the summary does not wait out a redraw.
      await new Promise<void>((r) => {
        const timer = setTimeout(r, DRAW_EVERY_MS);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
    }
  })();

  let detach: () => void = () => undefined;
  const detached = new Promise<'detached'>((res) => (detach = () => res('detached')));
  const onSigint = () => {
    if (asking) return;
    asking = true;
    void interruptChoice(o).then(async (choice) => {
      asking = false;
      if (choice === 'stop') await stopRun(handle).catch((e) => writeLine(`dccd: could not stop the run: ${(e as Error).message}`));
      else detach();
    });
  };
  process.on('SIGINT', onSigint);
  const client = await services.temporal();
  const polling = new AbortController();
  // The result call long-polls; on detach it is aborted, and awaited, so nothing outlives the connection.
  const result = client.withAbortSignal(polling.signal, () => runResult(handle, started.runId));
  try {
    const outcome = await Promise.race([result, detached, o.failed]);
    return outcome === 'detached' ? undefined : outcome;
  } finally {
    process.off('SIGINT', onSigint);
    polling.abort();
    await result.catch(() => undefined);
    finished = true;
    wake();
    await drawing;
    const last = await runStatus(handle).catch(() => undefined);
    if (last) show(last);
    endStatus();
  }
}
