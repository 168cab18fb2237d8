// The one place that wires adapters, stores and the Temporal client from AppConfig.
// Everything else receives what it needs from here, which keeps tests free of globals.
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from './config/app-config.ts';
import { VERSION } from './version.ts';

export interface TemporalTarget {
  address: string;
  namespace: string;
  taskQueue: string;
}

export interface Services {
  readonly config: AppConfig;
  readonly version: string;
  temporalTarget(): TemporalTarget;
  /** A client connection, opened on first use and shared. */
  temporal(): Promise<Client>;
  close(): Promise<void>;
}

/** `address` is required when the config names none (the embedded server's address). */
export function buildServices(config: AppConfig, opts: { temporalAddress?: string } = {}): Services {
  const address = opts.temporalAddress ?? config.temporal.address;
  if (!address) throw new Error('no Temporal address: set TEMPORAL_ADDRESS or temporal.address, or use `dccd start`');
  const target: TemporalTarget = { address, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue };
  let client: Promise<Client> | undefined;
  let connection: Connection | undefined;
  return {
    config,
    version: VERSION,
    temporalTarget: () => target,
    temporal() {
      client ??= Connection.connect({ address }).then(
        (c) => {
          connection = c;
          return new Client({ connection: c, namespace: target.namespace });
        },
        (e) => {
          client = undefined; // try again on the next call: the server may come back
          throw e;
        },
      );
      return client;
    },
    async close() {
      await connection?.close();
    },
  };
}
