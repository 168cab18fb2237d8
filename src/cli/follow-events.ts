// Following a run through its events (the daemon's API, or Temporal directly): log lines
// above a status line of its progress, until it ends. Ctrl-C detaches, or, for a run this
// command started, asks whether to stop it too (follow-run.ts asks the same way).
import { createInterface } from 'node:readline/promises';
import type { JobRun } from '../domain/job-run.ts';
import type { RunsApi } from './remote.ts';
import { endStatus, setStatus, writeLine } from './terminal.ts';

export interface EventFollowOptions {
  /** Print nothing while following (--json). */
  quiet?: boolean;
  /** What Ctrl-C may do besides detaching: 'ask' on a terminal, or 'stop' at once, through `stop`. */
  interrupt?: { choice: 'ask' | 'stop'; stop: () => Promise<unknown> };
}

/** The run's last status once it has ended; undefined when the user detached (or it could not be told). */
export async function followEvents(api: Pick<RunsApi, 'runEvents'>, id: string, o: EventFollowOptions = {}): Promise<JobRun | undefined> {
  const detach = new AbortController();
  let asking = false;
  const onSigint = () => {
    if (asking) return;
    if (!o.interrupt) return detach.abort();
    asking = true;
    const { choice, stop } = o.interrupt;
    void interruptChoice({ onInterrupt: choice, hosted: false }).then(async (c) => {
      asking = false;
      if (c === 'detach') return detach.abort();
      await stop().catch((e: unknown) => writeLine(`dccd: could not stop the run: ${(e as Error).message}`));
    });
  };
  process.on('SIGINT', onSigint);
  let last: JobRun | undefined;
  try {
    for await (const e of api.runEvents(id, detach.signal)) {
      if (o.quiet || asking) {
        if (e.type === 'status') last = e.data;
      } else if (e.type === 'log') writeLine(e.data.line);
      else if (e.type === 'progress') setStatus(`${e.data.done}/${e.data.total} ${e.data.unit}, ${e.data.rows.toLocaleString('en-US')} rows`);
      else last = e.data;
    }
  } catch (e) {
    if (!detach.signal.aborted) throw e;
  } finally {
    process.off('SIGINT', onSigint);
    endStatus();
  }
  return detach.signal.aborted ? undefined : last;
}

/** Ctrl-C while following: stop the run, or only stop following it (the default). */
export async function interruptChoice(o: { onInterrupt: 'ask' | 'stop' | 'detach'; hosted: boolean }): Promise<'stop' | 'detach'> {
  if (o.onInterrupt === 'stop') {
    writeLine('\nstopping the run: windows in flight finish, or end at once if they are retrying...');
    return 'stop';
  }
  if (o.onInterrupt === 'detach' || !process.stdin.isTTY) return 'detach';
  endStatus();
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const pause = o.hosted ? ' (detached, it pauses until dccd runs again)' : '';
    const answer = await rl.question(`\nStop the run too? [y/N]${pause} `);
    return /^y(es)?$/i.test(answer.trim()) ? 'stop' : 'detach';
  } finally {
    rl.close();
  }
}
