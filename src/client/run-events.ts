// A run's life as a stream of events, for the API's server-sent events (and anything else
// that follows a run remotely): its current state first, then progress, each new log line,
// and every change of state, ending with the final status. Polls the run's own query, and
// waits on its result meanwhile so its end is told at once, not at the next poll; nothing is
// left running once the consumer stops.
import { setTimeout as sleep } from 'node:timers/promises';
import { isFinal, type JobRun } from '../domain/job-run.ts';
import type { Services } from '../services.ts';
import { listRuns, runOf } from './run-list.ts';
import { runHandle } from './runs.ts';

export type RunEvent =
  | { type: 'status'; data: JobRun }
  | { type: 'progress'; data: { runId: string; done: number; total: number; unit: 'windows'; rows: number } }
  | { type: 'log'; data: { runId: string; line: string } };

export const POLL_MS = 500;

/** Events of one run until it ends or `signal` aborts. */
export async function* runEvents(services: Services, id: string, signal: AbortSignal, pollMs = POLL_MS): AsyncGenerator<RunEvent> {
  // Looked up once: each poll then asks the run itself, not visibility.
  const handle = await runHandle(services, id);
  let run = await runOf(handle);
  yield { type: 'status', data: run };
  const said = new Set(run.logTail);
  let lastProgress = JSON.stringify(run.progress);
  const client = await services.temporal();
  const done = new AbortController();
  const stop = () => done.abort();
  signal.addEventListener('abort', stop, { once: true });
  // Settles when the run ends (or the long poll fails: then the polls alone go on).
  let waiting = true;
  const ended = client
    .withAbortSignal(done.signal, () => handle.result())
    .catch(() => undefined)
    .finally(() => (waiting = false));
  try {
    while (!isFinal(run.state) && !signal.aborted) {
      await Promise.race([sleep(pollMs, undefined, { signal: done.signal }).catch(() => undefined), ...(waiting ? [ended] : [])]);
      if (signal.aborted) return;
      const next = await runOf(handle);
      for (const line of next.logTail) {
        if (said.has(line)) continue;
        said.add(line);
        yield { type: 'log', data: { runId: next.runId, line } };
      }
      const progress = JSON.stringify(next.progress);
      if (next.progress && progress !== lastProgress) yield { type: 'progress', data: { runId: next.runId, ...next.progress } };
      lastProgress = progress;
      if (next.state !== run.state || isFinal(next.state)) yield { type: 'status', data: next };
      run = next;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    done.abort();
    await ended;
  }
}

/**
 * Status events of every run: the runs going now first, then each run that starts, changes
 * state or writes rows. Lists newest first, so a page of RECENT covers what changed between polls.
 */
export async function* allRunEvents(services: Services, signal: AbortSignal, pollMs = POLL_MS * 2): AsyncGenerator<RunEvent> {
  const RECENT = 100;
  const seen = new Map<string, string>();
  const key = (r: JobRun) => `${r.state}:${r.rowsWritten}`;
  for (const state of ['pending', 'running', 'stopping'] as const) {
    for (const r of (await listRuns(services, { state, limit: RECENT })).runs) {
      seen.set(r.runId, key(r));
      yield { type: 'status', data: r };
    }
  }
  const first = (await listRuns(services, { limit: RECENT })).runs;
  for (const r of first) if (!seen.has(r.runId)) seen.set(r.runId, key(r));
  while (!signal.aborted) {
    await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    for (const r of (await listRuns(services, { limit: RECENT })).runs.reverse()) {
      if (seen.get(r.runId) === key(r)) continue;
      seen.set(r.runId, key(r));
      yield { type: 'status', data: r };
    }
  }
}
