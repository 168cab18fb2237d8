// How a one-shot command (backfill, stop) reaches Temporal: the configured cluster (whose
// workers run the work); else the dccd that hosts this data folder, found through its
// daemon.json (never through a port that happens to answer); else an embedded server and a
// worker hosted by this command for as long as it runs — so `dccd backfill ... --wait` works
// with nothing else started.
import type { AppConfig } from '../config/app-config.ts';
import { checkDataFolder } from '../config/path-checks.ts';
import { describeDaemon, findDaemon, type DaemonState } from '../client/daemon-state.ts';
import type { Services } from '../services.ts';
import type { HostedStack } from '../worker/embedded-stack.ts';
import { writeLine } from './terminal.ts';

export type SessionMode = 'cluster' | 'daemon' | 'hosted';

export interface TemporalSession {
  services: Services;
  mode: SessionMode;
  /** The daemon reached, in 'daemon' mode. */
  daemon?: DaemonState;
  uiUrl: string | undefined;
  /** Rejects when a hosted stack can no longer work (its server keeps dying). */
  failed: Promise<never>;
  close(): Promise<void>;
}

export interface SessionNeeds {
  /** The command starts work that a worker must run while it is followed. */
  worker: boolean;
}

/** The daemon serving `cfg.data`, if any, when no cluster is configured. */
export async function localDaemon(cfg: AppConfig): Promise<DaemonState | undefined> {
  return cfg.temporal.address ? undefined : findDaemon(cfg.data);
}

/**
 * `cfg` as the daemon's worker sees it: its venue URLs are the ones runs use. A different
 * URL set here (DCCD_BINANCE_REST_URL on this command only) would reach the check but not
 * the run, so it is named in a warning.
 */
export function asDaemonSees(cfg: AppConfig, daemon: DaemonState | undefined): { cfg: AppConfig; warnings: string[] } {
  if (!daemon) return { cfg, warnings: [] };
  const warnings: string[] = [];
  const mineAll = cfg.exchanges as Record<string, { restUrl?: string; wsUrl?: string; requestBudget?: number } | undefined>;
  const exchanges: typeof mineAll = {};
  for (const name of new Set([...Object.keys(mineAll), ...Object.keys(daemon.exchanges)])) {
    const mine = mineAll[name] ?? {};
    const theirs = daemon.exchanges[name] ?? {};
    for (const key of ['restUrl', 'wsUrl'] as const) {
      if (mine[key] === theirs[key]) continue;
      const env = `DCCD_${name.toUpperCase()}_${key === 'restUrl' ? 'REST' : 'WS'}_URL`;
      warnings.push(
        `${name}.${key} is ${mine[key] ?? 'the default'} here, but ${describeDaemon(daemon)} uses ${theirs[key] ?? 'the default'}; ` +
          `runs use the daemon's (set ${env} where dccd start runs, or in dccd.yml)`,
      );
    }
    // The daemon's URLs, even where it uses the default and this command set one.
    exchanges[name] = { ...mine, restUrl: theirs.restUrl, wsUrl: theirs.wsUrl };
  }
  return { cfg: { ...cfg, exchanges: exchanges as AppConfig['exchanges'] }, warnings };
}

// The server and worker modules load only where a session needs them: a command that reaches
// a daemon through its API never does.
export async function openSession(cfg: AppConfig, needs: SessionNeeds, command: string): Promise<TemporalSession> {
  const never = new Promise<never>(() => undefined);
  if (cfg.temporal.address) {
    const { temporalAnswers } = await import('../worker/dev-server.ts');
    if (!(await temporalAnswers(cfg.temporal.address))) throw new Error(`temporal.address: no Temporal server answers at ${cfg.temporal.address}`);
    const { buildServices } = await import('../services.ts');
    const services = buildServices(cfg);
    return { services, mode: 'cluster', uiUrl: undefined, failed: never, close: () => services.close() };
  }
  const daemon = await findDaemon(cfg.data);
  if (daemon) return reachDaemon(cfg, daemon, needs, never);
  // This command will host the folder's server and worker: a folder that cannot serve is refused first.
  await checkDataFolder(cfg.data, { write: true });
  const { DataFolderBusy, hostDataFolder } = await import('../worker/embedded-stack.ts');
  let stack: HostedStack;
  try {
    stack = await hostDataFolder(cfg, { role: 'command', command, ports: 'any', log: writeLine });
  } catch (e) {
    // A daemon that started between the lookup and the claim serves the command instead.
    const late = e instanceof DataFolderBusy ? await findDaemon(cfg.data) : undefined;
    if (late) return reachDaemon(cfg, late, needs, never);
    throw e;
  }
  await stack.publish();
  return { services: stack.services, mode: 'hosted', uiUrl: stack.server.uiUrl, failed: stack.failed, close: () => stack.close() };
}

async function reachDaemon(cfg: AppConfig, daemon: DaemonState, needs: SessionNeeds, never: Promise<never>): Promise<TemporalSession> {
  // A one-shot command's worker goes when that command ends: work started here would stall.
  if (needs.worker && daemon.role === 'command') throw new (await import('../worker/embedded-stack.ts')).DataFolderBusy(cfg.data, daemon);
  const { buildServices } = await import('../services.ts');
  const services = buildServices(asDaemonSees(cfg, daemon).cfg, { temporal: daemon.temporal });
  return { services, mode: 'daemon', daemon, uiUrl: daemon.temporal.uiUrl, failed: never, close: () => services.close() };
}
