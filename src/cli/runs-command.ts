// `dccd runs [filters]`, `dccd runs show <id>`, `dccd runs follow <id>`: the runs model as the
// API serves it, for any run a schedule, the CLI or the API started.
import type { AppConfig } from '../config/app-config.ts';
import { getRun, listRuns, type RunFilter } from '../client/run-list.ts';
import { describeRun, runHandle } from '../client/runs.ts';
import { ValidationError } from '../domain/errors.ts';
import { isFinal, JOB_RUN_STATES, type JobRun, type JobRunState } from '../domain/job-run.ts';
import { parseSpecId } from '../domain/job-spec.ts';
import { datasetKind } from '../domain/target.ts';
import { summary } from './backfill-command.ts';
import { followRun } from './follow-run.ts';
import { openSession } from './temporal-session.ts';

export interface RunsFlags {
  state?: string;
  spec?: string;
  limit?: string;
  json?: boolean;
}

function filterOf(o: RunsFlags): RunFilter {
  if (o.state !== undefined && !(JOB_RUN_STATES as readonly string[]).includes(o.state)) {
    throw new ValidationError('--state', `unknown state '${o.state}' (known: ${JOB_RUN_STATES.join(', ')})`);
  }
  if (o.limit !== undefined && !/^\d{1,3}$/.test(o.limit)) throw new ValidationError('--limit', `'${o.limit}' is not a whole number from 1 to 500`);
  return {
    ...(o.state !== undefined && { state: o.state as JobRunState }),
    ...(o.spec !== undefined && { specId: parseSpecId(o.spec, '--spec') }),
    ...(o.limit !== undefined && { limit: Number(o.limit) }),
  };
}

const line = (r: JobRun) =>
  [r.runId, r.state.padEnd(9), `${r.target.exchange} ${r.target.symbol} ${datasetKind(r.target)}`, `${r.rowsWritten.toLocaleString('en-US')} rows`, r.startedAt, r.specId ?? 'ad hoc'].join('  ');

export async function runRuns(cfg: AppConfig, o: RunsFlags, command: string): Promise<void> {
  const filter = filterOf(o);
  const session = await openSession(cfg, { worker: false }, command);
  try {
    const page = await listRuns(session.services, filter);
    if (o.json) console.log(JSON.stringify(page, null, 2));
    else if (page.runs.length === 0) console.log('no runs');
    else for (const r of page.runs) console.log(line(r));
  } finally {
    await session.close();
  }
}

export async function runRunsShow(cfg: AppConfig, id: string, o: { json?: boolean }, command: string): Promise<void> {
  const session = await openSession(cfg, { worker: false }, command);
  try {
    const r = await getRun(session.services, id);
    if (o.json) {
      console.log(JSON.stringify(r, null, 2));
      return;
    }
    console.log(line(r));
    if (r.progress) console.log(`progress: ${r.progress.done}/${r.progress.total} ${r.progress.unit}, ${r.progress.rows.toLocaleString('en-US')} rows`);
    if (r.endedAt) console.log(`ended: ${r.endedAt}`);
    if (r.error) console.log(`error: ${r.error}`);
    for (const l of r.logTail) console.log(`  ${l}`);
  } finally {
    await session.close();
  }
}

/** Follows a run live until it ends (Ctrl-C detaches; the run goes on). */
export async function runRunsFollow(cfg: AppConfig, id: string, command: string): Promise<number> {
  const session = await openSession(cfg, { worker: false }, command);
  try {
    const target = await describeRun(await runHandle(session.services, id));
    if (!target.running) {
      const r = await getRun(session.services, target.runId);
      console.log(`run ${r.runId} is not running: ${r.state}, ${r.rowsWritten.toLocaleString('en-US')} rows`);
      return isFinal(r.state) && r.state === 'failed' ? 1 : 0;
    }
    const result = await followRun(session.services, target, { quiet: false, onInterrupt: 'detach', hosted: session.mode === 'hosted', failed: session.failed });
    if (!result) return 0;
    console.log(summary(result));
    return result.state === 'failed' ? 1 : 0;
  } finally {
    await session.close();
  }
}
