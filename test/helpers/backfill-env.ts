// A worker, the simulator and the services that connect them, for backfill tests.
import { after } from 'node:test';
import { startSim, type Sim, type SimOptions } from '../../src/sim/index.ts';
import { buildServices, type Services } from '../../src/services.ts';
import { startWorker, type RunningWorker } from '../../src/worker/worker.ts';
import { checksumRows } from '../../src/sim/checksum.ts';
import type { Target } from '../../src/domain/target.ts';
import type { OhlcRow, TradeRow } from '../../src/domain/records.ts';
import { testConfig } from './temporal.ts';

export interface BackfillEnv {
  sim: Sim;
  services: Services;
  worker: RunningWorker;
}

export async function backfillEnv(simOptions: SimOptions = {}, withWorker = true): Promise<BackfillEnv> {
  const sim = await startSim({ port: 0, seed: 7, ...simOptions });
  const services = buildServices(await testConfig({ exchanges: { binance: { restUrl: `${sim.url}/binance`, wsUrl: `${sim.url.replace(/^http/, "ws")}/binance` } } }));
  const worker = withWorker ? await startWorker(services) : (undefined as unknown as RunningWorker);
  after(async () => {
    await worker?.shutdown();
    await services.close();
    await sim.close();
  });
  return { sim, services, worker };
}

/** What the store holds for [start, end), in the simulator's truth format. */
export async function storedTruth(services: Services, target: Target, startNs: bigint, endNs: bigint) {
  const rows = (await services.store.readRows(target as Target & { kind: 'ohlc' | 'trades' }, startNs, endNs)) as (OhlcRow | TradeRow)[];
  return {
    rows: rows.length,
    first_ts: rows.length ? String(rows[0]!.ts) : null,
    last_ts: rows.length ? String(rows[rows.length - 1]!.ts) : null,
    checksum: checksumRows(target.kind as 'ohlc' | 'trades', rows as never),
  };
}
