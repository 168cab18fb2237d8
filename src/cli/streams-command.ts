// `dccd streams`: every stream running and each supervised job's, one line each (or JSON, as
// GET /api/streams answers); through the daemon's API when one serves the data folder.
import type { AppConfig } from '../config/app-config.ts';
import type { StreamEntry } from '../client/stream-runs.ts';
import { withRunsApi } from './remote.ts';
import { liveLine } from './stream-command.ts';

/** `stream/binance/trades/BTC-USDT  running  12,345 rows  104/s …  run <id>  kept by job stream:binance:BTC-USDT:trades`. */
export function streamLine(s: StreamEntry): string {
  const status = s.live ? liveLine({ ...s.live, state: s.state }) : `${s.state}  ${s.rowsWritten.toLocaleString('en-US')} rows`;
  const who = s.supervisedBy ? `kept by job ${s.supervisedBy}` : s.specId ? `job ${s.specId}` : 'started by hand';
  return [s.workflowId, status, s.runId ? `run ${s.runId}` : 'never ran', who, ...(s.error ? [`error: ${s.error}`] : [])].join('  ');
}

export async function runStreams(cfg: AppConfig, o: { json?: boolean }, command: string): Promise<void> {
  const streams = await withRunsApi(cfg, command, (api) => api.listStreams());
  if (o.json) console.log(JSON.stringify({ streams }, null, 2));
  else if (streams.length === 0) console.log('no streams (dccd stream starts one; a supervised stream job keeps one running)');
  else for (const s of streams) console.log(streamLine(s));
}
