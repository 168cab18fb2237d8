// `dccd inventory`: every dataset stored, its rows, range, size and holes. Through the daemon's
// API when one serves the data folder (it holds the embedded manifest); else read here.
import type { AppConfig } from '../config/app-config.ts';
import { checkDataFolder } from '../config/path-checks.ts';
import { DccdClient } from '../client/http-client.ts';
import { datasetKind, parseDatasetKind, parseExchange } from '../domain/target.ts';
import type { InventoryEntry } from '../jobs/inventory.ts';
import { localDaemon } from './temporal-session.ts';

export interface InventoryFlags {
  exchange?: string;
  kind?: string;
  json?: boolean;
}

export async function runInventory(cfg: AppConfig, o: InventoryFlags): Promise<void> {
  const filter = {
    ...(o.exchange !== undefined && { exchange: parseExchange(o.exchange, '--exchange') }),
    ...(o.kind !== undefined && { kind: checkedKind(o.kind) }),
  };
  const daemon = await localDaemon(cfg);
  const datasets = daemon?.apiUrl ? await new DccdClient(daemon.apiUrl, { token: cfg.api.token }).inventory(filter) : await localInventory(cfg, filter);
  if (o.json) console.log(JSON.stringify({ datasets }, null, 2));
  else if (datasets.length === 0) console.log(`no datasets in ${cfg.data}`);
  else for (const d of datasets) console.log(lines(d).join('\n'));
}

const checkedKind = (kind: string): string => datasetKind(parseDatasetKind(kind, '--kind'));

async function localInventory(cfg: AppConfig, filter: { exchange?: string; kind?: string }): Promise<InventoryEntry[]> {
  await checkDataFolder(cfg.data, { write: false });
  const [{ buildServices }, { inventory, inventoryEntry }, { checkConfigJobs }] = await Promise.all([
    import('../services.ts'),
    import('../jobs/inventory.ts'),
    import('../jobs/job-plan.ts'),
  ]);
  const services = buildServices(cfg);
  try {
    const all = await inventory(services, checkConfigJobs(cfg));
    return all.filter((d) => (!filter.exchange || d.exchange === filter.exchange) && (!filter.kind || d.kind === filter.kind)).map(inventoryEntry);
  } finally {
    await services.close();
  }
}

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, noun: string) => `${count(n)} ${noun}${n === 1 ? '' : 's'}`;

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  for (; n >= 1024 && i < units.length - 1; i++) n /= 1024;
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** One line per dataset, then one per hole. */
function lines(d: InventoryEntry): string[] {
  const range = d.first && d.last ? `${d.first} → ${d.last}` : 'no rows on disk';
  const tracked = d.jobs.length > 0 ? `jobs: ${d.jobs.join(', ')}` : 'no job';
  const head = [d.datasetId, plural(d.rows, 'row'), plural(d.files, 'file'), bytes(d.bytes), range, plural(d.holes.length, 'hole'), tracked];
  const out = [head.join('  ')];
  if (d.recordedRows !== null && d.recordedRows > d.rows) out.push(`  warning: the manifest once counted ${count(d.recordedRows)} rows; ${count(d.recordedRows - d.rows)} are no longer on disk`);
  for (const h of d.holes) out.push(`  hole ${h.start} → ${h.end}  ${h.reason}`);
  return out;
}
