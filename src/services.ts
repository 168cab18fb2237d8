// The one place that wires adapters, stores and the Temporal client from AppConfig.
// Everything else receives what it needs from here, which keeps tests free of globals.
// Adding an exchange means editing sources/ and the registry only.
import type { Client } from '@temporalio/client';
import type { AppConfig } from './config/app-config.ts';
import type { TemporalClient } from './client/connection.ts';
import type { ExchangeName } from './domain/target.ts';
import type { ExchangeAdapter } from './sources/adapter.ts';
import { openCoverageStore, type CoverageStore } from './storage/coverage-store.ts';
import { ParquetStore } from './storage/parquet-store.ts';
import { venueAdapters, type AdapterProfile } from './venue-adapters.ts';
import { VERSION } from './version.ts';

export interface TemporalTarget {
  address: string;
  namespace: string;
  taskQueue: string;
}

export interface Services {
  readonly config: AppConfig;
  readonly version: string;
  readonly store: ParquetStore;
  /**
   * The coverage manifest, opened on first use. Embedded mode (no database.url) keeps it in
   * {data}/.dccd/pglite, which only one process may open: the one running the worker.
   */
  coverage(): Promise<CoverageStore>;
  /** The adapter for a venue, with the configured base URLs and this process's rate limiters. */
  adapter(name: ExchangeName, profile?: AdapterProfile): ExchangeAdapter;
  temporalTarget(): TemporalTarget;
  /** A client connection, opened on first use and shared. */
  temporal(): Promise<Client>;
  /** Whether any worker polls dccd's task queue (workflows or activities) right now. */
  workerPolling(): Promise<boolean>;
  /** Closes the connection once no call is in flight, and the stores. */
  close(): Promise<void>;
}

const EMBEDDED_DB_WAIT_MS = 30_000;

export interface ServiceOptions {
  /** The Temporal server to use when it is not the configured one (an embedded or a daemon's server). */
  temporal?: Partial<TemporalTarget>;
  /** The manifest, already being opened (`openManifest`), e.g. while a server starts. */
  coverage?: Promise<CoverageStore>;
}

/** Opens the configured manifest: `DATABASE_URL`'s Postgres, else the data folder's embedded one. */
export function openManifest(config: AppConfig): Promise<CoverageStore> {
  return openCoverageStore({
    databaseUrl: config.database.url,
    dataPath: config.data,
    // A process that is shutting down may still hold it for a moment.
    waitForLockMs: EMBEDDED_DB_WAIT_MS,
    onWait: (m) => process.stderr.write(`dccd: ${m}\n`),
  });
}

export function buildServices(config: AppConfig, opts: ServiceOptions = {}): Services {
  const address = opts.temporal?.address ?? config.temporal.address;
  const target = (): TemporalTarget => {
    if (!address) throw new Error('no Temporal address: set TEMPORAL_ADDRESS or temporal.address, or use `dccd start`');
    return {
      address,
      namespace: opts.temporal?.namespace ?? config.temporal.namespace,
      taskQueue: opts.temporal?.taskQueue ?? config.temporal.taskQueue,
    };
  };
  const adapter = venueAdapters(config);
  let store: ParquetStore | undefined;
  let coverage: Promise<CoverageStore> | undefined;
  // A manifest that failed to open is opened again on the next use.
  const opening = (p: Promise<CoverageStore>) =>
    p.catch((e) => {
      coverage = undefined;
      throw e;
    });
  if (opts.coverage) coverage = opening(opts.coverage);
  let client: Promise<TemporalClient> | undefined;
  return {
    config,
    version: VERSION,
    get store() {
      return (store ??= new ParquetStore(config.data));
    },
    coverage() {
      return (coverage ??= opening(openManifest(config)));
    },
    adapter,
    temporalTarget: target,
    async temporal() {
      const { address, namespace } = target();
      // Loaded on first use: `read` and `validate` never talk to Temporal.
      client ??= import('./client/connection.ts').then(({ connectTemporal }) => connectTemporal({ address, namespace })).catch((e) => {
        client = undefined; // try again on the next call: the server may come back
        throw e;
      });
      return (await client).client;
    },
    async workerPolling() {
      const c = await this.temporal();
      const { namespace, taskQueue } = target();
      const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = (await import('@temporalio/proto')).default.temporal.api.enums.v1.TaskQueueType;
      const pollers = await Promise.all(
        [TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY].map(async (taskQueueType) => {
          const res = await c.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType });
          return res.pollers?.length ?? 0;
        }),
      );
      return pollers.some((n) => n > 0);
    },
    async close() {
      await (await client?.catch(() => undefined))?.close();
      await store?.close();
      await (await coverage?.catch(() => undefined))?.close();
    },
  };
}
