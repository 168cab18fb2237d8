// `dccd stop`: end a run — windows in flight finish, or end at once if they are retrying —
// and wait until it has ended. With nothing else running, this command hosts the server and
// a worker until then: a stop signal needs a worker to act on it.
import type { AppConfig } from '../config/app-config.ts';
import { describeRun, runHandle, stopRun } from '../client/runs.ts';
import { summary } from './backfill-command.ts';
import { followRun } from './follow-run.ts';
import { streamSummary } from './stream-command.ts';
import { openSession } from './temporal-session.ts';
import { writeLine } from './terminal.ts';

export async function runStop(cfg: AppConfig, run: string, o: { wait: boolean }, command: string): Promise<number> {
  const session = await openSession(cfg, { worker: false }, command);
  try {
    const handle = await runHandle(session.services, run);
    const target = await describeRun(handle);
    if (!target.running) {
      console.log(`run ${target.runId} (${target.workflowId}) is not running: ${target.status}`);
      return 0;
    }
    await stopRun(handle);
    const hosting = session.mode === 'hosted' ? '; this command runs a worker until it has stopped' : '';
    const isStream = target.workflowId.startsWith('stream/');
    const how = isStream ? 'the stream writes every row it received, then ends' : 'windows in flight finish, or end at once if they are retrying';
    writeLine(`stopping run ${target.runId} (${target.workflowId}): ${how}${hosting}`);
    if (!o.wait && session.mode !== 'hosted') return 0;
    if (isStream) {
      const { streamResult } = await import('../client/streams.ts');
      console.log(streamSummary(await streamResult(handle)));
      return 0;
    }
    const result = await followRun(session.services, target, { quiet: false, onInterrupt: 'detach', hosted: false, failed: session.failed });
    if (!result) {
      const when = session.mode === 'hosted' ? 'as soon as a worker runs again (dccd start)' : 'by itself';
      writeLine(`no longer waiting; the stop is recorded and run ${target.runId} ends ${when}`);
      return 0;
    }
    console.log(summary(result));
    return result.state === 'failed' ? 1 : 0;
  } finally {
    await session.close();
  }
}
