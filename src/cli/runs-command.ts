// `dccd runs [filters]`, `dccd runs show <id>`, `dccd runs follow <id>`: the runs model as the
// API serves it, for any run a schedule, the CLI or the API started; through the daemon's API
// when one serves the data folder (remote.ts).
import type { AppConfig } from '../config/app-config.ts';
import type { RunFilter } from '../client/run-list.ts';
import { ValidationError } from '../domain/errors.ts';
import { JOB_RUN_STATES, type JobRun, type JobRunState } from '../domain/job-run.ts';
import { parseSpecId } from '../domain/job-spec.ts';
import { datasetKind } from '../domain/target.ts';
import { withRunsApi, type RunsApi } from './remote.ts';
import { followEvents } from './follow-events.ts';
import { writeLine } from './terminal.ts';

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

/** One run on one line, as `dccd runs` lists them. */
export const runLine = (r: JobRun) =>
  [r.runId, r.state.padEnd(9), `${r.target.exchange} ${r.target.symbol} ${datasetKind(r.target)}`, `${r.rowsWritten.toLocaleString('en-US')} rows`, r.startedAt, r.specId ?? 'ad hoc'].join('  ');

export async function runRuns(cfg: AppConfig, o: RunsFlags, command: string): Promise<void> {
  const filter = filterOf(o);
  const page = await withRunsApi(cfg, command, (api) => api.listRuns(filter));
  if (o.json) console.log(JSON.stringify(page, null, 2));
  else if (page.runs.length === 0) console.log('no runs');
  else for (const r of page.runs) console.log(runLine(r));
}

export async function runRunsShow(cfg: AppConfig, id: string, o: { json?: boolean }, command: string): Promise<void> {
  const r = await withRunsApi(cfg, command, (api) => api.getRun(id));
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  console.log(runLine(r));
  if (r.progress) console.log(`progress: ${r.progress.done}/${r.progress.total} ${r.progress.unit}, ${r.progress.rows.toLocaleString('en-US')} rows`);
  if (r.endedAt) console.log(`ended: ${r.endedAt}`);
  if (r.error) console.log(`error: ${r.error}`);
  for (const l of r.logTail) console.log(`  ${l}`);
}

/**
 * Follows a run live from its events until it ends: progress on the status line, log lines
 * above it. Ctrl-C detaches; the run goes on. Exits 1 when the run failed.
 */
export function runRunsFollow(cfg: AppConfig, id: string, command: string): Promise<number> {
  return withRunsApi(cfg, command, (api) => followRunEvents(api, id));
}

/** Follows run `id` through `api` until it ends (or Ctrl-C detaches); exits 1 when it failed. */
export async function followRunEvents(api: RunsApi, id: string): Promise<number> {
  const last = await followEvents(api, id);
  if (!last) {
    writeLine(`no longer following; run ${id} goes on`);
    return 0;
  }
  console.log(`${last.state}: ${last.rowsWritten.toLocaleString('en-US')} rows  run ${last.runId}${last.error ? `  ${last.error}` : ''}`);
  return last.state === 'failed' ? 1 : 0;
}
