// The Temporal client connection every face of dccd (CLI, API, tests) reaches Temporal by.
// The SDK's gRPC retry interceptor re-issues a failed call from a timer; a timer that fires
// after the channel is closed throws "Channel has been shut down" from nowhere, which ends
// the process with a stack trace after a command has already succeeded. So closing waits
// for calls in flight, and once closing has begun a retry ends its call as cancelled
// instead of touching the channel.
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { Interceptor } from '@grpc/grpc-js';
import { InterceptingCall, ListenerBuilder, Metadata, RequesterBuilder, status } from '@grpc/grpc-js';

export interface TemporalAddress {
  address: string;
  namespace: string;
}

export interface TemporalClient {
  client: Client;
  connection: Connection;
  /** Calls started and not yet settled (retries included). */
  inFlight(): number;
  /** Waits for calls in flight (up to `drainMs`), then closes the connection. */
  close(drainMs?: number): Promise<void>;
}

const DEFAULT_DRAIN_MS = 15_000;

export async function connectTemporal(t: TemporalAddress, opts: { connectTimeoutMs?: number } = {}): Promise<TemporalClient> {
  let active = 0;
  let idle: (() => void)[] = [];
  const settled = () => {
    if (--active === 0) {
      for (const wake of idle) wake();
      idle = [];
    }
  };
  // Outermost, so a call counts as settled only after the retry interceptor below is done with it.
  const counting: Interceptor = (options, nextCall) =>
    new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withStart((metadata, _listener, next) => {
          active++;
          let done = false;
          const status = new ListenerBuilder()
            .withOnReceiveStatus((s, nextStatus) => {
              if (!done) {
                done = true;
                settled();
              }
              nextStatus(s);
            })
            .build();
          next(metadata, status);
        })
        .build(),
    );
  let closingStarted = false;
  // Innermost: each attempt, retries included, passes here.
  const guard: Interceptor = (options, nextCall) => (closingStarted ? new InterceptingCall(cancelledCall()) : new InterceptingCall(nextCall(options)));
  const connection = await Connection.connect({
    address: t.address,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    interceptors: [counting, makeGrpcRetryInterceptor(defaultGrpcRetryOptions()), guard],
  });
  const client = new Client({ connection, namespace: t.namespace });
  let closing: Promise<void> | undefined;
  return {
    client,
    connection,
    inFlight: () => active,
    close(drainMs = DEFAULT_DRAIN_MS) {
      closing ??= (async () => {
        if (active > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, drainMs);
            idle.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        closingStarted = true;
        await connection.close();
      })();
      return closing;
    },
  };
}

/** A call that never reaches the channel: it ends at once, cancelled (not retried). */
function cancelledCall(): ConstructorParameters<typeof InterceptingCall>[0] {
  return {
    start(_metadata, listener) {
      setImmediate(() => listener?.onReceiveStatus?.({ code: status.CANCELLED, details: 'the connection is closing', metadata: new Metadata() }));
    },
    cancelWithStatus: () => undefined,
    getPeer: () => 'closed',
    sendMessageWithContext: () => undefined,
    sendMessage: () => undefined,
    startRead: () => undefined,
    halfClose: () => undefined,
    getAuthContext: () => null,
  };
}
