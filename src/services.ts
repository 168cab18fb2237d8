// The one place that wires adapters, stores and the Temporal client from AppConfig.
// Everything else receives what it needs from here, which keeps tests free of globals.
// Adding an exchange means editing sources/ and the registry only.
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { AppConfig } from './config/app-config.ts';
import type { ExchangeName } from './domain/target.ts';
import type { ExchangeAdapter } from './sources/adapter.ts';
import { RateLimiters } from './sources/rate-limiter.ts';
import { createAdapter } from './sources/registry.ts';
import { openCoverageStore, type CoverageStore } from './storage/coverage-store.ts';
import { ParquetStore } from './storage/parquet-store.ts';
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
  adapter(name: ExchangeName): ExchangeAdapter;
  temporalTarget(): TemporalTarget;
  /** A client connection, opened on first use and shared. */
  temporal(): Promise<Client>;
  /** Whether any worker polls dccd's task queue right now. */
  workerPolling(): Promise<boolean>;
  close(): Promise<void>;
}

const EMBEDDED_DB_WAIT_MS = 30_000;

/**
 * `temporalAddress` is the embedded server's when the config names none; commands that never
 * reach Temporal (read) need neither.
 */
export function buildServices(config: AppConfig, opts: { temporalAddress?: string } = {}): Services {
  const configured = opts.temporalAddress ?? config.temporal.address;
  const target = (): TemporalTarget => {
    if (!configured) throw new Error('no Temporal address: set TEMPORAL_ADDRESS or temporal.address, or use `dccd start`');
    return { address: configured, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue };
  };
  // One limiter per venue for the whole process: budgets are per IP, shared by all activities.
  const limiters = new RateLimiters(
    Object.fromEntries(Object.entries(config.exchanges).flatMap(([name, x]) => (x?.requestBudget ? [[name, { budget: x.requestBudget }]] : []))),
  );
  const adapters = new Map<ExchangeName, ExchangeAdapter>();
  let store: ParquetStore | undefined;
  let coverage: Promise<CoverageStore> | undefined;
  let client: Promise<Client> | undefined;
  let connection: Connection | undefined;
  return {
    config,
    version: VERSION,
    get store() {
      return (store ??= new ParquetStore(config.data));
    },
    coverage() {
      coverage ??= openCoverageStore({
        databaseUrl: config.database.url,
        dataPath: config.data,
        // A process that is shutting down may still hold it for a moment.
        waitForLockMs: EMBEDDED_DB_WAIT_MS,
        onWait: (m) => process.stderr.write(`dccd: ${m}\n`),
      }).catch((e) => {
        coverage = undefined;
        throw e;
      });
      return coverage;
    },
    adapter(name) {
      let a = adapters.get(name);
      const { restUrl, wsUrl } = config.exchanges[name] ?? {};
      if (!a) adapters.set(name, (a = createAdapter(name, { restUrl, wsUrl }, { limiters })));
      return a;
    },
    temporalTarget: target,
    temporal() {
      const { address, namespace } = target();
      client ??= Connection.connect({ address }).then(
        (c) => {
          connection = c;
          return new Client({ connection: c, namespace });
        },
        (e) => {
          client = undefined; // try again on the next call: the server may come back
          throw e;
        },
      );
      return client;
    },
    async workerPolling() {
      const c = await this.temporal();
      const { namespace, taskQueue } = target();
      const res = await c.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return (res.pollers?.length ?? 0) > 0;
    },
    async close() {
      await connection?.close();
      await store?.close();
      await (await coverage?.catch(() => undefined))?.close();
    },
  };
}
